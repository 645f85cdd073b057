"""The T-Server as a pure object: client requests and switch events in, outputs out.

TServerCore owns the model, the client registrations and the pending requests.  Its
entry points take an Instant and return the outputs (tserver.port) for the asyncio
runtime to perform.  It never waits and never fails: an exception in a handler becomes
EventError 52 and a log line, and the server carries on.

The handlers decide what a request does through the verbs of tserver.port.Core, which
this class implements; the change records that the model returns are journalled first
and then published (tserver.publishing) as events to the registrants of their DNs.
Every event is stamped here with Server, time and EventSequenceNumber (strictly
increasing per server, one number per event).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping

from ctiserver.clock import Instant
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.errors import CtiError, LinkDown
from ctiserver.ids import CallId, ClientId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.iscc.protocol import PeerMessage
from ctiserver.iscc.settings import IsccSettings
from ctiserver.iscc.transactions import Purpose
from ctiserver.model.changes import CallChange, Change, PartyChange
from ctiserver.model.model import Model
from ctiserver.model.resync import SnapshotAgent, SnapshotParty
from ctiserver.model.states import DnKind
from ctiserver.model.values import (
    AgentIntent,
    Call,
    DnFeatures,
    Monitoring,
    Origin,
    Reservation,
    Treatment,
)
from ctiserver.tlib.codec import format_time
from ctiserver.tlib.requests import InvalidRequest
from ctiserver.tlib.vocabulary import KVList, RegisterMode, ServerRole, TMessage
from ctiserver.tserver import dispatch, queries, treatments
from ctiserver.tserver.addresses import SERVER_VERSION
from ctiserver.tserver.answers import Answers
from ctiserver.tserver.call_monitoring import CallMonitor
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.cleanup import Cleanup
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.correlation import (
    Answer,
    Correlator,
    Pending,
)
from ctiserver.tserver.emulated import Features, Hook
from ctiserver.tserver.errors import (
    InvalidAttribute,
    error_code_for,
    error_message_for,
)
from ctiserver.tserver.events import ack_event, error_event, link_event, server_info, unregistered
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import (
    AuditCalls,
    ChangeMonitors,
    CoreSettings,
    Deliver,
    Journal,
    Output,
    Queries,
    RequestContext,
    Requester,
    Resend,
    SendToPeer,
    SendToSwitch,
    Site,
)
from ctiserver.tserver.publishing import Publisher
from ctiserver.tserver.registry import Registry
from ctiserver.tserver.reservations import Candidate
from ctiserver.tserver.sessions import Refusal, SessionFact

log = logging.getLogger(__name__)


class TServerCore:
    def __init__(
        self,
        *,
        settings: CoreSettings,
        dns: Mapping[DeviceId, DnKind],
        started: Instant,
        iscc: IsccSettings | None = None,
    ) -> None:
        self._settings = settings
        self.started = started
        self._wall_offset = started.wall - started.monotonic  # wall time = monotonic + this
        self._model = Model(
            dns=dns,
            conn_ids=ConnIdAllocator(int(started.wall * 1000)),
            consult_user_data=settings.options.consult_user_data,
            private_namespace=settings.private_namespace,
        )
        epoch = int(started.wall * 1000) & 0xFFFF_FFFF
        self.clients = Clients(
            window=settings.resume_window,
            max_events=settings.resume_max_events,
            prefix=f"{settings.member}{epoch:x}-",
        )
        self.correlator = Correlator()
        self._answers = Answers(self)
        self._link_connected = False
        self._role = ServerRole.PRIMARY
        self._sequence = 0
        self._journaled = 0  # the last EventSequenceNumber a Journal output carried
        self._out: list[Output] = []
        self._journal: list[Change] = []
        self._journaling = False  # keep the records for a Journal output (hot standby)
        self.iscc = Iscc(self, iscc) if iscc is not None else None
        self.cleanup = Cleanup(settings.cleanup)
        self._publisher = Publisher(self)
        self.features = Features(self, self._model)
        self._steps: dict[type[Change], tuple[Hook, ...]] = {}  # _steps_for(), by kind
        for kind, teller in self.features.tellers().items():
            self._publisher.add(kind, teller)
        self.call_monitor = CallMonitor(self)
        self._wall_offset = started.wall - started.monotonic  # wall times to monotonic

    # --- port: what handlers read ---------------------------------------------------------

    @property
    def settings(self) -> CoreSettings:
        return self._settings

    @property
    def model(self) -> Queries:
        return self._model

    @property
    def link_connected(self) -> bool:
        return self._link_connected

    @property
    def role(self) -> ServerRole:
        return self._role

    @property
    def registry(self) -> Registry:
        return self.clients.registry

    def mode(self, client: ClientId, dn: DeviceId) -> RegisterMode | None:
        return self.clients.registry.mode(client, dn)

    def clients_of(self, dn: DeviceId) -> list[ClientId]:
        """Who hears the events of *dn*: its registrants, and who registered every DN
        (RequestRegisterAll)."""
        registry = self.clients.registry
        if not registry.has_clients(queries.EVERY_DN):
            return registry.clients_of(dn)
        every = registry.clients_of(queries.EVERY_DN)
        return list(dict.fromkeys((*registry.clients_of(dn), *every)))

    @property
    def greeted(self) -> list[ClientId]:
        return self.clients.everyone

    @property
    def sequence(self) -> int:
        """The last EventSequenceNumber given."""
        return self._sequence

    # --- clients ------------------------------------------------------------------------

    def client_connected(self, client: ClientId) -> None:
        self.clients.connected(client)

    def client_disconnected(self, client: ClientId, at: Instant) -> list[Output]:
        """The client's connection went away; its session (if it registered) is kept
        for resume-window seconds, and its DNs' events with it."""
        self.clients.disconnected(client, at)
        self.correlator.drop_client(client)
        return self._flush()

    def request(self, client: ClientId, message: TMessage, at: Instant) -> list[Output]:
        """Handle one checked request from *client*."""
        name = message["Request"]
        ctx = RequestContext(client, message, name, message["ReferenceID"], at)
        try:
            dispatch.dispatch(self, ctx)
        except CtiError as exc:
            self.refuse(ctx, exc)
        except Exception as exc:
            log.exception("%s from client %s failed", name, client)
            self.refuse(ctx, exc)
        return self._flush()

    def invalid_request(
        self, client: ClientId, problem: InvalidRequest, at: Instant
    ) -> list[Output]:
        """Answer a request that failed the protocol's checks."""
        event = error_event(problem.reference_id, problem.code, problem.message, dn=None)
        self.send(event, (client,), at)
        return self._flush()

    def carry_out(self, ctx: RequestContext, purpose: Purpose, to: Destination) -> None:
        """Do what *ctx* asked, with *to* (an access number) as its destination."""
        dispatch.carry_out(self, ctx, purpose, to)

    # --- other sites (ISCC) --------------------------------------------------------------

    def peer_up(self, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_up(location)
            self._site_changed(before, location, at)
        return self._flush()

    def peer_incompatible(self, location: str, version: str, at: Instant) -> list[Output]:
        """The server of *location* greeted us in another protocol version."""
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_incompatible(location, version)
            self._site_changed(before, location, at)
        return self._flush()

    def peer_down(self, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            before = self.iscc.site(location)
            self.iscc.peer_down(location, at)
            self._site_changed(before, location, at)
        return self._flush()

    def _site_changed(self, before: Site | None, location: str, at: Instant) -> None:
        """Tell the clients monitoring *location* (RequestQueryLocation) of a change."""
        assert self.iscc is not None
        after = self.iscc.site(location)
        if after is None or after == before:
            return
        registry = self.clients.registry
        watchers = dict.fromkeys(
            (
                *registry.clients_of(queries.site_subscription(location)),
                *registry.clients_of(queries.EVERY_SITE),
            )
        )
        if watchers:
            self.send(queries.site_event(after), watchers, at)

    def peer_message(self, location: str, message: PeerMessage, at: Instant) -> list[Output]:
        """A message from another site; one that cannot be handled is logged and dropped,
        and the server carries on."""
        if self.iscc is not None and self._role is ServerRole.PRIMARY:
            try:
                self.iscc.received(location, message, at)
            except Exception:
                log.exception("ISCC %s from %s could not be handled", message.TYPE, location)
            self._publish_released(at)
        return self._flush()

    # --- the switch ---------------------------------------------------------------------

    def link_up(self, at: Instant) -> list[Output]:
        self._link_connected = True
        self.send(link_event(True), self.greeted, at)
        if self._role is ServerRole.PRIMARY:
            self.features.link_up(at)
        return self._flush()

    def link_down(self, at: Instant) -> list[Output]:
        self._link_connected = False
        self.send(link_event(False), self.greeted, at)
        return self._flush()

    def monitored_dns(self) -> list[DeviceId]:
        return list(self._model.dns)

    def routing_points(self) -> list[DeviceId]:
        """The DNs this server routes for (none while it is the backup of a pair)."""
        if self._role is not ServerRole.PRIMARY:
            return []
        return [dn for dn, kind in self._model.dns.items() if kind is DnKind.ROUTING_POINT]

    def csta_event(self, dn: DeviceId, event: Event, at: Instant) -> list[Output]:
        """A CSTA event reported on the monitor of *dn* (the backup of a pair leaves
        them to the primary: its model follows the primary's journal)."""
        if self._role is ServerRole.PRIMARY:
            self.change(self._model.apply(dn, event), at)
        return self._flush()

    def csta_invocation(self, message: Unconfirmed, at: Instant) -> list[Output]:
        """A routeing invocation from the switch (RouteRequest, RouteUsed, ReRoute, …)."""
        if self._role is ServerRole.PRIMARY:
            self.change(self._model.apply_invocation(message), at)
        return self._flush()

    def csta_answer(self, token: int, response: Response, at: Instant) -> list[Output]:
        """The switch accepted the request sent under *token*."""
        self._answers.confirmed(token, response, at)
        return self._flush()

    def csta_failure(self, token: int, error: BaseException, at: Instant) -> list[Output]:
        """The request sent under *token* failed: refused, timed out or the link fell."""
        self._answers.failed(token, error, at)
        return self._flush()

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        at: Instant,
        scope: Collection[DeviceId] | None = None,
        agents: Mapping[DeviceId, SnapshotAgent | None] | None = None,
    ) -> list[Output]:
        """Apply the switch's snapshot of the calls at *scope* (all DNs when None), and of
        the agents on the DNs in *agents*.  The backup of a pair has nothing to do: it
        reconciles with the switch when it takes over."""
        if self._role is not ServerRole.PRIMARY:
            return self._flush()
        self.change(self._model.resync(snapshot, scope), at)
        self.change(self._model.resync_agents(agents or {}), at)
        return self._flush()

    def resync_features(self, features: Mapping[DeviceId, DnFeatures], at: Instant) -> list[Output]:
        """Take what the switch says the stations have set (after the link came up):
        their registrants hear of every feature that differs from what the server knew."""
        if self._role is ServerRole.PRIMARY:
            self.change(self._model.resync_features(features), at)
        return self._flush()

    def audited(self, gone: Collection[ConnId], at: Instant) -> list[Output]:
        """The switch no longer has these calls (stuck-call clean-up): forget them."""
        for conn_id in gone:
            if self._model.call(conn_id) is not None:
                log.warning("call %s is gone from the switch; removing it", conn_id)
                self.change(self._model.forget(conn_id), at)
        return self._flush()

    def tick(self, at: Instant) -> list[Output]:
        """EventError 57 for accepted requests no event has answered in time; ISCC
        transactions past their time; idle calls to report or check."""
        closed = self.clients.expire(at)
        self._wall_offset = at.wall - at.monotonic
        if self._role is not ServerRole.PRIMARY:
            return self._flush()
        if closed:
            self.features.sessions_closed(at)
        self.features.tick(at)
        if self.iscc is not None:
            self.iscc.tick(at)
        treatments.end_due(self, at)
        self._answers.expire(at)
        self._publish_released(at)
        suspects = [self._model.call(conn_id) for conn_id in self.cleanup.due(at)]
        calls = tuple((call.conn_id, call.call_id) for call in suspects if call is not None)
        if calls and self._link_connected:
            self._out.append(AuditCalls(calls))
        return self._flush()

    def next_deadline(self) -> float | None:
        """The earliest monotonic time at which tick() has something to do."""
        times = [
            self.correlator.next_deadline(),
            self.cleanup.next_deadline(),
            self.clients.next_deadline(),
        ]
        if self._role is ServerRole.PRIMARY:
            due = self.features.next_due()
            times.append(None if due is None else due - self._wall_offset)
            times.append(self.features.next_deadline())
        if self.iscc is not None:
            times.append(self.iscc.next_deadline())
        if self._role is ServerRole.PRIMARY and (due := treatments.due(self._model)) is not None:
            times.append(due - self._wall_offset)  # the model keeps wall times
        known = [t for t in times if t is not None]
        return min(known) if known else None

    # --- the pair (DESIGN.md § 7) ---------------------------------------------------------

    @property
    def journaling(self) -> bool:
        """Whether the outputs carry a Journal (the primary of a pair)."""
        return self._journaling

    @journaling.setter
    def journaling(self, on: bool) -> None:
        self._journaling = self.clients.journaling = on

    def serve_as_backup(self) -> None:
        """From now on follow the primary's journal, and leave the switch to it."""
        self._role = ServerRole.BACKUP
        self.journaling = False

    def apply_journal(
        self, changes: Iterable[Change], facts: Iterable[SessionFact], sequence: int
    ) -> None:
        """The backup: take a batch of the primary's journal."""
        self._model.replay(changes)
        self.clients.apply(facts)
        self._sequence = max(self._sequence, sequence)

    def load_snapshot(
        self, changes: Iterable[Change], facts: Iterable[SessionFact], sequence: int
    ) -> None:
        """The backup: the primary's whole state, instead of what it followed so far."""
        self._model.restart(changes)
        self.clients.load(facts)
        self._sequence = max(self._sequence, sequence)

    def journal_snapshot(self) -> Journal:
        """The whole state, as a Journal that rebuilds it in an empty core."""
        return Journal(
            tuple(self._model.as_records()), tuple(self.clients.as_facts()), self._sequence
        )

    def take_over(self, at: Instant) -> list[Output]:
        """The backup becomes the primary: the sessions of the old primary's clients wait
        for them, every client hears EventServerInfo (ServerRole Primary), and the
        numbering goes on above every number either member gave."""
        self._role = ServerRole.PRIMARY
        self.journaling = True
        self.clients.take_over(at)
        self.call_monitor.rebuild()
        self.cleanup = Cleanup(self._settings.cleanup)
        self.cleanup.track([call.conn_id for call in self._model.calls], at)
        live = [c for c in self.clients.everyone if not self.clients.detached(c)]
        self.send(server_info(SERVER_VERSION, ServerRole.PRIMARY), live, at)
        return self._flush()

    # --- configuration ------------------------------------------------------------------

    def reconfigure(self, dns: Mapping[DeviceId, DnKind], at: Instant) -> list[Output]:
        """Take a new DN table: registrants of removed DNs get EventUnregistered."""
        removed = [dn for dn in self._model.dns if dn not in dns]
        added = [dn for dn in dns if dn not in self._model.dns]
        for dn in removed:
            clients = self.clients.unregister_dn(dn)
            self.send(unregistered(dn, removed=True), clients, at)
        self.change(self._model.reconfigure(dns), at)
        if removed or added:
            self._out.append(ChangeMonitors(start=tuple(added), stop=tuple(removed)))
        return self._flush()

    # --- port: verbs ----------------------------------------------------------------------

    def change(self, changes: list[Change], at: Instant) -> None:
        # Journal the whole batch first: that is the order the model applied it in.
        if self.journaling:
            self._journal.extend(changes)
        cleanup, known = self.cleanup.enabled, self._steps
        # call monitoring costs nothing while no client watches a call
        watch = self.call_monitor.tell if self.call_monitor.views else None
        for change in changes:
            if cleanup:
                self.cleanup.saw(change, at)
            steps = known.get(type(change))
            if steps is None:
                steps = self._steps_for(type(change))
            for step in steps:
                step(change, at)
            if watch is not None:
                watch(change, at)  # the call-based events follow the DN-based ones

    def _steps_for(self, kind: type[Change]) -> tuple[Hook, ...]:
        """What telling a change of *kind* takes, in order: what the features make of
        it first (an emulated after-call work is told before the EventReleased that
        caused it), the events that tell of it, what the features tell after it."""
        hooks, teller = self.features.hooks(kind), self._publisher.teller(kind)
        told = () if teller is None else (teller,)
        steps = self._steps[kind] = (*hooks.before, *told, *hooks.after)
        return steps

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None:
        self._sequence += 1
        event["Server"] = self._settings.name
        event["EventSequenceNumber"] = self._sequence
        event["time"] = format_time(at.wall)
        recipients = tuple(clients)
        masks = self.clients.masks
        # RequestSetInputMask: only the events each client takes; an event with a
        # ReferenceID answers its client's request and always goes
        if masks and "ReferenceID" not in event:
            name = event["Event"]
            recipients = tuple(c for c in recipients if name in masks.get(c, (name,)))
        requester = None
        if answering is not None:
            requester = (answering.client, answering.reference_id)
            recipients = tuple(c for c in recipients if c != answering.client)
            if self.clients.session_of(answering.client) is not None:
                copy: TMessage = {**event, "ReferenceID": answering.reference_id}
                self.clients.sent(self._sequence, copy, (answering.client,))
        self.clients.sent(self._sequence, event, recipients)
        self._out.append(Deliver(event, recipients, requester))

    def reply(self, ctx: RequestContext, event: TMessage) -> None:
        event["ReferenceID"] = ctx.reference_id
        self.send(event, (ctx.client,), ctx.at)

    def refuse(self, ctx: RequestContext, exc: BaseException) -> None:
        code = error_code_for(exc)
        message = error_message_for(exc, ctx.name)
        dn = DeviceId(ctx.message["ThisDN"]) if "ThisDN" in ctx.message else None
        self.send(error_event(ctx.reference_id, code, message, dn=dn), (ctx.client,), ctx.at)

    def pending(
        self, ctx: RequestContext, dn: DeviceId, answers: Iterable[Answer], **fields: object
    ) -> Pending:
        return Pending(
            token=self.correlator.new_token(),
            client=ctx.client,
            reference_id=ctx.reference_id,
            request=ctx.name,
            dn=dn,
            answers=set(answers),
            **fields,  # type: ignore[arg-type]
        )

    def to_switch(
        self, ctx: RequestContext, request: Request | Unconfirmed, pending: Pending
    ) -> None:
        """An unconfirmed invocation (RouteSelect) has no reply: its events are due at once."""
        if not self._link_connected:
            raise LinkDown("the link to the switch is down")
        if pending.promised is not None:
            self.change(self._model.promise(pending.dn, pending.promised), ctx.at)
        self.correlator.add(pending)
        self._out.append(SendToSwitch(pending.token, request))
        if isinstance(request, Unconfirmed):
            deadline = ctx.at.monotonic + self._settings.answer_timeout
            self.correlator.confirm(pending.token, deadline=deadline)

    def to_switch_alone(self, message: Request | Unconfirmed) -> None:
        if self._link_connected:
            self._out.append(SendToSwitch(self.correlator.new_token(), message))

    def follow_up(self, pending: Pending, request: Request) -> None:
        self._out.append(SendToSwitch(self._answers.follow_up(pending), request))

    def to_peer(self, location: str, message: PeerMessage) -> None:
        self._out.append(SendToPeer(location, message))

    def open_session(self, ctx: RequestContext) -> str:
        application = ctx.message["ApplicationName"]
        sid = ctx.message.get("ClientSessionID")
        if sid is None:
            return self.clients.open(ctx.client, application)
        last = ctx.message.get("LastEventSequenceNumber")
        if last is None:
            raise InvalidAttribute("ClientSessionID needs LastEventSequenceNumber")
        found = self.clients.resume(ctx.client, sid, last, application)
        if isinstance(found, Refusal):
            raise InvalidAttribute(
                f"ClientSessionID {sid} cannot be resumed: {found.value}; "
                "register without it for a new session"
            )
        if found.missed:
            self._out.append(Resend(ctx.client, tuple(found.missed)))
        return sid

    def register(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None:
        return self.clients.register(client, dn, mode)

    def unregister(self, client: ClientId, dn: DeviceId, at: Instant) -> bool:
        session = self.clients.session_of(client)
        if not self.clients.unregister(client, dn):
            return False
        if session is not None and self._role is ServerRole.PRIMARY:
            self.features.unregistered(session, dn, at)
        return True

    def sites(self) -> list[Site] | None:
        return None if self.iscc is None else self.iscc.sites()

    def set_input_mask(self, client: ClientId, events: frozenset[str] | None) -> None:
        self.clients.set_mask(client, events)

    def session_open(self, session: str) -> bool:
        return self.clients.sessions.get(session) is not None

    def attach(self, conn_id: ConnId, data: KVList, at: Instant, *, clear: bool = False) -> bool:
        """Change the call's UserData; True if it changed."""
        changes = self._model.attach(conn_id, data, replace_all=clear)
        self.change(changes, at)
        return bool(changes)

    def delete_pair(self, conn_id: ConnId, key: str, at: Instant) -> bool:
        changes = self._model.delete_pair(conn_id, key)
        self.change(changes, at)
        return bool(changes)

    def expect_deletion(
        self, conn_id: ConnId, dropped: DeviceId, by: DeviceId, at: Instant
    ) -> None:
        self.change(self._model.expect_deletion(conn_id, dropped, by), at)

    def intend(self, dn: DeviceId, intent: AgentIntent, at: Instant) -> None:
        self.change(self._model.intend(dn, intent), at)

    def session_of(self, client: ClientId) -> str | None:
        return self.clients.session_of(client)

    def monitor(self, ctx: RequestContext, monitoring: Monitoring) -> None:
        self.features.supervision.start(monitoring, ctx.at, ctx)

    def cancel_monitoring(self, ctx: RequestContext, monitoring: Monitoring) -> None:
        self.features.supervision.end(monitoring, ctx.at, ctx)

    def start_call_monitoring(self, ctx: RequestContext, conn_id: ConnId) -> None:
        self.call_monitor.start(ctx, conn_id)

    def stop_call_monitoring(self, ctx: RequestContext, conn_id: ConnId) -> None:
        self.call_monitor.stop(ctx, conn_id)

    def drop_subscription(self, client: ClientId, name: DeviceId) -> None:
        """End a subscription the server keeps as a registration (no agent is involved)."""
        self.clients.unregister(client, name)

    def reserve(
        self, ctx: RequestContext, wanted: Reservation, duration: float, priority: int
    ) -> None:
        candidate = Candidate(ctx.client, ctx.reference_id, wanted, duration, priority)
        self.features.reservations.ask(candidate, ctx.at)

    def reject_route(self, cross_ref_id: str, at: Instant) -> None:
        self.change(self._model.reject_route(cross_ref_id), at)

    def route_dnis(self, cross_ref_id: str, dnis: DeviceId | None, at: Instant) -> None:
        self.change(self._model.route_dnis(cross_ref_id, dnis), at)

    def treat(self, treatment: Treatment, at: Instant) -> None:
        self.change(self._model.treat(treatment), at)

    def forget_treatment(self, conn_id: ConnId, at: Instant) -> None:
        self.change(self._model.drop_treatment(conn_id), at)

    def treatment_over(self, conn_id: ConnId, at: Instant) -> None:
        self.change(self._model.treatment_due(conn_id), at)

    # --- port: what ISCC asks of the core ---------------------------------------------------

    def new_conn_id(self) -> ConnId:
        """A ConnID for a call not made yet (ISCC tells the other site first)."""
        return self._model.conn_ids.allocate()

    def came_from(self, conn_id: ConnId, origin: Origin, user_data: KVList, at: Instant) -> None:
        self.change(self._model.came_from(conn_id, origin, user_data), at)

    def relinked(self, conn_id: ConnId, origin: Origin, at: Instant) -> None:
        self.change(self._model.relinked(conn_id, origin), at)

    def replace_user_data(self, conn_id: ConnId, data: KVList, at: Instant) -> bool:
        return self.attach(conn_id, data, at, clear=True)

    def announce(self, conn_id: ConnId, by: DeviceId, at: Instant, *, told_by: str) -> None:
        self._publisher.user_data_changed(conn_id, by, at, told_by=told_by)

    def attached(self, ctx: RequestContext, conn_id: ConnId, by: DeviceId) -> None:
        self._publisher.user_data_changed(conn_id, by, ctx.at, answering=ctx)

    def acknowledge(self, pending: Pending, at: Instant) -> None:
        """EventACK: the switch did what *pending* asked, and no event will say so."""
        self.correlator.finish(pending.token)
        event = ack_event(pending.dn)
        event["ReferenceID"] = pending.reference_id
        self.send(event, (pending.client,), at)

    def bind(self, pending: Pending, call: Call, at: Instant) -> None:
        """*call* is the one *pending* created: it takes the request's UserData."""
        self.correlator.bind(pending, call.conn_id)
        if pending.user_data:
            changes = self._model.attach(call.conn_id, pending.user_data)
            self.change(changes, at)
            self._tell_sharing_calls(changes, call.conn_id, pending.dn, at)
        if pending.purpose is not None:
            self.change(self._model.consults_for(call.conn_id, pending.purpose), at)
        if pending.xid is not None and self.iscc is not None:
            self.iscc.origin.moved(pending.xid, call.conn_id)

    # --- internals ----------------------------------------------------------------------

    def _tell_sharing_calls(
        self, changes: list[Change], created: ConnId, by: DeviceId, at: Instant
    ) -> None:
        """The UserData a request gave a call it created also changed the calls sharing
        it (consult-user-data = joint): their parties hear of it now; the new call's
        hear it with their first event."""
        changed = {c.call.conn_id for c in changes if isinstance(c, CallChange)} - {created}
        for conn_id in sorted(changed):
            self._publisher.user_data_changed(conn_id, by, at, sharing=False)

    def call_offered(self, change: PartyChange, at: Instant) -> None:
        if self._answers.mute_transfers:  # one waits for its consultation to be offered
            self._answers.call_offered(change)

    def _publish_released(self, at: Instant) -> None:
        """Events of arriving calls that ISCC held back and now lets go (in order)."""
        if self.iscc is not None:
            for change in self.iscc.released():
                self._publisher.publish(change, at)

    def cleared_by(self, conn_id: ConnId, dn: DeviceId, at: Instant) -> None:
        self.change(self._model.cleared_by(conn_id, dn), at)

    def withdraw_promise(self, pending: Pending, at: Instant) -> None:
        """A request that created no call gives its promised ConnID back."""
        unused = pending.promised is not None and pending.new_conn_id is None
        if unused and self._model.promised(pending.dn) == pending.promised:
            self.change(self._model.promise(pending.dn, None), at)

    def answer_error(self, pending: Pending, error: BaseException, at: Instant) -> None:
        self._answers.answer_error(pending, error, at)

    def user_data_changed(
        self, conn_id: ConnId, by: DeviceId, at: Instant, *, answering: Requester
    ) -> None:
        self._publisher.user_data_changed(conn_id, by, at, answering=answering)

    def _flush(self) -> list[Output]:
        """The outputs so far; on the primary of a pair, a Journal first whenever the
        model or the sessions changed or an EventSequenceNumber was given (an event to
        a client without a session changes nothing, but its number must be journalled
        before it leaves, or the next primary would give it again)."""
        out, self._out = self._out, []
        numbered = self._journaling and self._sequence > self._journaled
        if self._journal or self.clients.facts or numbered:
            facts = tuple(self.clients.take_facts())
            out.insert(0, Journal(tuple(self._journal), facts, self._sequence))
            self._journal = []
            self._journaled = self._sequence
        return out
