"""Calls waiting at ACD queues and routing points (ECMA-269 §§ 17.2.8, 17.2.17, 21).

A call queued at one of our ACD queues is EventQueued for the queue's registrants, and
EventDiverted when the switch hands it to an agent.  A call at a routing point is
offered to the router by the switch's RouteRequest invocation (EventRouteRequest); the
switch's RouteUsed says where it went (EventRouteUsed, with or without a router's
answer), ReRoute that the destination given could not take it.  The routing point's
own QueuedEvent and DivertedEvent only keep the model right: they send nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctiserver.csta.events import DivertedEvent, QueuedEvent
from ctiserver.csta.routeing import ReRoute, RouteEnd, RouteRequest
from ctiserver.csta.routeing import RouteUsed as CstaRouteUsed
from ctiserver.csta.schema import Unconfirmed
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.changes import (
    CallDiverted,
    CallQueued,
    Change,
    PartyReleased,
    RouteRefused,
    RouteRequested,
    RouteUsed,
)
from ctiserver.model.connections import learn_network
from ctiserver.model.states import DnKind, PartyState
from ctiserver.tlib.vocabulary import CallState, DNRole

if TYPE_CHECKING:
    from ctiserver.model.model import Model


@dataclass(frozen=True, slots=True)
class RouteDialogue:
    """The switch asked for a route for one call at one routing point."""

    cross_ref_id: str
    register_id: str
    routing_point: DeviceId
    conn_id: ConnId


def on_queued(model: Model, dn: DeviceId, event: QueuedEvent) -> list[Change]:
    connection = event.queued_connection
    queue = event.queue or connection.device_id
    call, changes = model.call_for(connection.call_id, calling=event.calling_device)
    model.learn_caller(call, event.calling_device, event.called_device, dn)
    changes += learn_network(call, event.private_data)
    party = model.touch(call, queue, dn, PartyState.QUEUED, DNRole.DESTINATION)
    party.this_queue = queue
    if queue != dn:
        return changes
    party.other_dn = event.calling_device
    if model.kind(dn) is DnKind.ACD_QUEUE:
        changes.append(CallQueued(call=call, party=party))
    return changes


def on_diverted(model: Model, dn: DeviceId, event: DivertedEvent) -> list[Change]:
    connection = event.connection
    diverting = event.diverting_device or connection.device_id
    call = model.call_by_call_id(connection.call_id)
    party = None if call is None else call.parties.get(diverting)
    if call is None or party is None:
        return []
    model.expect(call, event.new_destination)
    if diverting != dn:
        if not model.is_ours(diverting):
            model.remove_party(call, party)
        return []
    change: Change | None = None
    match model.kind(dn):
        case DnKind.ACD_QUEUE:
            change = CallDiverted(call=call, party=party, third_party_dn=event.new_destination)
        case DnKind.EXTENSION:
            change = PartyReleased(call=call, party=party, call_state=CallState.REDIRECTED)
    model.remove_party(call, party)
    return [] if change is None else [change]


def apply_invocation(model: Model, message: Unconfirmed) -> list[Change]:
    match message:
        case RouteRequest():
            return _route_request(model, message)
        case CstaRouteUsed():
            return _route_used(model, message)
        case ReRoute():
            return _reroute(model, message)
        case RouteEnd():
            model.routes.pop(message.routing_cross_ref_id, None)
    return []


def _route_request(model: Model, message: RouteRequest) -> list[Change]:
    point = message.current_route or message.routed_call.device_id
    if model.kind(point) is not DnKind.ROUTING_POINT:
        return []
    call, changes = model.call_for(message.routed_call.call_id, calling=message.calling_device)
    model.learn_caller(call, message.calling_device, point, point)
    changes += learn_network(call, message.private_data)
    party = model.touch(call, point, point, PartyState.QUEUED, DNRole.DESTINATION)
    party.this_queue = point
    party.other_dn = party.other_dn or message.calling_device
    model.routes[message.routing_cross_ref_id] = RouteDialogue(
        message.routing_cross_ref_id, message.route_register_req_id, point, call.conn_id
    )
    changes.append(RouteRequested(call=call, party=party))
    return changes


def _route_used(model: Model, message: CstaRouteUsed) -> list[Change]:
    dialogue = model.routes.get(message.routing_cross_ref_id)
    call = None if dialogue is None else model.call(dialogue.conn_id)
    party = None if call is None or dialogue is None else call.parties.get(dialogue.routing_point)
    if call is None or party is None:
        return []
    return [
        RouteUsed(
            call=call,
            party=party,
            third_party_dn=message.route_used,
            third_party_role=DNRole.DESTINATION,
        )
    ]


def _reroute(model: Model, message: ReRoute) -> list[Change]:
    dialogue = model.routes.get(message.routing_cross_ref_id)
    call = None if dialogue is None else model.call(dialogue.conn_id)
    party = None if call is None or dialogue is None else call.parties.get(dialogue.routing_point)
    if call is None or party is None:
        return []
    return [RouteRefused(call=call, party=party)]


def dialogue_for(model: Model, point: DeviceId, conn_id: ConnId) -> RouteDialogue | None:
    """The open routeing dialogue for a call at a routing point."""
    return next(
        (d for d in model.routes.values() if d.routing_point == point and d.conn_id == conn_id),
        None,
    )


HANDLERS: dict[type[Any], Any] = {
    QueuedEvent: on_queued,
    DivertedEvent: on_diverted,
}
