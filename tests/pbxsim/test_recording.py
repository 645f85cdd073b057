"""docs/pbxsim.md § 8.2: call recording with the voice-unit services."""

from __future__ import annotations

import json

import pytest

from ctiserver.csta.call_control import (
    ConsultationCall,
    HoldCall,
    RetrieveCall,
    SingleStepTransferCall,
    TransferCall,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.schema import Request
from ctiserver.csta.voice import (
    RecordEvent,
    RecordMessage,
    RecordMessageResponse,
    Resume,
    ResumeResponse,
    Stop,
    StopEvent,
    StopResponse,
    Suspend,
    SuspendRecordEvent,
    SuspendResponse,
)
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.calls import RecordingState
from ctiserver.pbxsim.outcome import RecordingEnded, Reply
from ctiserver.pbxsim.phone import Answer, HangUp
from ctiserver.pbxsim.recording import recording_line

from .rig import C, Rig, error, ev
from .test_call_control import answer, established, make

OP, STATE = Cat.OPERATION, Cat.STATE_INCOMPATIBILITY


def record(rig: Rig, call: int, device: str) -> str:
    response = rig.send(RecordMessage(call_to_be_recorded=C(call, device))).response
    assert isinstance(response, RecordMessageResponse), response
    return response.resulting_message


def test_record_suspend_resume_stop(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(RecordMessage(call_to_be_recorded=C(1, "7002")))
    assert outcome.response == RecordMessageResponse(resulting_message="1")
    assert rig.events(outcome) == {"7002": [ev(RecordEvent, connection=C(1, "7002"), message="1")]}
    assert rig.switch.view().recording("1") is not None

    rig.now += 5
    outcome = rig.send(Suspend(connection=C(1, "7002"), message="1"))
    assert outcome.response == SuspendResponse()
    assert rig.events(outcome) == {
        "7002": [ev(SuspendRecordEvent, connection=C(1, "7002"), message="1")]
    }
    view = rig.switch.view().recording("1")
    assert view is not None
    assert view.state is RecordingState.SUSPENDED

    rig.now += 5
    outcome = rig.send(Resume(connection=C(1, "7002"), message_to_resume="1"))
    assert outcome.response == ResumeResponse()
    assert rig.events(outcome) == {"7002": [ev(RecordEvent, connection=C(1, "7002"), message="1")]}

    rig.now += 5
    outcome = rig.send(Stop(connection=C(1, "7002"), message_to_be_stopped="1"))
    assert outcome.response == StopResponse()
    assert rig.events(outcome) == {
        "7002": [ev(StopEvent, connection=C(1, "7002"), message="1", cause=Cause.NORMAL)]
    }
    assert outcome.recordings == (
        RecordingEnded(
            message="1",
            device="7002",
            calls=("1",),
            started=1000.0,
            suspended=(1005.0,),
            resumed=(1010.0,),
            stopped=1015.0,
            reason="requested",
        ),
    )
    assert rig.switch.view().recordings == ()


def test_recording_survives_hold_and_stops_when_the_call_ends(rig: Rig) -> None:
    established(rig)
    record(rig, 1, "7001")
    rig.send(HoldCall(call_to_be_held=C(1, "7001")))
    rig.send(RetrieveCall(call_to_be_retrieved=C(1, "7001")))
    assert rig.switch.view().recording("1") is not None
    rig.now += 30
    outcome = rig.act(HangUp("7002"))
    # the call's own events first, then what the leaving sets off
    assert rig.kinds(outcome)["7001"] == [
        "ConnectionClearedEvent",
        "ConnectionClearedEvent",
        "CallClearedEvent",
        "StopEvent",
    ]
    assert rig.events(outcome)["7001"][-1] == ev(
        StopEvent, connection=C(1, "7001"), message="1", cause=Cause.NORMAL_CLEARING
    )
    (ended,) = outcome.recordings
    assert (ended.reason, ended.stopped, ended.calls) == ("call ended", 1030.0, ("1",))


def test_recording_moves_with_a_transferred_connection(rig: Rig) -> None:
    established(rig, "7001", "7002")  # c1
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device=DeviceId("7003")))
    answer(rig, 2, "7003")
    moving = record(rig, 2, "7003")  # recorded in c2, moves to c1
    leaving = record(rig, 1, "7002")  # the transferring device: it leaves
    outcome = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert rig.events(outcome)["7002"][-1] == ev(
        StopEvent, connection=C(1, "7002"), message=leaving, cause=Cause.NORMAL_CLEARING
    )
    assert "StopEvent" not in rig.kinds(outcome)["7003"]
    view = rig.switch.view().recording(moving)
    assert view is not None
    assert (view.call_id, view.device) == ("1", "7003")
    stopped = rig.send(Stop(connection=C(1, "7003")))  # no message id: the connection's own
    assert rig.events(stopped)["7003"] == [
        ev(StopEvent, connection=C(1, "7003"), message=moving, cause=Cause.NORMAL)
    ]
    assert stopped.recordings[0].calls == ("2", "1")


def test_recording_stops_when_the_device_transfers_in_one_step(rig: Rig) -> None:
    established(rig)
    message = record(rig, 1, "7002")
    outcome = rig.send(
        SingleStepTransferCall(active_call=C(1, "7002"), transferred_to=DeviceId("7003"))
    )
    assert rig.events(outcome)["7002"][-1] == ev(
        StopEvent, connection=C(1, "7002"), message=message, cause=Cause.NORMAL_CLEARING
    )
    rig.act(Answer("7003"))
    assert rig.switch.view().recordings == ()


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (RecordMessage(call_to_be_recorded=C(9, "7001")), error(OP, "invalidConnectionID")),
        (RecordMessage(call_to_be_recorded=C(1, "7002")), error(STATE, "invalidObjectState")),
        (RecordMessage(call_to_be_recorded=C(3, "7006")), error(STATE, "invalidConnectionState")),
        (Stop(connection=C(1, "7001")), error(STATE, "incorrectMsgState")),
        (Stop(connection=C(1, "7002"), message_to_be_stopped="7"), error(OP, "invalidMsgID")),
        (Suspend(connection=C(1, "7001")), error(STATE, "incorrectMsgState")),
        (Suspend(connection=C(2, "7003"), message="2"), error(STATE, "incorrectMsgState")),
        (Resume(connection=C(1, "7002")), error(STATE, "notAbleToResume")),
        (Resume(connection=C(1, "7001")), error(STATE, "notAbleToResume")),
        (Resume(connection=C(2, "7003"), message_to_resume="1"), error(OP, "invalidMsgID")),
        (Stop(connection=C(9, "7002")), error(OP, "invalidConnectionID")),
    ],
)
def test_refusals_change_nothing(rig: Rig, request_: Request, expected: CSTAErrorCode) -> None:
    established(rig)  # c1: 7001-7002, 7002 recorded as "1"
    assert record(rig, 1, "7002") == "1"
    established(rig, "7003", "7004")  # c2: 7003-7004, 7003 recorded as "2", suspended
    assert record(rig, 2, "7003") == "2"
    assert rig.send(Suspend(connection=C(2, "7003"))).response == SuspendResponse()
    make(rig, "7005", "7006")  # c3: 7006 rings
    before = rig.switch.view()
    outcome = rig.send(request_)
    assert outcome.effects == (Reply(expected),), outcome
    assert rig.switch.view() == before


def test_the_recordings_file_line() -> None:
    ended = RecordingEnded(
        message="4",
        device="7002",
        calls=("2", "1"),
        started=100.0,
        suspended=(101.5,),
        resumed=(102.25,),
        stopped=110.0,
        reason="call ended",
    )
    line = recording_line(ended, wall_offset=1_790_000_000.0)
    assert json.loads(line) == {
        "recording": "4",
        "call": "2",
        "calls": ["2", "1"],
        "device": "7002",
        "started": "2026-09-21T14:15:00.000000Z",
        "suspended": ["2026-09-21T14:15:01.500000Z"],
        "resumed": ["2026-09-21T14:15:02.250000Z"],
        "stopped": "2026-09-21T14:15:10.000000Z",
        "reason": "call ended",
    }
    assert "\n" not in line
