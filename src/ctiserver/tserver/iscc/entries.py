"""The core's ISCC side (docs/iscc.md): what the peering tells the core (another site's
server is up, down or speaks another version; a message from it), and the verbs ISCC
(tserver.iscc.site: origin, destination, links) asks of the core.

IsccEntries is a part of TServerCore (tserver.core), written apart: its methods are the
core's own (`core.peer_message(...)`), so nothing stands between a caller and them.
Without `[iscc]` (core.iscc is None) the entry points do nothing but flush.  Host says
what of the core they read and change.
"""

from __future__ import annotations

import logging
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ConnId, DeviceId
from ctiserver.iscc.protocol import PeerMessage
from ctiserver.iscc.transactions import Purpose
from ctiserver.model.model import Model
from ctiserver.model.values import Origin
from ctiserver.tlib.vocabulary import KVList, ServerRole
from ctiserver.tserver import dispatch, queries
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import Output, RequestContext, SendToPeer, Site
from ctiserver.tserver.publishing import Publisher

log = logging.getLogger(__name__)


class Host(dispatch.Host, Protocol):
    """The core, as its ISCC side uses it (and dispatch, to carry a request out)."""

    _model: Model
    _role: ServerRole
    _publisher: Publisher
    _out: list[Output]
    clients: Clients
    iscc: Iscc | None

    def _flush(self) -> list[Output]: ...

    def _publish_released(self, at: Instant) -> None: ...


class IsccEntries:
    # --- what the peering tells the core ------------------------------------------------

    def peer_up(self: Host, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_up(location)
            _site_changed(self, before, location, at)
        return self._flush()

    def peer_incompatible(self: Host, location: str, version: str, at: Instant) -> list[Output]:
        """The server of *location* greeted us in another protocol version."""
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_incompatible(location, version)
            _site_changed(self, before, location, at)
        return self._flush()

    def peer_down(self: Host, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_down(location, at)
            _site_changed(self, before, location, at)
        return self._flush()

    def peer_message(self: Host, location: str, message: PeerMessage, at: Instant) -> list[Output]:
        """A message from another site; one that cannot be handled is logged and dropped,
        and the server carries on."""
        if self.iscc is not None and self._role is ServerRole.PRIMARY:
            try:
                self.iscc.received(location, message, at)
            except Exception:
                log.exception("ISCC %s from %s could not be handled", message.TYPE, location)
            self._publish_released(at)
        return self._flush()

    def _publish_released(self: Host, at: Instant) -> None:
        """Events of arriving calls that ISCC held back and now lets go (in order)."""
        if self.iscc is not None:
            for change in self.iscc.released():
                self._publisher.publish(change, at)

    # --- port: what ISCC asks of the core -----------------------------------------------

    def to_peer(self: Host, location: str, message: PeerMessage) -> None:
        self._out.append(SendToPeer(location, message))

    def sites(self: Host) -> list[Site] | None:
        return None if self.iscc is None else self.iscc.sites()

    def carry_out(self: Host, ctx: RequestContext, purpose: Purpose, to: Destination) -> None:
        """Do what *ctx* asked, with *to* (an access number) as its destination."""
        dispatch.carry_out(self, ctx, purpose, to)

    def new_conn_id(self: Host) -> ConnId:
        """A ConnID for a call not made yet (ISCC tells the other site first)."""
        return self._model.conn_ids.allocate()

    def came_from(
        self: Host, conn_id: ConnId, origin: Origin, user_data: KVList, at: Instant
    ) -> None:
        self.change(self._model.came_from(conn_id, origin, user_data), at)

    def relinked(self: Host, conn_id: ConnId, origin: Origin, at: Instant) -> None:
        self.change(self._model.relinked(conn_id, origin), at)

    def replace_user_data(self: Host, conn_id: ConnId, data: KVList, at: Instant) -> bool:
        return self.attach(conn_id, data, at, clear=True)

    def announce(self: Host, conn_id: ConnId, by: DeviceId, at: Instant, *, told_by: str) -> None:
        self._publisher.user_data_changed(conn_id, by, at, told_by=told_by)


def _site_changed(core: Host, before: Site | None, location: str, at: Instant) -> None:
    """Tell the clients monitoring *location* (RequestQueryLocation) of a change."""
    assert core.iscc is not None
    after = core.iscc.site(location)
    if after is None or after == before:
        return
    registry = core.clients.registry
    watchers = dict.fromkeys(
        (
            *registry.clients_of(queries.site_subscription(location)),
            *registry.clients_of(queries.EVERY_SITE),
        )
    )
    if watchers:
        core.send(queries.site_event(after), watchers, at)
