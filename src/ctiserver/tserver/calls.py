"""Basic call control requests passed to the switch as CSTA services (ECMA-269 § 17):
RequestMakeCall -> MakeCall (its MakeCallType as call characteristics: call_types.py),
RequestAnswerCall -> AnswerCall, RequestReleaseCall ->
ClearConnection, RequestClearCall -> ClearCall, RequestHoldCall -> HoldCall,
RequestRetrieveCall -> RetrieveCall.

Each handler checks what the server can check itself (the DN is registered, the ConnID
is a call the DN is in), then hands the switch the service and the correlator the
(event, call) pairs that answer it (docs/protocol.md § 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ctiserver.csta.call_control import (
    AnswerCall,
    ClearCall,
    ClearConnection,
    HoldCall,
    MakeCall,
    RetrieveCall,
)
from ctiserver.csta.types import ConnectionID, PrivateData
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.values import Call
from ctiserver.tserver.call_types import (
    MAKE_CALL_REFUSALS,
    check_agent_at,
    make_call_characteristics,
)
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import NEW, BindCall, ClearedBy
from ctiserver.tserver.port import Core, RequestContext


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a request sends a call: its OtherDN, or an ISCC access number with the UUI
    the destination site matches it by, the transaction it serves, and the ConnID
    promised to the call it makes (so that the other site knows it first)."""

    number: DeviceId
    private_data: PrivateData | None = None
    xid: str | None = None
    conn_id: ConnId | None = None


def destination_of(ctx: RequestContext) -> Destination:
    return Destination(DeviceId(ctx.message["OtherDN"]))


def connection(call: Call, dn: DeviceId) -> ConnectionID:
    """*dn*'s connection in *call*, as CSTA names it."""
    return ConnectionID(call.call_id, dn)


def make_call(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    dn = controlled_dn(core, ctx)
    to = to or destination_of(ctx)
    make_call_type = ctx.message.get("MakeCallType")
    characteristics = make_call_characteristics(make_call_type)
    check_agent_at(core.model, to.number, characteristics, f"MakeCallType {make_call_type}")
    request = MakeCall(
        calling_device=dn,
        called_directory_number=to.number,
        call_characteristics=characteristics,
        private_data=to.private_data,
    )
    pending = core.pending(
        ctx,
        dn,
        [("EventDialing", NEW), ("EventDestinationBusy", NEW)],
        user_data=ctx.message.get("UserData"),
        on_confirm=BindCall("calling_device"),
        xid=to.xid,
        promised=to.conn_id,
        explain=MAKE_CALL_REFUSALS if characteristics is not None else None,
    )
    core.to_switch(ctx, request, pending)


def answer_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = AnswerCall(call_to_be_answered=connection(call, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventEstablished", call.conn_id)]))


def release_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = ClearConnection(connection_to_be_cleared=connection(call, dn))
    answers = [("EventReleased", call.conn_id), ("EventAbandoned", call.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers))


def clear_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = ClearCall(call_to_be_cleared=connection(call, dn))
    answers = [("EventReleased", call.conn_id), ("EventAbandoned", call.conn_id)]
    cleared = ClearedBy(call.conn_id, dn)  # so every party hears who released it
    core.to_switch(ctx, request, core.pending(ctx, dn, answers, on_confirm=cleared))


def hold_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = HoldCall(call_to_be_held=connection(call, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventHeld", call.conn_id)]))


def retrieve_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = RetrieveCall(call_to_be_retrieved=connection(call, dn))
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventRetrieved", call.conn_id)]))


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestMakeCall": make_call,
    "RequestAnswerCall": answer_call,
    "RequestReleaseCall": release_call,
    "RequestClearCall": clear_call,
    "RequestHoldCall": hold_call,
    "RequestRetrieveCall": retrieve_call,
}
