"""The T-Server as a pure object: client requests and switch events in, outputs out.

TServerCore owns the model, the client registrations and the pending requests.  Its
entry points take an Instant and return a list of outputs for the asyncio runtime to
perform: events to deliver to clients, requests to send to the switch (each with a
token under which the runtime reports the switch's answer), monitors to start or stop.
It never waits and never fails: an exception in a handler becomes EventError 52 and a
log line, and the server carries on.

Every event is stamped here with Server, time and EventSequenceNumber (strictly
increasing per server, one number per event); the requester's copy of an event that
answers its request also carries the request's ReferenceID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.errors import CtiError, LinkDown, ServiceError
from ctiserver.ids import CallId, ClientId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.iscc.protocol import PeerMessage
from ctiserver.model.call import Call
from ctiserver.model.changes import (
    AccountCodeEntered,
    AgentChanged,
    CallCreated,
    CallsMerged,
    Change,
    GuestAssociation,
    NetworkCallIdLearned,
    PartyChange,
    RecordingChanged,
    RouteRefused,
)
from ctiserver.model.model import PRIVATE_NAMESPACE, Model
from ctiserver.model.resync import SnapshotAgent, SnapshotParty, resync_agents
from ctiserver.model.states import DnKind
from ctiserver.tlib.codec import format_time
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import REQUESTS, InvalidRequest
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver import addresses, agents, calls, private, routing, transfers, userdata
from ctiserver.tserver.correlation import NO_CALL, Correlator, Pending
from ctiserver.tserver.errors import (
    InvalidAttribute,
    NotSupported,
    NotYetRegisteredClient,
    RouteNotTaken,
    SilentSwitch,
    error_code_for,
    error_message_for,
)
from ctiserver.tserver.events import agent_event, error_event, event_for
from ctiserver.tserver.iscc import PURPOSES, Iscc, IsccRefused, IsccSettings, SendToPeer, site_of
from ctiserver.tserver.registry import Registry

ISCC_REQUESTS = frozenset({"RequestGetAccessNumber", "RequestCancelReqGetAccessNumber"})


def location_is_remote(location: object, own: str) -> bool:
    return isinstance(location, str) and site_of(location) != own


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deliver:
    """One event, produced once: to *clients* as it is, and to the client of *answering*
    (a request it answers) with that request's ReferenceID.  *clients* may be empty: an
    event nobody is registered for still exists for the server's own listeners."""

    event: TMessage
    clients: tuple[ClientId, ...]
    answering: tuple[ClientId, int] | None = None

    def copies(self) -> Iterator[tuple[tuple[ClientId, ...], TMessage]]:
        """(recipients, event) pairs, the requester's copy tagged with its ReferenceID."""
        if self.answering is not None:
            client, reference_id = self.answering
            yield (client,), {**self.event, "ReferenceID": reference_id}
        if self.clients:
            yield self.clients, self.event


@dataclass(frozen=True, slots=True)
class SendToSwitch:
    token: int
    request: Request | Unconfirmed


@dataclass(frozen=True, slots=True)
class ChangeMonitors:
    start: tuple[DeviceId, ...]
    stop: tuple[DeviceId, ...]


Output = Deliver | SendToSwitch | ChangeMonitors | SendToPeer


@dataclass(frozen=True, slots=True)
class CoreSettings:
    name: str
    location: str = ""  # this site, for ISCC (the switch's name)
    answer_timeout: float = 5.0
    consult_user_data: str = "separate"
    private_namespace: str = PRIVATE_NAMESPACE  # of the switch's private data
    accode_name: str = "AccountCode"
    accode_data: str = "none"  # none, udata or ext
    accode_privateservice: bool = False


@dataclass(frozen=True, slots=True)
class RequestContext:
    client: ClientId
    message: TMessage
    name: str
    reference_id: int
    at: Instant


Handler = Callable[["TServerCore", RequestContext], None]


class Requester(Protocol):
    """Whose copy of an event carries which ReferenceID (a Pending, or a request)."""

    @property
    def client(self) -> ClientId: ...

    @property
    def reference_id(self) -> int: ...


class TServerCore:
    def __init__(
        self,
        *,
        settings: CoreSettings,
        dns: Mapping[DeviceId, DnKind],
        started: Instant,
        iscc: IsccSettings | None = None,
    ) -> None:
        self.settings = settings
        self.started = started
        self.model = Model(
            dns=dns,
            conn_ids=ConnIdAllocator(int(started.wall * 1000)),
            consult_user_data=settings.consult_user_data,
            private_namespace=settings.private_namespace,
        )
        self.registry = Registry()
        self.correlator = Correlator()
        self.link_connected = False
        self._greeted: dict[ClientId, str] = {}
        self._sequence = 0
        self._out: list[Output] = []
        self._handlers: dict[str, Handler] = {
            **addresses.HANDLERS,
            **calls.HANDLERS,
            **transfers.HANDLERS,
            **routing.HANDLERS,
            **agents.HANDLERS,
            **userdata.HANDLERS,
            **private.HANDLERS,
        }
        self._follow_ups: dict[int, int] = {}  # follow-up token -> its request's token
        self.iscc = Iscc(self, iscc) if iscc is not None else None

    # --- clients ------------------------------------------------------------------------

    def client_connected(self, client: ClientId) -> None:
        self.registry.add_client(client)

    def client_disconnected(self, client: ClientId) -> None:
        self.registry.remove_client(client)
        self.correlator.drop_client(client)
        self._greeted.pop(client, None)

    def greet(self, client: ClientId, application: str) -> None:
        self._greeted[client] = application

    @property
    def greeted(self) -> list[ClientId]:
        return list(self._greeted)

    def request(self, client: ClientId, message: TMessage, at: Instant) -> list[Output]:
        """Handle one checked request from *client*."""
        name = message["Request"]
        ctx = RequestContext(client, message, name, message["ReferenceID"], at)
        try:
            self._dispatch(ctx)
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
        self.send(
            error_event(problem.reference_id, problem.code, problem.message, dn=None), (client,), at
        )
        return self._flush()

    def _dispatch(self, ctx: RequestContext) -> None:
        if ctx.name != "RequestRegisterClient" and ctx.client not in self._greeted:
            raise NotYetRegisteredClient()
        if ctx.name in ISCC_REQUESTS or (ctx.name in PURPOSES and "Location" in ctx.message):
            self._to_another_site(ctx)
            return
        handler = self._handlers.get(ctx.name)
        if handler is None:
            raise NotSupported(f"{ctx.name} is not supported by this server")
        handler(self, ctx)

    def _to_another_site(self, ctx: RequestContext) -> None:
        """A request naming a Location, or an ISCC request (genesys-tlib.md § 3)."""
        location = ctx.message.get("Location")
        if self.iscc is None:
            if ctx.name in PURPOSES and not location_is_remote(location, self.settings.location):
                self._serve_here(ctx)
                return
            raise IsccRefused(TError.FEATURE_NOT_INITED, "ISCC is not configured on this server")
        if ctx.name == "RequestCancelReqGetAccessNumber":
            self.iscc.cancel(ctx)
        elif ctx.name in PURPOSES and not self.iscc.is_remote(location):
            self._serve_here(ctx)
        else:
            self.iscc.start(ctx)

    def _serve_here(self, ctx: RequestContext) -> None:
        """A request that names this very site as its Location."""
        missing = REQUESTS[ctx.name].missing_here(ctx.message)
        if missing is not None:
            raise InvalidAttribute(f"{ctx.name} for this site needs {missing}")
        self._handlers[ctx.name](self, ctx)

    # --- other sites (ISCC) --------------------------------------------------------------

    def peer_up(self, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            self.iscc.peer_up(location)
        return self._flush()

    def peer_incompatible(self, location: str, version: str) -> list[Output]:
        """The server of *location* greeted us in another protocol version."""
        if self.iscc is not None:
            self.iscc.peer_incompatible(location, version)
        return self._flush()

    def peer_down(self, location: str, at: Instant) -> list[Output]:
        if self.iscc is not None:
            self.iscc.peer_down(location, at)
        return self._flush()

    def peer_message(self, location: str, message: PeerMessage, at: Instant) -> list[Output]:
        if self.iscc is not None:
            self.iscc.received(location, message, at)
        return self._flush()

    def to_peer(self, location: str, message: PeerMessage) -> None:
        self._out.append(SendToPeer(location, message))

    # --- the switch ---------------------------------------------------------------------

    def link_up(self, at: Instant) -> list[Output]:
        self.link_connected = True
        self.send({"Event": "EventLinkConnected"}, self.greeted, at)
        return self._flush()

    def link_down(self, at: Instant) -> list[Output]:
        self.link_connected = False
        self.send({"Event": "EventLinkDisconnected"}, self.greeted, at)
        return self._flush()

    def monitored_dns(self) -> list[DeviceId]:
        return list(self.model.dns)

    def routing_points(self) -> list[DeviceId]:
        return [dn for dn, kind in self.model.dns.items() if kind is DnKind.ROUTING_POINT]

    def csta_event(self, dn: DeviceId, event: Event, at: Instant) -> list[Output]:
        """A CSTA event reported on the monitor of *dn*."""
        for change in self.model.apply(dn, event):
            self.publish(change, at)
        return self._flush()

    def csta_answer(self, token: int, response: Response, at: Instant) -> list[Output]:
        """The switch accepted the request sent under *token*."""
        if self._follow_ups.pop(token, None) is not None:
            return self._flush()
        deadline = at.monotonic + self.settings.answer_timeout
        pending = self.correlator.confirm(token, deadline=deadline)
        if pending is not None and pending.on_confirm is not None:
            pending.on_confirm(pending, response)
        return self._flush()

    def csta_failure(self, token: int, error: BaseException, at: Instant) -> list[Output]:
        """The request sent under *token* failed: refused, timed out or the link fell."""
        parent = self._follow_ups.pop(token, None)
        if parent is not None:
            token = parent
        pending = self.correlator.finish(token)
        if pending is not None and not pending.answered:
            self._answer_error(pending, error, at)
        return self._flush()

    def csta_invocation(self, message: Unconfirmed, at: Instant) -> list[Output]:
        """A routeing invocation from the switch (RouteRequest, RouteUsed, ReRoute, …)."""
        for change in self.model.apply_invocation(message):
            self.publish(change, at)
        return self._flush()

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        at: Instant,
        scope: Collection[DeviceId] | None = None,
        agents: Mapping[DeviceId, SnapshotAgent | None] | None = None,
    ) -> list[Output]:
        """Apply the switch's snapshot of the calls at *scope* (all DNs when None), and of
        the agents on the DNs in *agents*."""
        for change in self.model.resync(snapshot, scope):
            self.publish(change, at)
        for change in resync_agents(self.model, agents or {}):
            self.publish(change, at)
        return self._flush()

    def tick(self, at: Instant) -> list[Output]:
        """Answer EventError 57 for accepted requests that no event has answered in time,
        and end ISCC transactions past their time."""
        if self.iscc is not None:
            self.iscc.tick(at)
        for pending in self.correlator.expire(at.monotonic):
            if not pending.answered:
                timeout = self.settings.answer_timeout
                silence = SilentSwitch(
                    f"the switch accepted {pending.request} but reported no event for it "
                    f"within {timeout:g} s"
                )
                self._answer_error(pending, silence, at)
        return self._flush()

    # --- configuration ------------------------------------------------------------------

    def reconfigure(self, dns: Mapping[DeviceId, DnKind], at: Instant) -> list[Output]:
        """Take a new DN table: registrants of removed DNs get EventUnregistered."""
        removed = [dn for dn in self.model.dns if dn not in dns]
        added = [dn for dn in dns if dn not in self.model.dns]
        for dn in removed:
            clients = self.registry.unregister_dn(dn)
            event: TMessage = {
                "Event": "EventUnregistered",
                "ThisDN": dn,
                "ErrorCode": TError.NOT_CONFIGURED.value,
                "ErrorMessage": f"DN {dn} was removed from the configuration",
            }
            self.send(event, clients, at)
        self.model.reconfigure(dns)
        if removed or added:
            self._out.append(ChangeMonitors(start=tuple(added), stop=tuple(removed)))
        return self._flush()

    # --- for handlers -------------------------------------------------------------------

    def publish(self, change: Change, at: Instant) -> None:
        """Tell the registrants of the DN a change is about; bind new calls to requests."""
        match change:
            case CallCreated(call=call, calling=calling):
                pending = self.correlator.binding_for(call.call_id, calling)
                if pending is not None:
                    self.bind(pending, call)
            case CallsMerged(call=call, merged=merged):
                if self.iscc is not None:
                    self.iscc.merged(merged, call)
            case NetworkCallIdLearned(call=call):
                if self.iscc is not None:
                    self.iscc.identified_call(call)
            case AgentChanged(dn=dn):
                event = agent_event(change)
                answering = self.correlator.answer(dn, NO_CALL, event["Event"])
                self.send(event, self.registry.clients_of(dn), at, answering=answering)
            case RouteRefused(call=call, party=party):
                self._route_refused(call, party.dn, at)
            case PartyChange():
                self._publish_party_change(change, at)
            case GuestAssociation() | RecordingChanged() | AccountCodeEntered():
                private.publish(self, change, at)

    def _publish_party_change(self, change: PartyChange, at: Instant) -> None:
        call, dn = change.call, change.party.dn
        if self.iscc is not None and not self.iscc.arrived(change, at):
            return
        event = event_for(change)
        private.decorate(self, event, call, change.party)
        pending = self.correlator.answer(dn, call.conn_id, event["Event"])
        self.send(event, self.registry.clients_of(dn), at, answering=pending)
        if self.iscc is not None:
            self.iscc.watch(change, at)
            if self.model.call(call.conn_id) is None:
                self.iscc.forget(call.conn_id)

    def _route_refused(self, call: Call, point: DeviceId, at: Instant) -> None:
        pending = self.correlator.waiting_at(point, call.conn_id, "RequestRouteCall")
        if self.iscc is not None and self.iscc.route_refused(call, at):
            if pending is not None:
                self.correlator.finish(pending.token)
            return
        if pending is not None:
            self.correlator.finish(pending.token)
            refusal = RouteNotTaken(f"the switch could not route call {call.conn_id} there")
            self._answer_error(pending, refusal, at)

    def bind(self, pending: Pending, call: Call) -> None:
        """*call* is the one *pending* created: it takes the request's UserData."""
        self.correlator.bind(pending, call.conn_id)
        if pending.user_data:
            call.user_data.update(pending.user_data)
        if pending.on_bind is not None:
            pending.on_bind(call)

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None:
        """Stamp *event* and deliver it; the answered requester's copy has its ReferenceID."""
        self._sequence += 1
        event["Server"] = self.settings.name
        event["EventSequenceNumber"] = self._sequence
        event["time"] = format_time(at.wall)
        recipients = tuple(clients)
        requester = None
        if answering is not None:
            requester = (answering.client, answering.reference_id)
            recipients = tuple(c for c in recipients if c != answering.client)
        self._out.append(Deliver(event, recipients, requester))

    def reply(self, ctx: RequestContext, event: TMessage) -> None:
        """Answer the requester alone."""
        event["ReferenceID"] = ctx.reference_id
        self.send(event, (ctx.client,), ctx.at)

    def refuse(self, ctx: RequestContext, exc: BaseException) -> None:
        code = error_code_for(exc)
        message = error_message_for(exc, ctx.name)
        dn = DeviceId(ctx.message["ThisDN"]) if "ThisDN" in ctx.message else None
        self.send(error_event(ctx.reference_id, code, message, dn=dn), (ctx.client,), ctx.at)

    def to_switch(
        self, ctx: RequestContext, request: Request | Unconfirmed, pending: Pending
    ) -> None:
        """Pass *request* to the switch; *pending* says which events will answer it.
        An unconfirmed invocation (RouteSelect) has no reply: its events are due at once."""
        if not self.link_connected:
            raise LinkDown("the link to the switch is down")
        self.correlator.add(pending)
        self._out.append(SendToSwitch(pending.token, request))
        if isinstance(request, Unconfirmed):
            self.correlator.confirm(
                pending.token, deadline=ctx.at.monotonic + self.settings.answer_timeout
            )

    def to_switch_alone(self, message: Request | Unconfirmed) -> None:
        """Send something of the server's own to the switch; nobody waits for it."""
        if self.link_connected:
            self._out.append(SendToSwitch(self.correlator.new_token(), message))

    def follow_up(self, pending: Pending, request: Request) -> None:
        """Send another request on behalf of *pending*; its failure is *pending*'s."""
        token = self.correlator.new_token()
        self._follow_ups[token] = pending.token
        self._out.append(SendToSwitch(token, request))

    def acknowledge(self, pending: Pending, at: Instant) -> None:
        """EventACK: the switch did what *pending* asked, and no event will say so."""
        self.correlator.finish(pending.token)
        event: TMessage = {
            "Event": "EventACK",
            "ThisDN": pending.dn,
            "ReferenceID": pending.reference_id,
        }
        self.send(event, (pending.client,), at)

    def pending(
        self,
        ctx: RequestContext,
        dn: DeviceId,
        answers: Iterable[tuple[str, ConnId]],
        **fields: Any,
    ) -> Pending:
        """A Pending for *ctx*: *answers* are the (event, ConnID) pairs that answer it."""
        return Pending(
            token=self.correlator.new_token(),
            client=ctx.client,
            reference_id=ctx.reference_id,
            request=ctx.name,
            dn=dn,
            answers=set(answers),
            **fields,
        )

    # --- internals ----------------------------------------------------------------------

    def _answer_error(self, pending: Pending, error: BaseException, at: Instant) -> None:
        code = error_code_for(error)
        message = error_message_for(error, pending.request) + self._where(pending)
        if isinstance(error, ServiceError) and pending.explain and error.value in pending.explain:
            message += f": {pending.explain[error.value]}"
        if code is TError.INTERNAL:
            log.error("%s failed: %r", pending.request, error)
        event = error_event(pending.reference_id, code, message, dn=pending.dn)
        self.send(event, (pending.client,), at)

    def _where(self, pending: Pending) -> str:
        """For a refused call request: the state the DN was in, which usually says why."""
        states = []
        for conn_id in sorted(pending.calls):
            party = self.model.party(pending.dn, conn_id)
            if party is not None:
                states.append(f"{party.state.value} on {conn_id}")
        return f" (DN {pending.dn} is {', '.join(states)})" if states else ""

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out
