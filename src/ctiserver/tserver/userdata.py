"""Attached user data and call queries (docs/protocol.md, Attached user data), answered by the
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

from collections.abc import Callable

from ctiserver.csta.call_information import AssociateData, account_code_hex
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import DeviceId
from ctiserver.model.values import Call
from ctiserver.tlib.vocabulary import KVList, TMessage
from ctiserver.tlib.vocabulary import PartyState as TPartyState
from ctiserver.tserver.addresses import PARTY_STATE_CODES
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import ApplyUserData
from ctiserver.tserver.events import ack_event, call_event
from ctiserver.tserver.port import Core, Options, RequestContext


def _change(core: Core, ctx: RequestContext, data: KVList | None, *, clear: bool) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    code = None if clear else account_code_in(core.settings.options, call, data or {})
    if code is None:
        _apply(core, ctx, call, dn, data, clear=clear)
        return
    pending = core.pending(
        ctx,
        dn,
        [],
        on_confirm=ApplyUserData(call.conn_id, data, clear),
        explain=ACCOUNT_CODE_REFUSALS,
    )
    core.to_switch(ctx, associate_data(call, dn, code), pending)


def _apply(
    core: Core,
    ctx: RequestContext,
    call: Call,
    dn: DeviceId,
    data: KVList | None,
    *,
    clear: bool,
) -> None:
    if core.attach(call.conn_id, data or {}, ctx.at, clear=clear):
        core.attached(ctx, call.conn_id, dn)
    else:
        core.reply(ctx, ack_event(dn, call.conn_id))


ACCOUNT_CODE_REFUSALS = {"invalidAccountCode": "the switch does not accept that account code"}


def account_code_in(settings: Options, call: Call, data: KVList) -> str | None:
    """With `accode-data = udata`, attaching the `accode-name` key sets the account code
    on the switch first: the new code in *data*, if it has one."""
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


def attach_user_data(core: Core, ctx: RequestContext) -> None:
    _change(core, ctx, ctx.message["UserData"], clear=False)


def delete_user_data(core: Core, ctx: RequestContext) -> None:
    _change(core, ctx, None, clear=True)


def delete_pair(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    if core.delete_pair(call.conn_id, ctx.message["Key"], ctx.at):
        core.attached(ctx, call.conn_id, dn)
    else:
        core.reply(ctx, ack_event(dn, call.conn_id))


def query_call(core: Core, ctx: RequestContext) -> None:
    """EventPartyInfo: the call, and each party with its T-Library PartyState."""
    dn = controlled_dn(core, ctx)
    call, party = call_at(core, ctx, dn)
    event: TMessage = call_event("EventPartyInfo", call, party)
    parties = core.model.present(call.conn_id)
    extensions: KVList = {"number-of-parties": len(parties)}
    for index, other in enumerate(parties, start=1):
        extensions[f"party-{index}"] = other.dn
        extensions[f"ps-{index}"] = PARTY_STATE_CODES.get(other.state, TPartyState.INITIATED).value
    event["Extensions"] = extensions
    core.reply(ctx, event)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestAttachUserData": attach_user_data,
    "RequestUpdateUserData": attach_user_data,
    "RequestDeletePair": delete_pair,
    "RequestDeleteUserData": delete_user_data,
    "RequestQueryCall": query_call,
}
