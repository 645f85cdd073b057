"""What a person at a station can do with the phone, as data, and how the switch does it.

A phone action is the same as the CSTA service that does the same thing from an
application, and causes the same events; only Dial differs from MakeCall, in the cause
of its first two events (newCall: someone lifted the handset and dialled).  The
station's call is found the way a phone finds it: the ringing one, the one in use, the
held one; a host's phone also finds the calls of its guest (hot desking).
EnterAccountCode does what AssociateData does, for the call in use (talking, or
dialling and ringing out).  Digits keys DTMF digits during the call in use: unlike
GenerateDigits no event reports them, but a treatment collecting digits takes them.
DoNotDisturb and Forward (immediate) do what SetDoNotDisturb and SetForwarding do;
Service unplugs the phone (OutOfServiceEvent) or plugs it back (BackInServiceEvent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ctiserver.csta.call_control import AnswerCall, ClearConnection, HoldCall, RetrieveCall
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.logical_device import ForwardingType
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import account_codes, call_control, dtmf, features
from ctiserver.pbxsim.calls import Connection
from ctiserver.pbxsim.directory import dialable
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import Context

_S = LocalConnectionState
_STATE = ErrorCategory.STATE_INCOMPATIBILITY


@dataclass(frozen=True, slots=True)
class Dial:
    """Lift the handset and dial *number*."""

    station: DeviceId
    number: DeviceId


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer the call ringing at the station."""

    station: DeviceId


@dataclass(frozen=True, slots=True)
class HangUp:
    """Hang up the call in use (talking, dialling, ringing out or failed)."""

    station: DeviceId


@dataclass(frozen=True, slots=True)
class Hold:
    """Put the call in use on hold."""

    station: DeviceId


@dataclass(frozen=True, slots=True)
class Retrieve:
    """Take back a held call: *call_id*, or the station's oldest held call."""

    station: DeviceId
    call_id: CallId | None = None


@dataclass(frozen=True, slots=True)
class EnterAccountCode:
    """Key in an account code for the call in use (docs/pbxsim.md § 8.3)."""

    station: DeviceId
    code: str


@dataclass(frozen=True, slots=True)
class Digits:
    """Key *digits* on the keypad during the call in use: DTMF tones the other parties
    hear, and a treatment collecting digits takes (docs/pbxsim.md § 4.13)."""

    station: DeviceId
    digits: str


@dataclass(frozen=True, slots=True)
class DoNotDisturb:
    """Turn do not disturb on or off at the phone (docs/pbxsim.md § 4.14)."""

    station: DeviceId
    on: bool


@dataclass(frozen=True, slots=True)
class Forward:
    """Forward every call to *number* from the phone (None: stop forwarding them)."""

    station: DeviceId
    number: DeviceId | None


@dataclass(frozen=True, slots=True)
class Service:
    """Unplug the phone (out of service) or plug it back in."""

    station: DeviceId
    in_service: bool


PhoneAction = (
    Dial
    | Answer
    | HangUp
    | Hold
    | Retrieve
    | EnterAccountCode
    | Digits
    | DoNotDisturb
    | Forward
    | Service
)


def act(ctx: Context, action: PhoneAction) -> None:
    """Do *action*.  Raises Refused, as the equivalent CSTA service would."""
    if not ctx.state.directory.is_station(action.station):
        raise Refused(ErrorCategory.OPERATION, "invalidDeviceID")
    match action:
        case Dial(station=station, number=number):
            causes = (EventCause.NEW_CALL, EventCause.NEW_CALL)
            call_control.originate(ctx, station, number, causes)
        case Answer():
            target = _find(ctx, action.station, lambda c: c.state is _S.ALERTING)
            call_control.answer_call(
                ctx, AnswerCall(call_to_be_answered=_need(target, "noCallToAnswer"))
            )
        case HangUp():
            target = _find(ctx, action.station, lambda c: c.state is not _S.HOLD)
            in_use = _need(target, "noActiveCall")
            call_control.clear_connection(ctx, ClearConnection(connection_to_be_cleared=in_use))
        case Hold():
            target = _find(ctx, action.station, lambda c: c.state is _S.CONNECTED)
            call_control.hold_call(ctx, HoldCall(call_to_be_held=_need(target, "noActiveCall")))
        case Retrieve(call_id=call_id):
            target = _find(
                ctx,
                action.station,
                lambda c: c.state is _S.HOLD,
                call_id=call_id,
            )
            held = _need(target, "noHeldCall")
            call_control.retrieve_call(ctx, RetrieveCall(call_to_be_retrieved=held))
        case EnterAccountCode(code=code):
            account_codes.check_code(code)
            target = _find(ctx, action.station, lambda c: c.state is _S.CONNECTED)
            call, connection = ctx.state.connection(_need(target, "noActiveCall"))
            account_codes.set_account_code(ctx, call, connection, code)
        case Digits(digits=digits):
            dtmf.check_digits(digits)
            target = _find(ctx, action.station, lambda c: c.state is _S.CONNECTED)
            call, connection = ctx.state.connection(_need(target, "noActiveCall"))
            dtmf.sent(ctx, call, connection.device, digits)
        case DoNotDisturb(station=station, on=on):
            features.set_dnd(ctx, station, features.of(ctx.state, station), on)
        case Forward(station=station, number=number):
            _forward(ctx, station, number)
        case Service(station=station, in_service=in_service):
            features.set_in_service(ctx, station, in_service)


def _forward(ctx: Context, station: DeviceId, number: DeviceId | None) -> None:
    if number is not None and (not dialable(number) or number == station):
        raise Refused(ErrorCategory.OPERATION, "invalidForwardingDestination")
    immediate = ForwardingType.IMMEDIATE
    features.forward(ctx, station, features.of(ctx.state, station), immediate, number)


def _find(
    ctx: Context,
    station: DeviceId,
    wanted: Callable[[Connection], bool],
    *,
    call_id: CallId | None = None,
) -> ConnectionID | None:
    for device in ctx.state.line(station):  # a host's phone also has its guest's calls
        for call, connection in ctx.state.connections_at(device):
            if wanted(connection) and call_id in (None, call.call_id):
                return call.id_of(device)
    return None


def _need(target: ConnectionID | None, error: str) -> ConnectionID:
    if target is None:
        raise Refused(_STATE, error)
    return target


# The actions that name nothing but the station.
_PLAIN: Mapping[str, Callable[[DeviceId], PhoneAction]] = {
    "answer": Answer,
    "hang-up": HangUp,
    "hold": Hold,
    "dnd-on": lambda station: DoNotDisturb(station, True),
    "dnd-off": lambda station: DoNotDisturb(station, False),
    "forward-off": lambda station: Forward(station, None),
    "out-of-service": lambda station: Service(station, False),
    "back-in-service": lambda station: Service(station, True),
}
ACTIONS = ("dial", "retrieve", "account-code", "digits", "forward", *_PLAIN)


def phone_action(station: DeviceId, body: Any) -> PhoneAction:
    """The action a request body names.  Raises ValueError saying what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise ValueError('the body must be a JSON object with an "action"')
    action = body["action"]
    if action in _PLAIN:
        return _PLAIN[action](station)
    match action:
        case "dial":
            return Dial(station, DeviceId(_text(body, "number")))
        case "retrieve":
            call = body.get("call")
            return Retrieve(station, None if call is None else CallId(_text(body, "call")))
        case "account-code":
            return EnterAccountCode(station, _text(body, "code"))
        case "digits":
            return Digits(station, _text(body, "digits"))
        case "forward":
            return Forward(station, DeviceId(_text(body, "number")))
    raise ValueError(f"unknown action {action!r}: {', '.join(ACTIONS)}")


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f'"{body["action"]}" needs "{key}", a non-empty string')
    return value
