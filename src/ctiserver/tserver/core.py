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

This module holds the entry points of the clients and the switch, time, and the event
path (`change`, `send`, `_flush`).  The rest of the class is written in its parts, each
a module of the core's own methods (no call stands between a caller and them):
tserver.pair (the hot-standby pair), tserver.iscc.entries (the peering's entry points
and what ISCC asks of the core), tserver.switch_requests (the requests sent to the
switch) and tserver.verbs (the verbs that hand the work to the clients' sessions, the
features or the model).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping

from ctiserver.clock import Instant
from ctiserver.csta.schema import Event, Response, Unconfirmed
from ctiserver.errors import CtiError
from ctiserver.ids import CallId, ClientId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.iscc.settings import IsccSettings
from ctiserver.model.changes import Change, PartyChange
from ctiserver.model.model import Model
from ctiserver.model.resync import SnapshotAgent, SnapshotParty
from ctiserver.model.states import DnKind
from ctiserver.model.values import DnFeatures
from ctiserver.tlib.codec import format_time
from ctiserver.tlib.requests import InvalidRequest
from ctiserver.tlib.vocabulary import ServerRole, TMessage
from ctiserver.tserver import dispatch, queries, treatments
from ctiserver.tserver.answers import Answers
from ctiserver.tserver.call_monitoring import CallMonitor
from ctiserver.tserver.cleanup import Cleanup
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.correlation import Correlator
from ctiserver.tserver.emulated import Features, Hook
from ctiserver.tserver.errors import error_code_for, error_message_for
from ctiserver.tserver.events import error_event, link_event, unregistered
from ctiserver.tserver.iscc.entries import IsccEntries
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.pair import PairSide
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
)
from ctiserver.tserver.publishing import Publisher
from ctiserver.tserver.switch_requests import SwitchRequests
from ctiserver.tserver.verbs import FeatureVerbs, ModelVerbs, SessionVerbs

log = logging.getLogger(__name__)


class TServerCore(PairSide, IsccEntries, SwitchRequests, SessionVerbs, FeatureVerbs, ModelVerbs):
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
            window=settings.sessions.window,
            max_events=settings.sessions.max_events,
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

    def clients_of(self, dn: DeviceId) -> list[ClientId]:
        """Who hears the events of *dn*: its registrants, and who registered every DN
        (RequestRegisterAll)."""
        registry = self.clients.registry
        if not registry.has_clients(queries.EVERY_DN):
            return registry.clients_of(dn)
        every = registry.clients_of(queries.EVERY_DN)
        return list(dict.fromkeys((*registry.clients_of(dn), *every)))

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

    # --- internals ----------------------------------------------------------------------

    def call_offered(self, change: PartyChange, at: Instant) -> None:
        if self._answers.mute_transfers:  # one waits for its consultation to be offered
            self._answers.call_offered(change)

    def attached(self, ctx: RequestContext, conn_id: ConnId, by: DeviceId) -> None:
        self._publisher.user_data_changed(conn_id, by, ctx.at, answering=ctx)

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
