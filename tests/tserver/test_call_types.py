"""Every MakeCallType and RouteType (docs/protocol.md, RequestMakeCall and Routing):
honoured as call characteristics the switch acts on, or refused with EventError 53
saying why, with the exact events each party's client receives."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_control import MakeCall
from ctiserver.csta.routeing import RouteSelect
from ctiserver.csta.types import CallCharacteristics
from tests.tserver.seen import DESTINATION, ORIGINATION, Seen, error, heard, names
from tests.wire import POINT, QUEUE, Wire

A, B, C, D = "7001", "7002", "7003", "7004"


def agent_at(wire: Wire, dn: str, agent_id: str = "1001", *, ready: bool = True) -> int:
    """An agent logged in at *dn* (on the queue), its client's events consumed."""
    client = wire.client(dn)
    mode = "AutoIn" if ready else "ManualIn"
    wire.ask(client, "RequestAgentLogin", ThisDN=dn, ThisQueue=QUEUE, AgentID=agent_id, AgentWorkMode=mode)  # fmt: skip
    heard(wire, client)
    return client


# --- MakeCallType ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_call_type", "characteristics"),
    [
        ("Regular", None),
        ("Priority", CallCharacteristics(priority_call=True)),
    ],
)
def test_make_call_types_without_an_agent(
    make_call_type: str, characteristics: CallCharacteristics | None
) -> None:
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType=make_call_type)
    (sent,) = wire.sent_to_switch
    assert isinstance(sent, MakeCall)
    assert sent.call_characteristics == characteristics
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert dialing == c1.event("EventDialing", A, ORIGINATION, B, ReferenceID=made)
    assert heard(wire, b) == [c1.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=B)]


@pytest.mark.parametrize("make_call_type", ["DirectAgent", "DirectPriority"])
def test_a_direct_agent_call_reaches_the_agent_as_an_acd_call(make_call_type: str) -> None:
    wire = Wire()
    a = wire.client(A)
    d = agent_at(wire, D)
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=D, MakeCallType=make_call_type)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert dialing == c1.event("EventDialing", A, ORIGINATION, D, ReferenceID=made)
    assert heard(wire, d) == [
        c1.event("EventRinging", D, DESTINATION, A, ANI=A, DNIS=D, AgentID="1001")
    ]


@pytest.mark.parametrize("make_call_type", ["DirectAgent", "DirectPriority"])
def test_a_direct_agent_call_to_a_dn_without_an_agent_is_refused(make_call_type: str) -> None:
    wire = Wire()
    a = wire.client(A)
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType=make_call_type)
    message = f"MakeCallType {make_call_type}: no agent is logged in at {B}"
    assert heard(wire, a) == [error(made, 1707, message, A)]
    assert wire.sent_to_switch == []


def test_the_switch_refuses_a_direct_agent_call_to_a_station_it_knows_no_agent_at() -> None:
    """A number the server does not monitor (it is not in its DNs) is the switch's to
    check: the refusal says what it means."""
    dns = {dn: kind for dn, kind in Wire().core.model.dns.items() if dn != B}
    wire = Wire(dns=dns)
    a = wire.client(A)
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType="DirectAgent")
    message = (
        "the switch refused RequestMakeCall: stateIncompatibility invalidCalledDeviceState: "
        "no agent is logged in at OtherDN (MakeCallType DirectAgent)"
    )
    assert heard(wire, a) == [error(made, 1160, message, A)]


def test_supervisor_assist_from_an_agent() -> None:
    wire = Wire()
    d = agent_at(wire, D)
    b = wire.client(B)
    made = wire.ask(d, "RequestMakeCall", ThisDN=D, OtherDN=B, MakeCallType="SupervisorAssist")
    (sent,) = [s for s in wire.sent_to_switch if isinstance(s, MakeCall)]
    assert sent.call_characteristics == CallCharacteristics(assist_call=True)
    (dialing,) = heard(wire, d)
    c1 = Seen(dialing["ConnID"], "1")
    assert dialing == c1.event("EventDialing", D, ORIGINATION, B, ReferenceID=made)
    assert names(heard(wire, b)) == ["EventRinging"]


def test_supervisor_assist_needs_an_agent_at_this_dn() -> None:
    wire = Wire()
    a, _b = wire.client(A), wire.client(B)
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType="SupervisorAssist")
    message = (
        "the switch refused RequestMakeCall: operation requestIncompatibleWithCallingDevice: "
        "MakeCallType SupervisorAssist needs an agent logged in at ThisDN"
    )
    assert heard(wire, a) == [error(made, 1140, message, A)]


def test_a_priority_call_waits_ahead_in_an_acd_queue() -> None:
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    d = agent_at(wire, D, ready=False)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    wire.ask(b, "RequestMakeCall", ThisDN=B, OtherDN=QUEUE, MakeCallType="Priority")
    (regular,) = [e["ConnID"] for e in heard(wire, a)]
    (priority,) = [e["ConnID"] for e in heard(wire, b)]
    wire.ask(d, "RequestAgentReady", ThisDN=D)
    ringing = [e for e in heard(wire, d) if e["Event"] == "EventRinging"]
    assert [e["ConnID"] for e in ringing] == [priority]
    assert priority != regular


# --- RouteType ------------------------------------------------------------------------------


def route_used(c1: Seen, destination: str, reference: int) -> dict[str, object]:
    return c1.event(
        "EventRouteUsed",
        POINT,
        DESTINATION,
        A,
        ThisQueue=POINT,
        ThirdPartyDN=destination,
        ThirdPartyDNRole="Destination",
        ReferenceID=reference,
    )


def offered(wire: Wire) -> tuple[Seen, int, int]:
    """A calls the routing point; returns the call, A's client and the router's."""
    a, router = wire.client(A), wire.client(POINT)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=POINT)
    (dialing,) = heard(wire, a)
    assert names(heard(wire, router)) == ["EventRouteRequest"]
    return Seen(dialing["ConnID"], "1"), a, router


@pytest.mark.parametrize("route_type", ["Default", "Label", "Direct", "DDD", "IDDD"])
def test_route_types_that_route_as_given(route_type: str) -> None:
    wire = Wire()
    c1, _a, router = offered(wire)
    d = wire.client(D)
    routed = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D, RouteType=route_type)  # fmt: skip
    (select,) = [s for s in wire.sent_to_switch if isinstance(s, RouteSelect)]
    assert select.route_selected == D
    assert select.private_data is None
    assert heard(wire, router) == [route_used(c1, D, routed)]
    assert heard(wire, d) == [
        c1.event("EventRinging", D, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=POINT)
    ]


def test_overwrite_dnis_gives_the_call_the_destination_as_dnis() -> None:
    wire = Wire()
    c1, a, router = offered(wire)
    d = wire.client(D)
    routed = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D, RouteType="OverwriteDNIS")  # fmt: skip
    assert heard(wire, router) == [route_used(c1, D, routed)]
    assert heard(wire, d) == [
        c1.event("EventRinging", D, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=D)
    ]
    (call,) = wire.core.model.calls
    assert call.dnis == D
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    assert names(heard(wire, a)) == ["EventEstablished"]


def test_overwrite_dnis_refused_by_the_switch_leaves_the_dnis() -> None:
    wire = Wire()
    c1, _a, router = offered(wire)
    busy = wire.client(B)
    wire.ask(busy, "RequestMakeCall", ThisDN=B, OtherDN=C)
    heard(wire, busy)
    refused = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=B, RouteType="OverwriteDNIS")  # fmt: skip
    assert [(e["Event"], e["ErrorCode"]) for e in heard(wire, router)] == [("EventError", 1153)]
    assert refused
    (call,) = [c for c in wire.core.model.calls if c.conn_id == c1.conn_id]
    assert call.dnis == POINT
    d = wire.client(D)
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    (ringing,) = heard(wire, d)
    assert ringing["DNIS"] == POINT  # a later route of another type does not overwrite it


@pytest.mark.parametrize("route_type", ["DirectAgent", "DirectPriority", "AgentID"])
def test_direct_agent_routes_reach_the_agent(route_type: str) -> None:
    wire = Wire()
    c1, _a, router = offered(wire)
    d = agent_at(wire, D)
    other_dn = "1001" if route_type == "AgentID" else D
    routed = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=other_dn, RouteType=route_type)  # fmt: skip
    (select,) = [s for s in wire.sent_to_switch if isinstance(s, RouteSelect)]
    assert select.route_selected == D
    assert heard(wire, router) == [route_used(c1, D, routed)]
    ringing = c1.event("EventRinging", D, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=POINT)
    assert heard(wire, d) == [{**ringing, "AgentID": "1001"}]


@pytest.mark.parametrize(
    ("route_type", "other_dn", "code", "message"),
    [
        ("DirectAgent", D, 1707, f"RouteType DirectAgent: no agent is logged in at {D}"),
        ("AgentID", "1002", 1707, "RouteType AgentID: agent 1002 is not logged in on any DN"),
        ("Unknown", D, 53, "RouteType Unknown names no way of routing"),
        (
            "Announcement",
            D,
            53,
            "RouteType Announcement is not served: a CSTA switch routes to devices; play an "
            "announcement with RequestApplyTreatment (TreatmentType PlayAnnouncement)",
        ),
        (
            "PostFeature",
            D,
            53,
            "RouteType PostFeature is not served: CSTA has no feature access after routing",
        ),
    ],
)
def test_route_types_refused(route_type: str, other_dn: str, code: int, message: str) -> None:
    wire = Wire()
    c1, _a, router = offered(wire)
    sent = len(wire.sent_to_switch)
    refused = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=other_dn, RouteType=route_type)  # fmt: skip
    assert heard(wire, router) == [error(refused, code, message, POINT)]
    assert len(wire.sent_to_switch) == sent  # nothing went to the switch
    assert wire.core.model.dialogue_for(POINT, c1.conn_id) is not None  # still to route


def test_a_priority_route_to_a_queue_waits_ahead() -> None:
    wire = Wire()
    b = wire.client(B)
    d = agent_at(wire, D, ready=False)
    wire.ask(b, "RequestMakeCall", ThisDN=B, OtherDN=QUEUE)
    (waiting,) = [e["ConnID"] for e in heard(wire, b)]
    c1, _a, router = offered(wire)
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=QUEUE, RouteType="Priority")  # fmt: skip
    wire.ask(d, "RequestAgentReady", ThisDN=D)
    ringing = [e for e in heard(wire, d) if e["Event"] == "EventRinging"]
    assert [e["ConnID"] for e in ringing] == [c1.conn_id]
    assert waiting != c1.conn_id
