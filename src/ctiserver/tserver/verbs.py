"""The verbs of the port (tserver.port.Core) that hand the work to another part, grouped
by that part: the clients' registrations and sessions (tserver.clients), the emulated
features and the call monitor (tserver.emulated, tserver.call_monitoring), and the
model's commands, each published as it returns its change records.

Each class is a part of TServerCore (tserver.core), written apart: its methods are the
core's own (`core.register(...)`), so nothing stands between a handler and them.  Host
says what of the core they read.
"""

from __future__ import annotations

from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.model.model import Model
from ctiserver.model.values import AgentIntent, Monitoring, Reservation, Treatment
from ctiserver.tlib.vocabulary import KVList, RegisterMode, ServerRole
from ctiserver.tserver.call_monitoring import CallMonitor
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.emulated import Features
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.port import Core, Output, RequestContext, Resend
from ctiserver.tserver.registry import Registry
from ctiserver.tserver.reservations import Candidate
from ctiserver.tserver.sessions import Refusal


class Host(Core, Protocol):
    """The core, as these verbs use it."""

    _model: Model
    _out: list[Output]
    clients: Clients
    features: Features
    call_monitor: CallMonitor


class SessionVerbs:
    """The clients' registrations and sessions."""

    @property
    def registry(self: Host) -> Registry:
        return self.clients.registry

    def mode(self: Host, client: ClientId, dn: DeviceId) -> RegisterMode | None:
        return self.clients.registry.mode(client, dn)

    @property
    def greeted(self: Host) -> list[ClientId]:
        return self.clients.everyone

    def open_session(self: Host, ctx: RequestContext) -> str:
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

    def register(self: Host, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None:
        return self.clients.register(client, dn, mode)

    def unregister(self: Host, client: ClientId, dn: DeviceId, at: Instant) -> bool:
        session = self.clients.session_of(client)
        if not self.clients.unregister(client, dn):
            return False
        if session is not None and self.role is ServerRole.PRIMARY:
            self.features.unregistered(session, dn, at)
        return True

    def set_input_mask(self: Host, client: ClientId, events: frozenset[str] | None) -> None:
        self.clients.set_mask(client, events)

    def session_open(self: Host, session: str) -> bool:
        return self.clients.sessions.get(session) is not None

    def session_of(self: Host, client: ClientId) -> str | None:
        return self.clients.session_of(client)

    def drop_subscription(self: Host, client: ClientId, name: DeviceId) -> None:
        """End a subscription the server keeps as a registration (no agent is involved)."""
        self.clients.unregister(client, name)


class FeatureVerbs:
    """The emulated features (supervision, reservations) and the call monitor."""

    def monitor(self: Host, ctx: RequestContext, monitoring: Monitoring) -> None:
        self.features.supervision.start(monitoring, ctx.at, ctx)

    def cancel_monitoring(self: Host, ctx: RequestContext, monitoring: Monitoring) -> None:
        self.features.supervision.end(monitoring, ctx.at, ctx)

    def start_call_monitoring(self: Host, ctx: RequestContext, conn_id: ConnId) -> None:
        self.call_monitor.start(ctx, conn_id)

    def stop_call_monitoring(self: Host, ctx: RequestContext, conn_id: ConnId) -> None:
        self.call_monitor.stop(ctx, conn_id)

    def reserve(
        self: Host, ctx: RequestContext, wanted: Reservation, duration: float, priority: int
    ) -> None:
        candidate = Candidate(ctx.client, ctx.reference_id, wanted, duration, priority)
        self.features.reservations.ask(candidate, ctx.at)

    def hold_agent(self: Host, wanted: Reservation, at: Instant) -> str | None:
        return self.features.reservations.hold(wanted, at)

    def release_agent(self: Host, holder: str, at: Instant) -> None:
        self.features.reservations.release(holder, at)


class ModelVerbs:
    """The model's commands: each one's change records published at once."""

    def attach(
        self: Host, conn_id: ConnId, data: KVList, at: Instant, *, clear: bool = False
    ) -> bool:
        """Change the call's UserData; True if it changed."""
        changes = self._model.attach(conn_id, data, replace_all=clear)
        self.change(changes, at)
        return bool(changes)

    def delete_pair(self: Host, conn_id: ConnId, key: str, at: Instant) -> bool:
        changes = self._model.delete_pair(conn_id, key)
        self.change(changes, at)
        return bool(changes)

    def expect_deletion(
        self: Host, conn_id: ConnId, dropped: DeviceId, by: DeviceId, at: Instant
    ) -> None:
        self.change(self._model.expect_deletion(conn_id, dropped, by), at)

    def intend(self: Host, dn: DeviceId, intent: AgentIntent, at: Instant) -> None:
        self.change(self._model.intend(dn, intent), at)

    def reject_route(self: Host, cross_ref_id: str, at: Instant) -> None:
        self.change(self._model.reject_route(cross_ref_id), at)

    def route_dnis(self: Host, cross_ref_id: str, dnis: DeviceId | None, at: Instant) -> None:
        self.change(self._model.route_dnis(cross_ref_id, dnis), at)

    def treat(self: Host, treatment: Treatment, at: Instant) -> None:
        self.change(self._model.treat(treatment), at)

    def forget_treatment(self: Host, conn_id: ConnId, at: Instant) -> None:
        self.change(self._model.drop_treatment(conn_id), at)

    def treatment_over(self: Host, conn_id: ConnId, at: Instant) -> None:
        self.change(self._model.treatment_due(conn_id), at)

    def cleared_by(self: Host, conn_id: ConnId, dn: DeviceId, at: Instant) -> None:
        self.change(self._model.cleared_by(conn_id, dn), at)
