"""Target strings for `<queue:submit>`, as Genesys writes them (reference/orchestration.md
§ 1.4): what they name, parsed once.  Pure.

    [{threshold}]NAME[@SITE][.TYPE]                7002@SwitchA.DN, 1001.A, Sales.GA
    [{threshold}]?[LABEL:]EXPRESSION[@SITE][.GA]   ?sales>5 & lang=fr, ?VAG:sales>5@Stat.GA
                                                   {StatAgentsAvailable>1}Sales.GA

    DN   a DN                    A    an agent, by login ID
    P    a place (its DN)        GA   an agent group: a configured group, else an ACD queue's agents
    GP   a place group (DNs)     Q    an ACD queue: the switch's ACD picks the agent
    RP   a routing point         ?…   the agents whose skills satisfy the expression (skills.py)

A bare NAME takes its type from the enclosing `<queue:targets type=…>` (DN by default).
`@SITE` is the site (switch) the target is at, or, as Genesys also writes it, the
statistics server's name: selection.py decides which by the sites it knows.  The
threshold is an expression over statistics (statistics.py) in the syntax of skill
expressions; a candidate is considered only when it holds.

Rule: what cannot be parsed raises TargetError, which the element turns into
error.execution; nothing is sent.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.orchestration.skills import SkillExpressionError, parse_skill_expression
from ctiserver.orchestration.statistics import ALIASES


class TargetType(enum.StrEnum):
    DN = "DN"
    AGENT = "A"
    PLACE = "P"
    AGENT_GROUP = "GA"
    PLACE_GROUP = "GP"
    QUEUE = "Q"
    ROUTING_POINT = "RP"
    SKILL = "SKILL"  # a skill expression: a group of agents made by their skills


# <queue:targets type="…"> spellings, besides the type codes themselves.
TYPE_NAMES: Final[Mapping[str, TargetType]] = {
    "dn": TargetType.DN,
    "agent": TargetType.AGENT,
    "place": TargetType.PLACE,
    "agentgroup": TargetType.AGENT_GROUP,
    "placegroup": TargetType.PLACE_GROUP,
    "queue": TargetType.QUEUE,
    "acdqueue": TargetType.QUEUE,
    "routingpoint": TargetType.ROUTING_POINT,
    "skill": TargetType.SKILL,
}
# Types whose name is a number on a switch: they can be routed to at any site.
NUMBERED: Final = frozenset(
    {TargetType.DN, TargetType.PLACE, TargetType.QUEUE, TargetType.ROUTING_POINT}
)
_THRESHOLD: Final = re.compile(r"\s*\{(?P<threshold>[^{}]*)\}(?P<rest>.*)", re.DOTALL)
_TARGET: Final = re.compile(
    r"(?P<name>[^@.\s?{}\[\]]+)(?:@(?P<site>[^.\s]*))?(?:\.(?P<type>[A-Za-z]+))?"
)
_SKILL_TAIL: Final = re.compile(r"(?:@(?P<site>[\w\-]*))?(?:\.(?P<type>[A-Za-z]+))?\s*$")
_LABEL: Final = re.compile(r"\s*(?P<label>[A-Za-z_][\w\-]*)?\s*:(?!=)")


class TargetError(ValueError):
    """A target string that cannot be understood."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One target: `name` is the DN, login ID, group name or skill expression."""

    name: str
    type: TargetType
    site: str | None = None
    threshold: str | None = None

    def __str__(self) -> str:
        where = f"@{self.site}" if self.site else ""
        if self.type is TargetType.SKILL:
            return f"?{self.name}{where}.GA"
        return f"{self.name}{where}.{self.type.value}"


def parse_target(text: str, default: TargetType = TargetType.DN) -> Target:
    """A target string (see the module docstring).  Raises TargetError."""
    threshold = None
    body = text.strip()
    if (match := _THRESHOLD.fullmatch(body)) is not None:
        threshold = match.group("threshold").strip()
        _check_expression(text, threshold, "threshold")
        body = match.group("rest").strip()
    if body.startswith("?") or default is TargetType.SKILL:
        return _skill_target(text, body.removeprefix("?"), threshold)
    match = _TARGET.fullmatch(body)
    if match is None:
        raise TargetError(f"target {text!r} is not NAME, NAME.TYPE or NAME@SITE.TYPE")
    code = match.group("type")
    kind = default if code is None else _type(text, code)
    if kind is TargetType.SKILL:
        raise TargetError(f"target {text!r}: a skill expression starts with '?'")
    name, site = match.group("name"), match.group("site")
    return Target(name=name, type=kind, site=site, threshold=threshold)


def _skill_target(text: str, body: str, threshold: str | None) -> Target:
    tail = _SKILL_TAIL.search(body)
    site = None
    if tail is not None and tail.group(0).strip():
        code = tail.group("type")
        if code is None or _type(text, code) is TargetType.AGENT_GROUP:
            site = tail.group("site")
            body = body[: tail.start()]
    if (label := _LABEL.match(body)) is not None:
        body = body[label.end() :]
    expression = body.strip()
    if not expression:
        raise TargetError(f"target {text!r}: the skill expression is empty")
    _check_expression(text, expression, "skill expression")
    return Target(name=expression, type=TargetType.SKILL, site=site or None, threshold=threshold)


def _check_expression(text: str, expression: str, what: str) -> None:
    try:
        parse_skill_expression(expression, ALIASES)
    except SkillExpressionError as exc:
        raise TargetError(f"target {text!r}: {what}: {exc}") from None


def _type(text: str, code: str) -> TargetType:
    try:
        kind = TargetType(code.upper())
    except ValueError:
        kind = TYPE_NAMES.get(code.lower()) or _unknown_type(text, code)
    return kind


def _unknown_type(text: str, code: str) -> TargetType:
    supported = ", ".join(t.value for t in TargetType if t is not TargetType.SKILL)
    raise TargetError(f"target {text!r}: type {code!r} is not supported ({supported})")
