"""The emulated agent features (tserver.agent_emulation; docs/agents.md): after-call work
with its timer, legal guard, logout or NotReady when the client that logged the agent in
goes, and no-answer handling, with the exact events the agent DN's clients receive, what
the switch is told, and the timers carried in the model's records (the backup's view)."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.csta.agents import SetAgentState
from ctiserver.csta.call_control import ClearConnection, DeflectCall
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.ids import ClientId, ConnIdAllocator, DeviceId
from ctiserver.model.model import Model
from ctiserver.tserver.feature_options import AgentOptions
from ctiserver.tserver.port import CoreSettings
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, heard
from tests.wire import QUEUE, Wire

A, D, E = "7001", "7004", "7005"
d = ClientId(1)  # the agent DN's client


def wire_with(**options: Any) -> Wire:
    settings = CoreSettings(name="tserver-a", location="SiteA", agents=AgentOptions(**options))
    wire = Wire(settings=settings)
    wire.core.journaling = True  # as the primary of a pair: every record is journalled
    return wire


def agent(name: str, work_mode: str, **more: Any) -> dict[str, Any]:
    return {
        "Event": name,
        "ThisDN": D,
        "AgentID": "1001",
        "AgentWorkMode": work_mode,
        "ThisQueue": QUEUE,
        **more,
    }


def ready_agent(wire: Wire, **login: Any) -> None:
    wire.client(D)
    wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn", **login)  # fmt: skip
    heard(wire, d)


def acd_call(wire: Wire, *, answer: bool = True) -> tuple[ClientId, Seen]:
    """A calls the queue; the call rings at D (answered unless not *answer*)."""
    a = wire.client(A)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    if answer:
        wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    return a, c1


def sent_states(wire: Wire) -> list[ReqAgentState]:
    states = [r.requested_agent_state for r in wire.sent_to_switch if isinstance(r, SetAgentState)]
    wire.sent_to_switch.clear()
    return states


def replica(wire: Wire) -> Model:
    """A model fed the core's journal, as the backup of a pair is."""
    model = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    model.replay(wire.journal)
    return model


def test_after_call_work_is_told_before_the_release_and_ends_by_itself() -> None:
    wire = wire_with(wrap_up_time="30")
    ready_agent(wire)
    a, c1 = acd_call(wire)
    ringing, established = heard(wire, d)
    assert established["Extensions"] == {"WrapUpTime": 30}  # not on EventRinging
    assert "Extensions" not in ringing
    sent_states(wire)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, d) == [
        agent("EventAgentNotReady", "AfterCallWork", Extensions={"WrapUpTime": 30}),
        c1.event("EventReleased", D, DESTINATION, A, ThisQueue=QUEUE, released=REMOTE),
    ]
    assert sent_states(wire) == [ReqAgentState.WORKING_AFTER_CALL]  # no ACD call meanwhile
    status = wire.ask(d, "RequestQueryAddress", ThisDN=D)
    (info,) = heard(wire, d)
    assert info["Extensions"]["AgentStatus"] == "AfterCallWork"
    assert info["Extensions"]["WrapUpTime"] == 30
    assert info["ReferenceID"] == status
    until = wire.core.model.agent(DeviceId(D)).until  # type: ignore[union-attr]
    assert until == pytest.approx(wire.wall + 30)
    assert replica(wire).agent(DeviceId(D)) == wire.core.model.agent(DeviceId(D))
    wire.advance(29.9)
    assert heard(wire, d) == []
    wire.advance(0.2)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn")]
    assert sent_states(wire) == [ReqAgentState.READY]


def test_legal_guard_follows_the_after_call_work() -> None:
    wire = wire_with(wrap_up_time="10", legal_guard_time=5)
    ready_agent(wire)
    a, c1 = acd_call(wire)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    heard(wire, d)
    wire.advance(10.1)
    assert heard(wire, d) == [agent("EventAgentNotReady", "LegalGuard")]
    wire.advance(4.8)
    assert heard(wire, d) == []
    wire.advance(0.2)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn")]


def test_legal_guard_alone_after_a_business_call() -> None:
    wire = wire_with(legal_guard_time=5)
    ready_agent(wire)
    a, c1 = acd_call(wire)
    heard(wire, d)
    sent_states(wire)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, d) == [
        agent("EventAgentNotReady", "LegalGuard"),
        c1.event("EventReleased", D, DESTINATION, A, ThisQueue=QUEUE, released=REMOTE),
    ]
    assert sent_states(wire) == [ReqAgentState.NOT_READY]  # the switch's NotReady tells nobody
    wire.advance(5.1)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn")]


def test_untimed_after_call_work_waits_for_the_agent() -> None:
    wire = wire_with(wrap_up_time="1000")  # untimed-wrap-up-value
    ready_agent(wire)
    a, c1 = acd_call(wire)
    heard(wire, d)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, d)[0] == agent(
        "EventAgentNotReady", "AfterCallWork", Extensions={"WrapUpTime": "untimed"}
    )
    wire.advance(3600)
    assert heard(wire, d) == []
    ready = wire.ask(d, "RequestAgentReady", ThisDN=D)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn", ReferenceID=ready)]


def test_the_logins_wrap_up_time_and_an_agent_that_is_not_ready_or_not_in_a_business_call() -> None:
    wire = wire_with(wrap_up_time="30")
    ready_agent(wire, Extensions={"WrapUpTime": 5})
    a, c1 = acd_call(wire)
    heard(wire, d)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, d)[0] == agent(
        "EventAgentNotReady", "AfterCallWork", Extensions={"WrapUpTime": 5}
    )
    wire.advance(5.1)
    heard(wire, d)
    heard(wire, a)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=D)  # a direct call is no business call
    c2 = Seen(heard(wire, a)[-1]["ConnID"], "2")  # EventDialing
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c2.conn_id)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c2.conn_id)
    assert [e["Event"] for e in heard(wire, d)] == ["EventRinging", "EventEstablished", "EventReleased"]  # fmt: skip


def test_a_requested_after_call_work_is_timed_too() -> None:
    wire = wire_with(wrap_up_time="20")
    ready_agent(wire)
    acw = wire.ask(d, "RequestAgentNotReady", ThisDN=D, AgentWorkMode="AfterCallWork")
    assert heard(wire, d) == [agent("EventAgentNotReady", "AfterCallWork", ReferenceID=acw)]
    wire.advance(20.1)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn")]


def test_a_ready_during_after_call_work_ends_it_and_its_timer() -> None:
    wire = wire_with(wrap_up_time="30")
    ready_agent(wire)
    a, c1 = acd_call(wire)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    heard(wire, d)
    ready = wire.ask(d, "RequestAgentReady", ThisDN=D)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn", ReferenceID=ready)]
    assert wire.core.model.agent(DeviceId(D)).until is None  # type: ignore[union-attr]
    wire.advance(31)
    assert heard(wire, d) == []


def test_timers_wait_for_the_link() -> None:
    wire = wire_with(wrap_up_time="10")
    ready_agent(wire)
    a, c1 = acd_call(wire)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    heard(wire, d)
    wire.drop_link()
    assert wire.core.features.next_due() is None  # nothing to do meanwhile: no busy loop
    wire.advance(11)
    assert [e["Event"] for e in heard(wire, d)] == ["EventLinkDisconnected"]
    wire.reconnect()
    events = heard(wire, d)
    assert agent("EventAgentReady", "AutoIn") in events


# --- the agent's client --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "event", "mode"),
    [
        ({"agent_logout_on_unreg": True}, "EventAgentLogout", "AutoIn"),
        ({"agent_notready_on_unreg": True}, "EventAgentNotReady", "AuxWork"),
    ],
)
def test_the_client_that_logged_the_agent_in_unregisters(
    options: dict[str, bool], event: str, mode: str
) -> None:
    wire = wire_with(**options)
    ready_agent(wire)
    watcher = wire.client(D)
    other = wire.client(D)
    wire.ask(other, "RequestUnregisterAddress", ThisDN=D)  # not the one that logged it in
    assert heard(wire, watcher) == []
    wire.ask(d, "RequestUnregisterAddress", ThisDN=D)
    assert heard(wire, watcher) == [agent(event, mode)]


def test_the_session_of_that_client_ends() -> None:
    wire = wire_with(agent_logout_on_unreg=True)
    ready_agent(wire)
    watcher = wire.client(D)
    wire.perform(wire.core.client_disconnected(d, wire.now()))
    wire.advance(59)  # within the resume window the agent stays
    assert heard(wire, watcher) == []
    wire.advance(1.5)
    assert heard(wire, watcher) == [agent("EventAgentLogout", "AutoIn")]


def test_without_the_options_the_agent_stays() -> None:
    wire = wire_with()
    ready_agent(wire)
    watcher = wire.client(D)
    wire.ask(d, "RequestUnregisterAddress", ThisDN=D)
    wire.perform(wire.core.client_disconnected(d, wire.now()))
    wire.advance(61)
    assert heard(wire, watcher) == []
    assert wire.core.model.agent(DeviceId(D)) is not None


# --- no answer -----------------------------------------------------------------------------


def test_no_answer_sets_the_agent_not_ready_and_recalls_the_call_to_its_queue() -> None:
    wire = wire_with(agent_no_answer_timeout=10, agent_no_answer_action="notready", agent_no_answer_overflow="recall")  # fmt: skip
    ready_agent(wire)
    e = wire.client(E)
    wire.ask(e, "RequestAgentLogin", ThisDN=E, ThisQueue=QUEUE, AgentID="1002", AgentWorkMode="AutoIn")  # fmt: skip
    heard(wire, e)
    q = wire.client(QUEUE)
    _, c1 = acd_call(wire, answer=False)
    assert [ev["Event"] for ev in heard(wire, d)] == ["EventRinging"]
    assert wire.core.model.no_answer_due(DeviceId(D), c1.conn_id) is not None  # type: ignore[arg-type]
    assert replica(wire).no_answer == wire.core.model.no_answer
    wire.advance(9.9)
    assert heard(wire, d) == []
    wire.advance(0.2)
    assert heard(wire, d) == [
        agent("EventAgentNotReady", "AuxWork"),
        c1.event(
            "EventReleased", D, DESTINATION, A, state="Redirected", ThisQueue=QUEUE, released=LOCAL
        ),
    ]
    ringing_at_e = heard(wire, e)
    assert [ev["Event"] for ev in ringing_at_e] == ["EventRinging"]
    assert ringing_at_e[0]["ConnID"] == c1.conn_id
    assert [ev["Event"] for ev in heard(wire, q)] == [
        "EventQueued",
        "EventDiverted",
        "EventQueued",
        "EventDiverted",
    ]
    assert wire.core.model.no_answer_due(DeviceId(D), c1.conn_id) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overflow", "expected"),
    [("release", ClearConnection), (E, DeflectCall), ("none", None)],
)
def test_no_answer_overflow(overflow: str, expected: type | None) -> None:
    wire = wire_with(agent_no_answer_timeout=5, agent_no_answer_overflow=overflow)
    ready_agent(wire)
    acd_call(wire, answer=False)
    heard(wire, d)
    wire.sent_to_switch.clear()
    wire.advance(5.1)
    kinds = [type(r) for r in wire.sent_to_switch]
    assert kinds == ([] if expected is None else [expected])


def test_an_answered_call_stops_the_no_answer_timer() -> None:
    wire = wire_with(agent_no_answer_timeout=5, agent_no_answer_action="logout")
    ready_agent(wire)
    a, c1 = acd_call(wire)
    assert wire.core.model.no_answer == {}
    wire.advance(6)
    events = heard(wire, d)
    assert [e["Event"] for e in events] == ["EventRinging", "EventEstablished"]
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, D)]
