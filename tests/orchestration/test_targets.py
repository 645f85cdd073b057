"""targets.py: target strings as Genesys writes them."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.targets import Target, TargetError, TargetType, parse_target

T = TargetType


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("7002", Target(name="7002", type=T.DN)),
        ("7002@SwitchA.DN", Target(name="7002", type=T.DN, site="SwitchA")),
        ("1001.A", Target(name="1001", type=T.AGENT)),
        ("8001@.GA", Target(name="8001", type=T.AGENT_GROUP, site="")),
        ("8001@stat.ga", Target(name="8001", type=T.AGENT_GROUP, site="stat")),
        ("8001.Q", Target(name="8001", type=T.QUEUE)),
        ("8001.queue", Target(name="8001", type=T.QUEUE)),
        ("Front.GP", Target(name="Front", type=T.PLACE_GROUP)),
        ("7005.P", Target(name="7005", type=T.PLACE)),
        ("5001@SiteB.RP", Target(name="5001", type=T.ROUTING_POINT, site="SiteB")),
        ("?sales>5 & lang=fr", Target(name="sales>5 & lang=fr", type=T.SKILL)),
        ("?:sales>5@Stat.GA", Target(name="sales>5", type=T.SKILL, site="Stat")),
        ("?VAG1:sales >= 5.5.GA", Target(name="sales >= 5.5", type=T.SKILL)),
        ("?(a | b) & !c@SiteB", Target(name="(a | b) & !c", type=T.SKILL, site="SiteB")),
        (
            "{StatAgentsAvailable > 1}Sales.GA",
            Target(name="Sales", type=T.AGENT_GROUP, threshold="StatAgentsAvailable > 1"),
        ),
        (
            "{StatTimeInReadyState>10}?sales>5",
            Target(name="sales>5", type=T.SKILL, threshold="StatTimeInReadyState>10"),
        ),
    ],
)
def test_target_strings(text: str, target: Target) -> None:
    assert parse_target(text) == target


def test_the_default_type_and_bad_targets() -> None:
    assert parse_target("1001", TargetType.AGENT) == Target(name="1001", type=T.AGENT)
    assert parse_target("sales > 3", TargetType.SKILL) == Target(name="sales > 3", type=T.SKILL)
    with pytest.raises(TargetError, match="type 'XX' is not supported"):
        parse_target("1001.XX")
    with pytest.raises(TargetError, match="is not NAME"):
        parse_target("a b")
    with pytest.raises(TargetError, match="is not NAME"):
        parse_target("[2]Sales.GA")  # weights: not supported
    with pytest.raises(TargetError, match="skill expression"):
        parse_target("?sales >")
    with pytest.raises(TargetError, match="the skill expression is empty"):
        parse_target("?@Stat.GA")
    with pytest.raises(TargetError, match="threshold"):
        parse_target("{StatAgentsAvailable >}Sales.GA")
    with pytest.raises(TargetError, match="starts with '\\?'"):
        parse_target("sales.skill")


def test_targets_print_as_genesys_writes_them() -> None:
    assert str(parse_target("?sales>5@Stat")) == "?sales>5@Stat.GA"
    assert str(parse_target("7002@SwitchA.DN")) == "7002@SwitchA.DN"
