"""How transfers and conferences change the model (ECMA-269 §§ 17.2.7, 17.2.19).

A TransferedEvent or ConferencedEvent reaches every device of the calls concerned; its
connection list says which connections moved from the secondary call into the
resulting one.  The first copy moves what is not ours; each of our DNs moves its own
party, and hears what happened from where it stands (docs/protocol.md § 4):

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

from ctiserver.csta.events import ConferencedEvent, TransferedEvent
from ctiserver.csta.types import ConnectionListItem
from ctiserver.ids import CallId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    CallsMerged,
    PartyAdded,
    PartyChanged,
    PartyReleased,
    PartyRetrieved,
)
from ctiserver.model.moves import commit, expect, leave, move
from ctiserver.model.state import State
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import CallState, DNRole


def _calls(
    state: State, primary_id: CallId, secondary_id: CallId | None
) -> tuple[Call | None, Call | None]:
    primary = state.call_by_call_id(primary_id)
    secondary = state.call_by_call_id(secondary_id) if secondary_id else None
    return primary, secondary


def _rekeyed(state: State, primary: Call, items: tuple[ConnectionListItem, ...]) -> Call:
    """The primary call under the callID the switch gives the result (emitted)."""
    for item in items:
        if item.new_connection is not None and item.new_connection.call_id:
            call_id = item.new_connection.call_id
            if call_id == primary.call_id:
                return primary
            return commit(state, primary, replace(primary, call_id=call_id))
    return primary


def _move(
    state: State, dn: DeviceId, result: Call, items: tuple[ConnectionListItem, ...]
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
        source = state.call_by_call_id(old.call_id)
        party = None if source is None else state.party(device, source.conn_id)
        if source is None or party is None or source.conn_id == result.conn_id:
            continue
        moved[device] = source
        if device == dn or not state.is_ours(device):
            move(state, party, source, result)
    return moved


def _merged(state: State, primary: Call, secondary: Call | None) -> None:
    if secondary is not None:
        state.emit(CallsMerged(call=primary, merged=secondary.conn_id))


def on_transfered(state: State, dn: DeviceId, event: TransferedEvent) -> None:
    secondary_id = event.secondary_old_call.call_id if event.secondary_old_call else None
    primary, secondary = _calls(state, event.primary_old_call.call_id, secondary_id)
    if primary is None:
        return
    transferring = event.transferring_device or event.primary_old_call.device_id
    primary = _rekeyed(state, primary, event.transferred_connections)
    if secondary is None:  # single-step: the call is on its way to transferred_to_device
        primary = expect(state, primary, event.transferred_to_device)
    moved = _move(state, dn, primary, event.transferred_connections)
    _merged(state, primary, secondary)
    if dn == transferring:
        _transferrer_leaves(state, dn, secondary, primary)
        return
    own = state.party(dn, primary.conn_id)
    if own is None:
        return
    if dn in moved:
        far = next(
            (p.dn for p in state.present(primary.conn_id) if p.dn not in (dn, transferring)), None
        )
        own = own.changed(other_dn=far or own.other_dn)
        state.emit(_changed(primary, own, transferring, CallState.TRANSFERRED, previous=moved[dn]))
        return
    own = own.changed(other_dn=event.transferred_to_device or own.other_dn)
    state.emit(_changed(primary, own, transferring, CallState.TRANSFERRED))


def _transferrer_leaves(state: State, dn: DeviceId, secondary: Call | None, primary: Call) -> None:
    for call in (secondary, primary):
        party = None if call is None else state.party(dn, call.conn_id)
        if call is not None and party is not None:
            leave(state, PartyReleased(call=call, party=party, call_state=CallState.TRANSFERRED))


def _changed(
    call: Call,
    own: Party,
    by: DeviceId,
    call_state: CallState,
    *,
    previous: Call | None = None,
    role: DNRole = DNRole.TRANSFERRED_BY,
) -> PartyChanged:
    return PartyChanged(
        call=call,
        party=own,
        third_party_dn=by,
        third_party_role=role,
        call_state=call_state,
        previous_conn_id=previous.conn_id if previous is not None else None,
    )


def on_conferenced(state: State, dn: DeviceId, event: ConferencedEvent) -> None:
    secondary_id = event.secondary_old_call.call_id if event.secondary_old_call else None
    primary, secondary = _calls(state, event.primary_old_call.call_id, secondary_id)
    if primary is None:
        return
    conferencing = event.conferencing_device or event.primary_old_call.device_id
    added = event.added_party
    primary = _rekeyed(state, primary, event.conference_connections)
    consulting = (
        state.party(dn, secondary.conn_id) if secondary is not None and dn == conferencing else None
    )
    moved = _move(state, dn, primary, event.conference_connections)
    _merged(state, primary, secondary)
    own = state.party(dn, primary.conn_id)
    if dn == conferencing and own is not None:
        _conferencer(state, primary, secondary, own, consulting, added)
        return
    if own is None:
        return
    if dn in moved:
        state.emit(
            _changed(
                primary,
                own,
                conferencing,
                CallState.CONFERENCED,
                previous=moved[dn],
                role=DNRole.CONFERENCED_BY,
            )
        )
        return
    state.emit(_added(primary, own, added, conferencing))


def _conferencer(
    state: State,
    primary: Call,
    secondary: Call | None,
    own: Party,
    consulting: Party | None,
    added: DeviceId | None,
) -> None:
    if secondary is not None and consulting is not None:
        released = PartyReleased(call=secondary, party=consulting, call_state=CallState.CONFERENCED)
        leave(state, released)
    own = own.changed(state=PartyState.ESTABLISHED)
    state.emit(PartyRetrieved(call=primary, party=own))
    state.emit(_added(primary, own, added, own.dn))


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
