"""Call supervision (tserver.supervision, tserver.monitoring; docs/supervision.md): a
supervisor monitors an agent's next call or every call, silently, as a coach or barging
in, joins as an observer (ThisDNRole Observer, CallState Bridged), changes its mode with
mute on and off, and leaves with the call or the agent; mute and listen for everyone;
with the exact events of every party, what the switch does, and the errors."""

from __future__ import annotations

from typing import Any

from ctiserver.ids import ClientId, ConnIdAllocator, DeviceId
from ctiserver.model.model import Model
from ctiserver.tserver.feature_options import SupervisionOptions
from ctiserver.tserver.port import CoreSettings
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import QUEUE, Wire

A, B, S, T = "7001", "7002", "7003", "7004"  # a customer, an agent, supervisors
OBSERVER, BRIDGED = "Observer", "Bridged"


def wire_with(**options: Any) -> Wire:
    settings = CoreSettings(
        name="tserver-a", location="SiteA", supervision=SupervisionOptions(**options)
    )
    wire = Wire(settings=settings)
    wire.core.journaling = True
    return wire


def monitoring(name: str, kind: str = "OneCall", mode: str = "mute", scope: str = "call", **more: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "Event": name,
        "ThisDN": S,
        "OtherDN": B,
        "MonitorNextCallType": kind,
        "Extensions": {"MonitorMode": mode, "MonitorScope": scope},
        **more,
    }


def parties(wire: Wire) -> tuple[ClientId, ClientId, ClientId]:
    return wire.client(A), wire.client(B), wire.client(S)


def talking(wire: Wire, a: ClientId, b: ClientId) -> Seen:
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    dialing = heard(wire, a)[-1]
    c1 = Seen(dialing["ConnID"], dialing["CallID"])
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    return c1


def switch_participation(wire: Wire) -> dict[str, tuple[str, str | None]]:
    (call,) = wire.switch.view().calls
    return {c.device: (c.participation, c.coached) for c in call.connections}


def test_silent_monitoring_of_the_next_call() -> None:
    wire = wire_with()
    a, b, s = parties(wire)
    asked = wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    assert heard(wire, s) == [monitoring("EventMonitoringNextCall", ReferenceID=asked)]
    assert heard(wire, b) == [monitoring("EventMonitoringNextCall")]
    c1 = talking(wire, a, b)
    assert [e["Event"] for e in heard(wire, b)] == ["EventRinging", "EventEstablished", "EventMonitoringCancelled"]  # fmt: skip
    assert heard(wire, s) == [
        c1.event(
            "EventRinging", S, OBSERVER, A, state=BRIDGED, other_role=ORIGINATION, ANI=A, DNIS=B
        ),
        monitoring("EventMonitoringCancelled"),  # OneCall: used up
    ]
    assert switch_participation(wire)[S] == ("silent", None)
    heard(wire, a)
    wire.ask(s, "RequestAnswerCall", ThisDN=S, ConnID=c1.conn_id)
    assert heard(wire, s) == [
        c1.event(
            "EventEstablished",
            S,
            OBSERVER,
            A,
            state=BRIDGED,
            other_role=ORIGINATION,
            ReferenceID=wire._references,
        )
    ]
    assert heard(wire, b) == [
        c1.event("EventPartyAdded", B, DESTINATION, S, state=BRIDGED, other_role=OBSERVER)
    ]
    assert heard(wire, a) == []  # the customer is not told
    assert wire.core.model.monitorings == {}
    wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c1.conn_id)  # scope call: S stays
    assert heard(wire, s) == [
        c1.event(
            "EventPartyDeleted",
            S,
            OBSERVER,
            B,
            other_role="DeletedParty",
            ThirdPartyDN=B,
            ThirdPartyDNRole="DeletedBy",
        )
    ]
    assert heard(wire, a) == []
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, s) == [c1.event("EventReleased", S, OBSERVER, A, released=REMOTE)]


def test_all_calls_with_scope_agent_and_changing_the_mode() -> None:
    wire = wire_with()
    a, b, s = parties(wire)
    wire.ask(
        s,
        "RequestMonitorNextCall",
        ThisDN=S,
        OtherDN=B,
        MonitorNextCallType="AllCalls",
        Extensions={"MonitorMode": "connect", "MonitorScope": "agent"},
    )
    c1 = talking(wire, a, b)
    assert switch_participation(wire)[S] == ("active", None)
    wire.ask(s, "RequestAnswerCall", ThisDN=S, ConnID=c1.conn_id)
    for client in (a, b, s):
        heard(wire, client)
    on = wire.ask(s, "RequestSetMuteOn", ThisDN=S, ConnID=c1.conn_id)
    mute = {"ThisDN": S, "ConnID": c1.conn_id, "CallID": "1"}
    assert heard(wire, s) == [
        {"Event": "EventMuteOn", **mute, "Extensions": {"MonitorMode": "mute"}, "ReferenceID": on}
    ]
    assert switch_participation(wire)[S] == ("silent", None)
    coach = wire.ask(
        s, "RequestSetMuteOff", ThisDN=S, ConnID=c1.conn_id, Extensions={"MonitorMode": "coach"}
    )
    assert heard(wire, s) == [
        {
            "Event": "EventMuteOff",
            **mute,
            "Extensions": {"MonitorMode": "coach"},
            "ReferenceID": coach,
        }
    ]
    assert switch_participation(wire)[S] == ("coach", B)
    off = wire.ask(s, "RequestSetMuteOff", ThisDN=S, ConnID=c1.conn_id)
    assert heard(wire, s)[0]["Extensions"] == {"MonitorMode": "connect"}
    assert heard(wire, s) == []
    assert heard(wire, b) == heard(wire, a) == []  # the supervisor's mode is its own
    assert off
    wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c1.conn_id)  # scope agent: S goes too
    assert [e["Event"] for e in heard(wire, s)] == ["EventPartyDeleted", "EventReleased"]
    assert [e["Event"] for e in heard(wire, a)] == ["EventReleased"]
    assert wire.switch.view().calls == ()
    assert wire.core.model.monitoring_of(DeviceId(B)) is not None  # AllCalls: it stays
    c2 = talking(wire, a, b)
    assert [e["Event"] for e in heard(wire, s)] == ["EventRinging"]
    assert heard(wire, s) == []
    assert c2.conn_id != c1.conn_id


def test_a_coach_joins_heard_by_the_agent_alone() -> None:
    wire = wire_with(default_monitor_mode="coach")
    a, b, s = parties(wire)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    talking(wire, a, b)
    assert switch_participation(wire)[S] == ("coach", B)


def test_intrusion_joins_the_call_the_agent_is_in() -> None:
    wire = wire_with()
    a, b, s = parties(wire)
    talking(wire, a, b)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    assert [e["Event"] for e in heard(wire, s)] == [
        "EventMonitoringNextCall",
        "EventRinging",
        "EventMonitoringCancelled",
    ]


def test_without_intrusion_the_supervisor_waits_for_the_next_call() -> None:
    wire = wire_with(intrusion_enabled=False)
    a, b, s = parties(wire)
    c1 = talking(wire, a, b)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    assert [e["Event"] for e in heard(wire, s)] == ["EventMonitoringNextCall"]
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    talking(wire, a, b)
    assert [e["Event"] for e in heard(wire, s)] == ["EventRinging", "EventMonitoringCancelled"]


def test_internal_calls_are_not_monitored_when_the_option_says_so() -> None:
    wire = wire_with(monitor_internal_calls=False)
    a, b, s = parties(wire)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    heard(wire, s)
    talking(wire, a, b)
    assert heard(wire, s) == []
    assert wire.core.model.monitoring_of(DeviceId(B)) is not None


def test_a_new_subscription_replaces_the_supervisors_and_a_logout_ends_it() -> None:
    wire = wire_with()
    _, b, s = parties(wire)
    t = wire.client(T)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    heard(wire, b)
    other = wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=T)
    assert heard(wire, b) == [monitoring("EventMonitoringCancelled")]
    assert [e["Event"] for e in heard(wire, s)][-2:] == ["EventMonitoringCancelled", "EventMonitoringNextCall"]  # fmt: skip
    assert heard(wire, t) == [monitoring("EventMonitoringNextCall", OtherDN=T)]
    assert other
    wire.ask(
        t, "RequestAgentLogin", ThisDN=T, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn"
    )
    heard(wire, t)
    wire.ask(t, "RequestAgentLogout", ThisDN=T)
    assert monitoring("EventMonitoringCancelled", OtherDN=T) in heard(wire, t)
    assert wire.core.model.monitorings == {}


def test_cancel_monitoring() -> None:
    wire = wire_with()
    _, b, s = parties(wire)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    heard(wire, s)
    heard(wire, b)
    cancel = wire.ask(s, "RequestCancelMonitoring", ThisDN=S, OtherDN=B)
    assert heard(wire, s) == [monitoring("EventMonitoringCancelled", ReferenceID=cancel)]
    assert heard(wire, b) == [monitoring("EventMonitoringCancelled")]
    again = wire.ask(s, "RequestCancelMonitoring", ThisDN=S)
    assert heard(wire, s) == [error(again, 53, f"supervisor {S} is not monitoring any DN", S)]


def test_monitoring_errors() -> None:
    wire = wire_with()
    _, _, s = parties(wire)
    t = wire.client(T)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    heard(wire, s)
    cases = [
        (t, {"ThisDN": T, "OtherDN": B}, 42, f"DN {B} is monitored by supervisor {S}"),
        (t, {"ThisDN": T, "OtherDN": T}, 53, "a supervisor cannot monitor its own DN"),
        (t, {"ThisDN": T, "OtherDN": QUEUE}, 53, f"OtherDN {QUEUE} is not an extension"),
        (t, {"ThisDN": T, "OtherDN": "7999"}, 59, "DN 7999 is not configured on this server"),
        (t, {"ThisDN": A, "OtherDN": B}, 41, f"this client has not registered DN {A}"),
        (
            t,
            {"ThisDN": T, "OtherDN": A, "Extensions": {"MonitorMode": "loud"}},
            53,
            "Extensions MonitorMode must be one of: mute, connect, coach",
        ),
    ]
    for client, attributes, code, message in cases:
        reference = wire.ask(client, "RequestMonitorNextCall", **attributes)
        assert heard(wire, client) == [error(reference, code, message, attributes["ThisDN"])]


# --- mute and listen, for everyone ---------------------------------------------------------


def test_mute_on_and_off() -> None:
    wire = wire_with()
    a, b, _ = parties(wire)
    c1 = talking(wire, a, b)
    heard(wire, b)
    on = wire.ask(b, "RequestSetMuteOn", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, b) == [{"Event": "EventMuteOn", "ThisDN": B, "ConnID": c1.conn_id, "CallID": "1", "ReferenceID": on}]  # fmt: skip
    assert wire.switch.view().microphone_muted == {B}
    off = wire.ask(b, "RequestSetMuteOff", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, b) == [{"Event": "EventMuteOff", "ThisDN": B, "ConnID": c1.conn_id, "CallID": "1", "ReferenceID": off}]  # fmt: skip
    assert heard(wire, a)[-1]["Event"] == "EventEstablished"  # the other party is not told
    bogus = wire.ask(b, "RequestSetMuteOn", ThisDN=B, ConnID="00000000deadbeef")
    assert heard(wire, b) == [error(bogus, 56, f"DN {B} is not on a call with ConnID 00000000deadbeef", B)]  # fmt: skip


def test_listen_disconnect_and_reconnect() -> None:
    wire = wire_with()
    a, b, _ = parties(wire)
    c1 = talking(wire, a, b)
    heard(wire, a)
    heard(wire, b)
    gone = wire.ask(b, "RequestListenDisconnect", ThisDN=B, ConnID=c1.conn_id, OtherDN=A)
    about = {"ConnID": c1.conn_id, "CallID": "1", "OtherDN": A}
    assert heard(wire, b) == [{"Event": "EventListenDisconnected", "ThisDN": B, **about, "ReferenceID": gone}]  # fmt: skip
    assert heard(wire, a) == [{"Event": "EventListenDisconnected", "ThisDN": A, **about}]
    assert wire.switch.view().speaker_muted == {A}
    back = wire.ask(b, "RequestListenReconnect", ThisDN=B, ConnID=c1.conn_id, OtherDN=A)
    assert heard(wire, b) == [{"Event": "EventListenReconnected", "ThisDN": B, **about, "ReferenceID": back}]  # fmt: skip
    assert wire.switch.view().speaker_muted == frozenset()


def test_listen_errors() -> None:
    wire = wire_with()
    a, b, _ = parties(wire)
    c1 = talking(wire, a, b)
    heard(wire, b)
    reference = wire.ask(b, "RequestListenDisconnect", ThisDN=B, ConnID=c1.conn_id, OtherDN="7005")
    message = f"OtherDN 7005 is not a party of call {c1.conn_id}"
    assert heard(wire, b) == [error(reference, 53, message, B)]
    wire.say(
        b,
        {"Request": "RequestListenDisconnect", "ReferenceID": 7, "ThisDN": B, "ConnID": c1.conn_id},
    )
    assert heard(wire, b) == [error(7, 53, "RequestListenDisconnect lacks OtherDN")]


def test_the_subscription_and_the_observer_are_in_the_records() -> None:
    wire = wire_with()
    a, b, s = parties(wire)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B, MonitorNextCallType="AllCalls")
    talking(wire, a, b)
    replica = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay(wire.journal)
    assert replica.value() == wire.core.model.value()
    (call,) = wire.core.model.calls
    assert set(call.observers) == {S}


def test_the_supervisor_leaves_first() -> None:
    wire = wire_with()
    a, b, s = parties(wire)
    wire.ask(s, "RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    c1 = talking(wire, a, b)
    wire.ask(s, "RequestAnswerCall", ThisDN=S, ConnID=c1.conn_id)
    for client in (a, b, s):
        heard(wire, client)
    leave = wire.ask(s, "RequestReleaseCall", ThisDN=S, ConnID=c1.conn_id)
    assert heard(wire, s) == [
        c1.event("EventReleased", S, OBSERVER, A, ReferenceID=leave, released=LOCAL)
    ]
    assert heard(wire, b) == [
        c1.event(
            "EventPartyDeleted",
            B,
            DESTINATION,
            S,
            other_role="DeletedParty",
            ThirdPartyDN=S,
            ThirdPartyDNRole="DeletedBy",
        )
    ]
    assert heard(wire, a) == []
    (call,) = wire.core.model.calls
    assert call.observers == {}
