"""docs/pbxsim.md § 4.15: joining a call silently, actively or as a coach
(SingleStepConferenceCall participationType), changing it (Escape `participation`), and
microphone and speaker mute (SetMicrophoneMute, SetSpeakerMute)."""

from __future__ import annotations

import pytest

from ctiserver.csta.audio import (
    MicrophoneMuteEvent,
    SetMicrophoneMute,
    SetMicrophoneMuteResponse,
    SetSpeakerMute,
    SpeakerMuteEvent,
)
from ctiserver.csta.call_control import (
    AnswerCall,
    MakeCall,
    ParticipationType,
    SingleStepConferenceCall,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.escape import Escape, EscapeResponse, PrivateEvent
from ctiserver.csta.events import DeliveredEvent, EstablishedEvent
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.types import PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.phone import HangUp

from .rig import C, Rig, error, ev, leaf, private

A, B, S = "7001", "7002", "7003"  # a customer, an agent, a supervisor


def talking(rig: Rig) -> None:
    rig.send(MakeCall(calling_device=DeviceId(A), called_directory_number=DeviceId(B)))
    rig.send(AnswerCall(call_to_be_answered=C(1, B)))


def join(rig: Rig, **more: object) -> SingleStepConferenceCall:
    return SingleStepConferenceCall(
        active_call=C(1, B),
        device_to_join=DeviceId(S),
        **more,  # type: ignore[arg-type]
    )


def change(call: str, device: str, kind: str, coached: str | None = None) -> Escape:
    children = [leaf("device", device), leaf("call", call), leaf("type", kind)]
    if coached is not None:
        children.append(leaf("coached", coached))
    return Escape(private_data=private(PrivateElement("participation", children=tuple(children))))


@pytest.mark.parametrize(
    ("more", "cause", "participation"),
    [
        ({"participation_type": ParticipationType.SILENT}, Cause.SILENT_PARTICIPATION, "silent"),
        ({}, Cause.SINGLE_STEP_CONFERENCE, "active"),
        (
            {"private_data": private(leaf("coach", "true"))},
            Cause.SILENT_PARTICIPATION,
            "coach",
        ),
    ],
)
def test_joining_a_call(
    rig: Rig, more: dict[str, object], cause: Cause, participation: str
) -> None:
    talking(rig)
    outcome = rig.send(join(rig, **more))
    (delivered,) = rig.events(outcome)[S]
    assert delivered == ev(
        DeliveredEvent,
        connection=C(1, S),
        alerting_device=DeviceId(S),
        calling_device=DeviceId(B),
        called_device=DeviceId(S),
        local_connection_info=LocalConnectionState.ALERTING,
        cause=cause,
    )
    answered = rig.send(AnswerCall(call_to_be_answered=C(1, S)))
    (established,) = rig.events(answered)[S]
    assert isinstance(established, EstablishedEvent)
    assert established.cause is cause
    (call,) = rig.switch.view().calls
    (supervisor,) = [c for c in call.connections if c.device == S]
    assert supervisor.participation == participation
    assert supervisor.coached == (B if participation == "coach" else None)


def test_changing_the_participation(rig: Rig) -> None:
    talking(rig)
    rig.send(join(rig, participation_type=ParticipationType.SILENT))
    rig.send(AnswerCall(call_to_be_answered=C(1, S)))
    outcome = rig.send(change("1", S, "coach", coached=B))
    assert outcome.response == EscapeResponse()
    children = (leaf("device", S), leaf("call", "1"), leaf("type", "coach"), leaf("coached", B))
    content = PrivateElement("participationChanged", children=children)
    assert rig.events(outcome) == {S: [ev(PrivateEvent, private_data=private(content))]}
    assert rig.send(change("1", S, "loud")).response == error(Cat.OPERATION, "invalidParticipationType")  # fmt: skip
    assert rig.send(change("1", S, "coach", coached="7008")).response == error(Cat.OPERATION, "invalidDeviceID")  # fmt: skip
    assert rig.send(change("9", S, "active")).response == error(Cat.OPERATION, "invalidConnectionID")  # fmt: skip
    before = rig.switch.view()
    assert rig.send(change("1", S, "active")).response == EscapeResponse()
    (call,) = rig.switch.view().calls
    assert [c.participation for c in call.connections] == ["active", "active", "active"]
    assert before != rig.switch.view()


def test_microphone_and_speaker_mute_end_with_the_last_call(rig: Rig) -> None:
    talking(rig)
    outcome = rig.send(SetMicrophoneMute(device=DeviceId(B), microphone_mute_on=True))
    assert outcome.response == SetMicrophoneMuteResponse()
    assert rig.events(outcome) == {
        B: [ev(MicrophoneMuteEvent, invoking_device=DeviceId(B), microphone_mute_on=True)]
    }
    outcome = rig.send(SetSpeakerMute(device=DeviceId(A), speaker_mute_on=True))
    assert rig.events(outcome) == {
        A: [ev(SpeakerMuteEvent, invoking_device=DeviceId(A), speaker_mute_on=True)]
    }
    view = rig.switch.view()
    assert (view.microphone_muted, view.speaker_muted) == ({B}, {A})
    again = rig.send(SetMicrophoneMute(device=DeviceId(B), microphone_mute_on=True))
    assert len(rig.events(again)[B]) == 1  # set again: told again
    rig.act(HangUp(DeviceId(A)))
    view = rig.switch.view()
    assert (view.microphone_muted, view.speaker_muted) == (frozenset(), frozenset())
    refused = rig.send(SetSpeakerMute(device=DeviceId("8001"), speaker_mute_on=True))
    assert refused.response == error(Cat.OPERATION, "invalidDeviceID")
