"""A station's features (docs/pbxsim.md § 4.14): do not disturb, forwarding, the message
waiting lamp, and being out of service, with the logical device services that set and
read them (ECMA-269 § 22.2) and the events that report them.

    SetDoNotDisturb             DoNotDisturbEvent{device, doNotDisturbOn}
    SetForwarding               ForwardingEvent{device, forwardingType, forwardStatus, forwardTo}
    SetMessageWaitingIndicator  MessageWaitingEvent{targetDevice, messageWaitingOn}
    (a phone unplugged, back)   OutOfServiceEvent / BackInServiceEvent{device, cause}

Each event goes to the station's monitors.  What a call offered to the station meets
(intercept()): forwarding immediate, or on busy, sends it on; do not disturb and being
out of service fail it (causes doNotDisturb, destOutOfOrder); forwarding on no answer
lets it ring `no_answer_time` seconds first (pbxsim.forwarding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.failure import ErrorCategory
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
    SetForwardingResponse,
    SetMessageWaitingIndicator,
    SetMessageWaitingIndicatorResponse,
)
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.calls import Call
from ctiserver.pbxsim.directory import dialable
from ctiserver.pbxsim.outcome import Refused, Timer, TimerKind
from ctiserver.pbxsim.state import UNADDRESSED, Context, SwitchState
from ctiserver.pbxsim.station import StationFeatures

_OPERATION = ErrorCategory.OPERATION
F = ForwardingType
# The forwarding types pbxsim honours, and the cause of a call they send on.
FORWARDING_CAUSES: Final = {
    F.IMMEDIATE: EventCause.CALL_FORWARD_IMMEDIATE,
    F.BUSY: EventCause.CALL_FORWARD_BUSY,
    F.NO_ANSWER: EventCause.CALL_FORWARD_NO_ANSWER,
    F.DND: EventCause.CALL_FORWARD,
}


def of(state: SwitchState, station: DeviceId) -> StationFeatures:
    """The features of *station* (a fresh set if it has none yet)."""
    return state.features.setdefault(station, StationFeatures())


def _station(ctx: Context, device: DeviceId) -> StationFeatures:
    if not ctx.state.directory.is_station(device):
        raise Refused(_OPERATION, "invalidDeviceID")
    return of(ctx.state, device)


# --- services ---------------------------------------------------------------------------------


def set_do_not_disturb(ctx: Context, request: SetDoNotDisturb) -> None:
    features = _station(ctx, request.device)
    ctx.reply(SetDoNotDisturbResponse())
    set_dnd(ctx, request.device, features, request.do_not_disturb_on)


def set_dnd(ctx: Context, station: DeviceId, features: StationFeatures, on: bool) -> None:
    features.dnd = on
    event = DoNotDisturbEvent(
        monitor_cross_ref_id=UNADDRESSED, device=station, do_not_disturb_on=on
    )
    ctx.publish_device(station, event)


def set_forwarding(ctx: Context, request: SetForwarding) -> None:
    features = _station(ctx, request.device)
    kind = request.forwarding_type
    if kind not in FORWARDING_CAUSES:
        raise Refused(_OPERATION, "invalidForwardingType")
    destination = request.forward_dn
    if request.activate_forward:
        valid = destination is not None and dialable(destination)
        if not valid or destination == request.device:
            raise Refused(_OPERATION, "invalidForwardingDestination")
    ctx.reply(SetForwardingResponse())
    forward(ctx, request.device, features, kind, destination if request.activate_forward else None)


def forward(
    ctx: Context,
    station: DeviceId,
    features: StationFeatures,
    kind: ForwardingType,
    destination: DeviceId | None,
) -> None:
    """Forward *station*'s calls of *kind* to *destination* (None: stop forwarding them)."""
    if destination is None:
        features.forwarding.pop(kind, None)
    else:
        features.forwarding[kind] = destination
    event = ForwardingEvent(
        monitor_cross_ref_id=UNADDRESSED,
        device=station,
        forwarding_type=kind,
        forward_status=destination is not None,
        forward_to=destination,
    )
    ctx.publish_device(station, event)


def set_message_waiting_indicator(ctx: Context, request: SetMessageWaitingIndicator) -> None:
    features = _station(ctx, request.device)
    ctx.reply(SetMessageWaitingIndicatorResponse())
    features.message_waiting = request.message_waiting_on
    event = MessageWaitingEvent(
        monitor_cross_ref_id=UNADDRESSED,
        target_device=request.device,
        message_waiting_on=request.message_waiting_on,
    )
    ctx.publish_device(request.device, event)


def get_do_not_disturb(ctx: Context, request: GetDoNotDisturb) -> None:
    ctx.reply(GetDoNotDisturbResponse(do_not_disturb_on=_station(ctx, request.device).dnd))


def get_forwarding(ctx: Context, request: GetForwarding) -> None:
    features = _station(ctx, request.device)
    items = tuple(
        ForwardListItem(forwarding_type=kind, forward_status=True, forward_dn=destination)
        for kind, destination in features.forwarding.items()
    )
    ctx.reply(GetForwardingResponse(forwarding_list=items))


def get_message_waiting_indicator(ctx: Context, request: GetMessageWaitingIndicator) -> None:
    features = _station(ctx, request.device)
    ctx.reply(GetMessageWaitingIndicatorResponse(message_waiting_on=features.message_waiting))


def set_in_service(ctx: Context, station: DeviceId, in_service: bool) -> None:
    """The phone at *station* was unplugged (or is back).  Raises Refused while the
    station has calls (it is taken out of service idle)."""
    features = _station(ctx, station)
    if not in_service and ctx.state.connections_at(station):
        raise Refused(ErrorCategory.STATE_INCOMPATIBILITY, "invalidDeviceState")
    features.out_of_service = not in_service
    kind = BackInServiceEvent if in_service else OutOfServiceEvent
    cause = EventCause.NORMAL if in_service else EventCause.MAINTENANCE
    event = kind(monitor_cross_ref_id=UNADDRESSED, device=station, cause=cause)
    ctx.publish_device(station, event)


# --- calls ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interception:
    """What a call offered to a station meets instead of ringing there: a failure
    (`forward_to` None), or forwarding to `forward_to`; with `cause`."""

    cause: EventCause
    forward_to: DeviceId | None = None


def intercept(state: SwitchState, station: DeviceId) -> Interception | None:
    """What a call offered to *station* meets, if it does not simply ring or fail busy."""
    features = state.features.get(station)
    if features is None:
        return None
    forwarding = features.forwarding
    if features.out_of_service:
        return Interception(EventCause.DEST_OUT_OF_ORDER)
    if F.IMMEDIATE in forwarding:
        return Interception(FORWARDING_CAUSES[F.IMMEDIATE], forwarding[F.IMMEDIATE])
    if features.dnd and F.DND in forwarding:
        return Interception(FORWARDING_CAUSES[F.DND], forwarding[F.DND])
    if features.dnd:
        return Interception(EventCause.DO_NOT_DISTURB)
    if F.BUSY in forwarding and state.busy(station):
        return Interception(FORWARDING_CAUSES[F.BUSY], forwarding[F.BUSY])
    return None


def reachable(state: SwitchState, station: DeviceId) -> bool:
    """Whether the ACD may offer *station* a call (not DND, not out of service)."""
    features = state.features.get(station)
    return features is None or not (features.dnd or features.out_of_service)


def check_can_call(state: SwitchState, station: DeviceId) -> None:
    """A station out of service makes no calls.  Raises Refused."""
    features = state.features.get(station)
    if features is not None and features.out_of_service:
        raise Refused(ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY, "callingDeviceOutOfService")


def ringing(ctx: Context, call: Call, station: DeviceId) -> None:
    """*call* began ringing at *station*: if it forwards unanswered calls, time it
    (pbxsim.forwarding goes on when the time is over)."""
    if no_answer_destination(ctx.state, station) is not None:
        key = f"{call.call_id}@{station}"
        ctx.start_timer(Timer(TimerKind.NO_ANSWER, key), ctx.state.config.settings.no_answer_time)


def no_answer_destination(state: SwitchState, station: DeviceId) -> DeviceId | None:
    features = state.features.get(station)
    return None if features is None else features.forwarding.get(F.NO_ANSWER)
