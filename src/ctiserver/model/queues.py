"""Calls waiting at ACD queues and routing points (ECMA-269 §§ 17.2.8, 17.2.17, 21).

A call queued at one of our ACD queues is EventQueued for the queue's registrants, and
EventDiverted when the switch hands it to an agent.  A call at a routing point is
offered to the router by the switch's RouteRequest invocation (EventRouteRequest); the
switch's RouteUsed says where it went (EventRouteUsed, with or without a router's
answer), ReRoute that the destination given could not take it.  The routing point's
own QueuedEvent and DivertedEvent only keep the model right: they send nothing.
"""

from __future__ import annotations

from ctiserver.csta.events import DivertedEvent, QueuedEvent
from ctiserver.csta.routeing import ReRoute, RouteEnd, RouteRequest
from ctiserver.csta.routeing import RouteUsed as CstaRouteUsed
from ctiserver.csta.schema import Unconfirmed
from ctiserver.ids import DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    CallDiverted,
    CallQueued,
    PartyChange,
    PartyReleased,
    RouteDialogueEnded,
    RouteDialogueOpened,
    RouteRefused,
    RouteRequested,
    RouteUsed,
)
from ctiserver.model.connections import FORWARDED, learned
from ctiserver.model.moves import call_for, commit, expect, leave, note, remove, touch
from ctiserver.model.state import State
from ctiserver.model.states import DnKind, PartyState
from ctiserver.model.values import Party, RouteDialogue
from ctiserver.tlib.vocabulary import CallState, DNRole


def on_queued(state: State, dn: DeviceId, event: QueuedEvent) -> None:
    connection = event.queued_connection
    queue = event.queue or connection.device_id
    call = call_for(
        state, connection.call_id, calling=event.calling_device, called=event.called_device
    )
    call = learned(
        state,
        call,
        event.calling_device,
        event.called_device,
        event.private_data,
        event.network_calling_device,
        event.associated_calling_device,
    )
    before = state.party(queue, call.conn_id)
    party = touch(state, call, queue, dn, PartyState.QUEUED, DNRole.DESTINATION)
    if party.this_queue != queue:
        party = party.changed(this_queue=queue)
    if queue != dn:
        note(state, call, party, before)
        return
    party = party.changed(other_dn=event.calling_device)
    if state.kind(dn) is DnKind.ACD_QUEUE:
        state.emit(CallQueued(call=call, party=party))
    else:
        note(state, call, party, before)


def on_diverted(state: State, dn: DeviceId, event: DivertedEvent) -> None:
    connection = event.connection
    diverting = event.diverting_device or connection.device_id
    call = state.call_by_call_id(connection.call_id)
    party = None if call is None else state.party(diverting, call.conn_id)
    if call is None or party is None:
        return
    call = expect(state, call, event.new_destination)
    if diverting != dn and state.is_ours(diverting):
        return
    gone: PartyChange
    match state.kind(dn) if diverting == dn else None:
        case DnKind.ACD_QUEUE:
            gone = CallDiverted(call=call, party=party, third_party_dn=event.new_destination)
        case DnKind.EXTENSION:
            forwarded = event.cause in FORWARDED
            call_state = CallState.FORWARDED if forwarded else CallState.REDIRECTED
            gone = PartyReleased(call=call, party=party, call_state=call_state)
        case _:
            remove(state, call, party)
            return
    leave(state, gone)


def apply_invocation(state: State, message: Unconfirmed) -> None:
    match message:
        case RouteRequest():
            _route_request(state, message)
        case CstaRouteUsed():
            _route_used(state, message)
        case ReRoute():
            _reroute(state, message)
        case RouteEnd():
            if state.dialogue(message.routing_cross_ref_id) is not None:
                state.emit(RouteDialogueEnded(cross_ref_id=message.routing_cross_ref_id))


def _route_request(state: State, message: RouteRequest) -> None:
    point = message.current_route or message.routed_call.device_id
    if state.kind(point) is not DnKind.ROUTING_POINT:
        return
    call = call_for(state, message.routed_call.call_id, calling=message.calling_device)
    call = learned(state, call, message.calling_device, point, message.private_data)
    party = touch(state, call, point, point, PartyState.QUEUED, DNRole.DESTINATION)
    party = party.changed(this_queue=point, other_dn=party.other_dn or message.calling_device)
    dialogue = RouteDialogue(
        message.routing_cross_ref_id, message.route_register_req_id, point, call.conn_id
    )
    state.emit(RouteDialogueOpened(dialogue=dialogue))
    state.emit(RouteRequested(call=call, party=party))


def _dialogue_party(state: State, cross_ref_id: str) -> tuple[RouteDialogue, Party] | None:
    dialogue = state.dialogue(cross_ref_id)
    party = None if dialogue is None else state.party(dialogue.routing_point, dialogue.conn_id)
    if dialogue is None or party is None:
        return None
    return dialogue, party


def _route_used(state: State, message: CstaRouteUsed) -> None:
    found = _dialogue_party(state, message.routing_cross_ref_id)
    call = None if found is None else state.call(found[0].conn_id)
    if found is None or call is None:
        return
    dnis = found[0].dnis
    if dnis is not None and call.called != dnis:  # RouteType OverwriteDNIS
        call = commit(state, call, replace(call, called=dnis))
    state.emit(
        RouteUsed(
            call=call,
            party=found[1],
            third_party_dn=message.route_used,
            third_party_role=DNRole.DESTINATION,
        )
    )


def _reroute(state: State, message: ReRoute) -> None:
    found = _dialogue_party(state, message.routing_cross_ref_id)
    call = None if found is None else state.call(found[0].conn_id)
    if found is None or call is None:
        return
    state.emit(RouteRefused(call=call, party=found[1]))
