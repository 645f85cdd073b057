"""Trunk links as the switch sees them (docs/pbxsim.md § 9): links coming up and going
down, the call messages they bring in, and report(), which tells the far end of each
inbound leg how its call is doing here.

    setup     a call comes in: the far end is the caller (connected, named by its ANI),
              and the call is offered to the DNIS as if it had been dialled here
    alerting  the far end of an outbound leg rings: DeliveredEvent
    answered  it answered: EstablishedEvent
    failed    it could not be reached: FailedEvent, and the caller is in fail
    release   the far end hung up: its connection is cleared as by ClearConnection
    (down)    the link dropped: every leg on it is cleared, cause networkOutOfOrder

report() runs after every input (Switch._settle), for the legs of the calls the input
published events of: an inbound leg whose call rings here
sends alerting once, one that is answered here sends answered once, and one whose
caller went to fail (busy, unknown number, blocked) sends failed and ends here.  A far
end can also be the caller of a call that fails here when it was passed on (a
single-step transfer to a busy number, say): an outbound leg in that case is released.
"""

from __future__ import annotations

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import DeliveredEvent, EstablishedEvent, FailedEvent
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import call_control, delivery, legs
from ctiserver.pbxsim.calls import Call, Connection, Leg, Move
from ctiserver.pbxsim.outcome import TrunkLinkId
from ctiserver.pbxsim.state import UNADDRESSED, Context, TrunkLink
from ctiserver.pbxsim.trunk_protocol import (
    Alerting,
    Answered,
    Failed,
    Hello,
    Release,
    Setup,
    TrunkMessage,
)

_S = LocalConnectionState


def opened(ctx: Context, trunk: str | None, peer: str) -> TrunkLinkId:
    """A link is up; *trunk* is the local trunk it serves (None, or unknown: none)."""
    if trunk not in ctx.state.directory.trunks:
        trunk = None
    link_id = TrunkLinkId(int(ctx.state.new_id("trunk-link")))
    ctx.state.trunk_links[link_id] = TrunkLink(link_id, trunk, peer)
    return link_id


def closed(ctx: Context, link_id: TrunkLinkId) -> None:
    """The link is gone: so is every leg on it.  Idempotent."""
    if ctx.state.trunk_links.pop(link_id, None) is None:
        return
    for leg in [leg for leg in ctx.state.legs.values() if leg.link == link_id]:
        _far_end_gone(ctx, leg, EventCause.NETWORK_OUT_OF_ORDER)


def received(ctx: Context, link_id: TrunkLinkId, message: TrunkMessage) -> None:
    if link_id not in ctx.state.trunk_links:
        return
    if isinstance(message, Setup):
        if message.call not in ctx.state.legs:  # a repeated setup is ignored
            _setup(ctx, link_id, message)
        return
    if isinstance(message, Hello):
        return
    leg = ctx.state.legs.get(message.call)
    if leg is None or leg.link != link_id:
        return  # stale: the leg ended here already
    match message:
        case Release(cause=cause):
            _far_end_gone(ctx, leg, cause)
        case Alerting() if leg.outbound:
            _far_end_alerting(ctx, leg)
        case Answered() if leg.outbound:
            _far_end_answered(ctx, leg)
        case Failed(cause=cause) if leg.outbound:
            _far_end_failed(ctx, leg, cause)
        case _:
            pass  # progress of a leg that this end terminates: not the far end's to say


def _setup(ctx: Context, link_id: TrunkLinkId, setup: Setup) -> None:
    ani, dnis = DeviceId(setup.ani), DeviceId(setup.dnis)
    call = Call(CallId(ctx.state.new_id("call")), ani, dnis)
    call.network_call_id, call.uui = setup.call, setup.uui
    call.network_calling, call.network_called = ani, DeviceId(setup.dialled)
    link = ctx.state.trunk_links[link_id]
    call.trunk = DeviceId(link.trunk or link.peer)  # the trunk, or the switch it comes from
    ctx.state.calls[call.call_id] = call
    far_end = legs.far_end_id(ani, setup.call)
    leg = Leg(link_id, setup.call, call.call_id, far_end, outbound=False)
    ctx.state.legs[setup.call] = leg
    caller = Connection(far_end, _S.CONNECTED, calling=ani, called=dnis, number=ani, leg=leg)
    call.add(caller)
    delivery.offer(ctx, call, dnis, calling=ani, called=dnis, cause=EventCause.NEW_CALL)


def _far_end(ctx: Context, leg: Leg) -> tuple[Call, Connection] | None:
    call = ctx.state.calls.get(leg.call_id)
    connection = call.connections.get(leg.device) if call is not None else None
    if call is None or connection is None:
        return None
    return call, connection


def _far_end_alerting(ctx: Context, leg: Leg) -> None:
    found = _far_end(ctx, leg)
    if found is None or found[1].state is not _S.INITIATED:
        return
    call, far = found
    far.move(Move.FAR_END_ALERTING)
    event = DeliveredEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(far.device),
        alerting_device=far.shown(),
        calling_device=far.calling,
        called_device=far.called,
        last_redirection_device=far.last_redirection,
        cause=leg.cause,
    )
    ctx.publish(call, event)


def _far_end_answered(ctx: Context, leg: Leg) -> None:
    found = _far_end(ctx, leg)
    if found is None or found[1].state not in (_S.INITIATED, _S.ALERTING):
        return
    call, far = found
    far.move(Move.ANSWER)
    event = EstablishedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        established_connection=call.id_of(far.device),
        answering_device=far.shown(),
        calling_device=far.calling,
        called_device=far.called,
        last_redirection_device=far.last_redirection,
        cause=far.answer_cause,
    )
    ctx.publish(call, event)


def _far_end_failed(ctx: Context, leg: Leg, cause: EventCause) -> None:
    """The far end could not be reached: it leaves, and the caller is in fail."""
    del ctx.state.legs[leg.network_call_id]
    found = _far_end(ctx, leg)
    if found is None:
        return
    call, far = found
    call.remove(far.device)
    caller = call.party(far.calling) if far.calling is not None else None
    if caller is not None and caller.state is _S.CONNECTED:
        caller.move(Move.FAIL)
        caller.fail_cause = cause
    event = FailedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        failed_connection=call.id_of(far.device),
        failing_device=far.shown(),
        calling_device=far.calling,
        called_device=far.called,
        last_redirection_device=far.last_redirection,
        cause=cause,
    )
    ctx.publish(call, event, removed=[far.device])
    delivery.leave(ctx, call, far)
    if not call.connections:
        del ctx.state.calls[call.call_id]


def _far_end_gone(ctx: Context, leg: Leg, cause: EventCause) -> None:
    """The far end hung up, or its link dropped: its connection is cleared here."""
    ctx.state.legs.pop(leg.network_call_id, None)  # first: nothing goes back to it
    found = _far_end(ctx, leg)
    if found is not None:
        call_control.drop(ctx, found[0], leg.device, cause)


def report(ctx: Context) -> None:
    """Tell the far end of every inbound leg what became of its call here; and end any
    leg whose far end, as the caller of the call here, went to fail.

    Only the legs of the calls this input published events of can have news: every
    change to a call's connections is published.
    """
    if not ctx.state.legs:
        return
    for leg in _legs_of(ctx, list(ctx.published.values())):
        found = _far_end(ctx, leg)
        if found is None:
            continue
        call, caller = found
        if caller.state is _S.FAIL:
            del ctx.state.legs[leg.network_call_id]
            cause = caller.fail_cause or EventCause.DEST_NOT_OBTAINABLE
            ended = Release if leg.outbound else Failed  # failed goes to a leg's caller only
            ctx.trunk_send(leg.link, ended(call=leg.network_call_id, cause=cause))
            call_control.drop(ctx, call, caller.device)
            continue
        if leg.outbound or leg.answered:
            continue
        others = list(call.others(caller.device))
        if any(other.answered for other in others):
            leg.alerted = leg.answered = True
            ctx.trunk_send(leg.link, Answered(call=leg.network_call_id))
        elif not leg.alerted and any(other.state is _S.ALERTING for other in others):
            leg.alerted = True
            ctx.trunk_send(leg.link, Alerting(call=leg.network_call_id))


def _legs_of(ctx: Context, calls: list[Call]) -> list[Leg]:
    """The legs that stand (in SwitchState.legs) whose far end is in one of *calls*."""
    found: dict[str, Leg] = {}
    for call in calls:
        for connection in call.connections.values():
            leg = connection.leg
            if leg is not None and ctx.state.legs.get(leg.network_call_id) is leg:
                found[leg.network_call_id] = leg
    return list(found.values())
