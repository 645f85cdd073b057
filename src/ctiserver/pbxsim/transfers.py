"""Calls that change hands or gain parties (ECMA-269 § 17): transfer, conference,
single-step transfer and conference, deflect.  Events: docs/pbxsim.md § 4.7-4.9.

Two-step transfer and conference merge the consultation call (c2) into the held call
(c1): c1's callID survives, c2 ends without a CallClearedEvent.
"""

from __future__ import annotations

from ctiserver.csta.call_control import (
    ConferenceCall,
    ConferenceCallResponse,
    DeflectCall,
    DeflectCallResponse,
    SingleStepConferenceCall,
    SingleStepConferenceCallResponse,
    SingleStepTransferCall,
    SingleStepTransferCallResponse,
    TransferCall,
    TransferCallResponse,
)
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import ConferencedEvent, TransferedEvent
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import ConnectionID, ConnectionListItem
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import call_control, delivery, legs, participation, recording
from ctiserver.pbxsim.calls import Call, Move
from ctiserver.pbxsim.directory import DeviceKind
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context, SwitchState

_OPERATION = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
_RESOURCES = ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY
_S = LocalConnectionState
_FAR_END_STATES = (_S.ALERTING, _S.CONNECTED, _S.HOLD, _S.QUEUED)

# --- two-step transfer and conference ----------------------------------------------------


def transfer_call(ctx: Context, request: TransferCall) -> None:
    held, active = _both_calls(ctx, request.held_call, request.active_call)
    device = request.held_call.device_id
    if any(conn.state not in _FAR_END_STATES for conn in active.others(device)):
        raise Refused(_STATE, "invalidConnectionState")
    transferred_to = active.first_other(device)
    transferred = held.first_other(device)
    assert transferred_to is not None
    assert transferred is not None
    shown_to = active.shown(transferred_to)
    old_held, old_active = held.id_of(device), active.id_of(device)
    for connection in active.others(device):
        if connection.calling == device:  # the transferred party now calls them
            connection.calling = held.shown(transferred)
    moved = _merge(ctx, held, active, device)
    held_leaving = held.remove(device)
    ctx.reply(TransferCallResponse(transferred_call=held.id_of(transferred_to), connections=moved))
    event = TransferedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        primary_old_call=old_held,
        secondary_old_call=old_active,
        transferring_device=device,
        transferred_to_device=shown_to,
        transferred_connections=moved,
        cause=EventCause.TRANSFER,
    )
    ctx.publish(held, event, removed=[device])
    delivery.leave(ctx, held, held_leaving)
    delivery.leave(ctx, active, active.connections[device])


def conference_call(ctx: Context, request: ConferenceCall) -> None:
    held, active = _both_calls(ctx, request.held_call, request.active_call)
    device = request.held_call.device_id
    if any(conn.state is not _S.CONNECTED for conn in active.others(device)):
        raise Refused(_STATE, "invalidConnectionState")
    size = ctx.state.config.settings.conference_size
    if len(held.connections) + len(active.connections) - 1 > size:
        raise Refused(_RESOURCES, "conferenceMemberLimitExceeded")
    added = active.first_other(device)
    added = active.shown(added) if added is not None else None
    old_held, old_active = held.id_of(device), active.id_of(device)
    moved = _merge(ctx, held, active, device)
    held.connections[device].move(Move.CONFERENCE)
    joined = (ConnectionListItem(old_connection=old_held, new_connection=old_held), *moved)
    ctx.reply(ConferenceCallResponse(conference_call=old_held, connections=joined))
    event = ConferencedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        primary_old_call=old_held,
        secondary_old_call=old_active,
        conferencing_device=device,
        added_party=added,
        conference_connections=joined,
        cause=EventCause.CONFERENCE,
    )
    ctx.publish(held, event)
    delivery.leave(ctx, active, active.connections[device])  # its part in c2 is over


def _both_calls(ctx: Context, held_id: ConnectionID, active_id: ConnectionID) -> tuple[Call, Call]:
    """The held and the active call of one device, checked for a transfer or conference."""
    held, held_connection = ctx.state.connection(held_id)
    active, active_connection = ctx.state.connection(active_id)
    device = held_id.device_id
    if active_id.device_id != device:
        raise Refused(_OPERATION, "invalidConnectionID")
    if held_connection.state is not _S.HOLD or active_connection.state is not _S.CONNECTED:
        raise Refused(_STATE, "invalidConnectionState")
    if held.first_other(device) is None or active.first_other(device) is None:
        raise Refused(_STATE, "invalidConnectionState")
    if any(other.device in held.connections for other in active.others(device)):
        raise Refused(_STATE, "invalidConnectionState")  # a device may be in a call once
    return held, active


def _merge(
    ctx: Context, held: Call, active: Call, device: DeviceId
) -> tuple[ConnectionListItem, ...]:
    """Move every connection of *active* but *device*'s into *held*; *active* is gone."""
    moved = [_unchanged(held, conn.device) for conn in held.others(device)]
    for connection in list(active.others(device)):
        held.add(active.remove(connection.device))
        recording.moved(connection, held.call_id)
        moved.append(
            ConnectionListItem(
                old_connection=active.id_of(connection.device),
                new_connection=held.id_of(connection.device),
            )
        )
    del ctx.state.calls[active.call_id]
    delivery.renamed(ctx, active.call_id, held.call_id)
    return tuple(moved)


def _unchanged(call: Call, device: DeviceId) -> ConnectionListItem:
    return ConnectionListItem(old_connection=call.id_of(device), new_connection=call.id_of(device))


# --- single-step services -------------------------------------------------------------------


def single_step_transfer_call(ctx: Context, request: SingleStepTransferCall) -> None:
    call, connection = ctx.state.connection(request.active_call)
    device, destination = connection.device, request.transferred_to
    if connection.state is not _S.CONNECTED or call.first_other(device) is None:
        raise Refused(_STATE, "invalidConnectionState")
    _check_destination(ctx.state, call, destination, stations_only=False)
    ctx.reply(SingleStepTransferCallResponse(transferred_call=call.id_of(destination)))
    call.uui = call_control.uui_of(ctx, request.private_data) or call.uui
    leaving = call.remove(device)
    remaining = tuple(_unchanged(call, other) for other in call.connections)
    event = TransferedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        primary_old_call=call.id_of(device),
        transferring_device=device,
        transferred_to_device=destination,
        transferred_connections=remaining,
        cause=EventCause.SINGLE_STEP_TRANSFER,
    )
    ctx.publish(call, event, removed=[device])
    delivery.leave(ctx, call, leaving)
    caller = next(iter(call.connections.values())).shown()
    delivery.offer(
        ctx,
        call,
        destination,
        calling=caller,
        called=destination,
        cause=EventCause.SINGLE_STEP_TRANSFER,
        redirected_from=device,
    )


def single_step_conference_call(ctx: Context, request: SingleStepConferenceCall) -> None:
    call, connection = ctx.state.connection(request.active_call)
    joining = request.device_to_join
    if connection.state is not _S.CONNECTED:
        raise Refused(_STATE, "noActiveCall")
    _check_destination(ctx.state, call, joining, stations_only=True)
    if len(call.connections) + 1 > ctx.state.config.settings.conference_size:
        raise Refused(_RESOURCES, "conferenceMemberLimitExceeded")
    taking_part, cause = participation.joining(ctx, request)
    ctx.reply(SingleStepConferenceCallResponse(conferenced_call=call.id_of(joining)))
    delivery.offer(ctx, call, joining, calling=connection.device, called=joining, cause=cause)
    participation.joined(call, joining, taking_part, connection.device)


def deflect_call(ctx: Context, request: DeflectCall) -> None:
    call, connection = ctx.state.connection(request.call_to_be_diverted)
    device, destination = connection.device, request.new_destination
    if connection.state is not _S.ALERTING:
        raise Refused(_STATE, "invalidConnectionState")
    _check_destination(ctx.state, call, destination, stations_only=False)
    assert connection.calling is not None
    ctx.reply(DeflectCallResponse())
    delivery.divert(
        ctx,
        call,
        device,
        destination,
        EventCause.REDIRECTED,
        called=destination,
        redirected_from=device,
    )
    delivery.offer(
        ctx,
        call,
        destination,
        calling=connection.calling,
        called=destination,
        cause=EventCause.REDIRECTED,
        redirected_from=device,
    )


def _check_destination(
    state: SwitchState, call: Call, destination: DeviceId, *, stations_only: bool
) -> None:
    """A single-step service may only send a call where it can go now (§ 4.9): a down
    trunk is as busy as a busy station."""
    kind = state.directory.kind(destination)
    on_trunk = legs.reachable(state, destination)
    if (kind is None and on_trunk is None) or destination in call.connections:
        raise Refused(_OPERATION, "invalidDestination")
    if stations_only and kind is not DeviceKind.STATION:
        raise Refused(_OPERATION, "invalidDestination")
    if on_trunk is False:  # the trunk is down
        raise Refused(_RESOURCES, "resourceBusy")
    if kind is DeviceKind.STATION and state.busy(destination):
        raise Refused(_RESOURCES, "resourceBusy")
