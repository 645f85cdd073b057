"""docs/pbxsim.md § 4.1-4.6: basic call control, event by event and monitor by monitor."""

from __future__ import annotations

from ctiserver.csta.call_control import (
    AlternateCall,
    AlternateCallResponse,
    AnswerCall,
    AnswerCallResponse,
    ClearCall,
    ClearCallResponse,
    ClearConnection,
    ClearConnectionResponse,
    ConsultationCall,
    ConsultationCallResponse,
    HoldCall,
    HoldCallResponse,
    MakeCall,
    MakeCallResponse,
    ReconnectCall,
    ReconnectCallResponse,
    RetrieveCall,
    RetrieveCallResponse,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    HeldEvent,
    OriginatedEvent,
    RetrievedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId
from ctiserver.pbxsim.outcome import Outcome, Reply

from .rig import C, Rig, error, ev

OP, STATE = Cat.OPERATION, Cat.STATE_INCOMPATIBILITY


def make(rig: Rig, a: str = "7001", b: str = "7002", **extra: str) -> Outcome:
    return rig.send(MakeCall(calling_device=a, called_directory_number=b, **extra))  # type: ignore[arg-type]


def answer(rig: Rig, call: int, device: str) -> Outcome:
    return rig.send(AnswerCall(call_to_be_answered=C(call, device)))


def established(rig: Rig, a: str = "7001", b: str = "7002") -> int:
    """A-B talking; returns the callID."""
    response = make(rig, a, b).response
    assert isinstance(response, MakeCallResponse)
    call = int(response.calling_device.call_id)
    answer(rig, call, b)
    return call


def delivered(call: int, a: str, b: str, lci: S, cause: Cause = Cause.NEW_CALL) -> DeliveredEvent:
    return ev(
        DeliveredEvent,
        connection=C(call, b),
        alerting_device=b,
        calling_device=a,
        called_device=b,
        local_connection_info=lci,
        cause=cause,
    )


# --- § 4.1 MakeCall --------------------------------------------------------------------------


def test_make_call_to_an_idle_station_rings_it(rig: Rig) -> None:
    outcome = make(rig)
    assert outcome.effects[0] == Reply(MakeCallResponse(calling_device=C(1, "7001")))
    assert rig.events(outcome) == {
        "7001": [
            ev(
                ServiceInitiatedEvent,
                initiated_connection=C(1, "7001"),
                initiating_device="7001",
                local_connection_info=S.INITIATED,
                cause=Cause.MAKE_CALL,
            ),
            ev(
                OriginatedEvent,
                originated_connection=C(1, "7001"),
                calling_device="7001",
                called_device="7002",
                local_connection_info=S.CONNECTED,
                cause=Cause.MAKE_CALL,
            ),
            delivered(1, "7001", "7002", S.CONNECTED),
        ],
        "7002": [delivered(1, "7001", "7002", S.ALERTING)],
    }
    call = rig.switch.view().call("1")
    assert call is not None
    assert call.connections[0].state is S.CONNECTED
    assert call.state_of("7002") is S.ALERTING


def test_make_call_echoes_the_correlator_data(rig: Rig) -> None:
    outcome = make(rig, correlator_data="case-17")
    events = rig.events(outcome)
    assert {event.correlator_data for event in events["7001"]} == {"case-17"}  # type: ignore[attr-defined]


def test_make_call_to_a_busy_station_fails_the_caller(rig: Rig) -> None:
    established(rig, "7002", "7003")
    outcome = make(rig, "7001", "7002")
    failed = ev(
        FailedEvent,
        failed_connection=C(2, "7002"),
        failing_device="7002",
        calling_device="7001",
        called_device="7002",
        local_connection_info=S.FAIL,
        cause=Cause.BUSY,
    )
    assert rig.events(outcome)["7001"][-1] == failed
    assert "7002" not in rig.events(outcome)  # the busy station is not in the call
    view = rig.switch.view().call("2")
    assert view is not None
    assert view.devices == ("7001",)
    assert view.state_of("7001") is S.FAIL


def test_make_call_to_an_unknown_number_fails_with_dest_not_obtainable(rig: Rig) -> None:
    outcome = make(rig, "7001", "0044*12#")
    last = rig.events(outcome)["7001"][-1]
    assert isinstance(last, FailedEvent)
    assert last.cause is Cause.DEST_NOT_OBTAINABLE
    assert last.failing_device == "0044*12#"


def test_a_failed_caller_clears_and_the_call_is_over(rig: Rig) -> None:
    make(rig, "7001", "9999")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert outcome.response == ClearConnectionResponse()
    assert rig.events(outcome) == {
        "7001": [
            ev(
                ConnectionClearedEvent,
                dropped_connection=C(1, "7001"),
                releasing_device="7001",
                local_connection_info=S.NULL,
                cause=Cause.NORMAL_CLEARING,
            ),
            ev(CallClearedEvent, cleared_call=ConnectionID(call_id=CallId("1"))),
        ]
    }
    assert rig.switch.view().calls == ()


def test_make_call_errors(rig: Rig) -> None:
    established(rig, "7003", "7004")
    cases = [
        (("8001", "7002"), error(OP, "invalidCallingDeviceID")),
        (("6000", "7002"), error(OP, "invalidCallingDeviceID")),
        (("7003", "7002"), error(STATE, "invalidCallingDeviceState")),
        (("7001", ""), error(OP, "invalidCalledDeviceID")),
        (("7001", "70a2"), error(OP, "invalidCalledDeviceID")),
        (("7001", "7001"), error(OP, "notDifferentDevices")),
    ]
    for (a, b), expected in cases:
        before = rig.switch.view()
        outcome = make(rig, a, b)
        assert outcome.effects == (Reply(expected),), (a, b)
        assert rig.switch.view() == before


# --- § 4.2 AnswerCall ---------------------------------------------------------------------


def test_answer_call_establishes_for_every_device(rig: Rig) -> None:
    make(rig)
    outcome = answer(rig, 1, "7002")
    assert outcome.response == AnswerCallResponse()

    def established_event(lci: S) -> EstablishedEvent:
        return ev(
            EstablishedEvent,
            established_connection=C(1, "7002"),
            answering_device="7002",
            calling_device="7001",
            called_device="7002",
            local_connection_info=lci,
            cause=Cause.NEW_CALL,
        )

    assert rig.events(outcome) == {
        "7001": [established_event(S.CONNECTED)],
        "7002": [established_event(S.CONNECTED)],
    }


def test_answer_call_errors(rig: Rig) -> None:
    make(rig)
    assert answer(rig, 1, "7003").response == error(OP, "invalidConnectionID")
    assert answer(rig, 9, "7002").response == error(OP, "invalidConnectionID")
    assert answer(rig, 1, "7001").response == error(STATE, "noCallToAnswer")


# --- § 4.3 ClearConnection and ClearCall -----------------------------------------------------


def cleared(call: int, device: str, lci: S, cause: Cause = Cause.NORMAL_CLEARING) -> object:
    return ev(
        ConnectionClearedEvent,
        dropped_connection=C(call, device),
        releasing_device=device,
        local_connection_info=lci,
        cause=cause,
    )


def call_cleared(call: int) -> object:
    return ev(CallClearedEvent, cleared_call=ConnectionID(call_id=CallId(str(call))))


def test_clearing_one_side_of_a_two_party_call_ends_it(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert rig.events(outcome) == {
        "7001": [cleared(1, "7001", S.NULL)],
        "7002": [cleared(1, "7001", S.CONNECTED), cleared(1, "7002", S.NULL), call_cleared(1)],
    }
    assert rig.switch.view().calls == ()


def test_the_caller_hanging_up_cancels_the_ringing_party(rig: Rig) -> None:
    make(rig)
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert rig.events(outcome)["7002"] == [
        cleared(1, "7001", S.ALERTING),
        cleared(1, "7002", S.NULL, Cause.CALL_CANCELLED),
        call_cleared(1),
    ]


def test_clear_call_clears_every_connection_in_joining_order(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(ClearCall(call_to_be_cleared=ConnectionID(call_id=CallId("1"))))
    assert outcome.response == ClearCallResponse()
    assert rig.events(outcome) == {
        "7001": [cleared(1, "7001", S.NULL), call_cleared(1)],
        "7002": [cleared(1, "7001", S.CONNECTED), cleared(1, "7002", S.NULL), call_cleared(1)],
    }


def test_clear_errors(rig: Rig) -> None:
    established(rig)
    unknown = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7003")))
    assert unknown.response == error(OP, "invalidConnectionID")
    no_call = rig.send(ClearCall(call_to_be_cleared=ConnectionID(call_id=CallId("7"))))
    assert no_call.response == error(OP, "invalidCallID")


# --- § 4.4 HoldCall / RetrieveCall --------------------------------------------------------


def test_hold_and_retrieve(rig: Rig) -> None:
    established(rig)
    held = rig.send(HoldCall(call_to_be_held=C(1, "7002")))
    assert held.response == HoldCallResponse()

    def held_event(lci: S) -> HeldEvent:
        return ev(
            HeldEvent,
            held_connection=C(1, "7002"),
            holding_device="7002",
            local_connection_info=lci,
        )

    assert rig.events(held) == {
        "7001": [held_event(S.CONNECTED)],
        "7002": [held_event(S.HOLD)],
    }
    retrieved = rig.send(RetrieveCall(call_to_be_retrieved=C(1, "7002")))
    assert retrieved.response == RetrieveCallResponse()
    assert rig.events(retrieved)["7002"] == [
        ev(
            RetrievedEvent,
            retrieved_connection=C(1, "7002"),
            retrieving_device="7002",
            local_connection_info=S.CONNECTED,
        )
    ]


def test_a_station_with_a_held_call_is_free_for_another(rig: Rig) -> None:
    established(rig)
    rig.send(HoldCall(call_to_be_held=C(1, "7002")))
    outcome = make(rig, "7003", "7002")
    assert rig.kinds(outcome)["7002"] == ["DeliveredEvent"]
    answer(rig, 2, "7002")
    busy = rig.send(RetrieveCall(call_to_be_retrieved=C(1, "7002")))
    assert busy.response == error(STATE, "invalidDeviceState")


def test_hold_and_retrieve_errors(rig: Rig) -> None:
    make(rig)
    assert rig.send(HoldCall(call_to_be_held=C(1, "7002"))).response == error(STATE, "noActiveCall")
    assert rig.send(HoldCall(call_to_be_held=C(2, "7002"))).response == error(
        OP, "invalidConnectionID"
    )
    assert rig.send(RetrieveCall(call_to_be_retrieved=C(1, "7001"))).response == error(
        STATE, "noHeldCall"
    )


# --- § 4.5 ConsultationCall -----------------------------------------------------------------


def test_consultation_holds_the_call_and_dials_the_consulted_device(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7003"))
    assert outcome.effects[0] == Reply(ConsultationCallResponse(initiated_call=C(2, "7002")))
    events = rig.events(outcome)
    assert events["7001"] == [
        ev(
            HeldEvent,
            held_connection=C(1, "7002"),
            holding_device="7002",
            local_connection_info=S.CONNECTED,
        )
    ]
    assert [type(e).__name__ for e in events["7002"]] == [
        "HeldEvent",
        "ServiceInitiatedEvent",
        "OriginatedEvent",
        "DeliveredEvent",
    ]
    assert all(
        e.cause is Cause.CONSULTATION  # type: ignore[attr-defined]
        for e in events["7002"][1:]
    )
    assert events["7003"] == [delivered(2, "7002", "7003", S.ALERTING, Cause.CONSULTATION)]


def test_consultation_to_a_busy_device_fails_and_the_first_call_stays_held(rig: Rig) -> None:
    established(rig)
    established(rig, "7003", "7004")
    outcome = rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7003"))
    last = rig.events(outcome)["7002"][-1]
    assert isinstance(last, FailedEvent)
    assert last.cause is Cause.BUSY
    view = rig.switch.view()
    assert view.call("1").state_of("7002") is S.HOLD  # type: ignore[union-attr]
    assert view.call("3").state_of("7002") is S.FAIL  # type: ignore[union-attr]


def test_consultation_errors(rig: Rig) -> None:
    make(rig)
    not_talking = rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7003"))
    assert not_talking.response == error(STATE, "noActiveCall")
    answer(rig, 1, "7002")
    bad = rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="x"))
    assert bad.response == error(OP, "invalidCalledDeviceID")
    itself = rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7002"))
    assert itself.response == error(OP, "notDifferentDevices")


# --- § 4.6 AlternateCall and ReconnectCall ---------------------------------------------------


def consulting(rig: Rig, answered: bool = True) -> None:
    """7001-7002 on call 1, held by 7002, who consults 7003 on call 2."""
    established(rig)
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7003"))
    if answered:
        answer(rig, 2, "7003")


def test_alternate_holds_the_active_call_then_retrieves_the_held_one(rig: Rig) -> None:
    consulting(rig)
    outcome = rig.send(AlternateCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert outcome.response == AlternateCallResponse()
    events = rig.events(outcome)
    assert events["7002"] == [
        ev(
            HeldEvent,
            held_connection=C(2, "7002"),
            holding_device="7002",
            local_connection_info=S.HOLD,
            cause=Cause.ALTERNATE,
        ),
        ev(
            RetrievedEvent,
            retrieved_connection=C(1, "7002"),
            retrieving_device="7002",
            local_connection_info=S.CONNECTED,
            cause=Cause.ALTERNATE,
        ),
    ]
    assert rig.kinds(outcome) == {
        "7001": ["RetrievedEvent"],
        "7002": ["HeldEvent", "RetrievedEvent"],
        "7003": ["HeldEvent"],
    }


def test_reconnect_clears_the_consultation_and_retrieves(rig: Rig) -> None:
    consulting(rig)
    outcome = rig.send(ReconnectCall(active_call=C(2, "7002"), held_call=C(1, "7002")))
    assert outcome.response == ReconnectCallResponse()
    assert rig.kinds(outcome) == {
        "7002": ["ConnectionClearedEvent", "RetrievedEvent"],
        "7003": ["ConnectionClearedEvent", "ConnectionClearedEvent", "CallClearedEvent"],
        "7001": ["RetrievedEvent"],
    }
    assert [c.call_id for c in rig.switch.view().calls] == ["1"]


def test_reconnect_from_a_failed_consultation(rig: Rig) -> None:
    established(rig)
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7999"))
    outcome = rig.send(ReconnectCall(active_call=C(2, "7002"), held_call=C(1, "7002")))
    assert outcome.response == ReconnectCallResponse()
    assert rig.kinds(outcome)["7002"] == [
        "ConnectionClearedEvent",
        "CallClearedEvent",
        "RetrievedEvent",
    ]


def test_alternate_and_reconnect_errors(rig: Rig) -> None:
    consulting(rig, answered=False)
    wrong_way = rig.send(AlternateCall(held_call=C(2, "7002"), active_call=C(1, "7002")))
    assert wrong_way.response == error(STATE, "invalidConnectionState")
    other_device = rig.send(AlternateCall(held_call=C(1, "7002"), active_call=C(2, "7003")))
    assert other_device.response == error(OP, "invalidConnectionID")
    missing = rig.send(ReconnectCall(active_call=C(5, "7002"), held_call=C(1, "7002")))
    assert missing.response == error(OP, "invalidConnectionID")
