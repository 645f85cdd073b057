"""How transfers and conferences change the model (ECMA-269 §§ 17.2.7, 17.2.19).

A TransferedEvent or ConferencedEvent reaches every device of the calls concerned; its
connection list says which connections moved from the secondary call into the
resulting one.  The first copy moves what is not ours; each of our DNs moves its own
party, and hears what happened from where it stands (reference/call-models.md §§ 3-6):

    transfer    transferring DN: EventReleased on both calls (CallState Transferred);
                a party that stayed: EventPartyChanged (OtherDN: the new far end);
                a party that moved: EventPartyChanged with PreviousConnID.
    conference  conferencing DN: EventReleased (consultation), EventRetrieved and
                EventPartyAdded (original call); a party that stayed: EventPartyAdded;
                a party that moved: EventPartyChanged with PreviousConnID.

The resulting call keeps the ConnID of the primary (held) call; the consultation's
ConnID ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctiserver.csta.events import ConferencedEvent, TransferedEvent
from ctiserver.csta.types import ConnectionListItem
from ctiserver.ids import CallId, DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    CallsMerged,
    Change,
    PartyAdded,
    PartyChanged,
    PartyReleased,
    PartyRetrieved,
)
from ctiserver.model.states import PartyState
from ctiserver.tlib.vocabulary import CallState, DNRole

if TYPE_CHECKING:
    from ctiserver.model.model import Model


def _calls(
    model: Model, primary_id: CallId, secondary_id: CallId | None
) -> tuple[Call | None, Call | None]:
    primary = model.call_by_call_id(primary_id)
    secondary = model.call_by_call_id(secondary_id) if secondary_id else None
    return primary, secondary


def _move(
    model: Model, dn: DeviceId, result: Call, items: tuple[ConnectionListItem, ...]
) -> dict[DeviceId, Call]:
    """Move the connections the list says moved (ours only on our own copy); returns
    each moved device with the call it came from."""
    moved: dict[DeviceId, Call] = {}
    for item in items:
        old, new = item.old_connection, item.new_connection
        device = DeviceId(
            (new.device_id if new else "") or (old.device_id if old else "") or item.endpoint or ""
        )
        if old is None or not device or old.call_id == result.call_id:
            continue
        source = model.call_by_call_id(old.call_id)
        party = None if source is None else source.parties.get(device)
        if source is None or party is None or source is result:
            continue
        moved[device] = source
        if device == dn or not model.is_ours(device):
            model.move_party(party, source, result)
    return moved


def _result_id(primary: Call, items: tuple[ConnectionListItem, ...]) -> CallId:
    for item in items:
        if item.new_connection is not None and item.new_connection.call_id:
            return item.new_connection.call_id
    return primary.call_id


def on_transfered(model: Model, dn: DeviceId, event: TransferedEvent) -> list[Change]:
    secondary_id = event.secondary_old_call.call_id if event.secondary_old_call else None
    primary, secondary = _calls(model, event.primary_old_call.call_id, secondary_id)
    if primary is None:
        return []
    transferring = event.transferring_device or event.primary_old_call.device_id
    model.rekey(primary, _result_id(primary, event.transferred_connections))
    if secondary is None:  # single-step: the call is on its way to transferred_to_device
        model.expect(primary, event.transferred_to_device)
    moved = _move(model, dn, primary, event.transferred_connections)
    merged: list[Change] = (
        [] if secondary is None else [CallsMerged(call=primary, merged=secondary.conn_id)]
    )
    if dn == transferring:
        return merged + _transferrer_leaves(model, dn, secondary, primary)
    own = primary.parties.get(dn)
    if own is None:
        return merged
    if dn in moved:
        far = next((p.dn for p in primary.present if p.dn not in (dn, transferring)), None)
        own.other_dn = far or own.other_dn
        return [
            *merged,
            _changed(primary, own, transferring, CallState.TRANSFERRED, previous=moved[dn]),
        ]
    own.other_dn = event.transferred_to_device or own.other_dn
    return [*merged, _changed(primary, own, transferring, CallState.TRANSFERRED)]


def _transferrer_leaves(
    model: Model, dn: DeviceId, secondary: Call | None, primary: Call
) -> list[Change]:
    changes: list[Change] = []
    for call in (secondary, primary):
        party = None if call is None else call.parties.get(dn)
        if call is not None and party is not None:
            changes.append(PartyReleased(call=call, party=party, call_state=CallState.TRANSFERRED))
            model.remove_party(call, party)
    return changes


def _changed(
    call: Call,
    own: Party,
    by: DeviceId,
    state: CallState,
    *,
    previous: Call | None = None,
    role: DNRole = DNRole.TRANSFERRED_BY,
) -> PartyChanged:
    return PartyChanged(
        call=call,
        party=own,
        third_party_dn=by,
        third_party_role=role,
        call_state=state,
        previous_conn_id=previous.conn_id if previous is not None else None,
    )


def on_conferenced(model: Model, dn: DeviceId, event: ConferencedEvent) -> list[Change]:
    secondary_id = event.secondary_old_call.call_id if event.secondary_old_call else None
    primary, secondary = _calls(model, event.primary_old_call.call_id, secondary_id)
    if primary is None:
        return []
    conferencing = event.conferencing_device or event.primary_old_call.device_id
    added = event.added_party
    model.rekey(primary, _result_id(primary, event.conference_connections))
    conferencing_party = (
        secondary.parties.get(dn) if secondary is not None and dn == conferencing else None
    )
    moved = _move(model, dn, primary, event.conference_connections)
    merged: list[Change] = (
        [] if secondary is None else [CallsMerged(call=primary, merged=secondary.conn_id)]
    )
    own = primary.parties.get(dn)
    if dn == conferencing and own is not None:
        return [*merged, *_conferencer(model, primary, secondary, own, conferencing_party, added)]
    if own is None:
        return merged
    if dn in moved:
        return [
            *merged,
            _changed(
                primary,
                own,
                conferencing,
                CallState.CONFERENCED,
                previous=moved[dn],
                role=DNRole.CONFERENCED_BY,
            ),
        ]
    return [*merged, _added(primary, own, added, conferencing)]


def _conferencer(
    model: Model,
    primary: Call,
    secondary: Call | None,
    own: Party,
    consulting: Party | None,
    added: DeviceId | None,
) -> list[Change]:
    changes: list[Change] = []
    if secondary is not None and consulting is not None:
        changes.append(
            PartyReleased(call=secondary, party=consulting, call_state=CallState.CONFERENCED)
        )
        model.remove_party(secondary, consulting)
    model.set_state(own, PartyState.ESTABLISHED)
    changes.append(PartyRetrieved(call=primary, party=own))
    changes.append(_added(primary, own, added, own.dn))
    return changes


def _added(call: Call, own: Party, added: DeviceId | None, by: DeviceId) -> PartyAdded:
    return PartyAdded(
        call=call,
        party=own,
        other_dn=added,
        other_role=DNRole.NEW_PARTY,
        third_party_dn=by,
        third_party_role=DNRole.ADDED_BY,
        call_state=CallState.CONFERENCED,
    )


HANDLERS: dict[type[Any], Any] = {
    TransferedEvent: on_transfered,
    ConferencedEvent: on_conferenced,
}
