"""What a request handler may use, and what the core hands its runtime.

Handlers (tserver.addresses, calls, transfers, routing, agents, userdata, private, and
the ISCC parts) depend on this module, never on the core: they read the model through
its queries and act through the verbs of `Core`, which TServerCore implements.  Only the
core imports the handlers.

Outputs are what the runtime performs, in order: deliver an event, send a request to
the switch (its answer comes back under the token), start or stop monitors, send a
message to another site, send a resumed client what it missed, and journal the change
records and session facts that the outputs after it depend on (the hot-standby journal
writes them before the events are sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.csta.schema import Request, Unconfirmed
from ctiserver.ids import AgentId, CallId, ClientId, ConnId, DeviceId
from ctiserver.immutable import immutable
from ctiserver.iscc.protocol import PeerMessage
from ctiserver.model.changes import Change
from ctiserver.model.model import PRIVATE_NAMESPACE
from ctiserver.model.states import DnKind
from ctiserver.model.values import (
    Agent,
    AgentIntent,
    Call,
    DnFeatures,
    Monitoring,
    Party,
    Recording,
    Reservation,
    RouteDialogue,
    Treatment,
)
from ctiserver.security.data import DEFAULT_USER_DATA_LIMIT
from ctiserver.tlib.vocabulary import KVList, RegisterMode, ServerRole, TMessage
from ctiserver.tserver.correlation import Answer, Pending
from ctiserver.tserver.feature_options import AgentOptions, ReservationOptions, SupervisionOptions
from ctiserver.tserver.sessions import SessionFact

# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallCleanup:
    """`[call-cleanup]`, stuck calls (the T-Server's option names, docs/configuration.md):
    every `periodic_check` seconds (`periodic-check-tout`) the calls with no event for
    `notify_idle_timeout` seconds (`notify-idle-tout`) are logged, and those idle for
    `cleanup_idle_timeout` (`cleanup-idle-tout`) are checked against the switch and
    dropped if the switch no longer has them.  0 turns a step off; with both idle
    timeouts 0 (the default) nothing is tracked."""

    notify_idle_timeout: float = 0.0
    cleanup_idle_timeout: float = 0.0
    periodic_check: float = 600.0


@dataclass(frozen=True, slots=True)
class Options:
    """`[options]`: how the core shapes calls' data (docs/configuration.md)."""

    consult_user_data: str = "separate"  # separate, inherited or joint
    accode_name: str = "AccountCode"
    accode_data: str = "none"  # none, udata or ext
    accode_privateservice: bool = False
    user_data_limit: int = DEFAULT_USER_DATA_LIMIT  # checked before the core (server.access)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """`[server]` resume-window and resume-max-events: how long a dropped client's
    session is kept (tserver.sessions), and how many of its events."""

    window: float = 60.0  # seconds
    max_events: int = 1000  # kept per session


@dataclass(frozen=True, slots=True)
class CoreSettings:
    """The T-Server core's settings: the server's and the switch's names, the `[options]`
    and `[call-cleanup]` sections whole, and `[server]`'s session keys (resume-window,
    resume-max-events) as one value."""

    name: str
    location: str = ""  # this site, for ISCC (the switch's name)
    answer_timeout: float = 5.0  # [switch] reply-timeout
    private_namespace: str = PRIVATE_NAMESPACE  # of the switch's private data
    options: Options = field(default_factory=lambda: Options())
    cleanup: CallCleanup = field(default_factory=lambda: CallCleanup())
    sessions: SessionSettings = field(default_factory=lambda: SessionSettings())  # resume-*
    member: str = ""  # [ha] member: in this server's ClientSessionIDs
    agents: AgentOptions = field(default_factory=lambda: AgentOptions())  # emulated features
    reservations: ReservationOptions = field(default_factory=lambda: ReservationOptions())
    supervision: SupervisionOptions = field(default_factory=lambda: SupervisionOptions())


# --- requests ------------------------------------------------------------------------------


@immutable
class RequestContext:
    """One request being handled: who sent it, what it says, and when."""

    client: ClientId
    message: TMessage
    name: str
    reference_id: int
    at: Instant


# --- outputs -------------------------------------------------------------------------------


@immutable
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


@immutable
class SendToSwitch:
    token: int
    request: Request | Unconfirmed


@immutable
class ChangeMonitors:
    start: tuple[DeviceId, ...]
    stop: tuple[DeviceId, ...]


@immutable
class SendToPeer:
    location: str
    message: PeerMessage


@immutable
class AuditCalls:
    """Ask the switch which of these calls (ConnID, callID) it still has (stuck-call
    clean-up); the answer goes to TServerCore.audited."""

    calls: tuple[tuple[ConnId, CallId], ...]


@immutable
class Resend:
    """Events a resumed session missed, sent again to *client* as they were (numbered
    and kept already)."""

    client: ClientId
    events: tuple[TMessage, ...]


@immutable
class Journal:
    """What must be made durable before the outputs that follow: the model's change
    records and the sessions' facts, in order, and the last EventSequenceNumber given."""

    changes: tuple[Change, ...]
    sessions: tuple[SessionFact, ...] = ()
    sequence: int = 0


Output = Deliver | SendToSwitch | ChangeMonitors | SendToPeer | AuditCalls | Journal | Resend


class Requester(Protocol):
    """Whose copy of an event carries which ReferenceID (a Pending, or a request)."""

    @property
    def client(self) -> ClientId: ...

    @property
    def reference_id(self) -> int: ...


# --- the model, read only ------------------------------------------------------------------


class Queries(Protocol):
    """The model's queries (model.state.State), which is all a handler may read of it."""

    @property
    def dns(self) -> Mapping[DeviceId, DnKind]: ...

    def kind(self, dn: DeviceId | None) -> DnKind | None: ...

    def is_ours(self, dn: DeviceId | None) -> bool: ...

    def call(self, conn_id: ConnId) -> Call | None: ...

    def call_by_call_id(self, call_id: CallId) -> Call | None: ...

    @property
    def calls(self) -> list[Call]: ...

    def calls_at(self, dn: DeviceId) -> list[Call]: ...

    def parties(self, conn_id: ConnId) -> Mapping[DeviceId, Party]: ...

    def party(self, dn: DeviceId, conn_id: ConnId) -> Party | None: ...

    def present(self, conn_id: ConnId) -> list[Party]: ...

    def sharing(self, call: Call) -> list[Call]: ...

    def agent(self, dn: DeviceId) -> Agent | None: ...

    @property
    def agents(self) -> Mapping[DeviceId, Agent]: ...

    @property
    def treatment_timers(self) -> Mapping[ConnId, float]: ...

    def agent_id_at(self, dn: DeviceId) -> AgentId | None: ...

    def host_of(self, guest: DeviceId) -> DeviceId | None: ...

    def guests_of(self, host: DeviceId) -> list[DeviceId]: ...

    def recording_of(self, dn: DeviceId, conn_id: ConnId) -> Recording | None: ...

    def dialogue_for(self, point: DeviceId, conn_id: ConnId) -> RouteDialogue | None: ...

    @property
    def monitorings(self) -> Mapping[DeviceId, Monitoring]: ...

    def monitoring_of(self, agent: DeviceId) -> Monitoring | None: ...

    def treatment(self, conn_id: ConnId) -> Treatment | None: ...

    @property
    def treatments(self) -> list[Treatment]: ...

    def features(self, dn: DeviceId) -> DnFeatures: ...


@dataclass(frozen=True, slots=True)
class Site:
    """Another site of ISCC as RequestQueryLocation reports it: whether its server is
    connected, and the access code that reaches its switch."""

    location: str
    status: str  # "connected", "disconnected", or "incompatible" (another protocol)
    access_code: str = ""


# --- the verbs -----------------------------------------------------------------------------


class Core(Protocol):
    """What the core offers its handlers: read-only state, and verbs that act."""

    @property
    def settings(self) -> CoreSettings: ...

    @property
    def model(self) -> Queries:
        """The model, read through its queries; changed only by `change`."""

    @property
    def link_connected(self) -> bool: ...

    def mode(self, client: ClientId, dn: DeviceId) -> RegisterMode | None:
        """How *client* registered *dn* (None: it has not)."""

    def clients_of(self, dn: DeviceId) -> list[ClientId]: ...

    def change(self, changes: list[Change], at: Instant) -> None:
        """Publish records a model command returned: journal them, tell who must know."""

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None:
        """Stamp *event* and deliver it; the answered requester's copy has its ReferenceID."""

    def reply(self, ctx: RequestContext, event: TMessage) -> None:
        """Answer the requester alone."""

    def refuse(self, ctx: RequestContext, exc: BaseException) -> None:
        """EventError for *ctx*, from the one mapping of errors to codes."""

    def pending(
        self,
        ctx: RequestContext,
        dn: DeviceId,
        answers: Iterable[Answer],
        **fields: object,
    ) -> Pending:
        """A Pending for *ctx*: *answers* are the (event, ConnID) pairs that answer it."""

    def to_switch(
        self, ctx: RequestContext, request: Request | Unconfirmed, pending: Pending
    ) -> None:
        """Pass *request* to the switch; *pending* says which events will answer it."""

    def follow_up(self, pending: Pending, request: Request) -> None:
        """Send another request on behalf of *pending*; its failure is *pending*'s."""

    def to_switch_alone(self, message: Request | Unconfirmed) -> None:
        """Send something of the server's own to the switch; nobody waits for it."""

    def to_peer(self, location: str, message: PeerMessage) -> None: ...

    @property
    def role(self) -> ServerRole:
        """Primary, or Backup of a hot-standby pair (a single server is Primary)."""

    def open_session(self, ctx: RequestContext) -> str:
        """RequestRegisterClient: greet the client and give it a session, a new one or
        the one its ClientSessionID names (then the events it missed go to it first);
        returns the session's id.  Raises CtiError if that session cannot be resumed."""

    def register(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None:
        """Register; returns why it cannot be done, or None when done."""

    def unregister(self, client: ClientId, dn: DeviceId, at: Instant) -> bool:
        """Unregister; False if *client* had not registered *dn*.  An agent the client
        logged in on *dn* may be logged out (agent-logout-on-unreg)."""

    def attach(self, conn_id: ConnId, data: KVList, at: Instant, *, clear: bool = False) -> bool:
        """Add *data* to the call's UserData (replace it all when *clear*), and to the calls
        sharing it; True if anything changed.  Nobody is told: see `attached`."""

    def delete_pair(self, conn_id: ConnId, key: str, at: Instant) -> bool: ...

    def attached(self, ctx: RequestContext, conn_id: ConnId, by: DeviceId) -> None:
        """The call's UserData changed by request: tell every party (the requester's copy
        answers *ctx*), the calls sharing it, and the sites it is linked to."""

    def expect_deletion(
        self, conn_id: ConnId, dropped: DeviceId, by: DeviceId, at: Instant
    ) -> None:
        """*by* asked to drop *dropped* from the conference: say so when it goes."""

    def intend(self, dn: DeviceId, intent: AgentIntent, at: Instant) -> None:
        """What a client asked of the agent (its work mode, Reasons, ReasonCode),
        reported with the DN's next agent event."""

    def session_of(self, client: ClientId) -> str | None:
        """The ClientSessionID of *client* (None: it has not registered)."""

    def monitor(self, ctx: RequestContext, monitoring: Monitoring) -> None:
        """RequestMonitorNextCall, checked: the subscription starts (tserver.monitoring)."""

    def cancel_monitoring(self, ctx: RequestContext, monitoring: Monitoring) -> None:
        """RequestCancelMonitoring, checked: the subscription ends."""

    def start_call_monitoring(self, ctx: RequestContext, conn_id: ConnId) -> None:
        """RequestStartCallMonitoring, checked: the client watches the call and is
        answered with it (tserver.call_monitoring)."""

    def stop_call_monitoring(self, ctx: RequestContext, conn_id: ConnId) -> None:
        """RequestStopCallMonitoring, checked: EventACK, and no more of the call."""

    def reserve(
        self, ctx: RequestContext, wanted: Reservation, duration: float, priority: int
    ) -> None:
        """RequestReserveAgent, checked (duration 0: cancel): collect it, grant it or
        refuse it (tserver.reservations)."""

    def hold_agent(self, wanted: Reservation, at: Instant) -> str | None:
        """Reserve an agent for an ISCC transaction (RequestReserveAgentAndGetAccessNumber)
        at once; None when done, else why it cannot be."""

    def release_agent(self, holder: str, at: Instant) -> None:
        """End what *holder* (an ISCC transaction) holds reserved."""

    def sites(self) -> list[Site] | None:
        """The other sites of ISCC and their servers (None: ISCC is not configured)."""

    def set_input_mask(self, client: ClientId, events: frozenset[str] | None) -> None:
        """Send *client* only these events from now on (None: every event); the answers
        to its requests always go."""

    def reject_route(self, cross_ref_id: str, at: Instant) -> None:
        """The router rejected the call: the dialogue ends and its registrants hear
        EventRouteUsed now."""

    def route_dnis(self, cross_ref_id: str, dnis: DeviceId | None, at: Instant) -> None:
        """The call of this routeing dialogue takes DNIS *dnis* once routed (None: its own)."""

    def treat(self, treatment: Treatment, at: Instant) -> None:
        """A treatment was asked of the switch (it replaces the call's earlier one)."""

    def forget_treatment(self, conn_id: ConnId, at: Instant) -> None:
        """The switch refused the call's treatment: it is gone, and nobody is told."""

    def treatment_over(self, conn_id: ConnId, at: Instant) -> None:
        """The DURATION of the call's treatment is over: EventTreatmentEnd."""
