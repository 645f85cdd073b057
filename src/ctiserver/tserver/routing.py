"""RequestRouteCall (docs/protocol.md, Routing): answering the switch's RouteRequest
for a call waiting at a routing point.

The switch offers the call with a RouteRequest (EventRouteRequest to the routing
point's registrants); the router answers with RequestRouteCall, passed on as the
unconfirmed RouteSelect.  RouteUsed from the switch is the answer (EventRouteUsed);
ReRoute means the destination could not take the call (EventError, and the call stays).
RouteType Reject (or CallDisconnect) ends the dialogue with RouteEnd: the caller gets
EventDestinationBusy from the switch, the router EventRouteUsed from us at once.  The
other RouteTypes are in call_types.py: each is honoured or refused with EventError 53.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.routeing import RouteEnd, RouteSelect
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.tlib.vocabulary import RouteType
from ctiserver.tserver.call_types import route_for
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.port import Core, RequestContext

_REJECTING = (RouteType.REJECT, RouteType.CALL_DISCONNECT)


def route_call(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    point = controlled_dn(core, ctx)
    if core.model.kind(point) is not DnKind.ROUTING_POINT:
        raise InvalidAttribute(f"DN {point} is not a routing point")
    call, _party = call_at(core, ctx, point)
    dialogue = core.model.dialogue_for(point, call.conn_id)
    if dialogue is None:
        raise InvalidAttribute(f"call {call.conn_id} is not waiting for a route at {point}")
    route_type = RouteType(ctx.message.get("RouteType", RouteType.DEFAULT))
    destination = to.number if to is not None else ctx.message.get("OtherDN")
    if destination is None and route_type not in _REJECTING:
        raise InvalidAttribute(f"RequestRouteCall with RouteType {route_type} needs OtherDN")
    route = None
    if route_type not in _REJECTING:
        route = route_for(core.model, route_type, DeviceId(str(destination)))
    if data := ctx.message.get("UserData"):
        core.attach(call.conn_id, data, ctx.at)
    pending = core.pending(ctx, point, [("EventRouteUsed", call.conn_id)], xid=to and to.xid)
    if route is None:
        end = RouteEnd(
            route_register_req_id=dialogue.register_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            cause=EventCause.BLOCKED,
        )
        core.to_switch(ctx, end, pending)
        core.reject_route(dialogue.cross_ref_id, ctx.at)
        return
    given = to.private_data if to is not None else None
    select = RouteSelect(
        route_register_req_id=dialogue.register_id,
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_selected=route.destination,
        private_data=route.private_data(core.settings.private_namespace, given),
    )
    core.to_switch(ctx, select, pending)
    core.route_dnis(dialogue.cross_ref_id, route.dnis, ctx.at)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {"RequestRouteCall": route_call}
