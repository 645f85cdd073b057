"""docs/pbxsim.md § 4.10: routing devices, registration, dialogues, route timeout."""

from __future__ import annotations

from ctiserver.csta.call_control import ClearConnection
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.events import DeliveredEvent, DivertedEvent, FailedEvent, QueuedEvent
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.routeing import (
    ReRoute,
    RouteEnd,
    RouteRegister,
    RouteRegisterCancel,
    RouteRegisterCancelResponse,
    RouteRegisterResponse,
    RouteRequest,
    RouteSelect,
    RouteUsed,
)
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.outcome import AssociationId, Outcome, StartTimer, Timer, TimerKind

from .rig import C, Rig, error, ev
from .test_call_control import established, make

OP = Cat.OPERATION


def register(rig: Rig, device: str = "5000") -> tuple[AssociationId, str]:
    """A router on its own association; returns it and the routeRegisterReqID."""
    router = rig.connect()
    response = rig.send(RouteRegister(routeing_device=DeviceId(device)), router).response
    assert isinstance(response, RouteRegisterResponse)
    return router, response.route_register_req_id


def select(rig: Rig, router: AssociationId, destination: str, cross_ref: str = "1") -> Outcome:
    return rig.send(
        RouteSelect(
            route_register_req_id="1",
            routing_cross_ref_id=cross_ref,
            route_selected=DeviceId(destination),
        ),
        router,
    )


def test_one_registration_per_routing_device(rig: Rig) -> None:
    _router, req_id = register(rig)
    assert req_id == "1"
    again = rig.send(RouteRegister(routeing_device=DeviceId("5000")), rig.app)
    assert again.response == error(OP, "invalidRouteRegistrationCrossRefID")
    not_routing = rig.send(RouteRegister(routeing_device=DeviceId("7001")), rig.app)
    assert not_routing.response == error(OP, "invalidDeviceID")
    other = rig.send(RouteRegister(routeing_device=DeviceId("5001")), rig.app)
    assert isinstance(other.response, RouteRegisterResponse)


def test_a_call_to_a_registered_routing_device_queues_and_asks_for_a_route(rig: Rig) -> None:
    router, req_id = register(rig)
    outcome = make(rig, "7002", "5000")

    def queued(lci: S) -> QueuedEvent:
        return ev(
            QueuedEvent,
            queued_connection=C(1, "5000"),
            queue="5000",
            calling_device="7002",
            called_device="5000",
            local_connection_info=lci,
            cause=Cause.NEW_CALL,
        )

    assert rig.events(outcome)["5000"] == [queued(S.QUEUED)]
    assert rig.kinds(outcome)["7002"] == [
        "ServiceInitiatedEvent",
        "OriginatedEvent",
        "QueuedEvent",
    ]
    assert rig.events(outcome)["7002"][-1] == queued(S.CONNECTED)
    assert outcome.sent_to(router) == (
        RouteRequest(
            route_register_req_id=req_id,
            routing_cross_ref_id="1",
            current_route=DeviceId("5000"),
            calling_device=DeviceId("7002"),
            routed_call=C(1, "5000"),
        ),
    )
    assert outcome.timers == (StartTimer(rig.now + 10.0, Timer(TimerKind.ROUTE_TIMEOUT, "1")),)


def test_route_select_to_an_idle_station(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    outcome = select(rig, router, "7003")
    assert outcome.response is None
    assert outcome.sent_to(router) == (
        RouteUsed(
            route_register_req_id="1",
            routing_cross_ref_id="1",
            route_used=DeviceId("7003"),
            calling_device=DeviceId("7002"),
        ),
        RouteEnd(route_register_req_id="1", routing_cross_ref_id="1", cause=Cause.NORMAL),
    )

    def diverted(lci: S) -> DivertedEvent:
        return ev(
            DivertedEvent,
            connection=C(1, "5000"),
            diverting_device="5000",
            new_destination="7003",
            calling_device="7002",
            called_device="5000",
            local_connection_info=lci,
            cause=Cause.REDIRECTED,
        )

    def delivered(lci: S) -> DeliveredEvent:
        return ev(
            DeliveredEvent,
            connection=C(1, "7003"),
            alerting_device="7003",
            calling_device="7002",
            called_device="5000",
            last_redirection_device="5000",
            local_connection_info=lci,
            cause=Cause.REDIRECTED,
        )

    assert rig.events(outcome) == {
        "7002": [diverted(S.CONNECTED), delivered(S.CONNECTED)],
        "5000": [diverted(S.NULL)],
        "7003": [delivered(S.ALERTING)],
    }
    assert rig.switch.view().dialogues == ()
    assert rig.switch.view().timers == ()


def test_route_select_to_a_busy_or_unknown_destination_asks_again(rig: Rig) -> None:
    router, _ = register(rig)
    established(rig, "7004", "7005")
    make(rig, "7002", "5000")
    for destination in ("7004", "7999", "5000"):
        rig.now += 1
        outcome = select(rig, router, destination)
        assert outcome.sent_to(router) == (
            ReRoute(route_register_req_id="1", routing_cross_ref_id="1"),
        )
        assert rig.events(outcome) == {}
        assert outcome.timers == (StartTimer(rig.now + 10.0, Timer(TimerKind.ROUTE_TIMEOUT, "1")),)
    assert rig.switch.view().call("2").state_of("5000") is S.QUEUED  # type: ignore[union-attr]


def test_route_end_from_the_router_blocks_the_call(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    outcome = rig.send(RouteEnd(route_register_req_id="1", routing_cross_ref_id="1"), router)
    assert outcome.response is None
    assert outcome.sent_to(router) == ()

    def failed(lci: S) -> FailedEvent:
        return ev(
            FailedEvent,
            failed_connection=C(1, "5000"),
            failing_device="5000",
            calling_device="7002",
            called_device="5000",
            local_connection_info=lci,
            cause=Cause.BLOCKED,
        )

    assert rig.events(outcome) == {"7002": [failed(S.FAIL)], "5000": [failed(S.NULL)]}
    (call,) = rig.switch.view().calls
    assert call.devices == ("7002",)
    assert call.state_of("7002") is S.FAIL
    assert rig.switch.view().timers == ()


def test_route_timeout_routes_to_the_default_destination(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    assert rig.advance(9.9).effects == ()
    outcome = rig.advance(0.1)
    messages = outcome.sent_to(router)
    assert [type(m).__name__ for m in messages] == ["RouteUsed", "RouteEnd"]
    assert messages[0] == RouteUsed(
        route_register_req_id="1",
        routing_cross_ref_id="1",
        route_used=DeviceId("7001"),
        calling_device=DeviceId("7002"),
    )
    assert rig.kinds(outcome) == {
        "7002": ["DivertedEvent", "DeliveredEvent"],
        "5000": ["DivertedEvent"],
        "7001": ["DeliveredEvent"],
    }


def test_route_timeout_without_a_default_destination_blocks_the_call(rig: Rig) -> None:
    router, _ = register(rig, "5001")
    make(rig, "7002", "5001")
    outcome = rig.advance(4.0)
    assert outcome.sent_to(router) == (
        RouteEnd(route_register_req_id="1", routing_cross_ref_id="1", cause=Cause.BLOCKED),
    )
    assert rig.kinds(outcome) == {"7002": ["FailedEvent"], "5001": ["FailedEvent"]}


def test_a_busy_default_destination_blocks_the_call(rig: Rig) -> None:
    established(rig, "7001", "7003")
    outcome = make(rig, "7002", "5000")  # nobody registered: default at once, but 7001 is busy
    assert rig.kinds(outcome)["7002"][-2:] == ["QueuedEvent", "FailedEvent"]


def test_an_unregistered_routing_device_routes_by_default_at_once(rig: Rig) -> None:
    outcome = make(rig, "7002", "5000")
    assert rig.kinds(outcome) == {
        "7002": [
            "ServiceInitiatedEvent",
            "OriginatedEvent",
            "QueuedEvent",
            "DivertedEvent",
            "DeliveredEvent",
        ],
        "5000": ["QueuedEvent", "DivertedEvent"],
        "7001": ["DeliveredEvent"],
    }
    assert rig.switch.view().call("1").state_of("7001") is S.ALERTING  # type: ignore[union-attr]


def test_the_caller_hanging_up_ends_the_dialogue(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7002")))
    assert rig.kinds(outcome) == {
        "7002": ["ConnectionClearedEvent"],
        "5000": ["ConnectionClearedEvent", "ConnectionClearedEvent", "CallClearedEvent"],
    }
    assert rig.events(outcome)["5000"][1].cause is Cause.CALL_CANCELLED
    assert outcome.sent_to(router) == (
        RouteEnd(route_register_req_id="1", routing_cross_ref_id="1", cause=Cause.CALL_CANCELLED),
    )
    assert rig.switch.view().timers == ()
    late = select(rig, router, "7003")
    assert late.effects == ()


def test_cancelling_the_registration_routes_waiting_calls_by_default(rig: Rig) -> None:
    router, req_id = register(rig)
    make(rig, "7002", "5000")
    wrong = rig.send(RouteRegisterCancel(route_register_req_id=req_id), rig.app)
    assert wrong.response == error(OP, "invalidRouteRegistrationCrossRefID")
    outcome = rig.send(RouteRegisterCancel(route_register_req_id=req_id), router)
    assert outcome.response == RouteRegisterCancelResponse()
    assert outcome.sent_to(router) == ()
    assert rig.kinds(outcome)["7001"] == ["DeliveredEvent"]
    assert rig.switch.view().registrations == ()


def test_a_router_going_away_drops_its_registration(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    outcome = rig.switch.disconnect(router, now=rig.now)
    assert rig.kinds(outcome)["7001"] == ["DeliveredEvent"]
    assert rig.switch.view().registrations == ()
    _, req_id = register(rig)  # free to register again
    assert req_id == "2"


def test_routing_to_an_acd_group_queues_the_call_there(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    outcome = select(rig, router, "8002")
    assert rig.kinds(outcome) == {
        "7002": ["DivertedEvent", "QueuedEvent"],
        "5000": ["DivertedEvent"],
        "8002": ["QueuedEvent"],
    }
    queued = rig.events(outcome)["8002"][0]
    assert isinstance(queued, QueuedEvent)
    assert queued.last_redirection_device == "5000"
    assert (queued.number_queued, queued.calls_in_front) == (1, 0)


def test_routeing_messages_from_others_are_ignored(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7002", "5000")
    before = rig.switch.view()
    assert (
        rig.send(
            RouteSelect(
                route_register_req_id="1",
                routing_cross_ref_id="1",
                route_selected=DeviceId("7003"),
            ),
            rig.app,
        ).effects
        == ()
    )
    assert (
        rig.send(RouteEnd(route_register_req_id="1", routing_cross_ref_id="1"), rig.app).effects
        == ()
    )
    assert select(rig, router, "7003", cross_ref="99").effects == ()
    assert rig.switch.view() == before
