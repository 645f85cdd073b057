"""Call recording with the voice-unit services (docs/pbxsim.md § 8.2).

A connection has at most one recording, named by a message id that is never reused.
The recording rides on its Connection: it survives hold and retrieve, moves with the
connection when a transfer moves it to the call that survives, and stops by itself
when the connection leaves its call (delivery.leave() calls stopped_by_leaving()).
Events go to the monitors of the recorded device only.

When a recording ends, the switch returns a RecordingEnded effect; the shell appends
recording_line() of it to the recordings file.

Rule: ECMA-269 has no resume event; a resumed recording is reported by a new
RecordEvent for the same message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import ConnectionID
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
from ctiserver.ids import CallId
from ctiserver.pbxsim.calls import Call, Connection, Recording, RecordingState
from ctiserver.pbxsim.outcome import RecordingEnded, Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context

_OPERATION = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
_RECORDABLE: Final = (LocalConnectionState.CONNECTED, LocalConnectionState.HOLD)
REQUESTED: Final = "requested"
CALL_ENDED: Final = "call ended"


def record_message(ctx: Context, request: RecordMessage) -> None:
    call, connection = ctx.state.connection(request.call_to_be_recorded)
    if connection.recording is not None:
        raise Refused(_STATE, "invalidObjectState")
    if connection.state not in _RECORDABLE:
        raise Refused(_STATE, "invalidConnectionState")
    message = ctx.state.new_id("recording")
    ctx.reply(RecordMessageResponse(resulting_message=message))
    connection.recording = Recording(message, connection.device, ctx.now, [call.call_id])
    _tell(
        ctx,
        RecordEvent(
            monitor_cross_ref_id=UNADDRESSED, connection=_id(call, connection), message=message
        ),
    )


def stop(ctx: Context, request: Stop) -> None:
    call, connection, _ = _find(ctx, request.connection, request.message_to_be_stopped)
    ctx.reply(StopResponse())
    _end(ctx, call, connection, EventCause.NORMAL, REQUESTED)


def suspend(ctx: Context, request: Suspend) -> None:
    call, connection, recording = _find(ctx, request.connection, request.message)
    if recording.state is not RecordingState.RECORDING:
        raise Refused(_STATE, "incorrectMsgState")
    ctx.reply(SuspendResponse())
    recording.state = RecordingState.SUSPENDED
    recording.suspended.append(ctx.now)
    event = SuspendRecordEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=_id(call, connection),
        message=recording.message,
    )
    _tell(ctx, event)


def resume(ctx: Context, request: Resume) -> None:
    call, connection, recording = _find(
        ctx, request.connection, request.message_to_resume, missing="notAbleToResume"
    )
    if recording.state is not RecordingState.SUSPENDED:
        raise Refused(_STATE, "notAbleToResume")
    ctx.reply(ResumeResponse())
    recording.state = RecordingState.RECORDING
    recording.resumed.append(ctx.now)
    event = RecordEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=_id(call, connection),
        message=recording.message,
    )
    _tell(ctx, event)


def _find(
    ctx: Context, connection_id: ConnectionID, message: str, *, missing: str = "incorrectMsgState"
) -> tuple[Call, Connection, Recording]:
    """The recording a request names.  An empty *message* names the connection's own."""
    call, connection = ctx.state.connection(connection_id)
    recording = connection.recording
    if recording is None:
        raise Refused(_STATE, missing)
    if message and message != recording.message:
        raise Refused(_OPERATION, "invalidMsgID")
    return call, connection, recording


def stopped_by_leaving(ctx: Context, call: Call, connection: Connection) -> None:
    """*connection* has left *call*: its recording, if any, is over."""
    if connection.recording is not None:
        _end(ctx, call, connection, EventCause.NORMAL_CLEARING, CALL_ENDED)


def moved(connection: Connection, call_id: CallId) -> None:
    """A transfer or conference moved *connection* into call *call_id*."""
    if connection.recording is not None:
        connection.recording.calls.append(call_id)


def _end(ctx: Context, call: Call, connection: Connection, cause: EventCause, reason: str) -> None:
    recording = connection.recording
    assert recording is not None
    connection.recording = None
    event = StopEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=_id(call, connection),
        message=recording.message,
        cause=cause,
    )
    _tell(ctx, event)
    ctx.recording_ended(
        RecordingEnded(
            message=recording.message,
            device=recording.device,
            calls=tuple(recording.calls),
            started=recording.started,
            suspended=tuple(recording.suspended),
            resumed=tuple(recording.resumed),
            stopped=ctx.now,
            reason=reason,
        )
    )


def _id(call: Call, connection: Connection) -> ConnectionID:
    return call.id_of(connection.device)


def _tell(ctx: Context, event: RecordEvent | StopEvent | SuspendRecordEvent) -> None:
    ctx.publish_device(event.connection.device_id, event)


def recording_line(ended: RecordingEnded, *, wall_offset: float) -> str:
    """The JSON line of the recordings file for *ended* (docs/pbxsim.md § 8.2).

    Args:
        wall_offset: add to the switch's time to get seconds since the epoch.
    """

    def wall(at: float) -> str:
        moment = datetime.fromtimestamp(at + wall_offset, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    line = {
        "recording": ended.message,
        "call": ended.calls[0],
        "calls": list(ended.calls),
        "device": ended.device,
        "started": wall(ended.started),
        "suspended": [wall(at) for at in ended.suspended],
        "resumed": [wall(at) for at in ended.resumed],
        "stopped": wall(ended.stopped),
        "reason": ended.reason,
    }
    return json.dumps(line, ensure_ascii=False)
