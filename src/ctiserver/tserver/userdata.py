"""Attached user data and call queries (reference/call-models.md § 12), answered by the
server itself: RequestAttachUserData, RequestUpdateUserData, RequestDeletePair,
RequestDeleteUserData, RequestQueryCall.

A change reaches every registrant of every one of our DNs on the call, and on the calls
that share the call's data (consult-user-data = joint), as EventAttachedDataChanged
with the whole current UserData and ThirdPartyDN = the DN that changed it.  JSON objects
cannot hold a key twice, so attaching a key that is already there replaces its value,
as updating does.  A request that would change nothing is answered by EventACK.

With `accode-data = udata`, the account code lives in the UserData under `accode-name`:
attaching or updating that key sets the code on the switch (AssociateData) first, and
the data changes only when the switch accepts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.clock import Instant
from ctiserver.csta.call_information import AssociateData, account_code_hex
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import DeviceId
from ctiserver.model.call import Call
from ctiserver.tlib.vocabulary import KVList, TMessage
from ctiserver.tlib.vocabulary import PartyState as TPartyState
from ctiserver.tserver.addresses import PARTY_STATE_CODES
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import Pending
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
    code = None if clear else account_code_in(core, call, data or {})
    if code is None:
        _apply(core, ctx, call, dn, data, clear=clear)
        return

    def accepted(pending: Pending, _response: object) -> None:
        core.correlator.finish(pending.token)
        _apply(core, ctx, call, dn, data, clear=clear)

    pending = core.pending(ctx, dn, [], on_confirm=accepted, explain=ACCOUNT_CODE_REFUSALS)
    core.to_switch(ctx, associate_data(call, dn, code), pending)


def _apply(
    core: TServerCore,
    ctx: RequestContext,
    call: Call,
    dn: DeviceId,
    data: KVList | None,
    *,
    clear: bool,
) -> None:
    before = dict(call.user_data)
    core.model.attach(call, data or {}, replace_all=clear)
    if call.user_data == before:
        core.reply(ctx, {"Event": "EventACK", "ThisDN": dn, "ConnID": call.conn_id})
        return
    announce(core, ctx, call, dn)


ACCOUNT_CODE_REFUSALS = {"invalidAccountCode": "the switch does not accept that account code"}


def account_code_in(core: TServerCore, call: Call, data: KVList) -> str | None:
    """With `accode-data = udata`, attaching the `accode-name` key sets the account code
    on the switch first: the new code in *data*, if it has one."""
    settings = core.settings
    if settings.accode_data != "udata" or settings.accode_name not in data:
        return None
    code = data[settings.accode_name]
    if not isinstance(code, str | int) or str(code) == call.account_code:
        return None
    return str(code)


def associate_data(call: Call, dn: DeviceId, code: str) -> AssociateData:
    """AssociateData setting account code *code* on *dn*'s connection to *call*."""
    connection = ConnectionID(call_id=call.call_id, device_id=dn)
    return AssociateData(existing_call=connection, account_code=account_code_hex(code))


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
