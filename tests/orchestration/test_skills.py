"""skills.py: skill expressions, parsed and evaluated as Genesys URS does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.orchestration.skills import SkillExpressionError, parse_skill_expression

KNOWN = {"sales", "lang", "french", "support"}
AGENT = {"sales": 7, "lang": "fr", "french": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sales>5", True),
        ("sales > 7", False),
        ("sales>=7", True),
        ("sales=7", True),
        ("sales==7.0", True),
        ("sales!=7", False),
        ("sales<>6", True),
        ("lang=fr", True),  # fr is no skill: the text "fr"
        ("lang='fr'", True),
        ('lang="de"', False),
        ("lang>5", False),  # text does not order
        ("support", False),  # a skill the agent lacks: level 0
        ("sales", True),
        ("support=0", True),
        ("!support", True),
        ("sales>5 & lang=fr", True),
        ("sales>5 & support>0", False),
        ("support>0 | french>2", True),
        ("(support>0 | french>2) & !(sales<5)", True),
        ("unknownname=unknownname", True),  # two literals
    ],
)
def test_expressions_against_one_agent(text: str, expected: bool) -> None:
    assert parse_skill_expression(text, KNOWN).matches(AGENT) is expected


def test_and_binds_tighter_than_or() -> None:
    expression = parse_skill_expression("support>0 & sales>0 | french>0", KNOWN)
    assert expression.matches({"french": 1})
    assert not expression.matches({"sales": 1})


@pytest.mark.parametrize("text", ["", "sales >", "(sales>1", "sales>1)", "sales $ 2", "& sales"])
def test_bad_expressions_are_refused(text: str) -> None:
    with pytest.raises(SkillExpressionError):
        parse_skill_expression(text, KNOWN)


@given(st.text(max_size=40))
def test_garbage_fails_only_with_the_documented_error(text: str) -> None:
    try:
        expression = parse_skill_expression(text, KNOWN)
    except SkillExpressionError:
        return
    assert expression.matches(AGENT) in (True, False)
