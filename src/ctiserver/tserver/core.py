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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctiserver.clock import Instant
from ctiserver.csta.schema import Event, Request, Response
from ctiserver.errors import CtiError, LinkDown
from ctiserver.ids import CallId, ClientId, ConnIdAllocator, DeviceId
from ctiserver.model.call import Call
from ctiserver.model.changes import CallCreated, Change, PartyChange
from ctiserver.model.model import Model, SnapshotParty
from ctiserver.model.states import DnKind
from ctiserver.tlib.codec import format_time
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import InvalidRequest
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver import addresses, calls
from ctiserver.tserver.correlation import Correlator, Pending
from ctiserver.tserver.errors import (
    NotSupported,
    NotYetRegisteredClient,
    SilentSwitch,
    error_code_for,
    error_message_for,
)
from ctiserver.tserver.events import error_event, event_for
from ctiserver.tserver.registry import Registry

log = logging.getLogger(__name__)

SERVER_VERSION = "ctiserver 0.1.0"


@dataclass(frozen=True, slots=True)
class Deliver:
    clients: tuple[ClientId, ...]
    event: TMessage


@dataclass(frozen=True, slots=True)
class SendToSwitch:
    token: int
    request: Request


@dataclass(frozen=True, slots=True)
class ChangeMonitors:
    start: tuple[DeviceId, ...]
    stop: tuple[DeviceId, ...]


Output = Deliver | SendToSwitch | ChangeMonitors


@dataclass(frozen=True, slots=True)
class CoreSettings:
    name: str
    answer_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class RequestContext:
    client: ClientId
    message: TMessage
    name: str
    reference_id: int
    at: Instant


Handler = Callable[["TServerCore", RequestContext], None]


class TServerCore:
    def __init__(
        self, *, settings: CoreSettings, dns: Mapping[DeviceId, DnKind], started: Instant
    ) -> None:
        self.settings = settings
        self.started = started
        self.model = Model(dns=dns, conn_ids=ConnIdAllocator(int(started.wall)))
        self.registry = Registry()
        self.correlator = Correlator()
        self.link_connected = False
        self._greeted: dict[ClientId, str] = {}
        self._sequence = 0
        self._out: list[Output] = []
        self._handlers: dict[str, Handler] = {**addresses.HANDLERS, **calls.HANDLERS}

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
        handler = self._handlers.get(ctx.name)
        if handler is None:
            raise NotSupported(f"{ctx.name} is not supported by this server")
        handler(self, ctx)

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

    def csta_event(self, dn: DeviceId, event: Event, at: Instant) -> list[Output]:
        """A CSTA event reported on the monitor of *dn*."""
        for change in self.model.apply(dn, event):
            self.publish(change, at)
        return self._flush()

    def csta_answer(self, token: int, response: Response, at: Instant) -> list[Output]:
        """The switch accepted the request sent under *token*."""
        deadline = at.monotonic + self.settings.answer_timeout
        pending = self.correlator.confirm(token, deadline=deadline)
        if pending is not None and pending.on_confirm is not None:
            pending.on_confirm(pending, response)
        return self._flush()

    def csta_failure(self, token: int, error: BaseException, at: Instant) -> list[Output]:
        """The request sent under *token* failed: refused, timed out or the link fell."""
        pending = self.correlator.finish(token)
        if pending is not None and not pending.answered:
            self._answer_error(pending, error, at)
        return self._flush()

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        at: Instant,
        scope: Collection[DeviceId] | None = None,
    ) -> list[Output]:
        """Apply the switch's snapshot of the calls at *scope* (all DNs when None)."""
        for change in self.model.resync(snapshot, scope):
            self.publish(change, at)
        return self._flush()

    def tick(self, at: Instant) -> list[Output]:
        """Answer EventError 57 for accepted requests that no event has answered in time."""
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
        if isinstance(change, CallCreated):
            pending = self.correlator.binding_for(change.call.call_id, change.calling)
            if pending is not None:
                self.bind(pending, change.call)
            return
        assert isinstance(change, PartyChange)
        event = event_for(change)
        dn = change.party.dn
        pending = self.correlator.answer(dn, change.call.conn_id, event["Event"])
        self.send(event, self.registry.clients_of(dn), at, answering=pending)

    def bind(self, pending: Pending, call: Call) -> None:
        """*call* is the one *pending* created: it takes the request's UserData."""
        pending.conn_id = call.conn_id
        if pending.user_data:
            call.user_data.update(pending.user_data)

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Pending | None = None,
    ) -> None:
        """Stamp *event* and deliver it; the answered requester's copy has its ReferenceID."""
        self._sequence += 1
        event["Server"] = self.settings.name
        event["EventSequenceNumber"] = self._sequence
        event["time"] = format_time(at.wall)
        recipients = tuple(clients)
        if answering is not None:
            tagged: TMessage = {**event, "ReferenceID": answering.reference_id}
            self._out.append(Deliver((answering.client,), tagged))
            recipients = tuple(c for c in recipients if c != answering.client)
        if recipients:
            self._out.append(Deliver(recipients, event))

    def reply(self, ctx: RequestContext, event: TMessage) -> None:
        """Answer the requester alone."""
        event["ReferenceID"] = ctx.reference_id
        self.send(event, (ctx.client,), ctx.at)

    def refuse(self, ctx: RequestContext, exc: BaseException) -> None:
        code = error_code_for(exc)
        message = error_message_for(exc, ctx.name)
        dn = DeviceId(ctx.message["ThisDN"]) if "ThisDN" in ctx.message else None
        self.send(error_event(ctx.reference_id, code, message, dn=dn), (ctx.client,), ctx.at)

    def to_switch(self, ctx: RequestContext, request: Request, pending: Pending) -> None:
        """Pass *request* to the switch; *pending* says which events will answer it."""
        if not self.link_connected:
            raise LinkDown("the link to the switch is down")
        self.correlator.add(pending)
        self._out.append(SendToSwitch(pending.token, request))

    def pending(
        self, ctx: RequestContext, dn: DeviceId, answers: Iterable[str], **fields: Any
    ) -> Pending:
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
        message = error_message_for(error, pending.request)
        if code is TError.INTERNAL:
            log.error("%s failed: %r", pending.request, error)
        event = error_event(pending.reference_id, code, message, dn=pending.dn)
        self.send(event, (pending.client,), at)

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out
