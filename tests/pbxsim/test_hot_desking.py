"""docs/pbxsim.md § 8.1: hot desking, a guest number at a host's phone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctiserver.csta.call_control import AnswerCall, AnswerCallResponse, MakeCall
from ctiserver.csta.call_information import CallInformationEvent
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.escape import Escape, EscapeResponse, PrivateEvent
from ctiserver.csta.events import DeliveredEvent, EstablishedEvent, FailedEvent, HeldEvent
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.types import PrivateElement
from ctiserver.csta.voice import RecordEvent, RecordMessage
from ctiserver.errors import ServiceError
from ctiserver.pbxsim.outcome import Outcome, Reply
from ctiserver.pbxsim.phone import Answer, Dial, EnterAccountCode, HangUp, Hold

from .rig import C, Rig, error, escape, ev, leaf, private

OP, STATE = Cat.OPERATION, Cat.STATE_INCOMPATIBILITY
HOSTED = private(leaf("hostDevice", "7001"))


def associated_event(guest: str, host: str, associated: bool) -> PrivateEvent:
    content = PrivateElement(
        "guestAssociatedEvent",
        children=(
            leaf("guest", guest),
            leaf("host", host),
            leaf("associated", "true" if associated else "false"),
        ),
    )
    return ev(PrivateEvent, private_data=private(content))


def associate(rig: Rig, guest: str = "7005", host: str = "7001") -> Outcome:
    outcome = rig.send(escape(guest, host))
    assert outcome.response == EscapeResponse(), outcome
    return outcome


def make(rig: Rig, a: str, b: str) -> Outcome:
    return rig.send(MakeCall(calling_device=a, called_directory_number=b))  # type: ignore[arg-type]


def test_associate_tells_the_guest_then_the_host(rig: Rig) -> None:
    outcome = associate(rig)
    assert rig.events(outcome) == {
        "7005": [associated_event("7005", "7001", True)],
        "7001": [associated_event("7005", "7001", True)],
    }
    cross_refs = [m.monitor_cross_ref_id for m in outcome.sent_to(rig.app)]  # type: ignore[attr-defined]
    assert [rig.devices[x] for x in cross_refs] == ["7005", "7001"]
    assert rig.switch.view().host_of("7005") == "7001"


def test_a_call_to_the_guest_rings_the_host_and_is_reported_on_the_guest(rig: Rig) -> None:
    associate(rig)
    outcome = make(rig, "7002", "7005")
    delivered = ev(
        DeliveredEvent,
        connection=C(1, "7005"),
        alerting_device="7005",
        calling_device="7002",
        called_device="7005",
        cause=Cause.NEW_CALL,
    )
    events = rig.events(outcome)
    assert events["7005"] == [
        replace(delivered, local_connection_info=S.ALERTING, private_data=HOSTED)
    ]
    assert events["7002"][-1] == replace(delivered, local_connection_info=S.CONNECTED)
    assert "7001" not in events  # the host's monitors hear nothing of the guest's calls

    # The person at the host's phone answers: it is the guest's connection that answers.
    answered = rig.act(Answer("7001"))
    established = ev(
        EstablishedEvent,
        established_connection=C(1, "7005"),
        answering_device="7005",
        calling_device="7002",
        called_device="7005",
        local_connection_info=S.CONNECTED,
        cause=Cause.NEW_CALL,
    )
    assert rig.events(answered) == {
        "7002": [established],
        "7005": [replace(established, private_data=HOSTED)],
    }
    call = rig.switch.view().call("1")
    assert call is not None
    assert call.devices == ("7002", "7005")
    # the phone's other buttons work on the guest's call as well
    held = rig.act(Hold("7001"))
    assert rig.events(held)["7005"] == [
        ev(
            HeldEvent,
            held_connection=C(1, "7005"),
            holding_device="7005",
            local_connection_info=S.HOLD,
            private_data=HOSTED,
        )
    ]


def test_answer_call_names_the_guest_connection(rig: Rig) -> None:
    associate(rig)
    make(rig, "7002", "7005")
    assert rig.send(AnswerCall(call_to_be_answered=C(1, "7001"))).response == error(
        OP, "invalidConnectionID"
    )
    assert rig.send(AnswerCall(call_to_be_answered=C(1, "7005"))).response == AnswerCallResponse()


def test_guest_and_host_are_one_line(rig: Rig) -> None:
    associate(rig)
    make(rig, "7002", "7005")  # rings at the host's phone
    busy_host = make(rig, "7003", "7001")
    failed = rig.events(busy_host)["7003"][-1]
    assert isinstance(failed, FailedEvent)
    assert failed.cause is Cause.BUSY
    assert make(rig, "7001", "7004").response == error(STATE, "invalidCallingDeviceState")
    rig.act(HangUp("7002"))  # the guest's call is over
    rig.act(HangUp("7003"))
    rig.act(Dial("7001", "7004"))  # now the host calls out
    busy_guest = make(rig, "7002", "7005")
    failed = rig.events(busy_guest)["7002"][-1]
    assert isinstance(failed, FailedEvent)
    assert failed.cause is Cause.BUSY
    assert failed.failing_device == "7005"


def test_cancel_tells_both_and_the_guest_rings_alone_again(rig: Rig) -> None:
    associate(rig)
    outcome = rig.send(escape("7005", "", "cancel"))
    assert outcome.response == EscapeResponse()
    assert rig.events(outcome) == {
        "7005": [associated_event("7005", "7001", False)],
        "7001": [associated_event("7005", "7001", False)],
    }
    assert rig.switch.view().hosts == ()
    delivered = rig.events(make(rig, "7002", "7005"))["7005"][0]
    assert isinstance(delivered, DeliveredEvent)
    assert delivered.private_data is None
    with pytest.raises(ServiceError):
        rig.act(Answer("7001"))  # it rings at the guest's own phone now


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (escape("7099", "7001"), error(OP, "invalidDeviceID")),
        (escape("7005", "8001"), error(OP, "invalidDeviceID")),
        (escape("7005", "7005"), error(OP, "notDifferentDevices")),
        (escape("7006", "7001"), error(STATE, "invalidDeviceState")),  # 7001 hosts 7005
        (escape("7005", "7002"), error(STATE, "invalidDeviceState")),  # 7005 is at 7001
        (escape("7001", "7002"), error(STATE, "invalidDeviceState")),  # a host as guest
        (escape("7006", "7005"), error(STATE, "invalidDeviceState")),  # a guest as host
        (escape("7003", "7004"), error(STATE, "invalidDeviceState")),  # 7003 has a call
        (escape("7006", "", "cancel"), error(STATE, "invalidObjectState")),
        (escape("7099", "", "cancel"), error(OP, "invalidDeviceID")),
        (escape("7006", "7002", "swap"), error(OP, "invalidParameterValue")),
        (escape("7006", "7002", namespace="urn:other"), error(OP, "privateDataNotSupported")),
        (Escape(), error(OP, "privateDataNotSupported")),
    ],
)
def test_refusals_change_nothing(rig: Rig, request_: Escape, expected: CSTAErrorCode) -> None:
    associate(rig)
    make(rig, "7003", "7004")
    before = rig.switch.view()
    outcome = rig.send(request_)
    assert outcome.effects == (Reply(expected),)
    assert rig.switch.view() == before


def test_the_other_private_services_at_a_guest(rig: Rig) -> None:
    associate(rig)
    make(rig, "7002", "7005")
    rig.act(Answer("7001"))
    recorded = rig.send(RecordMessage(call_to_be_recorded=C(1, "7005")))
    assert rig.events(recorded) == {
        "7005": [ev(RecordEvent, connection=C(1, "7005"), message="1", private_data=HOSTED)]
    }
    coded = rig.act(EnterAccountCode("7001", "42"))  # keyed in at the host's phone
    information = ev(
        CallInformationEvent, connection=C(1, "7005"), device="7005", account_info="3432"
    )
    assert rig.events(coded) == {
        "7002": [information],
        "7005": [replace(information, private_data=HOSTED)],
    }
