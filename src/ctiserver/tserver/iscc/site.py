"""ISCC in the T-Server core: this site's part in moving calls and their data between
sites.  It joins the three sides (iscc.origin, iscc.destination, iscc.links) over one
transaction table, sends each peer message to the side it is for, keeps which peers are
up, and ends what is past its time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ConnId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.settings import IsccSettings
from ctiserver.iscc.transactions import Link, Transactions
from ctiserver.model.changes import PartyChange
from ctiserver.tlib.errors import TError
from ctiserver.tserver.iscc.destination import Arrivals, DestinationSide
from ctiserver.tserver.iscc.links import Announcer, CallLinks
from ctiserver.tserver.iscc.origin import Origins, OriginSide
from ctiserver.tserver.iscc.refusals import IsccRefused
from ctiserver.tserver.port import Core, Site

log = logging.getLogger(__name__)


class Host(Core, Origins, Arrivals, Announcer, Protocol):
    """The core, as ISCC uses it."""


class Iscc:
    def __init__(self, core: Host, settings: IsccSettings) -> None:
        self.settings = settings
        self.table = Transactions(core.settings.location)
        self.up: set[str] = set()
        self.incompatible: dict[str, str] = {}  # location -> the protocol version it spoke
        self.links = CallLinks(core, core, self.table, propagate=settings.event_propagation)
        self.destination = DestinationSide(core, core, settings, self.table, self.links)
        self.origin = OriginSide(
            core, core, settings, self.table, self, self.destination, self.links
        )
        self._core = core
        self._handlers: dict[type[Any], Callable[[str, Any, Instant], None]] = {
            p.Reserve: self._reserve,
            p.ReserveAgent: self._reserve,
            p.Reserved: self.origin.reserved,
            p.Refused: self._failed,
            p.Failed: self._failed,
            p.Cancel: self._cancel,
            p.CallIdentified: self.destination.identified,
            p.Started: self._started,
            p.Unlinked: self._unlinked,
            p.Relinked: self._relinked,
            p.Matched: self._matched,
            p.DataChanged: self.links.data_from_peer,
            p.PartyEvent: self.links.party_event_from_peer,
        }

    # --- peers ----------------------------------------------------------------------------

    def why_down(self, location: str) -> tuple[TError, str] | None:
        """Why requests for *location* cannot start now (None: its server is up)."""
        if location in self.up:
            return None
        version = self.incompatible.get(location)
        if version is not None:
            message = f"the CTI server of {location} speaks another ISCC protocol ({version})"
            return TError.WRONG_PROTOCOL_VERSION, message
        return TError.REMOTE_SERVER_DISCONNECTED, f"the CTI server of {location} is not connected"

    def site(self, location: str) -> Site | None:
        """What RequestQueryLocation says of *location* (None: no such peer)."""
        peer = self.settings.peers.get(location)
        if peer is None:
            return None
        if location in self.up:
            status = "connected"
        elif location in self.incompatible:
            status = "incompatible"
        else:
            status = "disconnected"
        return Site(location, status, peer.access_code)

    def sites(self) -> list[Site]:
        return [site for location in self.settings.peers if (site := self.site(location))]

    def peer_up(self, location: str) -> None:
        self.up.add(location)
        self.incompatible.pop(location, None)

    def peer_incompatible(self, location: str, version: str) -> None:
        if location not in self.up:  # not an impostor beside the real one
            self.incompatible[location] = version

    def peer_down(self, location: str, at: Instant) -> None:
        self.up.discard(location)
        self.incompatible.pop(location, None)
        self.links.location_down(location)
        self.origin.peer_down(location, at)
        self.destination.peer_down(location, at)

    # --- messages ---------------------------------------------------------------------------

    def received(self, location: str, message: p.PeerMessage, at: Instant) -> None:
        """A message from *location*: the side it is for handles it."""
        handler = self._handlers.get(type(message))
        if handler is not None:
            handler(location, message, at)

    def _reserve(self, location: str, message: p.Reserve, at: Instant) -> None:
        self._core.to_peer(location, self.destination.reserve(location, message, at))

    def _failed(self, location: str, message: p.Refused | p.Failed, at: Instant) -> None:
        self.origin.failed(location, message.xid, message.code, message.message, at)

    def _cancel(self, location: str, message: p.Cancel, at: Instant) -> None:
        self.destination.cancel(location, message.xid, at)

    def _started(self, location: str, message: p.Started, at: Instant) -> None:
        if not self.destination.started(location, message):
            self.links.relinked(location, message.xid, message.conn_id, at)

    def _relinked(self, location: str, message: p.Relinked, at: Instant) -> None:
        self.links.relinked(location, message.xid, message.conn_id, at)

    def _unlinked(self, location: str, message: p.Unlinked, at: Instant) -> None:
        self.links.unlinked(location, message)

    def _matched(self, location: str, message: p.Matched, at: Instant) -> None:
        """The call arrived there: link it to its instance there, then tell the client
        (in that order: ending the transaction may end a relay that the link keeps)."""
        outgoing = self.table.outgoing.get(message.xid)
        if outgoing is None or outgoing.location != location:
            return
        linked = outgoing.moved_call or outgoing.conn_id
        if linked is not None:
            link = Link(location, message.conn_id, outgoing.this_dn, outgoing.xid)
            self.links.link(linked, link)
        self.origin.matched(location, message, at)

    # --- time -------------------------------------------------------------------------------

    def tick(self, at: Instant) -> None:
        outgoing, reservations = self.table.expired(at.monotonic)
        self.origin.expired(outgoing, at)
        self.destination.expired(reservations, at)

    def next_deadline(self) -> float | None:
        times = [self.origin.next_deadline(), self.destination.next_deadline()]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def call_ended(self, conn_id: ConnId) -> None:
        """Our call *conn_id* ended here (a relay, if it is on its way to another site)."""
        self.links.call_ended(conn_id, in_flight=self.origin.in_flight(conn_id))

    def released(self) -> list[PartyChange]:
        """Call changes that arriving calls held back and may now be published."""
        return self.destination.take_released()


__all__ = ["Iscc", "IsccRefused"]
