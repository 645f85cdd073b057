"""Call control requests passed to the switch as CSTA services (ECMA-269 § 17):
RequestMakeCall -> MakeCall, RequestAnswerCall -> AnswerCall, RequestReleaseCall ->
ClearConnection, RequestClearCall -> ClearCall.

Each handler checks what the server can check itself (the DN is registered, the ConnID
is a call the DN is in), then hands the switch the service and the correlator the names
of the events that answer it (reference/call-models.md § 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctiserver.csta.call_control import (
    AnswerCall,
    ClearCall,
    ClearConnection,
    MakeCall,
    MakeCallResponse,
)
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import DeviceId
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import Pending

if TYPE_CHECKING:
    from ctiserver.tserver.core import Handler, RequestContext, TServerCore

_ENDED = ("EventReleased", "EventAbandoned")


def make_call(core: TServerCore, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    other = DeviceId(ctx.message["OtherDN"])
    request = MakeCall(calling_device=dn, called_directory_number=other)

    def bind_by_response(pending: Pending, response: Any) -> None:
        if isinstance(response, MakeCallResponse):
            call_id = response.calling_device.call_id
            core.correlator.expect_call(pending, call_id)
            call = core.model.call_by_call_id(call_id)
            if call is not None and pending.conn_id is None:
                core.bind(pending, call)

    pending = core.pending(
        ctx,
        dn,
        ("EventDialing", "EventDestinationBusy"),
        binds_new_call=True,
        user_data=ctx.message.get("UserData"),
        on_confirm=bind_by_response,
    )
    core.to_switch(ctx, request, pending)


def answer_call(core: TServerCore, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = AnswerCall(call_to_be_answered=ConnectionID(call.call_id, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, ("EventEstablished",), conn_id=call.conn_id))


def release_call(core: TServerCore, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = ClearConnection(connection_to_be_cleared=ConnectionID(call.call_id, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, _ENDED, conn_id=call.conn_id))


def clear_call(core: TServerCore, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = ClearCall(call_to_be_cleared=ConnectionID(call.call_id, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, _ENDED, conn_id=call.conn_id))


HANDLERS: dict[str, Handler] = {
    "RequestMakeCall": make_call,
    "RequestAnswerCall": answer_call,
    "RequestReleaseCall": release_call,
    "RequestClearCall": clear_call,
}
