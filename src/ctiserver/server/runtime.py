"""The asyncio engine around TServerCore: it feeds the core and performs its outputs.

Inputs arrive from client connections (requests), from the link supervisor (events,
link state, snapshots) and from a periodic tick (request deadlines).  Each input is one
synchronous call into the core; the outputs are performed before the next input:
events are encoded once per distinct event and queued on each recipient's connection,
requests are submitted to the link with a callback that feeds the answer back.

A client's request goes through access control (server.access) before the core: a
request refused there is answered with EventError and never reaches the switch.

Around each input the runtime opens a log context (logs.context: the client, the DN,
the call) so that every line logged while the core handles it says what it is about;
it traces requests in and events out (logs.trace) and times requests to their answer
and CSTA events to the T-Library events they cause (the Metrics hooks).

The shells read the core through `view` (tserver.view.CoreView): the trace, the logs
and the metrics by `known_calls()`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from ctiserver.clock import Clock
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.errors import LinkDown
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.iscc.peering import Peering
from ctiserver.iscc.protocol import PeerMessage, Refused, Reserve
from ctiserver.jetstream.export import EventExport
from ctiserver.link.features import FeatureSnapshot
from ctiserver.link.supervisor import AgentSnapshot, LinkSupervisor, Snapshot
from ctiserver.link.trace import first_call_id
from ctiserver.logs.context import about, enter, leave
from ctiserver.logs.trace import Tracer, TraceRecord
from ctiserver.model.states import DnKind
from ctiserver.security.applications import Refusal
from ctiserver.security.authentication import Directory
from ctiserver.security.data import DEFAULT_USER_DATA_LIMIT, peer_user_data_refusal
from ctiserver.server.access import DEFAULT_IN_FLIGHT, Access
from ctiserver.tlib.codec import encode_event
from ctiserver.tlib.requests import InvalidRequest
from ctiserver.tlib.vocabulary import KVList, TMessage
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import (
    AuditCalls,
    ChangeMonitors,
    Deliver,
    Journal,
    Output,
    Resend,
    SendToPeer,
    SendToSwitch,
)
from ctiserver.tserver.view import CoreView, KnownCall

log = logging.getLogger(__name__)
troubles = RateLimitedLog(log)

MAX_TIMED_REQUESTS = 1 << 16  # requests waiting for their answer, for the histogram


class ClientPeer(Protocol):
    """What the runtime needs of a client connection, whatever its transport."""

    name: str
    address: str  # the remote host, for per-address limits

    def send(self, data: bytes) -> None:
        """Queue one encoded event (a JSON line); never blocks."""

    def close(self, reason: str) -> None:
        """Close the connection once what is queued for it is written."""

    def ready(self) -> None:
        """Take requests again: the client is no longer at its in-flight limit."""

    def on_registered(self) -> None:
        """The client registered: it has proved itself at its listener's door."""


class Gate(Protocol):
    """Holds events until what caused them is durable, then calls Runtime.release."""

    def hold(self, output: Deliver | Resend) -> None: ...


class Metrics(Protocol):
    def event_sent(self, name: str, copies: int) -> None: ...

    def request_handled(self, name: str) -> None: ...

    def authentication_failed(self) -> None: ...

    def request_answered(self, name: str, seconds: float) -> None: ...

    def csta_event_handled(self, seconds: float) -> None: ...


class Runtime:
    def __init__(
        self,
        core: TServerCore,
        *,
        clock: Clock,
        metrics: Metrics | None = None,
        tracer: Tracer | None = None,
        directory: Directory | None = None,
        user_data_limit: int = DEFAULT_USER_DATA_LIMIT,
        requests_in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.core = core
        self.view = CoreView(core)  # what the operator's surfaces read
        self.clock = clock
        self.link: LinkSupervisor | None = None
        self.peering: Peering | None = None
        self.export: EventExport | None = None  # the event stream ([export] events)
        self._metrics = metrics
        self.tracer = tracer or Tracer()
        self._peers: dict[ClientId, ClientPeer] = {}
        self._names: dict[ClientId, str] = {}  # "3 tcp:127.0.0.1:5000 (desk)"
        self._asked: dict[tuple[ClientId, int], tuple[str, float]] = {}  # request timing
        self._ids = itertools.count(1)
        self._monitor_changes: list[asyncio.Task[None]] = []
        self.link_ready = asyncio.Event()  # set while the link to the switch is up
        self._peers_ready: dict[str, asyncio.Event] = {}
        self._event_listeners: list[Callable[[Deliver], None]] = []
        self._journal_listeners: list[Callable[[Journal], None]] = []
        self._gate: Gate | None = None
        self._token_owners: dict[int, ClientId] = {}  # requests at the switch, by token
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None  # the core's monotonic time it fires at
        self._loop: asyncio.AbstractEventLoop | None = None  # once run() runs
        self._rescheduling = False  # the next deadline is to be asked this turn
        self.access = Access(
            self,
            directory=directory or Directory({}, require_auth=False),
            user_data_limit=user_data_limit,
            in_flight=requests_in_flight,
        )
        self.add_event_listener(self._observe)
        # What this server is to its clients: "standalone" without [ha]; a hot-standby
        # pair's member says "primary" or "backup" (DESIGN.md § 7).
        self.role = "standalone"

    def replace_core(self, core: TServerCore) -> None:
        """Go on with *core* (a member of a pair that starts again as backup); clients
        should be closed first: their registrations were the old core's."""
        self.core = core
        self.view = CoreView(core)
        self._token_owners.clear()
        if self.link is not None and self.link.up:
            self.perform(core.link_up(self.clock.now()))

    # --- clients ------------------------------------------------------------------------

    def attach(self, peer: ClientPeer) -> ClientId:
        client = ClientId(next(self._ids))
        self._peers[client] = peer
        self.access.opened(client, peer.address)
        self._names[client] = f"{client} {peer.name}"
        self.core.client_connected(client)
        # DEBUG until it registers: a flood of connections must not flood the log
        log.debug("client %s connected as %s", peer.name, client)
        return client

    def detach(self, client: ClientId) -> None:
        peer = self._peers.pop(client, None)
        if peer is not None:
            registered = self.access.registered(client)
            self.access.closed(client)
            with about(client=self._names.get(client)):
                self.perform(self.core.client_disconnected(client, self.clock.now()))
                log.log(
                    logging.INFO if registered else logging.DEBUG,
                    "client %s (%s) disconnected",
                    client,
                    peer.name,
                )
        self._names.pop(client, None)
        for asked in [key for key in self._asked if key[0] == client]:
            del self._asked[asked]

    def client_name(self, client: ClientId) -> str:
        """The client's number, address and application name, for logs and the trace."""
        return self._names.get(client, str(client))

    def close_clients(self, reason: str) -> None:
        for peer in list(self._peers.values()):
            peer.close(reason)

    @property
    def client_count(self) -> int:
        return len(self._peers)

    def registered(self, client: ClientId) -> bool:
        """Whether *client* has registered (RequestRegisterClient, authenticated)."""
        return self.access.registered(client)

    def busy(self, client: ClientId) -> bool:
        """Whether *client* is at its limit of requests in flight: take no more now."""
        return self.access.busy(client)

    def on_request(self, client: ClientId, message: TMessage) -> None:
        name = message["Request"]
        if name == "RequestRegisterClient" and client in self._peers:
            self._names[client] = (
                f"{client} {self._peers[client].name} ({message.get('ApplicationName', '')})"
            )
        if self._metrics is not None:
            self._metrics.request_handled(name)
            reference = message.get("ReferenceID")
            if isinstance(reference, int) and len(self._asked) < MAX_TIMED_REQUESTS:
                self._asked[client, reference] = (name, time.perf_counter())
        who = self._names.get(client)
        if self.tracer.active:
            self.tracer.tlib("in", who or str(client), message)
        # The context covers access control too: its refusals, and an authentication
        # that goes on in a task of its own (a task starts in the context it was made in).
        token = enter(client=who, dn=message.get("ThisDN"), conn_id=message.get("ConnID"))
        try:
            self.access.request(client, message)
        finally:
            leave(token)

    def on_invalid(self, client: ClientId, problem: InvalidRequest) -> None:
        who = self._names.get(client, str(client))
        if self.tracer.active and self.tracer.wants(()):
            wire = f"(not a request: {problem.message})"
            self.tracer.emit(TraceRecord("tlib", "in", who, wire))
        with about(client=who):
            self.perform(self.core.invalid_request(client, problem, self.clock.now()))

    # --- access control (AccessHooks) ---------------------------------------------------

    def admit(self, client: ClientId, message: TMessage) -> None:
        outputs = self.core.request(client, message, self.clock.now())
        for output in outputs:  # the client's requests at the switch, until answered
            if isinstance(output, SendToSwitch) and isinstance(output.request, Request):
                self._token_owners[output.token] = client
                self.access.sent(client)
        self.perform(outputs)

    def refuse(self, client: ClientId, message: TMessage, refusal: Refusal) -> None:
        """The request was traced on its way in (on_request) and is answered in its log
        context (set there, or inherited by the authentication's task)."""
        problem = InvalidRequest(
            refusal.code, refusal.message, reference_id=message.get("ReferenceID", 0)
        )
        self.perform(self.core.invalid_request(client, problem, self.clock.now()))

    def disconnect(self, client: ClientId, reason: str) -> None:
        peer = self._peers.get(client)
        if peer is not None:
            peer.close(reason)

    def user_data_of(self, conn_id: str) -> KVList | None:
        """The one read of the core's model for access control: a call's UserData."""
        call = self.core.model.call(ConnId(conn_id))
        return None if call is None else call.user_data

    def authentication_failed(self) -> None:
        if self._metrics is not None:
            self._metrics.authentication_failed()

    def resume(self, client: ClientId) -> None:
        peer = self._peers.get(client)
        if peer is not None:
            peer.ready()

    def client_registered(self, client: ClientId) -> None:
        peer = self._peers.get(client)
        if peer is not None:
            log.info("client %s registered", self._names.get(client, client))
            peer.on_registered()

    # --- the link (LinkHooks) ------------------------------------------------------------

    def monitored_dns(self) -> list[DeviceId]:
        return self.core.monitored_dns()

    def on_link_up(self) -> None:
        log.info("link to the switch is up")
        self.link_ready.set()
        self.perform(self.core.link_up(self.clock.now()))

    def on_link_down(self) -> None:
        # The supervisor has said why, at the level the reason deserves.
        log.info(
            "link to the switch is down; %d calls kept until the resync", len(self.known_calls())
        )
        self.link_ready.clear()
        self.perform(self.core.link_down(self.clock.now()))

    def on_csta_event(self, dn: DeviceId, event: Event) -> None:
        arrived = self.link.arrived if self.link is not None else None
        token = enter(dn=dn, peer="switch", subject=event, resolve=self._call_of)
        try:
            outputs = self.core.csta_event(dn, event, self.clock.now())
            self.perform(outputs)
        finally:
            leave(token)
        if self._metrics is not None and arrived:
            for output in outputs:
                if isinstance(output, Deliver):  # it reached a client
                    self._metrics.csta_event_handled(time.perf_counter() - arrived)
                    break

    def on_csta_invocation(self, message: Unconfirmed) -> None:
        self.perform(self.core.csta_invocation(message, self.clock.now()))

    def routing_points(self) -> list[DeviceId]:
        return self.core.routing_points()

    def on_resync(
        self, snapshot: Snapshot, scope: Sequence[DeviceId], agents: AgentSnapshot
    ) -> None:
        before = {call.conn_id: call for call in self.known_calls()}
        with about(peer="switch"):
            outputs = self.core.resync(snapshot, self.clock.now(), scope, agents)
            after = {call.conn_id: call for call in self.known_calls()}
            _log_resync(len(snapshot), len(scope), before, after)  # before the events it causes
            self.perform(outputs)

    def on_features(self, features: FeatureSnapshot) -> None:
        with about(peer="switch"):
            self.perform(self.core.resync_features(features, self.clock.now()))

    def stations(self, dns: Sequence[DeviceId]) -> list[DeviceId]:
        return [dn for dn in dns if self.core.model.kind(dn) is DnKind.EXTENSION]

    # --- what the shells know of the core's calls ---------------------------------------

    def known_calls(self, call_id: str | None = None) -> list[KnownCall]:
        """The calls the core knows (the one with the switch's *call_id*, if given), for
        the trace, the logs and the metrics (CoreView.calls)."""
        return self.view.calls(call_id)

    def conn_id_of(self, call_id: str) -> str | None:
        """LinkHooks: the ConnID of the switch's *call_id*, if the server knows the call."""
        found = self.known_calls(call_id)
        return found[0].conn_id if found else None

    def _call_of(self, subject: object) -> dict[str, str]:
        """For a log line about a CSTA message: its callID and the call's ConnID."""
        call_id = first_call_id(subject) if isinstance(subject, Event | Unconfirmed) else None
        if call_id is None:
            return {}
        conn_id = self.conn_id_of(call_id)
        return {"call_id": call_id, "conn_id": conn_id} if conn_id else {"call_id": call_id}

    # --- other sites (PeerHooks) --------------------------------------------------------

    def on_peer_up(self, location: str) -> None:
        self.peer_ready(location).set()
        self.perform(self.core.peer_up(location, self.clock.now()))

    def on_peer_down(self, location: str) -> None:
        self.peer_ready(location).clear()
        self.perform(self.core.peer_down(location, self.clock.now()))

    def on_peer_incompatible(self, location: str, version: str) -> None:
        self.perform(self.core.peer_incompatible(location, version, self.clock.now()))

    def peer_ready(self, location: str) -> asyncio.Event:
        """Set while the ISCC link to *location* is up."""
        return self._peers_ready.setdefault(location, asyncio.Event())

    def on_peer_message(self, location: str, message: PeerMessage) -> None:
        conn_id = getattr(message, "conn_id", None) or getattr(message, "origin_conn_id", None)
        with about(peer=f"site {location}", conn_id=conn_id or None):
            refusal = peer_user_data_refusal(message, self.access.user_data_limit)
            if refusal is None:
                self.perform(self.core.peer_message(location, message, self.clock.now()))
                return
            troubles.warning(
                location, "ISCC %s from %s refused: %s", message.TYPE, location, refusal.message
            )
            if isinstance(message, Reserve) and self.peering is not None:
                self.peering.send(
                    location, Refused(xid=message.xid, code=refusal.code, message=refusal.message)
                )

    # --- configuration ------------------------------------------------------------------

    async def reconfigure(self, dns: Mapping[DeviceId, DnKind]) -> None:
        """Take a new DN table; returns once the link monitors the new DNs (if it is up)."""
        self.perform(self.core.reconfigure(dns, self.clock.now()))
        changes, self._monitor_changes = self._monitor_changes, []
        if changes:
            await asyncio.wait(changes)

    # --- outputs ------------------------------------------------------------------------

    def perform(self, outputs: list[Output]) -> None:
        gate = self._gate
        for output in outputs:
            if type(output) is Deliver or type(output) is Resend:
                if gate is None:
                    self.release(output)
                else:
                    gate.hold(output)
            else:
                self._act(output)
        self._schedule()

    def release(self, output: Deliver | Resend) -> None:
        """Send an event to its clients now (the gate calls this once it is durable)."""
        if isinstance(output, Deliver):
            self._deliver(output)
        else:
            self._resend(output.client, output.events)

    def _act(self, output: Output) -> None:
        match output:
            case Journal():
                for journal_listener in self._journal_listeners:
                    journal_listener(output)
            case SendToSwitch(token=token, request=request):
                self._send(token, request)
            case SendToPeer(location=location, message=message):
                if self.peering is not None:
                    self.peering.send(location, message)
            case ChangeMonitors(start=start, stop=stop):
                task = self.link.change_monitors(start, stop) if self.link else None
                if task is not None:
                    self._monitor_changes.append(task)
            case AuditCalls(calls=calls):
                if self.link is not None:
                    self.link.audit(calls, self._audited)

    def hold_events(self, gate: Gate | None) -> None:
        """Hand every event to *gate* instead of sending it (the primary of a pair sends
        an event once the journal holds what caused it); None: send them at once."""
        self._gate = gate

    def _audited(self, gone: Sequence[ConnId]) -> None:
        self.perform(self.core.audited(gone, self.clock.now()))

    def add_journal_listener(self, listener: Callable[[Journal], None]) -> None:
        """Call *listener* with the change records of each input, before its events."""
        self.core.journaling = True
        self._journal_listeners.append(listener)

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

    def _resend(self, client: ClientId, events: tuple[TMessage, ...]) -> None:
        """A resumed session's missed events, as they were first sent."""
        peer = self._peers.get(client)
        if peer is not None:
            for event in events:
                peer.send(encode_event(event))
        log.info("resumed session of client %s: %d missed events sent again", client, len(events))

    def _observe(self, delivery: Deliver) -> None:
        """The runtime's own event listener: the trace of events out and the time each
        request took to its first answer."""
        if delivery.answering is not None and self._asked:
            asked = self._asked.pop(delivery.answering, None)
            if asked is not None and self._metrics is not None:
                self._metrics.request_answered(asked[0], time.perf_counter() - asked[1])
        if self.tracer.active:
            for clients, event in delivery.copies():
                peer = ", ".join(self.client_name(c) for c in clients)
                self.tracer.tlib("out", peer, event)

    def add_event_listener(self, listener: Callable[[Deliver], None]) -> None:
        """Call *listener* with every event the core produces, once each, whoever
        receives it (nobody included): for the dashboard, the trace and the export.
        A listener must not block; an exception in it is logged and the event goes on."""
        self._event_listeners.append(_guarded(listener))

    def _send(self, token: int, request: Request | Unconfirmed) -> None:
        def answered(reply: Response | BaseException) -> None:
            if (owner := self._token_owners.pop(token, None)) is not None:
                self.access.switch_answered(owner)
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

    def _schedule(self) -> None:
        """Wake the core at its next deadline (request answers, ISCC, stuck calls).
        Asked once per turn of the loop, after all that the turn brought (a read from
        the switch brings many events), not after each."""
        loop = self._loop
        if loop is None:  # not running yet: at once
            self._reschedule()
        elif not self._rescheduling:
            self._rescheduling = True
            loop.call_soon(self._reschedule)

    def _reschedule(self) -> None:
        self._rescheduling = False
        deadline = self.core.next_deadline()
        if deadline is None or (self._timer_at is not None and self._timer_at <= deadline):
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, deadline - self.clock.now().monotonic)
        self._timer = (self._loop or asyncio.get_running_loop()).call_later(delay, self._tick)
        self._timer_at = deadline

    def _tick(self) -> None:
        self._timer = self._timer_at = None
        self.perform(self.core.tick(self.clock.now()))

    async def run(self) -> None:
        """Keep the core's timers until cancelled: EventError 57 for requests the switch
        never answered, ISCC transactions past their time, stuck calls."""
        self._loop = asyncio.get_running_loop()
        self._schedule()
        try:
            await asyncio.Event().wait()
        finally:
            self._loop, self._rescheduling = None, False  # a later run() schedules afresh
            if self._timer is not None:
                self._timer.cancel()


def _log_resync(
    on_switch: int, dns: int, before: dict[str, KnownCall], after: dict[str, KnownCall]
) -> None:
    """One line that says what the resync did to each call the server knew."""
    released = sorted(set(before) - set(after))
    found = sorted(set(after) - set(before))
    kept = len(set(before) & set(after))
    log.info(
        "resync of %d DNs: the switch has %d calls; %d kept, %d released%s, %d found%s",
        dns,
        on_switch,
        kept,
        len(released),
        f" (ended while the link was down: ConnID {', '.join(released)})" if released else "",
        len(found),
        f" (ConnID {', '.join(found)})" if found else "",
    )


def _guarded(listener: Callable[[Deliver], None]) -> Callable[[Deliver], None]:
    def call(delivery: Deliver) -> None:
        try:
            listener(delivery)
        except Exception:
            log.exception("an event listener failed on %s", delivery.event.get("Event"))

    return call
