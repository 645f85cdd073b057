"""docs/pbxsim.md §§ 4.13 and 8.5: digits sent into a call (GenerateDigits, the phone's
keypad) and treatments played at routing devices (PlayMessage, Stop), with their events
and refusals."""

from __future__ import annotations

import dataclasses

import pytest

from ctiserver.csta.call_associated import (
    DigitsGeneratedEvent,
    GenerateDigits,
    GenerateDigitsResponse,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.types import PrivateElement
from ctiserver.csta.voice import (
    PlayEvent,
    PlayMessage,
    PlayMessageResponse,
    Stop,
    StopEvent,
    StopResponse,
)
from ctiserver.errors import ServiceError
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.config import PbxsimSettings
from ctiserver.pbxsim.outcome import Outcome
from ctiserver.pbxsim.phone import Digits, phone_action

from .rig import CONFIG, C, Rig, error, ev, leaf, private
from .test_call_control import established, make
from .test_routing import register, select

RP = "5000"


def waiting(rig: Rig) -> int:
    """7001 calls the routing device, whose router does not answer yet; the callID."""
    register(rig)
    make(rig, "7001", RP)
    return 1


def play(rig: Rig, message: str, *elements: PrivateElement, duration: int | None = None) -> Outcome:
    return rig.send(
        PlayMessage(
            message_to_be_played=message,
            over_connection=C(1, RP),
            duration=duration,
            private_data=private(*elements) if elements else None,
        )
    )


def collect(**criteria: str) -> PrivateElement:
    names = {"num_chars": "numChars", "flush_char": "flushChar", "timeout": "timeout"}
    children = tuple(leaf(names[key], value) for key, value in criteria.items())
    return PrivateElement("collectDigits", children=children)


def stopped(cause: Cause, message: str = "1", *elements: PrivateElement) -> StopEvent:
    return ev(
        StopEvent,
        connection=C(1, RP),
        message=message,
        cause=cause,
        private_data=private(*elements) if elements else None,
    )


# --- digits -----------------------------------------------------------------------------------


def test_generate_digits_reports_to_every_device_of_the_call(rig: Rig) -> None:
    call = established(rig)
    outcome = rig.send(
        GenerateDigits(connection_to_send_digits=C(call, "7001"), characters_to_send="12#")
    )
    assert outcome.response == GenerateDigitsResponse()
    generated = ev(DigitsGeneratedEvent, connection=C(call, "7001"), digit_generated_list="12#")
    assert rig.events(outcome) == {"7001": [generated], "7002": [generated]}


@pytest.mark.parametrize(
    ("connection", "digits", "refusal"),
    [
        (C(9, "7001"), "1", error(Cat.OPERATION, "invalidConnectionID")),
        (C(1, "7001"), "1x", error(Cat.OPERATION, "invalidParameterValue")),
        (C(1, "7002"), "1", error(Cat.STATE_INCOMPATIBILITY, "invalidConnectionState")),
    ],
)
def test_generate_digits_refusals(
    rig: Rig, connection: object, digits: str, refusal: object
) -> None:
    make(rig, "7001", "7002")  # 7002 rings: not connected
    request = GenerateDigits(connection_to_send_digits=connection, characters_to_send=digits)  # type: ignore[arg-type]
    assert rig.send(request).response == refusal


def test_keyed_digits_need_a_call_in_use(rig: Rig) -> None:
    with pytest.raises(ServiceError) as raised:
        rig.act(Digits(DeviceId("7001"), "1"))
    assert (raised.value.category, raised.value.value) == ("stateIncompatibility", "noActiveCall")
    established(rig)
    with pytest.raises(ServiceError):
        rig.act(Digits(DeviceId("7001"), "1-2"))
    assert rig.events(rig.act(Digits(DeviceId("7001"), "12"))) == {}  # in-band: no event


def test_the_phone_action_for_digits() -> None:
    assert phone_action(DeviceId("7001"), {"action": "digits", "digits": "12#"}) == Digits(
        DeviceId("7001"), "12#"
    )
    with pytest.raises(ValueError, match='"digits" needs "digits"'):
        phone_action(DeviceId("7001"), {"action": "digits"})


# --- treatments -------------------------------------------------------------------------------


def test_music_plays_until_stopped(rig: Rig) -> None:
    waiting(rig)
    outcome = play(rig, "1")
    assert outcome.response == PlayMessageResponse()
    assert rig.events(outcome) == {RP: [ev(PlayEvent, connection=C(1, RP), message="1")]}
    assert rig.events(rig.advance(9)) == {}
    outcome = rig.send(Stop(connection=C(1, RP), message_to_be_stopped="1"))
    assert outcome.response == StopResponse()
    assert rig.events(outcome) == {RP: [stopped(Cause.NORMAL)]}


def test_a_duration_ends_it(rig: Rig) -> None:
    waiting(rig)
    play(rig, "2", duration=1500)
    assert rig.events(rig.advance(1.4)) == {}
    assert rig.events(rig.advance(0.2)) == {RP: [stopped(Cause.DURATION_EXCEEDED, "2")]}


def test_a_new_message_replaces_the_old(rig: Rig) -> None:
    waiting(rig)
    play(rig, "1")
    outcome = play(rig, "3")
    assert rig.events(outcome) == {
        RP: [stopped(Cause.NEXT_MESSAGE), ev(PlayEvent, connection=C(1, RP), message="3")]
    }


def test_an_announcement_ends_by_itself() -> None:
    rig = Rig(dataclasses.replace(CONFIG, settings=PbxsimSettings(announcement_length=2.0)))
    waiting(rig)
    play(rig, "4", leaf("audioUrl", "welcome"))
    assert rig.events(rig.advance(1.9)) == {}
    done = stopped(Cause.END_OF_MESSAGE_DETECTED, "4", leaf("interrupted", "false"))
    assert rig.events(rig.advance(0.2)) == {RP: [done]}


def test_digits_are_collected_from_the_caller(rig: Rig) -> None:
    waiting(rig)
    play(rig, "3", collect(num_chars="3", flush_char="#", timeout="4000"))
    assert rig.events(rig.act(Digits(DeviceId("7001"), "12"))) == {}
    outcome = rig.act(Digits(DeviceId("7001"), "345"))
    done = stopped(Cause.CHARACTER_COUNT_REACHED, "3", leaf("collectDigits", "123"))
    assert rig.events(outcome) == {RP: [done]}


def test_a_flush_char_ends_the_collection(rig: Rig) -> None:
    waiting(rig)
    play(rig, "3", collect(flush_char="#"))
    outcome = rig.send(GenerateDigits(connection_to_send_digits=C(1, "7001"), characters_to_send="9#"))  # fmt: skip
    done = stopped(Cause.TERMINATION_CHARACTER_RECEIVED, "3", leaf("collectDigits", "9"))
    assert rig.events(outcome)[RP][-1] == done  # after the DigitsGeneratedEvent


def test_the_collection_times_out_after_the_last_digit(rig: Rig) -> None:
    waiting(rig)
    play(rig, "3", collect(num_chars="4", timeout="3000"))
    rig.advance(2)
    rig.act(Digits(DeviceId("7001"), "5"))
    assert rig.events(rig.advance(2.9)) == {}
    done = stopped(Cause.TIMEOUT, "3", leaf("collectDigits", "5"))
    assert rig.events(rig.advance(0.2)) == {RP: [done]}


def test_digits_interrupt_an_announcement(rig: Rig) -> None:
    waiting(rig)
    play(rig, "4", leaf("audioUrl", "menu"), collect(num_chars="1"))
    outcome = rig.act(Digits(DeviceId("7001"), "2"))
    done = stopped(
        Cause.CHARACTER_COUNT_REACHED,
        "4",
        leaf("collectDigits", "2"),
        leaf("interrupted", "true"),
    )
    assert rig.events(outcome) == {RP: [done]}


def test_the_treatment_ends_when_the_call_is_routed(rig: Rig) -> None:
    router, _ = register(rig)
    make(rig, "7001", RP)
    play(rig, "1")
    outcome = select(rig, router, "7002")
    assert rig.events(outcome)[RP][-1] == stopped(Cause.SWITCHING_FUNCTION_TERMINATED)


@pytest.mark.parametrize(
    ("request_", "refusal"),
    [
        (
            PlayMessage(message_to_be_played="1", over_connection=C(1, "7001")),
            error(Cat.OPERATION, "requestIncompatibleWithObject"),
        ),
        (
            PlayMessage(message_to_be_played="9", over_connection=C(1, RP)),
            error(Cat.OPERATION, "invalidMsgID"),
        ),
        (
            PlayMessage(message_to_be_played="4", over_connection=C(1, RP)),
            error(Cat.OPERATION, "invalidParameterValue"),
        ),
        (
            PlayMessage(message_to_be_played="1", over_connection=C(1, RP), duration=0),
            error(Cat.OPERATION, "invalidParameterValue"),
        ),
        (
            PlayMessage(
                message_to_be_played="3",
                over_connection=C(1, RP),
                private_data=private(collect(timeout="1000")),
            ),
            error(Cat.OPERATION, "invalidParameterValue"),
        ),
        (
            PlayMessage(
                message_to_be_played="3",
                over_connection=C(1, RP),
                private_data=private(collect(num_chars="x")),
            ),
            error(Cat.OPERATION, "invalidParameterValue"),
        ),
        (
            PlayMessage(message_to_be_played="1", over_connection=C(7, RP)),
            error(Cat.OPERATION, "invalidConnectionID"),
        ),
    ],
)
def test_play_message_refusals(rig: Rig, request_: PlayMessage, refusal: object) -> None:
    waiting(rig)
    outcome = rig.send(request_)
    assert outcome.response == refusal
    assert rig.events(outcome) == {}


def test_stop_of_another_message_is_refused(rig: Rig) -> None:
    waiting(rig)
    play(rig, "1")
    refused = rig.send(Stop(connection=C(1, RP), message_to_be_stopped="3"))
    assert refused.response == error(Cat.OPERATION, "invalidMsgID")
