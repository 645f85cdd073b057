"""docs/pbxsim.md § 4.14: do not disturb, forwarding, message waiting and service, set by
the logical device services or at the phone, read back, and what calls meet."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_control import MakeCallResponse
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.events import DeliveredEvent, DivertedEvent, FailedEvent
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.logical_device import (
    BackInServiceEvent,
    DoNotDisturbEvent,
    ForwardingEvent,
    ForwardingType,
    ForwardListItem,
    GetDoNotDisturb,
    GetDoNotDisturbResponse,
    GetForwarding,
    GetForwardingResponse,
    GetMessageWaitingIndicator,
    GetMessageWaitingIndicatorResponse,
    MessageWaitingEvent,
    OutOfServiceEvent,
    SetDoNotDisturb,
    SetDoNotDisturbResponse,
    SetForwarding,
    SetMessageWaitingIndicator,
)
from ctiserver.errors import ServiceError
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.phone import DoNotDisturb, Forward, Service, phone_action

from .rig import Rig, error, ev
from .test_acd import agent
from .test_call_control import make

B, C = DeviceId("7002"), DeviceId("7003")
F = ForwardingType


def forward(rig: Rig, kind: ForwardingType, to: str | None) -> object:
    request = SetForwarding(
        device=B, forwarding_type=kind, activate_forward=to is not None, forward_dn=to
    )  # type: ignore[arg-type]
    return rig.send(request)


def test_dnd_is_set_reported_read_and_fails_calls(rig: Rig) -> None:
    outcome = rig.send(SetDoNotDisturb(device=B, do_not_disturb_on=True))
    assert outcome.response == SetDoNotDisturbResponse()
    assert rig.events(outcome) == {B: [ev(DoNotDisturbEvent, device=B, do_not_disturb_on=True)]}
    assert rig.send(GetDoNotDisturb(device=B)).response == GetDoNotDisturbResponse(
        do_not_disturb_on=True
    )
    failed = [e for e in rig.events(make(rig, "7001", B))["7001"] if isinstance(e, FailedEvent)]
    assert [e.cause for e in failed] == [Cause.DO_NOT_DISTURB]


def test_immediate_forwarding_delivers_elsewhere(rig: Rig) -> None:
    forward(rig, F.IMMEDIATE, C)
    outcome = make(rig, "7001", B)
    (delivered,) = [e for e in rig.events(outcome)[C] if isinstance(e, DeliveredEvent)]
    assert (delivered.called_device, delivered.last_redirection_device, delivered.cause) == (
        B,
        B,
        Cause.CALL_FORWARD_IMMEDIATE,
    )
    assert B not in rig.events(outcome)
    response = rig.send(GetForwarding(device=B)).response
    assert response == GetForwardingResponse(
        forwarding_list=(
            ForwardListItem(forwarding_type=F.IMMEDIATE, forward_status=True, forward_dn=C),
        )
    )


def test_dnd_forwarding(rig: Rig) -> None:
    forward(rig, F.DND, C)
    rig.send(SetDoNotDisturb(device=B, do_not_disturb_on=True))
    outcome = make(rig, "7001", B)
    assert [type(e) for e in rig.events(outcome)[C]] == [DeliveredEvent]


def test_busy_forwarding(rig: Rig) -> None:
    forward(rig, F.BUSY, "7004")
    make(rig, "7005", B)  # B rings: busy from now on
    outcome = make(rig, "7001", B)
    (delivered,) = [e for e in rig.events(outcome)["7004"] if isinstance(e, DeliveredEvent)]
    assert delivered.cause is Cause.CALL_FORWARD_BUSY


def test_no_answer_forwarding_diverts_after_the_time(rig: Rig) -> None:
    forward(rig, F.NO_ANSWER, C)
    make(rig, "7001", B)
    assert rig.events(rig.advance(14.9)) == {}
    outcome = rig.advance(0.2)
    assert [type(e) for e in rig.events(outcome)[B]] == [DivertedEvent]
    (delivered,) = [e for e in rig.events(outcome)[C] if isinstance(e, DeliveredEvent)]
    assert delivered.cause is Cause.CALL_FORWARD_NO_ANSWER


def test_message_waiting(rig: Rig) -> None:
    outcome = rig.send(SetMessageWaitingIndicator(device=B, message_waiting_on=True))
    assert rig.events(outcome) == {
        B: [ev(MessageWaitingEvent, target_device=B, message_waiting_on=True)]
    }
    read = rig.send(GetMessageWaitingIndicator(device=B)).response
    assert read == GetMessageWaitingIndicatorResponse(message_waiting_on=True)


def test_out_of_service_and_back(rig: Rig) -> None:
    outcome = rig.act(Service(B, in_service=False))
    assert rig.events(outcome) == {B: [ev(OutOfServiceEvent, device=B, cause=Cause.MAINTENANCE)]}
    failed = [e for e in rig.events(make(rig, "7001", B))["7001"] if isinstance(e, FailedEvent)]
    assert [e.cause for e in failed] == [Cause.DEST_OUT_OF_ORDER]
    refused = make(rig, B, "7003")
    assert refused.response == error(Cat.SYSTEM_RESOURCE_AVAILABILITY, "callingDeviceOutOfService")
    outcome = rig.act(Service(B, in_service=True))
    assert rig.events(outcome) == {B: [ev(BackInServiceEvent, device=B, cause=Cause.NORMAL)]}
    assert isinstance(make(rig, B, "7004").response, MakeCallResponse)


def test_a_phone_with_calls_is_not_taken_out_of_service(rig: Rig) -> None:
    make(rig, "7001", B)
    with pytest.raises(ServiceError) as raised:
        rig.act(Service(B, in_service=False))
    assert raised.value.value == "invalidDeviceState"


def test_the_acd_skips_a_station_with_dnd(rig: Rig) -> None:
    agent(rig, B, ReqAgentState.LOGGED_ON, "1001", "8001")
    agent(rig, B, ReqAgentState.READY)
    rig.act(DoNotDisturb(B, True))
    make(rig, "7001", "8001")
    assert rig.switch.view().queued("8001") != ()
    handed = rig.act(DoNotDisturb(B, False))
    assert DeliveredEvent in [type(e) for e in rig.events(handed)[B]]


@pytest.mark.parametrize(
    ("request_", "refusal"),
    [
        (SetDoNotDisturb(device=DeviceId("8001"), do_not_disturb_on=True), "invalidDeviceID"),
        (SetForwarding(device=B, activate_forward=True, forward_dn=C), "invalidForwardingType"),
        (
            SetForwarding(device=B, forwarding_type=F.BUSY_INTERNAL, activate_forward=False),
            "invalidForwardingType",
        ),
        (
            SetForwarding(device=B, forwarding_type=F.IMMEDIATE, activate_forward=True),
            "invalidForwardingDestination",
        ),
        (
            SetForwarding(
                device=B, forwarding_type=F.IMMEDIATE, activate_forward=True, forward_dn=B
            ),
            "invalidForwardingDestination",
        ),
    ],
)
def test_refusals(rig: Rig, request_: object, refusal: str) -> None:
    outcome = rig.send(request_)  # type: ignore[arg-type]
    assert outcome.response == error(Cat.OPERATION, refusal)


def test_phone_actions_for_features() -> None:
    station = DeviceId("7001")
    assert phone_action(station, {"action": "dnd-on"}) == DoNotDisturb(station, True)
    assert phone_action(station, {"action": "forward", "number": "7002"}) == Forward(station, B)
    assert phone_action(station, {"action": "forward-off"}) == Forward(station, None)
    assert phone_action(station, {"action": "out-of-service"}) == Service(station, False)
    with pytest.raises(ValueError, match="unknown action 'fly'"):
        phone_action(station, {"action": "fly"})


def test_forwarding_from_the_phone_is_reported(rig: Rig) -> None:
    outcome = rig.act(Forward(B, C))
    event = ev(
        ForwardingEvent, device=B, forwarding_type=F.IMMEDIATE, forward_status=True, forward_to=C
    )
    assert rig.events(outcome) == {B: [event]}
    with pytest.raises(ServiceError):
        rig.act(Forward(B, B))
