"""Call models §§ 10-11 (call-models.md; docs/protocol.md, Routing): a routing point and
its router (Default, Reject, an invalid destination, the route timeout's default
routing, abandon, a consultation), and an ACD queue handing calls to a ready agent
(abandon while waiting), with the exact events each party's client receives."""

from __future__ import annotations

from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import POINT, QUEUE, Wire

A, B, D, DEFAULT = "7001", "7002", "7004", "7008"  # DEFAULT: the point's default-destination
a, router, d = 1, 2, 3


def offered(wire: Wire, **user_data: str) -> tuple[Seen, int]:
    """A calls the routing point; its router is offered the call.  Returns the call and
    the ReferenceID of A's RequestMakeCall."""
    wire.client(A), wire.client(POINT), wire.client(D)
    extra = {"UserData": user_data} if user_data else {}
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=POINT, **extra)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1", user_data=user_data)
    assert dialing == c1.event("EventDialing", A, ORIGINATION, POINT, ReferenceID=reference)
    assert heard(wire, router) == [
        c1.event("EventRouteRequest", POINT, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=POINT)
    ]
    return c1, reference


def test_a_router_routes_the_call() -> None:
    wire = Wire()
    c1, _ = offered(wire, case="R-1")
    routed = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D, RouteType="Default")  # fmt: skip
    assert heard(wire, router) == [
        c1.event(
            "EventRouteUsed",
            POINT,
            DESTINATION,
            A,
            ThisQueue=POINT,
            ThirdPartyDN=D,
            ThirdPartyDNRole="Destination",
            ReferenceID=routed,
        )
    ]
    assert heard(wire, d) == [
        c1.event("EventRinging", D, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=POINT)
    ]
    assert heard(wire, a) == []
    answered = wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, D)]
    assert heard(wire, d) == [
        c1.event("EventEstablished", D, DESTINATION, A, ThisQueue=POINT, ReferenceID=answered)
    ]


def test_user_data_given_to_route_call_is_attached_first() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D, UserData={"skill": "fr"})  # fmt: skip
    (used,) = heard(wire, router)
    (ringing,) = heard(wire, d)
    assert used["UserData"] == ringing["UserData"] == {"skill": "fr"}


def test_a_router_rejecting_the_call() -> None:
    wire = Wire()
    c1, made = offered(wire)
    rejected = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, RouteType="Reject")  # fmt: skip
    assert heard(wire, router) == [
        c1.event("EventRouteUsed", POINT, DESTINATION, A, ThisQueue=POINT, ReferenceID=rejected)
    ]
    # EventDestinationBusy answers RequestMakeCall (docs/protocol.md § 4) when it comes
    # within the answer timeout of the MakeCall, as here.
    assert heard(wire, a) == [
        c1.event(
            "EventDestinationBusy",
            A,
            ORIGINATION,
            POINT,
            state="Busy",
            ReferenceID=made,
        )
    ]
    # The call stays until the caller releases, as with a busy destination.
    assert [call.conn_id for call in wire.core.model.calls] == [c1.conn_id]
    released = wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, a) == [
        c1.event("EventReleased", A, ORIGINATION, POINT, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, router) == []
    assert wire.core.model.calls == []


def test_an_invalid_destination_leaves_the_call_on_the_point_to_route_again() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    refused = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN="9999")  # fmt: skip
    message = (
        f"the switch could not route call {c1.conn_id} there (DN {POINT} is queued on {c1.conn_id})"
    )
    assert heard(wire, router) == [error(refused, 1153, message, POINT)]
    routed = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    (used,) = heard(wire, router)
    assert (used["Event"], used["ThirdPartyDN"], used["ReferenceID"]) == (
        "EventRouteUsed",
        D,
        routed,
    )
    assert [e["Event"] for e in heard(wire, d)] == ["EventRinging"]


def test_no_answer_from_the_router_routes_to_the_default_destination() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    fallback = wire.client(DEFAULT)
    wire.advance(9.9)  # the point's route-timeout is 10 s
    assert heard(wire, router) == heard(wire, fallback) == []
    wire.advance(0.2)
    assert heard(wire, router) == [
        c1.event(
            "EventRouteUsed",
            POINT,
            DESTINATION,
            A,
            ThisQueue=POINT,
            ThirdPartyDN=DEFAULT,
            ThirdPartyDNRole="Destination",
        )  # no ReferenceID: nobody asked
    ]
    assert heard(wire, fallback) == [
        c1.event("EventRinging", DEFAULT, DESTINATION, A, ThisQueue=POINT, ANI=A, DNIS=POINT)
    ]


def test_the_caller_abandoning_at_the_routing_point() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    released = wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, a) == [
        c1.event("EventReleased", A, ORIGINATION, POINT, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, router) == [
        c1.event("EventAbandoned", POINT, DESTINATION, A, ThisQueue=POINT, released=REMOTE)
    ]
    assert wire.core.model.calls == []
    # The dialogue ended with the call: routing it now is refused.
    late = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    message = f"DN {POINT} is not on a call with ConnID {c1.conn_id}"
    assert heard(wire, router) == [error(late, 56, message, POINT)]


def test_a_consultation_arriving_at_a_routing_point_carries_its_previous_conn_id() -> None:
    wire = Wire()
    wire.client(A), wire.client(POINT), wire.client(D)
    b = wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = heard(wire, a)[0]["ConnID"]
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1)
    heard(wire, a), heard(wire, b)
    wire.ask(b, "RequestInitiateTransfer", ThisDN=B, ConnID=c1, OtherDN=POINT)
    c2 = Seen(heard(wire, b)[1]["ConnID"], "2", call_type="Consult", previous=c1)
    assert heard(wire, router) == [
        c2.event("EventRouteRequest", POINT, DESTINATION, B, ThisQueue=POINT, ANI=B, DNIS=POINT)
    ]


def test_route_call_refusals() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    wire.client(B)
    on_extension = wire.ask(d, "RequestRouteCall", ThisDN=D, ConnID=c1.conn_id, OtherDN=B)
    no_other = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id)
    assert heard(wire, d) == [error(on_extension, 53, f"DN {D} is not a routing point", D)]
    assert heard(wire, router) == [
        error(no_other, 53, "RequestRouteCall with RouteType Default needs OtherDN", POINT)
    ]


def test_a_routed_call_has_left_the_routing_point() -> None:
    wire = Wire()
    c1, _ = offered(wire)
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    heard(wire, router)
    again = wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    message = f"DN {POINT} is not on a call with ConnID {c1.conn_id}"
    assert heard(wire, router) == [error(again, 56, message, POINT)]


# --- § 11 ACD queue ----------------------------------------------------------------------


def test_a_queued_call_goes_to_the_ready_agent() -> None:
    wire = Wire()
    wire.client(A), wire.client(QUEUE), wire.client(D)
    q = 2
    wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn")  # fmt: skip
    heard(wire, d)
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert dialing == c1.event("EventDialing", A, ORIGINATION, QUEUE, ReferenceID=reference)
    assert heard(wire, q) == [
        c1.event("EventQueued", QUEUE, DESTINATION, A, ThisQueue=QUEUE, ANI=A, DNIS=QUEUE),
        c1.event("EventDiverted", QUEUE, DESTINATION, A, ThisQueue=QUEUE, ThirdPartyDN=D),
    ]
    assert heard(wire, d) == [
        c1.event(
            "EventRinging",
            D,
            DESTINATION,
            A,
            ThisQueue=QUEUE,
            AgentID="1001",
            ANI=A,
            DNIS=QUEUE,
        )
    ]
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, D)]
    released = wire.ask(d, "RequestReleaseCall", ThisDN=D, ConnID=c1.conn_id)
    heard(wire, a)
    # wrap-up-time = 0: no agent events, the agent simply stays Ready.
    assert heard(wire, d)[1:] == [
        c1.event(
            "EventReleased",
            D,
            DESTINATION,
            A,
            ThisQueue=QUEUE,
            ReferenceID=released,
            released=LOCAL,
        )
    ]
    assert wire.core.model.agent(D).status.value == "Ready"  # type: ignore[arg-type,union-attr]


def test_a_call_waits_with_no_ready_agent_and_is_abandoned_at_the_queue() -> None:
    wire = Wire()
    wire.client(A), wire.client(QUEUE)
    q = 2
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    assert heard(wire, q) == [
        c1.event("EventQueued", QUEUE, DESTINATION, A, ThisQueue=QUEUE, ANI=A, DNIS=QUEUE)
    ]
    counted = wire.ask(q, "RequestQueryAddress", ThisDN=QUEUE, InfoType="NumberOfCallsInQueue")
    (info,) = heard(wire, q)
    assert info == {
        "Event": "EventAddressInfo",
        "ThisDN": QUEUE,
        "InfoType": "NumberOfCallsInQueue",
        "InfoStatus": "1",
        "Extensions": {
            "status": "Available",
            "calls": 1,
            "conn-1": c1.conn_id,
            "ps-1": 9,
            "agents": 0,
            "ready-agents": 0,
            "waiting-calls": 1,
        },
        "ReferenceID": counted,
    }
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    heard(wire, a)
    assert heard(wire, q) == [
        c1.event("EventAbandoned", QUEUE, DESTINATION, A, ThisQueue=QUEUE, released=REMOTE)
    ]
    assert wire.core.model.calls == []
