"""How a call reaches a device, moves on from it, and what a device's leaving sets off.

offer() presents a call at a number: it rings at an idle station, fails at a busy or
unknown one, queues at an ACD group or a routing device, and leaves on a trunk for a
trunk's number (failing with trunksBusy when the trunk is down).  At a routing device the
registrant gets a RouteRequest (or, with nobody registered, the call goes to the
default destination at once); at an ACD group the call waits for distribute().
divert() takes a call from a device that was offered it; leave() does the bookkeeping
of every connection that leaves a call: its recording stops, a trunk leg's far end is
released, a treatment ends, a routeing dialogue ends, a queue forgets the call, an agent
starts wrap-up.

docs/pbxsim.md §§ 4.1, 4.9-4.11 give the events; Context.publish() picks who hears them.
"""

from __future__ import annotations

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import DeliveredEvent, DivertedEvent, FailedEvent, QueuedEvent
from ctiserver.csta.routeing import RouteEnd, RouteRequest, RouteUsed
from ctiserver.csta.types import PrivateData
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import acd, call_types, features, legs, recording, treatments
from ctiserver.pbxsim.calls import Call, Connection, Move
from ctiserver.pbxsim.directory import DeviceKind
from ctiserver.pbxsim.outcome import Timer, TimerKind
from ctiserver.pbxsim.state import UNADDRESSED, Context, Dialogue, SwitchState

_QUEUED = LocalConnectionState.QUEUED


def offer(
    ctx: Context,
    call: Call,
    device: DeviceId,
    *,
    calling: DeviceId,
    called: DeviceId,
    cause: EventCause,
    redirected_from: DeviceId | None = None,
    acd_group: DeviceId | None = None,
) -> None:
    """Present *call* at *device*, as the number *called* dialled from *calling*."""
    arrival = Connection(
        device,
        LocalConnectionState.ALERTING,
        calling=calling,
        called=called,
        last_redirection=redirected_from,
        acd_group=acd_group,
    )
    match ctx.state.directory.kind(device):
        case DeviceKind.STATION if (met := _intercept(ctx, device, calling)) is not None:
            _intercepted(ctx, call, arrival, met)
        case DeviceKind.STATION if ctx.state.busy(device):
            _fail(ctx, call, arrival, EventCause.BUSY)
        case DeviceKind.STATION:
            _ring(ctx, call, arrival, cause)
        case DeviceKind.ROUTING_DEVICE:
            _queue(ctx, call, arrival, cause)
            _request_route(ctx, call, device)
        case DeviceKind.ACD_GROUP:
            waiting = ctx.state.queues[device]
            waiting.insert(call_types.queue_position(ctx.state, waiting, call), call.call_id)
            _queue(ctx, call, arrival, cause)
        case None:
            _dial_on_trunk(ctx, call, arrival, cause)


def _intercept(ctx: Context, device: DeviceId, calling: DeviceId) -> features.Interception | None:
    """What the station's features do to a call from *calling*: forwarding never sends a
    call back to the station that made it (it is offered here as if none were set)."""
    met = features.intercept(ctx.state, device)
    if met is not None and met.forward_to == calling:
        return None
    return met


def _intercepted(ctx: Context, call: Call, arrival: Connection, met: features.Interception) -> None:
    """The station's features fail the call, or send it on (docs/pbxsim.md § 4.14)."""
    if met.forward_to is None:
        _fail(ctx, call, arrival, met.cause)
        return
    assert arrival.calling is not None
    offer(
        ctx,
        call,
        met.forward_to,
        calling=arrival.calling,
        called=arrival.called or arrival.device,
        cause=met.cause,
        redirected_from=arrival.device,
    )


def _dial_on_trunk(ctx: Context, call: Call, arrival: Connection, cause: EventCause) -> None:
    """A number that is not this switch's: a trunk's, or nobody's (docs/pbxsim.md § 9)."""
    route = ctx.state.directory.trunk_route(arrival.device)
    if route is None:
        _fail(ctx, call, arrival, EventCause.DEST_NOT_OBTAINABLE)
        return
    trunk, far_number = route
    link = legs.link_for(ctx.state, trunk.name)
    if link is None:
        _fail(ctx, call, arrival, EventCause.TRUNKS_BUSY)
        return
    legs.dial_out(ctx, call, arrival, trunk, link, far_number, cause)


def _ring(ctx: Context, call: Call, arrival: Connection, cause: EventCause) -> None:
    # A single-step conference is answered as one (docs/pbxsim.md § 4.8); else newCall.
    if cause in (EventCause.SINGLE_STEP_CONFERENCE, EventCause.SILENT_PARTICIPATION):
        arrival.answer_cause = cause
    call.add(arrival)
    event = DeliveredEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(arrival.device),
        alerting_device=arrival.device,
        calling_device=arrival.calling,
        called_device=arrival.called,
        last_redirection_device=arrival.last_redirection,
        cause=cause,
    )
    ctx.publish(call, event)
    features.ringing(ctx, call, arrival.device)


def _fail(ctx: Context, call: Call, arrival: Connection, cause: EventCause) -> None:
    """The caller cannot reach the device; the caller's connection fails until cleared."""
    assert arrival.calling is not None
    caller = call.party(arrival.calling)
    if caller is not None and caller.state is LocalConnectionState.CONNECTED:
        caller.move(Move.FAIL)
        caller.fail_cause = cause
    event = FailedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        failed_connection=call.id_of(arrival.device),
        failing_device=arrival.device,
        calling_device=arrival.calling,
        called_device=arrival.called,
        last_redirection_device=arrival.last_redirection,
        cause=cause,
    )
    ctx.publish(call, event)


def _queue(ctx: Context, call: Call, arrival: Connection, cause: EventCause) -> None:
    arrival.state = _QUEUED
    call.add(arrival)
    waiting = ctx.state.queues.get(arrival.device)
    event = QueuedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        queued_connection=call.id_of(arrival.device),
        queue=arrival.device,
        calling_device=arrival.calling,
        called_device=arrival.called,
        last_redirection_device=arrival.last_redirection,
        number_queued=len(waiting) if waiting is not None else None,
        calls_in_front=waiting.index(call.call_id) if waiting is not None else None,
        cause=cause,
    )
    ctx.publish(call, event)


# --- routing devices (ECMA-269 § 21) ----------------------------------------------------


def _request_route(ctx: Context, call: Call, device: DeviceId) -> None:
    registration = ctx.state.registration_for(device)
    if registration is None:
        route_by_default(ctx, call, device, None)
        return
    dialogue = Dialogue(ctx.state.new_id("routing"), registration, call.call_id, device)
    ctx.state.dialogues[dialogue.cross_ref_id] = dialogue
    ctx.send(
        registration.association,
        RouteRequest(
            route_register_req_id=registration.req_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            current_route=device,
            calling_device=call.connections[device].calling,
            routed_call=call.id_of(device),
            correlator_data=call.correlator_data,
            private_data=_call_data(ctx, call),
        ),
    )
    start_route_timer(ctx, dialogue)


def _call_data(ctx: Context, call: Call) -> PrivateData | None:
    elements = ctx.call_elements(call)
    return PrivateData(ctx.state.config.private_namespace, tuple(elements)) if elements else None


def start_route_timer(ctx: Context, dialogue: Dialogue) -> None:
    timeout = ctx.state.directory.routing_points[dialogue.device].route_timeout
    ctx.start_timer(route_timer(dialogue), timeout)


def route_timer(dialogue: Dialogue) -> Timer:
    return Timer(TimerKind.ROUTE_TIMEOUT, dialogue.cross_ref_id)


def end_dialogue(ctx: Context, dialogue: Dialogue, cause: EventCause | None) -> None:
    """Forget *dialogue*; with a *cause*, tell the registrant with RouteEnd."""
    forget_dialogue(ctx, dialogue)
    if cause is not None:
        _send_route_end(ctx, dialogue, cause)


def forget_dialogue(ctx: Context, dialogue: Dialogue) -> None:
    del ctx.state.dialogues[dialogue.cross_ref_id]
    ctx.cancel_timer(route_timer(dialogue))


def _send_route_end(ctx: Context, dialogue: Dialogue, cause: EventCause) -> None:
    registration = dialogue.registration
    ctx.send(
        registration.association,
        RouteEnd(
            route_register_req_id=registration.req_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            cause=cause,
        ),
    )


def routable(state: SwitchState, device: DeviceId, destination: DeviceId) -> bool:
    """Whether a call at routing device *device* can be sent to *destination* now."""
    match state.directory.kind(destination):
        case DeviceKind.STATION:
            return not state.busy(destination)
        case DeviceKind.ACD_GROUP:
            return True
        case DeviceKind.ROUTING_DEVICE:
            return destination != device
        case None:
            return legs.reachable(state, destination) is True


def route(
    ctx: Context,
    call: Call,
    device: DeviceId,
    destination: DeviceId,
    dialogue: Dialogue | None,
    *,
    called: DeviceId | None = None,
    acd_group: DeviceId | None = None,
) -> None:
    """Send the call waiting at *device* to *destination* (checked with routable()), as a
    call to *called* (the routing device by default: the router may overwrite the DNIS)
    and, for a direct-agent route, as an ACD call of *acd_group*."""
    waiting = call.connections[device]
    assert waiting.calling is not None
    if dialogue is not None:
        forget_dialogue(ctx, dialogue)  # before the divert, whose leave() would end it
        ctx.send(
            dialogue.registration.association,
            RouteUsed(
                route_register_req_id=dialogue.registration.req_id,
                routing_cross_ref_id=dialogue.cross_ref_id,
                route_used=destination,
                calling_device=waiting.calling,
            ),
        )
    divert(ctx, call, device, destination, EventCause.REDIRECTED)
    offer(
        ctx,
        call,
        destination,
        calling=waiting.calling,
        called=called or device,
        cause=EventCause.REDIRECTED,
        redirected_from=device,
        acd_group=acd_group,
    )
    if dialogue is not None:
        _send_route_end(ctx, dialogue, EventCause.NORMAL)


def route_by_default(ctx: Context, call: Call, device: DeviceId, dialogue: Dialogue | None) -> None:
    """Nobody routed the call at *device*: its default destination, or it is blocked."""
    destination = ctx.state.directory.routing_points[device].default_destination
    if destination is not None and routable(ctx.state, device, DeviceId(destination)):
        route(ctx, call, device, DeviceId(destination), dialogue)
    else:
        block(ctx, call, device, dialogue, EventCause.BLOCKED)


def block(
    ctx: Context,
    call: Call,
    device: DeviceId,
    dialogue: Dialogue | None,
    route_end_cause: EventCause | None,
) -> None:
    """Refuse the call at routing device *device*: it fails, the caller stays in fail.

    *route_end_cause* None means the application ended the dialogue itself.
    """
    if dialogue is not None:
        forget_dialogue(ctx, dialogue)
    waiting = call.remove(device)
    for connection in call.connections.values():
        if connection.state is LocalConnectionState.CONNECTED:
            connection.move(Move.FAIL)
            connection.fail_cause = EventCause.BLOCKED
    event = FailedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        failed_connection=call.id_of(device),
        failing_device=device,
        calling_device=waiting.calling,
        called_device=device,
        cause=EventCause.BLOCKED,
    )
    ctx.publish(call, event, removed=[device])
    leave(ctx, call, waiting)
    if dialogue is not None and route_end_cause is not None:
        _send_route_end(ctx, dialogue, route_end_cause)


# --- moving on and leaving ---------------------------------------------------------------


def divert(
    ctx: Context,
    call: Call,
    device: DeviceId,
    destination: DeviceId,
    cause: EventCause,
    *,
    called: DeviceId | None = None,
    redirected_from: DeviceId | None = None,
) -> None:
    """Take *call* from *device*, which was offered it, towards *destination*."""
    connection = call.remove(device)
    event = DivertedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(device),
        diverting_device=device,
        new_destination=destination,
        calling_device=connection.calling,
        called_device=called if called is not None else connection.called,
        last_redirection_device=redirected_from,
        cause=cause,
    )
    ctx.publish(call, event, removed=[device])
    leave(ctx, call, connection)


def leave(ctx: Context, call: Call, connection: Connection) -> None:
    """Bookkeeping for *connection*, which has just left *call*."""
    recording.stopped_by_leaving(ctx, call, connection)
    treatments.stopped_by_leaving(ctx, call, connection)
    legs.left(ctx, connection)
    device = connection.device
    match ctx.state.directory.kind(device):
        case DeviceKind.ROUTING_DEVICE:
            dialogue = ctx.state.dialogue_for(call.call_id, device)
            if dialogue is not None:
                end_dialogue(ctx, dialogue, EventCause.CALL_CANCELLED)
        case DeviceKind.ACD_GROUP:
            waiting = ctx.state.queues[device]
            if call.call_id in waiting:
                waiting.remove(call.call_id)
        case DeviceKind.STATION if connection.acd_group is not None and connection.answered:
            acd.acd_call_ended(ctx, device, connection.acd_group)
        case _:
            pass


def renamed(ctx: Context, old: CallId, new: CallId) -> None:
    """Connections of call *old* joined call *new* (transfer, conference)."""
    for waiting in ctx.state.queues.values():
        waiting[:] = [new if call_id == old else call_id for call_id in waiting]
    for leg in ctx.state.legs.values():
        if leg.call_id == old:
            leg.call_id = new
    for key, dialogue in list(ctx.state.dialogues.items()):
        if dialogue.call_id == old:
            ctx.state.dialogues[key] = Dialogue(
                dialogue.cross_ref_id, dialogue.registration, new, dialogue.device
            )


def distribute(ctx: Context) -> None:
    """Give waiting ACD calls to ready agents, longest-idle agent first."""
    for group, waiting in ctx.state.queues.items():
        while waiting:
            agent = acd.choose_agent(ctx.state, group)
            if agent is None or agent.device is None:
                break
            call = ctx.state.calls[waiting[0]]
            queued = call.connections[group]
            assert queued.calling is not None
            divert(ctx, call, group, agent.device, EventCause.DISTRIBUTED)
            offer(
                ctx,
                call,
                agent.device,
                calling=queued.calling,
                called=group,
                cause=EventCause.DISTRIBUTED,
                redirected_from=group,
                acd_group=group,
            )
