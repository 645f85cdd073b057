"""RequestRouteCall (reference/call-models.md § 10): answering the switch's RouteRequest
for a call waiting at a routing point.

The switch offers the call with a RouteRequest (EventRouteRequest to the routing
point's registrants); the router answers with RequestRouteCall, passed on as the
unconfirmed RouteSelect.  RouteUsed from the switch is the answer (EventRouteUsed);
ReRoute means the destination could not take the call (EventError, and the call stays).
RouteType Reject (or CallDisconnect) ends the dialogue with RouteEnd: the caller gets
EventDestinationBusy from the switch, the router EventRouteUsed from us at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.routeing import RouteEnd, RouteSelect
from ctiserver.ids import DeviceId
from ctiserver.model.changes import RouteUsed
from ctiserver.model.queues import dialogue_for
from ctiserver.model.states import DnKind
from ctiserver.tlib.vocabulary import RouteType
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute

if TYPE_CHECKING:
    from ctiserver.tserver.core import Handler, RequestContext, TServerCore

_REJECTING = (RouteType.REJECT, RouteType.CALL_DISCONNECT)


def route_call(core: TServerCore, ctx: RequestContext, to: Destination | None = None) -> None:
    point = controlled_dn(core, ctx)
    if core.model.dns[point] is not DnKind.ROUTING_POINT:
        raise InvalidAttribute(f"DN {point} is not a routing point")
    call, party = call_at(core, ctx, point)
    dialogue = dialogue_for(core.model, point, call.conn_id)
    if dialogue is None:
        raise InvalidAttribute(f"call {call.conn_id} is not waiting for a route at {point}")
    route_type = RouteType(ctx.message.get("RouteType", RouteType.DEFAULT))
    destination = to.number if to is not None else ctx.message.get("OtherDN")
    if destination is None and route_type not in _REJECTING:
        raise InvalidAttribute(f"RequestRouteCall with RouteType {route_type} needs OtherDN")
    if data := ctx.message.get("UserData"):
        core.model.attach(call, data)
    pending = core.pending(ctx, point, [("EventRouteUsed", call.conn_id)])
    if route_type in _REJECTING:
        end = RouteEnd(
            route_register_req_id=dialogue.register_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            cause=EventCause.BLOCKED,
        )
        core.to_switch(ctx, end, pending)
        del core.model.routes[dialogue.cross_ref_id]
        core.publish(RouteUsed(call=call, party=party), ctx.at)
        return
    select = RouteSelect(
        route_register_req_id=dialogue.register_id,
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_selected=DeviceId(str(destination)),
        private_data=to.private_data if to is not None else None,
    )
    core.to_switch(ctx, select, pending)


HANDLERS: dict[str, Handler] = {"RequestRouteCall": route_call}
