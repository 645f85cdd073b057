"""Skill expressions, as Genesys URS writes them in targets (`?sales>5 & lang=fr`): parsed
once into a predicate over an agent's skills.  Pure.

    expression  := or
    or          := and ("|" and)*
    and         := not ("&" not)*
    not         := "!" not | primary
    primary     := "(" expression ")" | operand [comparison operand]
    comparison  := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    operand     := NAME | NUMBER | 'text' | "text"

Rule 1 (URS, "Evaluation of Skill Expressions"): a name is the agent's level of the skill
of that name when the configuration knows such a skill (0 when the agent lacks it), and
the name itself, as text, otherwise.  So `lang=fr` compares the agent's `lang` skill
with the text "fr" as long as no skill is called `fr`.
Rule 2: `<`, `<=`, `>` and `>=` compare numbers; with text on either side they are false.
`=` and `!=` compare numbers as numbers and anything else as text.
Rule 3: an operand alone is true when it is a level above 0 (or non-empty text): `?sales`
means "has the skill sales".
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Final

SkillValue = int | float | str
Skills = Mapping[str, SkillValue]
Predicate = Callable[[Skills], bool]
_Operand = Callable[[Skills], SkillValue]

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<text>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][\w.\-]*)
      | (?P<op><=|>=|==|!=|<>|[=<>&|!()])
    )""",
    re.VERBOSE,
)
_NUMERIC: Final[Mapping[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_EQUALITY: Final = {"=": True, "==": True, "!=": False, "<>": False}


class SkillExpressionError(ValueError):
    """A skill expression that cannot be parsed; the message says where."""


@dataclass(frozen=True, slots=True)
class SkillExpression:
    """A parsed expression: `text` as written, `matches(skills)` to evaluate it."""

    text: str
    matches: Predicate


def parse_skill_expression(text: str, known: Collection[str]) -> SkillExpression:
    """Parse *text*; names in *known* are skills (Rule 1).  Raises SkillExpressionError."""
    parser = _Parser(_tokens(text), text, known)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise SkillExpressionError(f"skill expression {text!r}: unexpected {parser.peek()!r}")
    return SkillExpression(text.strip(), predicate)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise SkillExpressionError(
                f"skill expression {text!r}: cannot read {text[position:].strip()!r}"
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str, known: Collection[str]) -> None:
        self._tokens = tokens
        self._text = text
        self._known = known
        self._position = 0

    def peek(self) -> str | None:
        if self._position < len(self._tokens):
            return self._tokens[self._position][1]
        return None

    def _next(self) -> tuple[str, str]:
        if self._position >= len(self._tokens):
            raise SkillExpressionError(f"skill expression {self._text!r} ends too early")
        token = self._tokens[self._position]
        self._position += 1
        return token

    def expression(self) -> Predicate:
        terms = [self._and()]
        while self.peek() == "|":
            self._position += 1
            terms.append(self._and())
        if len(terms) == 1:
            return terms[0]
        return lambda skills: any(term(skills) for term in terms)

    def _and(self) -> Predicate:
        factors = [self._not()]
        while self.peek() == "&":
            self._position += 1
            factors.append(self._not())
        if len(factors) == 1:
            return factors[0]
        return lambda skills: all(factor(skills) for factor in factors)

    def _not(self) -> Predicate:
        if self.peek() == "!":
            self._position += 1
            inner = self._not()
            return lambda skills: not inner(skills)
        return self._primary()

    def _primary(self) -> Predicate:
        if self.peek() == "(":
            self._position += 1
            inner = self.expression()
            if self._next()[1] != ")":
                raise SkillExpressionError(f"skill expression {self._text!r}: ')' expected")
            return inner
        left = self._operand()
        comparison = self.peek()
        if comparison is not None and (comparison in _NUMERIC or comparison in _EQUALITY):
            self._position += 1
            return _compare(left, comparison, self._operand())
        return lambda skills: _truthy(left(skills))

    def _operand(self) -> _Operand:
        kind, value = self._next()
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return lambda _skills: number
        if kind == "text":
            literal = value[1:-1]
            return lambda _skills: literal
        if kind == "name":
            if value in self._known:
                return lambda skills: skills.get(value, 0)
            return lambda _skills: value
        raise SkillExpressionError(f"skill expression {self._text!r}: unexpected {value!r}")


def _compare(left: _Operand, comparison: str, right: _Operand) -> Predicate:
    numeric = _NUMERIC.get(comparison)
    if numeric is not None:

        def ordered(skills: Skills) -> bool:
            a, b = left(skills), right(skills)
            return _is_number(a) and _is_number(b) and numeric(float(a), float(b))

        return ordered
    wanted = _EQUALITY[comparison]

    def equal(skills: Skills) -> bool:
        a, b = left(skills), right(skills)
        same = float(a) == float(b) if _is_number(a) and _is_number(b) else str(a) == str(b)
        return same is wanted

    return equal


def _is_number(value: SkillValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _truthy(value: SkillValue) -> bool:
    return value != "" if isinstance(value, str) else value > 0
