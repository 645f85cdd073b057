"""Treatments at routing devices (docs/pbxsim.md § 8.5): PlayMessage over a call waiting
at a routing device, as the Genesys CSTA connector maps T-Server treatments onto it.

    messageToBePlayed  "0" busy, "1" music, "2" ringback, "3" silence, "4" an announcement
    private data       <audioUrl>A</audioUrl>  what "4" plays (an announcement; several
                           play in their order, each `announcement_length` seconds),
                           or "1" (a music source)
                       <busyPattern>fast</busyPattern>  "0" as a fast busy (reorder)
                       <collectDigits><numChars>N</numChars><flushChar>#</flushChar>
                           <timeout>MS</timeout></collectDigits>  collect the caller's digits

PlayEvent{connection, message} says a treatment began, StopEvent{connection, message,
cause} that it ended, with `<collectDigits>DIGITS</collectDigits>` (the digits collected)
and `<interrupted>true|false</interrupted>` (an announcement) in its private data.  Both
go to the routing device's monitors.  A treatment ends when its `duration` is over
(durationExceeded), its announcement ends with nothing to collect (endOfMessageDetected),
the digits are collected (characterCountReached, terminationCharacterReceived) or their
timeout passes (timeout), Stop ends it (normal), another PlayMessage replaces it
(nextMessage), or the call leaves the routing device (switchingFunctionTerminated).
Music, ringback, silence and busy without a duration play until one of the others.
"""

from __future__ import annotations

from typing import Final

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.csta.voice import (
    PlayEvent,
    PlayMessage,
    PlayMessageResponse,
    Stop,
    StopEvent,
    StopResponse,
)
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import private, recording
from ctiserver.pbxsim.calls import Call, Collection, Connection, Treatment
from ctiserver.pbxsim.directory import DeviceKind
from ctiserver.pbxsim.outcome import Refused, Timer, TimerKind
from ctiserver.pbxsim.state import UNADDRESSED, Context

MESSAGES: Final = {"0": "busy", "1": "music", "2": "ringback", "3": "silence", "4": "announcement"}
ANNOUNCEMENT: Final = "4"
FLUSH_CHARS: Final = frozenset("0123456789*#")
MAX_DIGITS: Final = 32
_OPERATION = ErrorCategory.OPERATION


def play_message(ctx: Context, request: PlayMessage) -> None:
    call, connection = ctx.state.connection(request.over_connection)
    if ctx.state.directory.kind(connection.device) is not DeviceKind.ROUTING_DEVICE:
        raise Refused(_OPERATION, "requestIncompatibleWithObject")
    if request.message_to_be_played not in MESSAGES:
        raise Refused(_OPERATION, "invalidMsgID")
    namespace = ctx.state.config.private_namespace
    announcements = _all(request.private_data, namespace, "audioUrl")
    if request.message_to_be_played == ANNOUNCEMENT and not all(announcements or [""]):
        raise Refused(_OPERATION, "invalidParameterValue")
    if request.duration is not None and request.duration <= 0:
        raise Refused(_OPERATION, "invalidParameterValue")
    collection = _collection(private.element(request.private_data, namespace, "collectDigits"))
    ctx.reply(PlayMessageResponse())
    if connection.treatment is not None:
        _end(ctx, call, connection, EventCause.NEXT_MESSAGE)
    _begin(ctx, call, connection, request, announcements, collection)


def _all(data: PrivateData | None, namespace: str, name: str) -> list[str]:
    """The texts of every element *name* of *data*, if *data* is in *namespace*."""
    if data is None or data.namespace != namespace:
        return []
    return [element.text for element in data.elements if element.name == name]


def _collection(element: PrivateElement | None) -> Collection | None:
    """The criteria of <collectDigits>.  Raises Refused when they make no sense."""
    if element is None:
        return None
    try:
        count = element.child_text("numChars")
        timeout = element.child_text("timeout")
        collection = Collection(
            num_chars=int(count) if count else None,
            flush_char=element.child_text("flushChar") or "",
            timeout=int(timeout) / 1000 if timeout else None,
        )
    except ValueError:
        raise Refused(_OPERATION, "invalidParameterValue") from None
    count_ok = collection.num_chars is None or 0 < collection.num_chars <= MAX_DIGITS
    flush_ok = collection.flush_char == "" or collection.flush_char in FLUSH_CHARS
    timeout_ok = collection.timeout is None or collection.timeout > 0
    ends = collection.num_chars is not None or collection.flush_char != ""
    if not (count_ok and flush_ok and timeout_ok and ends):
        raise Refused(_OPERATION, "invalidParameterValue")
    return collection


def _begin(
    ctx: Context,
    call: Call,
    connection: Connection,
    request: PlayMessage,
    announcements: list[str],
    collection: Collection | None,
) -> None:
    message = request.message_to_be_played
    length = ctx.state.config.settings.announcement_length * len(announcements)
    treatment = Treatment(
        treatment_id=ctx.state.new_id("treatment"),
        message=message,
        ends=ctx.now + request.duration / 1000 if request.duration else None,
        announcements=tuple(announcements),
        announcing_until=ctx.now + length if message == ANNOUNCEMENT else None,
        collection=collection,
    )
    if collection is not None and collection.timeout is not None:
        treatment.collect_until = ctx.now + collection.timeout
    connection.treatment = treatment
    event = PlayEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(connection.device),
        message=message,
    )
    ctx.publish_device(connection.device, event)
    _schedule(ctx, treatment)


def _schedule(ctx: Context, treatment: Treatment) -> None:
    """Stand the treatment's timer at the first moment something about it is due."""
    times = [treatment.ends, treatment.announcing_until, treatment.collect_until]
    due = min((t for t in times if t is not None), default=None)
    timer = Timer(TimerKind.TREATMENT, treatment.treatment_id)
    if due is None:
        ctx.cancel_timer(timer)
    else:
        ctx.start_timer(timer, max(0.0, due - ctx.now))


def stop(ctx: Context, request: Stop) -> None:
    """Stop: the treatment of a routing device's connection, else its recording."""
    call, connection = ctx.state.connection(request.connection)
    treatment = connection.treatment
    if treatment is None:
        recording.stop(ctx, request)
        return
    wanted = request.message_to_be_stopped
    if wanted and wanted != treatment.message:
        raise Refused(_OPERATION, "invalidMsgID")
    ctx.reply(StopResponse())
    _end(ctx, call, connection, EventCause.NORMAL)


def timer_fired(ctx: Context, treatment_id: str) -> None:
    """The treatment's timer came due: its duration, its announcement or its digits'
    timeout is over."""
    found = _find(ctx, treatment_id)
    if found is None:
        return
    call, connection, treatment = found
    now = ctx.now
    if treatment.ends is not None and treatment.ends <= now:
        _end(ctx, call, connection, EventCause.DURATION_EXCEEDED)
    elif treatment.collect_until is not None and treatment.collect_until <= now:
        _end(ctx, call, connection, EventCause.TIMEOUT)
    elif treatment.announcing_until is not None and treatment.announcing_until <= now:
        treatment.announcing_until = None
        if treatment.collection is None:
            _end(ctx, call, connection, EventCause.END_OF_MESSAGE_DETECTED)
        else:
            _schedule(ctx, treatment)
    else:
        _schedule(ctx, treatment)


def _find(ctx: Context, treatment_id: str) -> tuple[Call, Connection, Treatment] | None:
    for call in ctx.state.calls.values():
        for connection in call.connections.values():
            treatment = connection.treatment
            if treatment is not None and treatment.treatment_id == treatment_id:
                return call, connection, treatment
    return None


def digits_heard(ctx: Context, call: Call, sender: DeviceId, digits: str) -> None:
    """*sender* sent *digits* into *call*: every treatment collecting there takes them."""
    for connection in list(call.connections.values()):
        treatment = connection.treatment
        if connection.device != sender and treatment is not None and treatment.collection:
            _collect(ctx, call, connection, treatment, digits)


def _collect(
    ctx: Context, call: Call, connection: Connection, treatment: Treatment, digits: str
) -> None:
    collection = treatment.collection
    assert collection is not None
    if treatment.announcing_until is not None:  # a digit cuts the announcement short
        treatment.announcing_until = None
        treatment.interrupted = True
    for digit in digits:
        if digit == collection.flush_char:
            _end(ctx, call, connection, EventCause.TERMINATION_CHARACTER_RECEIVED)
            return
        treatment.digits += digit
        if collection.num_chars is not None and len(treatment.digits) >= collection.num_chars:
            _end(ctx, call, connection, EventCause.CHARACTER_COUNT_REACHED)
            return
    if collection.timeout is not None:
        treatment.collect_until = ctx.now + collection.timeout
    _schedule(ctx, treatment)


def stopped_by_leaving(ctx: Context, call: Call, connection: Connection) -> None:
    """*connection* left *call*: its treatment ends with it."""
    if connection.treatment is not None:
        _end(ctx, call, connection, EventCause.SWITCHING_FUNCTION_TERMINATED)


def _end(ctx: Context, call: Call, connection: Connection, cause: EventCause) -> None:
    treatment = connection.treatment
    assert treatment is not None
    connection.treatment = None
    ctx.cancel_timer(Timer(TimerKind.TREATMENT, treatment.treatment_id))
    event = StopEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(connection.device),
        message=treatment.message,
        cause=cause,
        private_data=_report(ctx, treatment),
    )
    ctx.publish_device(connection.device, event)


def _report(ctx: Context, treatment: Treatment) -> PrivateData | None:
    elements = []
    if treatment.collection is not None:
        elements.append(private.leaf("collectDigits", treatment.digits))
    if treatment.message == ANNOUNCEMENT:
        elements.append(private.leaf("interrupted", "true" if treatment.interrupted else "false"))
    if not elements:
        return None
    return PrivateData(ctx.state.config.private_namespace, tuple(elements))
