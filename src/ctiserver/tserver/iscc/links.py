"""ISCC links: the instances of one call at several sites, and what crosses between them
(docs/iscc.md).

A call matched across sites is linked to its instance there (one link per transaction
that moved it).  A UserData change at either end is sent to the other (DataChanged);
a transfer or conference that merges a linked call into another carries the link along
and tells the other site (Relinked); an instance that ends tells the others (Unlinked).
A call that left this switch but still joins two other sites (A -> here -> C) stays as
a relay: their changes pass through it until one of them ends.  With
`event-propagation`, the party events of a linked call are told to the other sites too
(PartyEvent), for their clients to hear as EventPartyChanged-style notices.
"""

from __future__ import annotations

from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ConnId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.transactions import Link, Transactions
from ctiserver.model.values import Call, Origin
from ctiserver.tlib.vocabulary import KVList
from ctiserver.tserver.port import Core


class Announcer(Protocol):
    """What the links need of the core besides its handler verbs."""

    def replace_user_data(self, conn_id: ConnId, data: KVList, at: Instant) -> bool: ...

    def announce(self, conn_id: ConnId, by: DeviceId, at: Instant, *, told_by: str) -> None: ...

    def relinked(self, conn_id: ConnId, origin: Origin, at: Instant) -> None: ...


class CallLinks:
    def __init__(self, core: Core, announcer: Announcer, table: Transactions) -> None:
        self._core = core
        self._announcer = announcer
        self._table = table

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
                self._announcer.relinked(ours, Origin(location, conn_id, call.origin.dn), at)

    def unlinked(self, location: str, message: p.Unlinked) -> None:
        self._table.unlink(ConnId(message.conn_id), location, message.far_conn_id)

    def call_ended(self, conn_id: ConnId, *, in_flight: bool = False) -> None:
        """Our call *conn_id* ended here: the sites it is linked to forget us, unless it
        still joins two sites (or is *in_flight* to one): then it relays between them."""
        self._unlinked(conn_id, self._table.call_ended(conn_id, in_flight=in_flight))

    def settle(self, conn_id: ConnId) -> None:
        """A transaction moving relayed call *conn_id* elsewhere ended without it."""
        self._unlinked(conn_id, self._table.settle(conn_id))

    def _unlinked(self, conn_id: ConnId, links: list[Link]) -> None:
        for link in links:
            self._core.to_peer(link.location, p.Unlinked(conn_id=link.conn_id, far_conn_id=conn_id))

    def location_down(self, location: str) -> None:
        self._table.location_down(location)
