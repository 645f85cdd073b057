"""Basic call control (ECMA-269 § 17): make, answer, clear, hold, retrieve, consult,
alternate, reconnect.  The events each service causes are in docs/pbxsim.md § 4.1-4.6.

Rule: every service checks everything first (raising Refused), then replies, then
changes the state and publishes its events in order.
"""

from __future__ import annotations

from ctiserver.csta.call_control import (
    AlternateCall,
    AlternateCallResponse,
    AnswerCall,
    AnswerCallResponse,
    ClearCall,
    ClearCallResponse,
    ClearConnection,
    ClearConnectionResponse,
    ConsultationCall,
    ConsultationCallResponse,
    HoldCall,
    HoldCallResponse,
    MakeCall,
    MakeCallResponse,
    ReconnectCall,
    ReconnectCallResponse,
    RetrieveCall,
    RetrieveCallResponse,
)
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    EstablishedEvent,
    HeldEvent,
    OriginatedEvent,
    RetrievedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import CallCharacteristics, ConnectionID, PrivateData
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import call_types, delivery, features, private
from ctiserver.pbxsim.calls import Call, Connection, Move, next_state
from ctiserver.pbxsim.directory import dialable
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context

_OPERATION = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
_S = LocalConnectionState

# --- making calls ---------------------------------------------------------------------------


def make_call(ctx: Context, request: MakeCall) -> None:
    originate(
        ctx,
        request.calling_device,
        request.called_directory_number,
        (EventCause.MAKE_CALL, EventCause.NEW_CALL),
        correlator_data=request.correlator_data,
        uui=uui_of(ctx, request.private_data),
        characteristics=request.call_characteristics,
    )


def uui_of(ctx: Context, data: PrivateData | None) -> str:
    """The user-to-user information a request sets (docs/pbxsim.md § 9), or ""."""
    return private.text(data, ctx.state.config.private_namespace, "uui")


def originate(
    ctx: Context,
    station: DeviceId,
    number: DeviceId,
    causes: tuple[EventCause, EventCause],
    *,
    correlator_data: str = "",
    uui: str = "",
    characteristics: CallCharacteristics | None = None,
) -> Call:
    """A new call from *station* to *number*; *causes* for its initiation and delivery."""
    if not ctx.state.directory.is_station(station):
        raise Refused(_OPERATION, "invalidCallingDeviceID")
    check_number(station, number)
    if ctx.state.busy(station):
        raise Refused(_STATE, "invalidCallingDeviceState")
    features.check_can_call(ctx.state, station)
    acd_group = call_types.check_make_call(ctx.state, station, number, characteristics)
    call = new_call(ctx, station, number, correlator_data)
    call.uui = uui
    call.characteristics = characteristics
    ctx.reply(MakeCallResponse(calling_device=call.id_of(station)))
    dial(ctx, call, station, number, causes, acd_group=acd_group)
    return call


def check_number(station: DeviceId, number: DeviceId) -> None:
    if not dialable(number):
        raise Refused(_OPERATION, "invalidCalledDeviceID")
    if number == station:
        raise Refused(_OPERATION, "notDifferentDevices")


def new_call(ctx: Context, calling: DeviceId, called: DeviceId, correlator_data: str) -> Call:
    call_id = CallId(ctx.state.new_id("call"))
    call = ctx.state.calls[call_id] = Call(call_id, calling, called, correlator_data)
    return call


def dial(
    ctx: Context,
    call: Call,
    station: DeviceId,
    number: DeviceId,
    causes: tuple[EventCause, EventCause],
    *,
    acd_group: DeviceId | None = None,
) -> None:
    """§ 4.1 steps 1-3: the caller's connection is initiated, originates, and is offered
    (as an ACD call of *acd_group*: a direct-agent call)."""
    initiated, delivered = causes
    caller = Connection(station, _S.INITIATED, calling=station, called=number)
    call.add(caller)
    ctx.publish(
        call,
        ServiceInitiatedEvent(
            monitor_cross_ref_id=UNADDRESSED,
            initiated_connection=call.id_of(station),
            initiating_device=station,
            cause=initiated,
        ),
    )
    caller.move(Move.ORIGINATE)
    ctx.publish(
        call,
        OriginatedEvent(
            monitor_cross_ref_id=UNADDRESSED,
            originated_connection=call.id_of(station),
            calling_device=station,
            called_device=number,
            cause=initiated,
        ),
    )
    delivery.offer(
        ctx, call, number, calling=station, called=number, cause=delivered, acd_group=acd_group
    )


# --- answering and clearing -----------------------------------------------------------------


def answer_call(ctx: Context, request: AnswerCall) -> None:
    call, connection = ctx.state.connection(request.call_to_be_answered)
    next_state(connection.state, Move.ANSWER)
    ctx.reply(AnswerCallResponse())
    connection.move(Move.ANSWER)
    event = EstablishedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        established_connection=call.id_of(connection.device),
        answering_device=connection.device,
        calling_device=connection.calling,
        called_device=connection.called,
        last_redirection_device=connection.last_redirection,
        cause=connection.answer_cause,
    )
    ctx.publish(call, event)


def clear_connection(ctx: Context, request: ClearConnection) -> None:
    call, connection = ctx.state.connection(request.connection_to_be_cleared, far_end=True)
    ctx.reply(ClearConnectionResponse())
    drop(ctx, call, connection.device)


def drop(
    ctx: Context, call: Call, device: DeviceId, cause: EventCause = EventCause.NORMAL_CLEARING
) -> None:
    """§ 4.3: *device* leaves *call*; a call left with one connection is over.

    *cause* is why: normalClearing, or networkOutOfOrder for a trunk that dropped,
    which then also ends the call with that cause.  What the leaving sets off
    (wrap-up, RouteEnd, a recording's end) follows the call's own events.
    """
    gone = [_clear(ctx, call, device, cause)]
    ended = None if cause is EventCause.NORMAL_CLEARING else cause
    if len(call.connections) == 1:
        (last,) = call.connections.values()
        last_cause = EventCause.CALL_CANCELLED if last.state in (_S.ALERTING, _S.QUEUED) else cause
        gone.append(_clear(ctx, call, last.device, last_cause))
        _end(ctx, call, [last.device], ended)
    elif not call.connections:
        _end(ctx, call, [device], ended)
    for connection in gone:
        delivery.leave(ctx, call, connection)


def clear_call(ctx: Context, request: ClearCall) -> None:
    call = ctx.state.call(request.call_to_be_cleared.call_id)
    ctx.reply(ClearCallResponse())
    devices = list(call.connections)
    gone = [_clear(ctx, call, device, EventCause.NORMAL_CLEARING) for device in devices]
    _end(ctx, call, devices)
    for connection in gone:
        delivery.leave(ctx, call, connection)


def _clear(ctx: Context, call: Call, device: DeviceId, cause: EventCause) -> Connection:
    connection = call.remove(device)
    event = ConnectionClearedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        dropped_connection=call.id_of(device),
        releasing_device=connection.shown(),
        cause=cause,
    )
    ctx.publish(call, event, removed=[device])
    return connection


def _end(
    ctx: Context, call: Call, devices: list[DeviceId], cause: EventCause | None = None
) -> None:
    del ctx.state.calls[call.call_id]
    ctx.publish(
        call,
        CallClearedEvent(
            monitor_cross_ref_id=UNADDRESSED,
            cleared_call=ConnectionID(call_id=call.call_id),
            cause=cause,
        ),
        removed=devices,
    )


# --- hold, retrieve, consultation -------------------------------------------------------------


def hold_call(ctx: Context, request: HoldCall) -> None:
    call, connection = ctx.state.connection(request.call_to_be_held)
    next_state(connection.state, Move.HOLD)
    ctx.reply(HoldCallResponse())
    hold(ctx, call, connection)


def hold(ctx: Context, call: Call, connection: Connection, cause: EventCause | None = None) -> None:
    connection.move(Move.HOLD)
    event = HeldEvent(
        monitor_cross_ref_id=UNADDRESSED,
        held_connection=call.id_of(connection.device),
        holding_device=connection.device,
        cause=cause,
    )
    ctx.publish(call, event)


def retrieve_call(ctx: Context, request: RetrieveCall) -> None:
    call, connection = ctx.state.connection(request.call_to_be_retrieved)
    next_state(connection.state, Move.RETRIEVE)
    if ctx.state.busy(connection.device):
        raise Refused(_STATE, "invalidDeviceState")
    ctx.reply(RetrieveCallResponse())
    retrieve(ctx, call, connection)


def retrieve(
    ctx: Context, call: Call, connection: Connection, cause: EventCause | None = None
) -> None:
    connection.move(Move.RETRIEVE)
    event = RetrievedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        retrieved_connection=call.id_of(connection.device),
        retrieving_device=connection.device,
        cause=cause,
    )
    ctx.publish(call, event)


def consultation_call(ctx: Context, request: ConsultationCall) -> None:
    call, connection = ctx.state.connection(request.existing_call)
    next_state(connection.state, Move.HOLD)
    station, number = connection.device, request.consulted_device
    check_number(station, number)
    consultation = new_call(ctx, station, number, request.correlator_data)
    consultation.uui = uui_of(ctx, request.private_data)
    ctx.reply(ConsultationCallResponse(initiated_call=consultation.id_of(station)))
    hold(ctx, call, connection)
    causes = (EventCause.CONSULTATION, EventCause.CONSULTATION)
    dial(ctx, consultation, station, number, causes)


# --- alternate and reconnect -------------------------------------------------------------------


def alternate_call(ctx: Context, request: AlternateCall) -> None:
    (held_call, held), (active_call, active) = _held_and_active(
        ctx, request.held_call, request.active_call, (_S.CONNECTED,)
    )
    ctx.reply(AlternateCallResponse())
    hold(ctx, active_call, active, EventCause.ALTERNATE)
    retrieve(ctx, held_call, held, EventCause.ALTERNATE)


def reconnect_call(ctx: Context, request: ReconnectCall) -> None:
    (held_call, held), (active_call, active) = _held_and_active(
        ctx, request.held_call, request.active_call, (_S.CONNECTED, _S.FAIL)
    )
    ctx.reply(ReconnectCallResponse())
    drop(ctx, active_call, active.device)
    retrieve(ctx, held_call, held)


def _held_and_active(
    ctx: Context,
    held_id: ConnectionID,
    active_id: ConnectionID,
    active_states: tuple[LocalConnectionState, ...],
) -> tuple[tuple[Call, Connection], tuple[Call, Connection]]:
    """The two calls of one device, checked: one held, the other in *active_states*."""
    held_pair = ctx.state.connection(held_id)
    active_pair = ctx.state.connection(active_id)
    if held_id.device_id != active_id.device_id:
        raise Refused(_OPERATION, "invalidConnectionID")
    if held_pair[1].state is not _S.HOLD or active_pair[1].state not in active_states:
        raise Refused(_STATE, "invalidConnectionState")
    return held_pair, active_pair
