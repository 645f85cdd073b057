"""The asyncio engine around TServerCore: it feeds the core and performs its outputs.

Inputs arrive from client connections (requests), from the link supervisor (events,
link state, snapshots) and from a periodic tick (request deadlines).  Each input is one
synchronous call into the core; the outputs are performed before the next input:
events are encoded once per distinct event and queued on each recipient's connection,
requests are submitted to the link with a callback that feeds the answer back.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from ctiserver.clock import Clock
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.errors import LinkDown
from ctiserver.ids import ClientId, DeviceId
from ctiserver.iscc.peering import Peering
from ctiserver.iscc.protocol import PeerMessage
from ctiserver.link.supervisor import AgentSnapshot, LinkSupervisor, Snapshot
from ctiserver.model.states import DnKind
from ctiserver.tlib.codec import encode_event
from ctiserver.tlib.requests import InvalidRequest
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.core import ChangeMonitors, Deliver, Output, SendToSwitch, TServerCore
from ctiserver.tserver.iscc import SendToPeer

log = logging.getLogger(__name__)

TICK_INTERVAL = 0.2


class ClientPeer(Protocol):
    """What the runtime needs of a client connection, whatever its transport."""

    name: str

    def send(self, data: bytes) -> None:
        """Queue one encoded event (a JSON line); never blocks."""

    def close(self, reason: str) -> None: ...


class Metrics(Protocol):
    def event_sent(self, name: str, copies: int) -> None: ...

    def request_handled(self, name: str) -> None: ...


class Runtime:
    def __init__(self, core: TServerCore, *, clock: Clock, metrics: Metrics | None = None) -> None:
        self.core = core
        self.clock = clock
        self.link: LinkSupervisor | None = None
        self.peering: Peering | None = None
        self._metrics = metrics
        self._peers: dict[ClientId, ClientPeer] = {}
        self._ids = itertools.count(1)
        self._monitor_changes: list[asyncio.Task[None]] = []
        self.link_ready = asyncio.Event()  # set while the link to the switch is up
        self._peers_ready: dict[str, asyncio.Event] = {}
        self._event_listeners: list[Callable[[Deliver], None]] = []
        # What this server is to its clients: "standalone" without [ha]; a hot-standby
        # pair's member says "primary" or "backup" (DESIGN.md § 7).
        self.role = "standalone"

    # --- clients ------------------------------------------------------------------------

    def attach(self, peer: ClientPeer) -> ClientId:
        client = ClientId(next(self._ids))
        self._peers[client] = peer
        self.core.client_connected(client)
        log.info("client %s connected as %s", peer.name, client)
        return client

    def detach(self, client: ClientId) -> None:
        peer = self._peers.pop(client, None)
        if peer is not None:
            self.core.client_disconnected(client)
            log.info("client %s (%s) disconnected", client, peer.name)

    def close_clients(self, reason: str) -> None:
        for peer in list(self._peers.values()):
            peer.close(reason)

    @property
    def client_count(self) -> int:
        return len(self._peers)

    def on_request(self, client: ClientId, message: TMessage) -> None:
        if self._metrics is not None:
            self._metrics.request_handled(message["Request"])
        self.perform(self.core.request(client, message, self.clock.now()))

    def on_invalid(self, client: ClientId, problem: InvalidRequest) -> None:
        self.perform(self.core.invalid_request(client, problem, self.clock.now()))

    # --- the link (LinkHooks) ------------------------------------------------------------

    def monitored_dns(self) -> list[DeviceId]:
        return self.core.monitored_dns()

    def on_link_up(self) -> None:
        log.info("link to the switch is up")
        self.link_ready.set()
        self.perform(self.core.link_up(self.clock.now()))

    def on_link_down(self) -> None:
        log.warning("link to the switch is down")
        self.link_ready.clear()
        self.perform(self.core.link_down(self.clock.now()))

    def on_csta_event(self, dn: DeviceId, event: Event) -> None:
        self.perform(self.core.csta_event(dn, event, self.clock.now()))

    def on_csta_invocation(self, message: Unconfirmed) -> None:
        self.perform(self.core.csta_invocation(message, self.clock.now()))

    def routing_points(self) -> list[DeviceId]:
        return self.core.routing_points()

    def on_resync(
        self, snapshot: Snapshot, scope: Sequence[DeviceId], agents: AgentSnapshot
    ) -> None:
        self.perform(self.core.resync(snapshot, self.clock.now(), scope, agents))

    def stations(self, dns: Sequence[DeviceId]) -> list[DeviceId]:
        return [dn for dn in dns if self.core.model.dns.get(dn) is DnKind.EXTENSION]

    # --- other sites (PeerHooks) --------------------------------------------------------

    def on_peer_up(self, location: str) -> None:
        self.peer_ready(location).set()
        self.perform(self.core.peer_up(location, self.clock.now()))

    def on_peer_down(self, location: str) -> None:
        self.peer_ready(location).clear()
        self.perform(self.core.peer_down(location, self.clock.now()))

    def on_peer_incompatible(self, location: str, version: str) -> None:
        self.perform(self.core.peer_incompatible(location, version))

    def peer_ready(self, location: str) -> asyncio.Event:
        """Set while the ISCC link to *location* is up."""
        return self._peers_ready.setdefault(location, asyncio.Event())

    def on_peer_message(self, location: str, message: PeerMessage) -> None:
        self.perform(self.core.peer_message(location, message, self.clock.now()))

    # --- configuration ------------------------------------------------------------------

    async def reconfigure(self, dns: Mapping[DeviceId, DnKind]) -> None:
        """Take a new DN table; returns once the link monitors the new DNs (if it is up)."""
        self.perform(self.core.reconfigure(dns, self.clock.now()))
        changes, self._monitor_changes = self._monitor_changes, []
        if changes:
            await asyncio.wait(changes)

    # --- outputs ------------------------------------------------------------------------

    def perform(self, outputs: list[Output]) -> None:
        for output in outputs:
            match output:
                case Deliver():
                    self._deliver(output)
                case SendToSwitch(token=token, request=request):
                    self._send(token, request)
                case SendToPeer(location=location, message=message):
                    if self.peering is not None:
                        self.peering.send(location, message)
                case ChangeMonitors(start=start, stop=stop):
                    task = self.link.change_monitors(start, stop) if self.link else None
                    if task is not None:
                        self._monitor_changes.append(task)

    def _deliver(self, delivery: Deliver) -> None:
        copies = 0
        for clients, event in delivery.copies():
            data = encode_event(event)
            for client in clients:
                peer = self._peers.get(client)
                if peer is not None:
                    peer.send(data)
            copies += len(clients)
        if self._metrics is not None:
            self._metrics.event_sent(delivery.event["Event"], copies)
        for listener in self._event_listeners:
            listener(delivery)

    def add_event_listener(self, listener: Callable[[Deliver], None]) -> None:
        """Call *listener* with every event the core produces, once each, whoever
        receives it (nobody included): for the dashboard, the trace and the export.
        A listener must not block; an exception in it is logged and the event goes on."""
        self._event_listeners.append(_guarded(listener))

    def _send(self, token: int, request: Request | Unconfirmed) -> None:
        def answered(reply: Response | BaseException) -> None:
            now = self.clock.now()
            if isinstance(reply, BaseException):
                self.perform(self.core.csta_failure(token, reply, now))
            else:
                self.perform(self.core.csta_answer(token, reply, now))

        if self.link is None:
            answered(LinkDown("no link to the switch is configured"))
        elif isinstance(request, Unconfirmed):
            try:
                self.link.send_unconfirmed(request)
            except LinkDown as exc:
                answered(exc)
        else:
            self.link.submit(request, answered)

    # --- time ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Tick the core so that requests the switch never answered get EventError 57."""
        while True:
            await asyncio.sleep(TICK_INTERVAL)
            if len(self.core.correlator) or self.core.iscc is not None:
                self.perform(self.core.tick(self.clock.now()))


def _guarded(listener: Callable[[Deliver], None]) -> Callable[[Deliver], None]:
    def call(delivery: Deliver) -> None:
        try:
            listener(delivery)
        except Exception:
            log.exception("an event listener failed on %s", delivery.event.get("Event"))

    return call
