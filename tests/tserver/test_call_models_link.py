"""The link and the server's own upkeep (docs/protocol.md § 5, docs/configuration.md
call-cleanup): what clients hear when the link comes back and the switch's snapshot
says what changed meanwhile (resync), when DNs leave the configuration, and when a call
the switch has forgotten is found and dropped (stuck-call clean-up)."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from ctiserver.csta.agents import SetAgentState
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.ids import AgentId, DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup
from ctiserver.pbxsim.phone import Answer, Dial, HangUp, Hold
from ctiserver.tserver.port import CallCleanup, CoreSettings
from tests.tserver.seen import DESTINATION, ORIGINATION, UNKNOWN, Seen, error, heard
from tests.wire import DNS, PBX, QUEUE, Wire

A, B, C, D, E, F = "7001", "7002", "7003", "7004", "7005", "7006"
UP, DOWN = {"Event": "EventLinkConnected"}, {"Event": "EventLinkDisconnected"}


def call(wire: Wire, caller: int, this: str, other: str) -> Seen:
    wire.ask(caller, "RequestMakeCall", ThisDN=this, OtherDN=other)
    dialing = heard(wire, caller)[0]
    return Seen(dialing["ConnID"], str(len(wire.core.model.calls) + 1))


def test_resync_tells_what_happened_to_calls_while_the_link_was_down() -> None:
    wire = Wire()
    a, b, c, e = (wire.client(dn) for dn in (A, B, C, E))
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    wire.ask(c, "RequestMakeCall", ThisDN=C, OtherDN=E)
    c2 = Seen(heard(wire, c)[0]["ConnID"], "2")
    for client in (a, b, c, e):
        heard(wire, client)
    wire.drop_link()
    for client in (a, b, c, e):
        assert heard(wire, client) == [DOWN]
    wire.phone(HangUp(DeviceId(A)))  # c1 ends
    wire.phone(Answer(DeviceId(E)))  # c2 is answered, then held at E
    wire.phone(Hold(DeviceId(E)))
    wire.phone(Dial(DeviceId(F), DeviceId(A)))  # a new call rings A
    wire.reconnect()
    released, ringing, up = heard(wire, a)
    c3 = Seen(ringing["ConnID"], "3")
    assert [released, ringing, up] == [
        c1.event("EventReleased", A, ORIGINATION, B, released=UNKNOWN),
        c3.event("EventRinging", A, DESTINATION, F, ANI=F, DNIS=A),
        UP,
    ]
    assert heard(wire, b) == [c1.event("EventReleased", B, DESTINATION, A, released=UNKNOWN), UP]
    assert heard(wire, c) == [c2.event("EventEstablished", C, ORIGINATION, E), UP]
    assert heard(wire, e) == [c2.event("EventHeld", E, DESTINATION, C), UP]
    assert {call.conn_id for call in wire.core.model.calls} == {c2.conn_id, c3.conn_id}
    # The calls carry on as if nothing had happened.
    answered = wire.ask(a, "RequestAnswerCall", ThisDN=A, ConnID=c3.conn_id)
    assert heard(wire, a) == [c3.event("EventEstablished", A, DESTINATION, F, ReferenceID=answered)]


def test_resync_releases_a_call_at_a_dn_that_ended_while_down() -> None:
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    dialing = heard(wire, a)[0]
    c1 = Seen(dialing["ConnID"], "1")
    heard(wire, b)
    wire.drop_link()
    wire.phone(HangUp(DeviceId(A)))
    wire.reconnect()
    assert heard(wire, a) == [
        DOWN,
        c1.event("EventReleased", A, ORIGINATION, B, released=UNKNOWN),
        UP,
    ]
    assert heard(wire, b) == [
        DOWN,
        c1.event("EventReleased", B, DESTINATION, A, released=UNKNOWN),
        UP,
    ]
    assert wire.core.model.calls == []


WRAP_UP = dataclasses.replace(PBX, acd_groups=(AcdGroup(number=QUEUE, wrap_up_time=5.0),))


def agent(name: str, dn: str, agent_id: str, work_mode: str, **more: object) -> dict[str, object]:
    return {
        "Event": name,
        "ThisDN": dn,
        "AgentID": agent_id,
        "AgentWorkMode": work_mode,
        "ThisQueue": QUEUE,
        **more,
    }


def test_resync_tells_what_happened_to_agents_while_the_link_was_down() -> None:
    wire = Wire(pbx=WRAP_UP)
    d, e, f = wire.client(D), wire.client(E), wire.client(F)
    wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn")  # fmt: skip
    wire.ask(f, "RequestAgentLogin", ThisDN=F, ThisQueue=QUEUE, AgentID="1003")
    for client in (d, e, f):
        heard(wire, client)
    wire.drop_link()
    # Another application changes the agents meanwhile.
    other, _ = wire.switch.connect(now=wire.monotonic)
    for dn, state, agent_id in (
        (D, ReqAgentState.NOT_READY, "1001"),
        (E, ReqAgentState.LOGGED_ON, "1002"),
        (F, ReqAgentState.LOGGED_OFF, "1003"),
    ):
        request = SetAgentState(
            device=DeviceId(dn), requested_agent_state=state, agent_id=AgentId(agent_id)
        )
        wire.switch.handle(other, request, now=wire.monotonic)
    wire.reconnect()
    assert heard(wire, d) == [DOWN, agent("EventAgentNotReady", D, "1001", "AuxWork"), UP]
    assert heard(wire, e) == [
        DOWN,
        agent("EventAgentLogin", E, "1002", "ManualIn", Extensions={}),
        agent("EventAgentNotReady", E, "1002", "AuxWork"),
        UP,
    ]
    assert heard(wire, f) == [DOWN, agent("EventAgentLogout", F, "1003", "AuxWork"), UP]


def test_a_wrap_up_that_ended_while_the_link_was_down() -> None:
    wire = Wire(pbx=WRAP_UP)
    a, d = wire.client(A), wire.client(D)
    wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn")  # fmt: skip
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    c1 = heard(wire, a)[0]["ConnID"]
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1)
    assert heard(wire, d)[-1] == agent("EventAgentNotReady", D, "1001", "AfterCallWork")
    wire.drop_link()
    wire.advance(6)  # the wrap-up ends; nobody hears it
    wire.reconnect()
    assert heard(wire, d) == [DOWN, agent("EventAgentReady", D, "1001", "AutoIn"), UP]


# --- reconfiguration ---------------------------------------------------------------------


def test_dns_removed_from_the_configuration() -> None:
    wire = Wire()
    a, b = wire.client(A, B), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    heard(wire, b)
    dns = {dn: kind for dn, kind in DNS.items() if dn != B}
    wire.perform(wire.core.reconfigure(dns, wire.now()))
    removed = {
        "Event": "EventUnregistered",
        "ThisDN": B,
        "ErrorCode": 59,
        "ErrorMessage": f"DN {B} was removed from the configuration",
    }
    assert heard(wire, a) == [removed]
    assert heard(wire, b) == [removed]
    assert DeviceId(B) not in wire.monitors.values()
    # The call goes on at A; B's events no longer reach anyone.
    wire.phone(Answer(DeviceId(B)))
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, B)]
    assert heard(wire, b) == []
    refused = wire.ask(b, "RequestRegisterAddress", ThisDN=B)
    assert heard(wire, b) == [error(refused, 59, f"DN {B} is not configured on this server", B)]
    # Back in the configuration, B is monitored again.
    wire.perform(wire.core.reconfigure({**dns, DeviceId(B): DnKind.EXTENSION}, wire.now()))
    assert DeviceId(B) in wire.monitors.values()
    wire.ask(b, "RequestRegisterAddress", ThisDN=B)
    heard(wire, b)
    wire.phone(HangUp(DeviceId(A)))
    assert [e["Event"] for e in heard(wire, a)] == ["EventReleased"]


def test_a_removed_dns_calls_leave_without_a_trace() -> None:
    wire = Wire()
    b = wire.client(B)
    wire.ask(b, "RequestMakeCall", ThisDN=B, OtherDN="1234")
    heard(wire, b)
    dns = {dn: kind for dn, kind in DNS.items() if dn != B}
    wire.perform(wire.core.reconfigure(dns, wire.now()))
    assert wire.core.model.calls == []


# --- stuck calls (call-cleanup) ----------------------------------------------------------

CLEANUP = CoreSettings(
    name="tserver-a",
    cleanup=CallCleanup(notify_idle_timeout=20, cleanup_idle_timeout=40, periodic_check=10),
)


def stuck(wire: Wire) -> Seen:
    """A call A-B whose end the switch reported to nobody."""
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, a), heard(wire, b)
    wire.events_lost = True
    wire.phone(HangUp(DeviceId(A)))
    wire.events_lost = False
    return c1


def test_a_stuck_call_is_reported_then_checked_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire(settings=CLEANUP)
    c1 = stuck(wire)
    caplog.set_level(logging.WARNING)
    wire.advance(10)  # the runtime wakes the core at each periodic check
    assert caplog.messages == []
    wire.advance(10)  # 20 s: idle for notify-idle-tout
    assert caplog.messages == [f"call {c1.conn_id} has had no event for 20 s: it may be stuck"]
    wire.advance(10)
    assert len(caplog.messages) == 1  # reported once
    assert wire.audits == []
    wire.advance(10)  # 40 s: idle for cleanup-idle-tout, so the switch is asked
    assert [audit.calls for audit in wire.audits] == [((c1.conn_id, "1"),)]
    assert wire.core.model.calls == []
    assert caplog.messages[-1] == f"call {c1.conn_id} is gone from the switch; removing it"
    assert heard(wire, 1) == heard(wire, 2) == []  # its parties leave without events


def test_a_quiet_call_the_switch_still_has_is_kept() -> None:
    wire = Wire(settings=CLEANUP)
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = heard(wire, a)[0]["ConnID"]
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1)
    wire.advance(45)
    assert len(wire.audits) == 1
    assert [call.conn_id for call in wire.core.model.calls] == [c1]
    wire.ask(a, "RequestHoldCall", ThisDN=A, ConnID=c1)  # an event: idle again from now
    wire.advance(10)
    assert len(wire.audits) == 1


def test_no_audit_while_the_link_is_down() -> None:
    wire = Wire(settings=CLEANUP)
    stuck(wire)
    wire.drop_link()
    wire.advance(50)
    assert wire.audits == []
    assert len(wire.core.model.calls) == 1
    wire.reconnect()  # the snapshot finds it gone
    assert wire.core.model.calls == []


def test_clean_up_is_off_by_default() -> None:
    wire = Wire()
    stuck(wire)
    wire.advance(3600)
    assert wire.audits == []
    assert wire.core.next_deadline() is None
    assert len(wire.core.model.calls) == 1
