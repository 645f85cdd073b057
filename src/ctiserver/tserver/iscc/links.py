"""ISCC links: the instances of one call at several sites, and what crosses between them
(docs/iscc.md).

A call matched across sites is linked to its instance there (one link per transaction
that moved it).  A UserData change at either end is sent to the other (DataChanged);
a transfer or conference that merges a linked call into another carries the link along
and tells the other site (Relinked); an instance that ends tells the others (Unlinked).
A call that left this switch but still joins two other sites (A -> here -> C) stays as
a relay: their changes pass through it until one of them ends.  With
`event-propagation`, a linked call's EventPartyChanged, EventPartyAdded and
EventPartyDeleted here are told to the other sites (PartyEvent), whose parties on the
call hear the same event, with RemoteLocation, RemoteConnID and RemoteDN saying where.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ConnId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.transactions import Link, Transactions
from ctiserver.model.changes import PartyChange
from ctiserver.model.values import Call, Origin
from ctiserver.tlib.vocabulary import CallState, KVList
from ctiserver.tserver.events import REMOTE_PARTY_EVENTS, remote_party_event
from ctiserver.tserver.port import Core


class Announcer(Protocol):
    """What the links need of the core besides its handler verbs."""

    def replace_user_data(self, conn_id: ConnId, data: KVList, at: Instant) -> bool: ...

    def announce(self, conn_id: ConnId, by: DeviceId, at: Instant, *, told_by: str) -> None: ...

    def relinked(self, conn_id: ConnId, origin: Origin, at: Instant) -> None: ...


class CallLinks:
    def __init__(
        self, core: Core, announcer: Announcer, table: Transactions, *, propagate: bool
    ) -> None:
        self._core = core
        self._announcer = announcer
        self._table = table
        self._propagate = propagate  # [iscc] event-propagation
        self._last_told: dict[ConnId, tuple[str, str, str]] = {}

    def link(self, conn_id: ConnId, link: Link) -> None:
        self._table.link(conn_id, link)

    # --- UserData across sites ------------------------------------------------------------

    def data_changed(self, call: Call, by: DeviceId, *, told_by: str = "") -> None:
        """A change of a linked call's UserData: tell the other sites (but *told_by*)."""
        self._send_data(call.conn_id, call.user_data, by, told_by)

    def _send_data(self, conn_id: ConnId, data: KVList, by: str, told_by: str) -> None:
        for link in self._table.links_of(conn_id):
            if link.location != told_by:
                message = p.DataChanged(conn_id=link.conn_id, user_data=dict(data), by=by)
                self._core.to_peer(link.location, message)

    def data_from_peer(self, location: str, message: p.DataChanged, at: Instant) -> None:
        """Another site changed a linked call's UserData: here too, and on to the rest."""
        conn_id = ConnId(message.conn_id)
        if self._core.model.call(conn_id) is None:
            self._relay(location, message)
            return
        if self._announcer.replace_user_data(conn_id, message.user_data, at):
            self._announcer.announce(conn_id, DeviceId(message.by), at, told_by=location)

    def _relay(self, location: str, message: p.DataChanged) -> None:
        """A call gone from here still joins two sites: pass their changes on."""
        conn_id = ConnId(message.conn_id)
        relayed = self._table.relays.get(conn_id)
        if relayed is None or relayed == message.user_data:
            return
        self._table.relays[conn_id] = dict(message.user_data)
        self._send_data(conn_id, message.user_data, message.by, location)

    # --- party events across sites (event-propagation) -------------------------------------

    def party_changed(self, change: PartyChange, name: str) -> None:
        """A party event of a linked call here: the other sites hear who took over (a
        transfer), joined or left (a conference), once per call however many of our
        parties heard it."""
        if not self._propagate or name not in REMOTE_PARTY_EVENTS:
            return
        other = _remote_other(change, name)
        if other is None:
            return
        by = str(change.third_party_dn or "")
        key = (name, str(other), by)
        conn_id = change.call.conn_id
        if self._last_told.get(conn_id) == key:
            return
        self._last_told[conn_id] = key
        for link in self._table.links_of(conn_id):
            message = p.PartyEvent(
                conn_id=link.conn_id,
                event=name,
                other_dn=other,
                by=by,
                call_state=change.call_state.value,
            )
            self._core.to_peer(link.location, message)

    def party_event_from_peer(self, location: str, message: p.PartyEvent, at: Instant) -> None:
        """A party event of our call's instance at *location*: our parties hear of it (a
        call gone from here but joining two sites passes it on)."""
        conn_id = ConnId(message.conn_id)
        call = self._core.model.call(conn_id)
        if call is None:
            for link in self._table.links_of(conn_id) if conn_id in self._table.relays else []:
                if link.location != location:
                    self._core.to_peer(link.location, replace(message, conn_id=link.conn_id))
            return
        far = next(
            (link.conn_id for link in self._table.links_of(conn_id) if link.location == location),
            "",
        )
        for party in self._core.model.present(conn_id):
            if not self._core.model.is_ours(party.dn):
                continue
            event = remote_party_event(
                message.event,
                call,
                party,
                location=location,
                far_conn_id=far,
                far_dn=message.other_dn,
                other_dn=message.other_dn,
                by=message.by,
                call_state=message.call_state,
            )
            self._core.send(event, self._core.clients_of(party.dn), at)

    # --- the calls changing ---------------------------------------------------------------

    def merged(self, merged: ConnId, into: ConnId) -> None:
        """A transfer joined *merged* into *into*: a link to another site follows."""
        for link in self._table.merge_links(merged, into):
            if link.xid:
                self._core.to_peer(link.location, p.Relinked(xid=link.xid, conn_id=into))

    def relinked(self, location: str, xid: str, conn_id: str, at: Instant) -> None:
        """The other end of the link made by *xid* is *conn_id* at *location* now."""
        for ours, old in self._table.relink(location, xid, conn_id):
            call = self._core.model.call(ours)
            if call is None or call.origin is None:
                continue
            if (call.origin.location, call.origin.conn_id) == (location, old.conn_id):
                self._announcer.relinked(ours, replace(call.origin, conn_id=conn_id), at)

    def unlinked(self, location: str, message: p.Unlinked) -> None:
        self._table.unlink(ConnId(message.conn_id), location, message.far_conn_id)

    def call_ended(self, conn_id: ConnId, *, in_flight: bool = False) -> None:
        """Our call *conn_id* ended here: the sites it is linked to forget us, unless it
        still joins two sites (or is *in_flight* to one): then it relays between them."""
        self._last_told.pop(conn_id, None)
        self._unlinked(conn_id, self._table.call_ended(conn_id, in_flight=in_flight))

    def settle(self, conn_id: ConnId) -> None:
        """A transaction moving relayed call *conn_id* elsewhere ended without it."""
        self._unlinked(conn_id, self._table.settle(conn_id))

    def _unlinked(self, conn_id: ConnId, links: list[Link]) -> None:
        for link in links:
            self._core.to_peer(link.location, p.Unlinked(conn_id=link.conn_id, far_conn_id=conn_id))

    def location_down(self, location: str) -> None:
        self._table.location_down(location)


def _remote_other(change: PartyChange, name: str) -> str | None:
    """The party the other sites see come or go: the one that moved into the call by a
    transfer (EventPartyChanged with a PreviousConnID), joined or left a conference."""
    if name == "EventPartyChanged":
        moved = change.previous_conn_id is not None
        transfer = change.call_state is CallState.TRANSFERRED
        return change.party.dn if moved and transfer else None
    return change.other_dn
