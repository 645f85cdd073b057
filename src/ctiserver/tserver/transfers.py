"""Two-call and multi-party requests (docs/protocol.md § 4): consultation, transfer,
conference, alternate, reconnect, redirect, single-step variants and deleting
a party from a conference, each mapped to its CSTA service (ECMA-269 § 17.1).

    RequestInitiateTransfer / InitiateConference -> ConsultationCall
    RequestCompleteTransfer                      -> TransferCall
    RequestCompleteConference                    -> ConferenceCall
    RequestMergeCalls                            -> TransferCall or ConferenceCall
    RequestMuteTransfer                          -> ConsultationCall, then TransferCall
    RequestSingleStepTransfer                    -> SingleStepTransferCall
    RequestSingleStepConference                  -> SingleStepConferenceCall (EventACK)
    RequestAlternateCall                         -> AlternateCall
    RequestReconnectCall                         -> ReconnectCall
    RequestRedirectCall                          -> DeflectCall
    RequestDeleteFromConference                  -> ClearConnection of the other party
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ctiserver.csta.call_control import (
    AlternateCall,
    ClearConnection,
    ConferenceCall,
    ConsultationCall,
    DeflectCall,
    ReconnectCall,
    SingleStepConferenceCall,
    SingleStepTransferCall,
    TransferCall,
)
from ctiserver.ids import DeviceId
from ctiserver.model.values import Call, ConsultPurpose
from ctiserver.tlib.vocabulary import MergeType, TMessage
from ctiserver.tserver.calls import Destination, connection, destination_of
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import NEW, Acknowledge, BindCall, Pending, TransferConsultation
from ctiserver.tserver.errors import NotAConference, UnknownConnId
from ctiserver.tserver.port import Core, RequestContext


def _consult(
    core: Core, ctx: RequestContext, purpose: ConsultPurpose, to: Destination | None
) -> tuple[Pending, ConsultationCall]:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    to = to or destination_of(ctx)
    request = ConsultationCall(
        existing_call=connection(call, dn),
        consulted_device=to.number,
        private_data=to.private_data,
    )

    pending = core.pending(
        ctx,
        dn,
        [("EventHeld", call.conn_id), ("EventDialing", NEW), ("EventDestinationBusy", NEW)],
        user_data=ctx.message.get("UserData"),
        on_confirm=BindCall("initiated_call"),
        purpose=purpose,
        xid=to.xid,
        promised=to.conn_id,
    )
    return pending, request


def initiate_transfer(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    pending, request = _consult(core, ctx, ConsultPurpose.TRANSFER, to)
    core.to_switch(ctx, request, pending)


def initiate_conference(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    pending, request = _consult(core, ctx, ConsultPurpose.CONFERENCE, to)
    core.to_switch(ctx, request, pending)


def mute_transfer(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    """Consultation, then the transfer as soon as the switch names the consultation call."""
    pending, request = _consult(core, ctx, ConsultPurpose.TRANSFER, to)
    held = next(conn for event, conn in pending.answers if event == "EventHeld")
    pending.answers |= {("EventReleased", NEW), ("EventReleased", held)}
    pending.on_confirm = TransferConsultation(held)
    core.to_switch(ctx, request, pending)


def _two_calls(core: Core, ctx: RequestContext, second: str) -> tuple[DeviceId, Call, Call]:
    """ThisDN, the call named by ConnID (held) and the one named by *second* (active)."""
    dn = controlled_dn(core, ctx)
    held, _ = call_at(core, ctx, dn, "ConnID")
    active, _ = call_at(core, ctx, dn, second)
    return dn, held, active


def complete_transfer(core: Core, ctx: RequestContext) -> None:
    dn, held, active = _two_calls(core, ctx, "TransferConnID")
    request = TransferCall(held_call=connection(held, dn), active_call=connection(active, dn))
    answers = [("EventReleased", active.conn_id), ("EventReleased", held.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers))


def complete_conference(core: Core, ctx: RequestContext) -> None:
    dn, held, active = _two_calls(core, ctx, "ConferenceConnID")
    request = ConferenceCall(held_call=connection(held, dn), active_call=connection(active, dn))
    answers = [
        ("EventReleased", active.conn_id),
        ("EventRetrieved", held.conn_id),
        ("EventPartyAdded", held.conn_id),
    ]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers))


def merge_calls(core: Core, ctx: RequestContext) -> None:
    """RequestMergeCalls: the held call (ConnID) and the active one (TransferConnID) at
    ThisDN merged as MergeType says: as RequestCompleteTransfer or, with ConnID for the
    conference, as RequestCompleteConference, with their answers."""
    if ctx.message["MergeType"] == MergeType.FOR_CONFERENCE:
        message = TMessage(**ctx.message)
        message["ConferenceConnID"] = ctx.message["TransferConnID"]
        complete_conference(core, replace(ctx, message=message))
    else:
        complete_transfer(core, ctx)


def alternate_call(core: Core, ctx: RequestContext) -> None:
    dn, held, active = _two_calls(core, ctx, "TransferConnID")
    request = AlternateCall(held_call=connection(held, dn), active_call=connection(active, dn))
    answers = [("EventHeld", active.conn_id), ("EventRetrieved", held.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers))


def reconnect_call(core: Core, ctx: RequestContext) -> None:
    dn, held, active = _two_calls(core, ctx, "TransferConnID")
    request = ReconnectCall(active_call=connection(active, dn), held_call=connection(held, dn))
    answers = [("EventReleased", active.conn_id), ("EventRetrieved", held.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers))


def single_step_transfer(core: Core, ctx: RequestContext, to: Destination | None = None) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    to = to or destination_of(ctx)
    request = SingleStepTransferCall(
        active_call=connection(call, dn), transferred_to=to.number, private_data=to.private_data
    )
    _attach_request_data(core, ctx, call)
    pending = core.pending(ctx, dn, [("EventReleased", call.conn_id)], xid=to.xid)
    core.to_switch(ctx, request, pending)


def single_step_conference(core: Core, ctx: RequestContext) -> None:
    """The switch's acceptance is all the requester hears: EventACK (call-models § 6)."""
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = SingleStepConferenceCall(
        active_call=connection(call, dn), device_to_join=DeviceId(ctx.message["OtherDN"])
    )
    _attach_request_data(core, ctx, call)
    core.to_switch(ctx, request, core.pending(ctx, dn, [], on_confirm=Acknowledge()))


def redirect_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    request = DeflectCall(
        call_to_be_diverted=connection(call, dn), new_destination=DeviceId(ctx.message["OtherDN"])
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventReleased", call.conn_id)]))


def delete_from_conference(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    dropped = DeviceId(ctx.message["OtherDN"])
    party = core.model.party(dropped, call.conn_id)
    if party is None or not party.present:
        raise UnknownConnId(dropped, call.conn_id)
    if dropped == dn:
        raise NotAConference(
            f"DN {dn} cannot delete itself from call {call.conn_id}; use RequestReleaseCall"
        )
    present = len(core.model.present(call.conn_id))
    if present < 3:
        raise NotAConference(f"call {call.conn_id} has {present} parties, not a conference")
    core.expect_deletion(call.conn_id, dropped, dn, ctx.at)
    request = ClearConnection(connection_to_be_cleared=connection(call, dropped))
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventPartyDeleted", call.conn_id)]))


def _attach_request_data(core: Core, ctx: RequestContext, call: Call) -> None:
    """UserData given with a single-step request is attached to the call first."""
    data = ctx.message.get("UserData")
    if data:
        core.attach(call.conn_id, data, ctx.at)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestInitiateTransfer": initiate_transfer,
    "RequestInitiateConference": initiate_conference,
    "RequestMuteTransfer": mute_transfer,
    "RequestCompleteTransfer": complete_transfer,
    "RequestCompleteConference": complete_conference,
    "RequestMergeCalls": merge_calls,
    "RequestAlternateCall": alternate_call,
    "RequestReconnectCall": reconnect_call,
    "RequestSingleStepTransfer": single_step_transfer,
    "RequestSingleStepConference": single_step_conference,
    "RequestRedirectCall": redirect_call,
    "RequestDeleteFromConference": delete_from_conference,
}
