"""Attached user data and call queries (reference/call-models.md § 12), answered by the
server itself: RequestAttachUserData, RequestUpdateUserData, RequestDeletePair,
RequestDeleteUserData, RequestQueryCall.

A change reaches every registrant of every one of our DNs on the call, and on the calls
that share the call's data (consult-user-data = joint), as EventAttachedDataChanged
with the whole current UserData and ThirdPartyDN = the DN that changed it.  JSON objects
cannot hold a key twice, so attaching a key that is already there replaces its value,
as updating does.  A request that would change nothing is answered by EventACK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.clock import Instant
from ctiserver.ids import DeviceId
from ctiserver.model.call import Call
from ctiserver.tlib.vocabulary import KVList, TMessage
from ctiserver.tlib.vocabulary import PartyState as TPartyState
from ctiserver.tserver.addresses import PARTY_STATE_CODES
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.events import call_event, user_data_event

if TYPE_CHECKING:
    from ctiserver.tserver.core import Handler, RequestContext, TServerCore


def announce(core: TServerCore, ctx: RequestContext, call: Call, by: DeviceId) -> None:
    """EventAttachedDataChanged to every registrant of every DN on the calls concerned,
    and to the instances of the call at other sites (ISCC)."""
    for shared in core.model.sharing(call):
        for dn in [d for d in shared.parties if core.model.is_ours(d)]:
            event = user_data_event(shared, dn, by)
            mine = shared is call and dn == by
            core.send(event, core.registry.clients_of(dn), ctx.at, answering=ctx if mine else None)
        if core.iscc is not None:
            core.iscc.data_changed(shared, by)


def announce_remote(core: TServerCore, call: Call, by: DeviceId, at: Instant) -> None:
    """A change made at another site: EventAttachedDataChanged here, not sent back."""
    for dn in [d for d in call.parties if core.model.is_ours(d)]:
        core.send(user_data_event(call, dn, by), core.registry.clients_of(dn), at)


def _change(core: TServerCore, ctx: RequestContext, data: KVList | None, *, clear: bool) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    before = dict(call.user_data)
    core.model.attach(call, data or {}, replace_all=clear)
    if call.user_data == before:
        core.reply(ctx, {"Event": "EventACK", "ThisDN": dn, "ConnID": call.conn_id})
        return
    announce(core, ctx, call, dn)


def attach_user_data(core: TServerCore, ctx: RequestContext) -> None:
    _change(core, ctx, ctx.message["UserData"], clear=False)


def delete_user_data(core: TServerCore, ctx: RequestContext) -> None:
    _change(core, ctx, None, clear=True)


def delete_pair(core: TServerCore, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    if call.user_data.pop(ctx.message["Key"], None) is None:
        core.reply(ctx, {"Event": "EventACK", "ThisDN": dn, "ConnID": call.conn_id})
        return
    announce(core, ctx, call, dn)


def query_call(core: TServerCore, ctx: RequestContext) -> None:
    """EventPartyInfo: the call, and each party with its T-Library PartyState."""
    dn = controlled_dn(core, ctx)
    call, party = call_at(core, ctx, dn)
    event: TMessage = call_event("EventPartyInfo", call, party)
    parties = call.present
    extensions: KVList = {"number-of-parties": len(parties)}
    for index, other in enumerate(parties, start=1):
        extensions[f"party-{index}"] = other.dn
        extensions[f"ps-{index}"] = PARTY_STATE_CODES.get(other.state, TPartyState.INITIATED).value
    event["Extensions"] = extensions
    core.reply(ctx, event)


HANDLERS: dict[str, Handler] = {
    "RequestAttachUserData": attach_user_data,
    "RequestUpdateUserData": attach_user_data,
    "RequestDeletePair": delete_pair,
    "RequestDeleteUserData": delete_user_data,
    "RequestQueryCall": query_call,
}
