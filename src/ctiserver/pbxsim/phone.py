"""What a person at a station can do with the phone, as data, and how the switch does it.

A phone action is the same as the CSTA service that does the same thing from an
application, and causes the same events; only Dial differs from MakeCall, in the cause
of its first two events (newCall: someone lifted the handset and dialled).  The
station's call is found the way a phone finds it: the ringing one, the one in use, the
held one; a host's phone also finds the calls of its guest (hot desking).
EnterAccountCode does what AssociateData does, for the call in use (talking, or
dialling and ringing out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ctiserver.csta.call_control import AnswerCall, ClearConnection, HoldCall, RetrieveCall
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import account_codes, call_control
from ctiserver.pbxsim.calls import Connection
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


PhoneAction = Dial | Answer | HangUp | Hold | Retrieve | EnterAccountCode


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


def phone_action(station: DeviceId, body: Any) -> PhoneAction:
    """The action a request body names.  Raises ValueError saying what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise ValueError('the body must be a JSON object with an "action"')
    action = body["action"]
    match action:
        case "dial":
            return Dial(station, DeviceId(_text(body, "number")))
        case "answer":
            return Answer(station)
        case "hang-up":
            return HangUp(station)
        case "hold":
            return Hold(station)
        case "retrieve":
            call = body.get("call")
            return Retrieve(station, None if call is None else CallId(_text(body, "call")))
        case "account-code":
            return EnterAccountCode(station, _text(body, "code"))
    raise ValueError(
        f"unknown action {action!r}: dial, answer, hang-up, hold, retrieve or account-code"
    )


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f'"{body["action"]}" needs "{key}", a non-empty string')
    return value
