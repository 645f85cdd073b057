"""targets.py and agents.py: target strings, the agent board, and target selection."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.agents import AgentBoard
from ctiserver.orchestration.calls import CallBook, DnType
from ctiserver.orchestration.targets import (
    Reservations,
    Target,
    TargetError,
    TargetType,
    parse_target,
    select,
)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("7002", Target("7002", TargetType.DN)),
        ("7002@SwitchA.DN", Target("7002", TargetType.DN)),
        ("1001.A", Target("1001", TargetType.AGENT)),
        ("8001@.GA", Target("8001", TargetType.AGENT_GROUP)),
        ("8001@stat.ga", Target("8001", TargetType.AGENT_GROUP)),
        ("8001.Q", Target("8001", TargetType.QUEUE)),
        ("8001.queue", Target("8001", TargetType.QUEUE)),
    ],
)
def test_target_strings(text: str, target: Target) -> None:
    assert parse_target(text) == target


def test_the_default_type_and_bad_targets() -> None:
    assert parse_target("1001", TargetType.AGENT) == Target("1001", TargetType.AGENT)
    with pytest.raises(TargetError, match="type 'XX' is not supported"):
        parse_target("1001.XX")
    with pytest.raises(TargetError, match="is not NAME"):
        parse_target("a b")


def board() -> tuple[AgentBoard, CallBook, Reservations]:
    agents, calls = AgentBoard(), CallBook()
    for number, (dn, agent) in enumerate([("7002", "1001"), ("7003", "1002"), ("7004", "1003")]):
        calls.follow(dn, DnType.EXTENSION)
        agents.apply(
            {"Event": "EventAgentLogin", "ThisDN": dn, "AgentID": agent, "ThisQueue": "8001"}, 0
        )
        agents.apply({"Event": "EventAgentReady", "ThisDN": dn, "ThisQueue": "8001"}, 10 - number)
    return agents, calls, Reservations()


def chosen(
    targets: list[str], agents: AgentBoard, calls: CallBook, held: Reservations
) -> str | None:
    found = select(
        [parse_target(t) for t in targets], agents=agents, calls=calls, reservations=held, now=20
    )
    return found.dn if found else None


def test_an_agent_group_gives_the_agent_ready_longest() -> None:
    agents, calls, held = board()
    assert chosen(["8001.GA"], agents, calls, held) == "7004"
    held.reserve("7004", 30)
    assert chosen(["8001.GA"], agents, calls, held) == "7003"
    calls.apply({"Event": "EventRinging", "ThisDN": "7003", "ConnID": "c1"})
    assert chosen(["8001.GA"], agents, calls, held) == "7002"
    agents.apply({"Event": "EventAgentNotReady", "ThisDN": "7002", "AgentWorkMode": "AuxWork"}, 20)
    assert chosen(["8001.GA"], agents, calls, held) is None
    assert chosen(["9999.GA"], agents, calls, held) is None
    assert held.held("7004", 29)
    assert not held.held("7004", 30)


def test_agents_dns_and_queues() -> None:
    agents, calls, held = board()
    assert chosen(["1002.A"], agents, calls, held) == "7003"
    assert chosen(["1009.A", "7003"], agents, calls, held) == "7003"
    assert chosen(["8001.Q"], agents, calls, held) == "8001"
    assert chosen(["7009"], agents, calls, held) == "7009"  # not followed: counts as free
    agents.apply({"Event": "EventAgentLogout", "ThisDN": "7003"}, 30)
    assert chosen(["1002.A"], agents, calls, held) is None


def test_a_registration_reports_the_agent() -> None:
    agents = AgentBoard()
    agents.registered(
        {"ThisDN": "7002", "Extensions": {"AgentID": "1001", "AgentStatus": "Ready"}}, 5
    )
    seat = agents.seat_of("1001")
    assert seat is not None
    assert (seat.status, seat.queue, seat.ready_since) == ("Ready", None, 5)
    assert [s.dn for s in agents.serving("8001")] == ["7002"]  # queue unknown: serves all
    agents.registered({"ThisDN": "7002", "Extensions": {"status": "Idle"}}, 6)
    assert agents.seat_of("1001") is None
