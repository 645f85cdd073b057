"""docs/pbxsim.md § 9 in the pure model: calls across a trunk between two switches."""

from __future__ import annotations

from dataclasses import replace

from ctiserver.csta.call_control import (
    AnswerCall,
    ClearConnection,
    ConsultationCall,
    HoldCall,
    MakeCall,
    MakeCallResponse,
    SingleStepTransferCall,
    SingleStepTransferCallResponse,
    TransferCall,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    NetworkReachedEvent,
    OriginatedEvent,
    QueuedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.routeing import RouteRegister, RouteRegisterResponse, RouteRequest, RouteSelect
from ctiserver.csta.types import ConnectionID
from ctiserver.csta.voice import RecordMessage
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim.outcome import Outcome, Reply
from ctiserver.pbxsim.phone import Answer, Dial, HangUp
from ctiserver.pbxsim.trunk_protocol import Alerting, Answered, Failed, Release, Setup

from .network import Network
from .rig import C, error, ev, leaf, private

FAR = "97002@A-1"  # at A: the far end, B's 7002, dialled as 9 7002 on leg A-1
NEAR = "7001@A-1"  # at B: the far end, A's 7001, by its ANI


def make(net: Network, side: str, a: str, b: str, **extra: object):  # type: ignore[no-untyped-def]
    return net.send(side, MakeCall(calling_device=a, called_directory_number=b, **extra))  # type: ignore[arg-type]


def test_a_call_dialled_at_a_reaches_b_as_an_inbound_call() -> None:
    net = Network()
    both = make(net, "a", "7001", "97002")
    assert both.a.response == MakeCallResponse(calling_device=C(1, "7001"))
    reached = ev(
        NetworkReachedEvent,
        outbound_connection=C(1, FAR),
        network_interface_used="AB",
        calling_device="7001",
        called_device="97002",
        local_connection_info=S.CONNECTED,
        cause=Cause.NEW_CALL,
        private_data=private(leaf("networkCallID", "A-1")),
    )
    at_a = net.a.events(both.a)["7001"]
    assert [type(e) for e in at_a] == [
        ServiceInitiatedEvent,
        OriginatedEvent,
        NetworkReachedEvent,
        DeliveredEvent,
    ]
    assert at_a[2] == reached
    assert at_a[3] == ev(
        DeliveredEvent,
        connection=C(1, FAR),
        alerting_device="97002",
        calling_device="7001",
        called_device="97002",
        local_connection_info=S.CONNECTED,
        cause=Cause.NEW_CALL,
        private_data=private(leaf("networkCallID", "A-1")),
    )
    assert net.b.events(both.b) == {
        "7002": [
            ev(
                DeliveredEvent,
                connection=C(1, "7002"),
                alerting_device="7002",
                calling_device="7001",
                called_device="7002",
                local_connection_info=S.ALERTING,
                cause=Cause.NEW_CALL,
                network_calling_device="7001",
                network_called_device="97002",
                associated_calling_device="A",  # the switch it came from
                private_data=private(leaf("networkCallID", "A-1")),
            )
        ]
    }
    assert both.wire == [
        ("A>B", Setup(call="A-1", ani="7001", dnis="7002", dialled="97002")),
        ("B>A", Alerting(call="A-1")),
    ]
    call_b = net.b.switch.view().call("1")
    assert call_b is not None
    assert call_b.devices == (NEAR, "7002")
    assert call_b.network_call_id == "A-1"
    assert net.a.switch.view().leg("A-1") is not None
    assert net.b.switch.view().leg("A-1") is not None


def test_answer_and_clear_propagate_both_ways() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    answered = net.send("b", AnswerCall(call_to_be_answered=C(1, "7002")))
    assert answered.wire == [("B>A", Answered(call="A-1"))]
    assert net.a.events(answered.a)["7001"] == [
        ev(
            EstablishedEvent,
            established_connection=C(1, FAR),
            answering_device="97002",
            calling_device="7001",
            called_device="97002",
            local_connection_info=S.CONNECTED,
            cause=Cause.NEW_CALL,
            private_data=private(leaf("networkCallID", "A-1")),
        )
    ]
    assert net.b.kinds(answered.b) == {"7002": ["EstablishedEvent"]}
    cleared = net.act("a", HangUp("7001"))
    assert cleared.wire == [("A>B", Release(call="A-1", cause=Cause.NORMAL_CLEARING))]
    assert net.b.events(cleared.b) == {
        "7002": [
            ev(
                ConnectionClearedEvent,
                dropped_connection=C(1, NEAR),
                releasing_device="7001",
                local_connection_info=S.CONNECTED,
                cause=Cause.NORMAL_CLEARING,
            ),
            ev(
                ConnectionClearedEvent,
                dropped_connection=C(1, "7002"),
                releasing_device="7002",
                local_connection_info=S.NULL,
                cause=Cause.NORMAL_CLEARING,
            ),
            ev(CallClearedEvent, cleared_call=ConnectionID(call_id=CallId("1"))),
        ]
    }
    assert net.a.switch.view().calls == net.b.switch.view().calls == ()
    assert net.a.switch.view().legs == net.b.switch.view().legs == ()


def test_the_called_end_hanging_up_clears_the_caller() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    net.act("b", Answer("7002"))
    cleared = net.act("b", HangUp("7002"))
    assert cleared.wire == [("B>A", Release(call="A-1", cause=Cause.NORMAL_CLEARING))]
    assert net.a.kinds(cleared.a) == {
        "7001": ["ConnectionClearedEvent", "ConnectionClearedEvent", "CallClearedEvent"]
    }
    first = net.a.events(cleared.a)["7001"][0]
    assert isinstance(first, ConnectionClearedEvent)
    assert (first.dropped_connection, first.releasing_device) == (C(1, FAR), "97002")
    assert net.a.switch.view().calls == ()


def test_the_caller_giving_up_while_it_rings_cancels_the_call_there() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    cleared = net.act("a", HangUp("7001"))
    own = net.b.events(cleared.b)["7002"][1]
    assert isinstance(own, ConnectionClearedEvent)
    assert own.cause is Cause.CALL_CANCELLED


def test_busy_and_unknown_numbers_fail_the_caller_at_a() -> None:
    net = Network()
    net.act("b", Dial("7002", "7003"))  # B's 7002 is busy
    busy = make(net, "a", "7001", "97002")
    assert busy.wire == [
        ("A>B", Setup(call="A-1", ani="7001", dnis="7002", dialled="97002")),
        ("B>A", Failed(call="A-1", cause=Cause.BUSY)),
    ]
    failed = net.a.events(busy.a)["7001"][-1]
    assert failed == ev(
        FailedEvent,
        failed_connection=C(1, FAR),
        failing_device="97002",
        calling_device="7001",
        called_device="97002",
        local_connection_info=S.FAIL,
        cause=Cause.BUSY,
        private_data=private(leaf("networkCallID", "A-1")),
    )
    assert "7002" not in net.b.events(busy.b)  # the busy station hears nothing
    assert net.b.switch.view().calls_at("7002")[0].call_id == "1"  # only its own call
    call = net.a.switch.view().call("1")
    assert call is not None
    assert call.devices == ("7001",)
    assert call.state_of("7001") is S.FAIL
    unknown = make(net, "a", "7003", "96666")
    last = net.a.events(unknown.a)["7003"][-1]
    assert isinstance(last, FailedEvent)
    assert last.cause is Cause.DEST_NOT_OBTAINABLE
    assert net.a.switch.view().legs == net.b.switch.view().legs == ()


def test_uui_travels_with_the_call() -> None:
    net = Network()
    uui = private(leaf("uui", "ticket-42"))
    both = make(net, "a", "7001", "97002", private_data=uui)
    assert both.wire[0] == (
        "A>B",
        Setup(call="A-1", ani="7001", dnis="7002", dialled="97002", uui="ticket-42"),
    )
    delivered = net.b.events(both.b)["7002"][0]
    assert isinstance(delivered, DeliveredEvent)
    assert delivered.private_data == private(leaf("networkCallID", "A-1"), leaf("uui", "ticket-42"))


def test_an_inbound_call_to_a_routing_device_asks_for_a_route_with_the_call_data() -> None:
    net = Network()
    router = net.b.connect()
    registered = net.b.send(RouteRegister(routeing_device=DeviceId("5000")), router).response
    assert isinstance(registered, RouteRegisterResponse)
    both = make(net, "a", "7001", "95000", private_data=private(leaf("uui", "u1")))
    (request,) = net.b.others(both.b, router)
    assert isinstance(request, RouteRequest)
    assert request.calling_device == "7001"
    assert request.private_data == private(leaf("networkCallID", "A-1"), leaf("uui", "u1"))
    queued = net.b.events(both.b)["5000"][0]
    assert isinstance(queued, QueuedEvent)
    assert (queued.network_calling_device, queued.network_called_device) == ("7001", "95000")
    assert both.wire == [
        ("A>B", Setup(call="A-1", ani="7001", dnis="5000", dialled="95000", uui="u1"))
    ]
    routed = net.send(
        "b",
        RouteSelect(
            route_register_req_id=registered.route_register_req_id,
            routing_cross_ref_id=request.routing_cross_ref_id,
            route_selected=DeviceId("7003"),
        ),
        router,
    )
    assert routed.wire == [("B>A", Alerting(call="A-1"))]
    assert "DeliveredEvent" in net.a.kinds(routed.a)["7001"]


def test_an_inbound_call_queues_at_an_acd_group_until_an_agent_rings() -> None:
    net = Network()
    both = make(net, "a", "7001", "98001")
    assert net.b.kinds(both.b) == {"8001": ["QueuedEvent"]}
    assert [m for _, m in both.wire] == [
        Setup(call="A-1", ani="7001", dnis="8001", dialled="98001")
    ]
    from ctiserver.csta.agents import SetAgentState
    from ctiserver.csta.enumerations import ReqAgentState

    net.send(
        "b",
        SetAgentState(
            device=DeviceId("7004"), requested_agent_state=ReqAgentState.LOGGED_ON, agent_id="1001"
        ),
    )
    ready = net.send(
        "b", SetAgentState(device=DeviceId("7004"), requested_agent_state=ReqAgentState.READY)
    )
    assert ready.wire == [("B>A", Alerting(call="A-1"))]
    answered = net.act("b", Answer("7004"))
    assert answered.wire == [("B>A", Answered(call="A-1"))]


def test_the_far_end_moves_with_a_transfer_at_a() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    net.act("b", Answer("7002"))
    net.send("a", ConsultationCall(existing_call=C(1, "7001"), consulted_device=DeviceId("7003")))
    net.act("a", Answer("7003"))
    transferred = net.send("a", TransferCall(held_call=C(1, "7001"), active_call=C(2, "7001")))
    assert transferred.wire == []  # the far end does not hear of it
    call = net.a.switch.view().call("1")
    assert call is not None
    assert call.devices == (FAR, "7003")
    cleared = net.act("b", HangUp("7002"))
    assert net.a.kinds(cleared.a)["7003"] == [
        "ConnectionClearedEvent",
        "ConnectionClearedEvent",
        "CallClearedEvent",
    ]


def test_a_consultation_leaves_on_a_trunk_and_is_transferred_there() -> None:
    """A's 7001 talks to A's 7002, consults B's 7003 across the trunk, and transfers."""
    net = Network()
    make(net, "a", "7001", "7002")
    net.act("a", Answer("7002"))
    net.send("a", ConsultationCall(existing_call=C(1, "7002"), consulted_device=DeviceId("97003")))
    net.act("b", Answer("7003"))
    transferred = net.send("a", TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert transferred.wire == []
    assert net.a.switch.view().call("1").devices == ("7001", "97003@A-1")  # type: ignore[union-attr]
    leg = net.a.switch.view().leg("A-1")
    assert leg is not None
    assert leg.call_id == "1"
    cleared = net.act("a", HangUp("7001"))
    assert cleared.wire == [("A>B", Release(call="A-1", cause=Cause.NORMAL_CLEARING))]
    assert net.b.switch.view().calls == ()


def test_single_step_transfer_to_a_trunk_number() -> None:
    net = Network()
    make(net, "a", "7001", "7002")
    net.act("a", Answer("7002"))
    both = net.send(
        "a", SingleStepTransferCall(active_call=C(1, "7002"), transferred_to=DeviceId("97004"))
    )
    assert both.a.response == SingleStepTransferCallResponse(transferred_call=C(1, "97004"))
    assert both.wire[0] == ("A>B", Setup(call="A-1", ani="7001", dnis="7004", dialled="97004"))
    delivered = net.b.events(both.b)["7004"][0]
    assert isinstance(delivered, DeliveredEvent)
    assert delivered.calling_device == "7001"


def test_a_trunk_that_drops_clears_its_calls_at_both_ends() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    net.act("b", Answer("7002"))
    dropped = net.drop("a", net.ab[0])
    for rig, outcome, device, far in (
        (net.a, dropped.a, "7001", FAR),
        (net.b, dropped.b, "7002", NEAR),
    ):
        events = rig.events(outcome)[device]
        assert [type(e) for e in events] == [
            ConnectionClearedEvent,
            ConnectionClearedEvent,
            CallClearedEvent,
        ]
        assert events[0] == replace(
            events[0], dropped_connection=C(1, far), cause=Cause.NETWORK_OUT_OF_ORDER
        )
        assert {e.cause for e in events} == {Cause.NETWORK_OUT_OF_ORDER}  # type: ignore[attr-defined]
    assert net.a.switch.view().calls == net.b.switch.view().calls == ()
    assert not net.a.switch.view().trunk_up("AB")


def test_dialling_a_trunk_that_is_down_fails_with_trunks_busy() -> None:
    net = Network()
    net.drop("a", net.ab[0])
    both = make(net, "a", "7001", "97002")
    last = net.a.events(both.a)["7001"][-1]
    assert last == ev(
        FailedEvent,
        failed_connection=C(1, "97002"),
        failing_device="97002",
        calling_device="7001",
        called_device="97002",
        local_connection_info=S.FAIL,
        cause=Cause.TRUNKS_BUSY,
    )
    assert both.wire == []
    # and a single-step transfer there is refused as to a busy device
    make(net, "a", "7003", "7004")
    net.act("a", Answer("7004"))
    refused = net.send(
        "a", SingleStepTransferCall(active_call=C(2, "7004"), transferred_to=DeviceId("97002"))
    )
    assert refused.a.effects == (Reply(error(Cat.SYSTEM_RESOURCE_AVAILABILITY, "resourceBusy")),)


def test_the_far_end_can_be_cleared_by_the_application() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    net.act("b", Answer("7002"))
    cleared = net.send("b", ClearConnection(connection_to_be_cleared=C(1, NEAR)))
    assert cleared.wire == [("B>A", Release(call="A-1", cause=Cause.NORMAL_CLEARING))]
    assert net.a.switch.view().calls == net.b.switch.view().calls == ()


def test_stale_trunk_messages_are_ignored() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    link_b = net.ab[1]
    before = net.b.switch.view()
    for message in (
        Alerting(call="A-9"),
        Answered(call="A-9"),
        Release(call="A-9", cause=Cause.NORMAL_CLEARING),
        Failed(call="A-9", cause=Cause.BUSY),
        Answered(call="A-1"),  # progress of a leg B terminates is B's to report, not A's
        Setup(call="A-1", ani="7001", dnis="7003", dialled="97003"),  # a repeat
    ):
        assert net.b.switch.trunk_message(link_b, message, now=net.now) == Outcome()
    assert (
        net.b.switch.trunk_message(
            net.ba[1], Release(call="A-1", cause=Cause.NORMAL_CLEARING), now=net.now
        )
        == Outcome()
    )  # the wrong link
    assert net.b.switch.view() == before


def test_the_far_end_is_not_this_switch_to_answer_or_hold() -> None:
    net = Network()
    make(net, "a", "7001", "97002")
    for request in (
        AnswerCall(call_to_be_answered=C(1, FAR)),
        HoldCall(call_to_be_held=C(1, FAR)),
        RecordMessage(call_to_be_recorded=C(1, FAR)),
    ):
        assert net.send("a", request).a.effects == (
            Reply(error(Cat.OPERATION, "requestIncompatibleWithConnection")),
        )


def test_a_trunk_call_passed_on_to_a_busy_number_releases_the_first_leg() -> None:
    """A's 7001 talks to B's 7002 and sends it on to B's 7003, which is busy: the far end
    that was left calling is released, as nobody here is in the call any more."""
    net = Network()
    make(net, "a", "7001", "97002")
    net.act("b", Answer("7002"))
    net.act("b", Dial("7003", "7004"))
    both = net.send(
        "a", SingleStepTransferCall(active_call=C(1, "7001"), transferred_to=DeviceId("97003"))
    )
    assert both.wire == [
        ("A>B", Setup(call="A-2", ani="97002", dnis="7003", dialled="97003")),
        ("B>A", Failed(call="A-2", cause=Cause.BUSY)),
        ("A>B", Release(call="A-1", cause=Cause.BUSY)),
    ]
    assert net.b.kinds(both.b)["7002"] == [
        "ConnectionClearedEvent",
        "ConnectionClearedEvent",
        "CallClearedEvent",
    ]
    assert net.a.switch.view().calls == ()
    assert net.b.switch.view().calls_at("7002") == ()
