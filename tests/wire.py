"""A pure harness: the T-Server core and pbxsim's switch joined in memory through two CSTA
sessions, as h11's ConnectionPair joins a client and a server.

Every request the core sends is encoded by our session, decoded by the switch's, handled
by the switch, and its reply and events go back the same way, as bytes; nothing runs an
event loop and time is told, not read.  The call models run through it in
milliseconds with the exact events each client receives.

    wire = Wire()
    a, b = wire.client("7001"), wire.client("7002")
    wire.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    wire.take(b)   # [EventRinging]

The link is kept as the link supervisor keeps it: bring-up monitors every DN, registers
as router of the routing points and resynchronises from the switch's snapshot;
drop_link() and reconnect() break and remake it; the core's monitor changes and call
audits are carried out.  `events_lost` makes a switch whose events never arrive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from ctiserver.clock import Instant
from ctiserver.csta.agents import GetAgentState, GetAgentStateResponse
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.routeing import RouteRegister, RouteRegisterResponse
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.csta.session import NEED_DATA, CstaSession, Inbound, Role
from ctiserver.csta.system import (
    MonitorStart,
    MonitorStartResponse,
    MonitorStop,
    SnapshotCall,
    SnapshotCallResponse,
    SnapshotDevice,
    SnapshotDeviceResponse,
)
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import ServiceError
from ctiserver.ids import CallId, ClientId, ConnId, DeviceId, InvokeId, MonitorCrossRefId
from ctiserver.iscc.settings import IsccSettings
from ctiserver.link import features as link_features
from ctiserver.link.supervisor import AgentSnapshot, Snapshot
from ctiserver.link.supervisor import _agent_of as agent_of
from ctiserver.link.supervisor import _no_such_call as no_such_call
from ctiserver.model.resync import SnapshotParty
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, RoutingPoint, expand_numbers
from ctiserver.pbxsim.outcome import (
    AssociationId,
    Outcome,
    Reply,
    Send,
    StartTimer,
    TrunkLinkId,
    TrunkSend,
)
from ctiserver.pbxsim.phone import PhoneAction
from ctiserver.pbxsim.switch import Switch
from ctiserver.pbxsim.trunk_protocol import TrunkMessage
from ctiserver.tlib.events import problems
from ctiserver.tlib.requests import InvalidRequest, check
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import (
    AuditCalls,
    ChangeMonitors,
    CoreSettings,
    Deliver,
    Journal,
    Output,
    Resend,
    SendToPeer,
    SendToSwitch,
)

STATIONS = tuple(f"70{n:02d}" for n in range(1, 9))
QUEUE, POINT = "8001", "5000"
PBX = PbxConfig(
    stations=expand_numbers(["7001-7008"]),
    acd_groups=(AcdGroup(number=QUEUE),),
    routing_points=(RoutingPoint(number=POINT, route_timeout=10.0, default_destination="7008"),),
    agents=expand_numbers(["1001-1004"]),
)
DNS: Mapping[DeviceId, DnKind] = {
    **{DeviceId(dn): DnKind.EXTENSION for dn in STATIONS},
    DeviceId(QUEUE): DnKind.ACD_QUEUE,
    DeviceId(POINT): DnKind.ROUTING_POINT,
}


class Wire:
    def __init__(
        self,
        *,
        settings: CoreSettings | None = None,
        pbx: PbxConfig = PBX,
        dns: Mapping[DeviceId, DnKind] = DNS,
        iscc: IsccSettings | None = None,
        wall: float = 1_795_000_000.0,  # the time of day it starts at (seeds its ConnIDs)
    ) -> None:
        self.monotonic, self.wall = 1000.0, wall
        self.switch = Switch(pbx)
        self.core = TServerCore(
            settings=settings or CoreSettings(name="tserver-a", location="SiteA"),
            dns=dns,
            started=self.now(),
            iscc=iscc,
        )
        self.tokens: dict[InvokeId, int] = {}  # our invoke id -> the core's token
        self.timers: list[StartTimer] = []
        self.inbox: dict[ClientId, list[TMessage]] = {}
        self.journal: list[Any] = []
        self.journals: list[Journal] = []  # whole, sessions' facts included
        self.sent_to_switch: list[Request | Unconfirmed] = []
        self.audits: list[AuditCalls] = []
        # What leaves this site, for tests/sites.py to carry: trunk and ISCC messages.
        self.leaving: deque[tuple[Wire, TrunkSend | SendToPeer]] = deque()
        self.events_lost = False  # True: what the switch reports never reaches the core
        self._outbox: deque[SendToSwitch] = deque()  # for the switch, in the order sent
        self._sending = False
        self._answers: dict[InvokeId, object] = {}  # to the link's own requests
        self._references = 100
        self._bring_up()

    def now(self) -> Instant:
        return Instant(self.monotonic, self.wall)

    # --- clients ----------------------------------------------------------------------------

    def client(self, *dns: str) -> ClientId:
        """A new client, greeted, that registered *dns*; its inbox starts empty."""
        client = ClientId(len(self.inbox) + 1)
        self.inbox[client] = []
        self.core.client_connected(client)
        self.ask(client, "RequestRegisterClient", ApplicationName=f"app{client}")
        for dn in dns:
            self.ask(client, "RequestRegisterAddress", ThisDN=dn)
        self.inbox[client] = []
        return client

    def ask(self, client: ClientId, request: str, **attributes: Any) -> int:
        """Send a request; returns its ReferenceID."""
        self._references += 1
        message = check({"Request": request, "ReferenceID": self._references, **attributes})
        self.perform(self.core.request(client, message, self.now()))
        return self._references

    def say(self, client: ClientId, message: object) -> None:
        """A client's line as decoded JSON, checked as the shells check it: what the
        protocol's checks refuse is answered by the core's EventError."""
        try:
            request = check(message)
        except InvalidRequest as problem:
            self.perform(self.core.invalid_request(client, problem, self.now()))
            return
        self.perform(self.core.request(client, request, self.now()))

    def take(self, client: ClientId) -> list[TMessage]:
        """What *client* received since the last take, each event held to the table."""
        events, self.inbox[client] = self.inbox[client], []
        for event in events:
            assert not problems(event), (problems(event), event)
        return events

    # --- the switch's people and clock --------------------------------------------------------

    def phone(self, action: PhoneAction) -> None:
        """A person uses a phone of the switch."""
        self._carry(self.switch.act(action, now=self.monotonic))

    def trunk_message(self, link: TrunkLinkId, message: TrunkMessage) -> None:
        """A call message from another switch on trunk link *link*."""
        self._carry(self.switch.trunk_message(link, message, now=self.monotonic))

    def advance(self, seconds: float) -> None:
        """Let *seconds* pass: the switch's timers and the core's deadlines come due."""
        self.monotonic += seconds
        self.wall += seconds
        self._carry(self.switch.fire_due(now=self.monotonic))
        self.perform(self.core.tick(self.now()))

    # --- the wire -------------------------------------------------------------------------

    def perform(self, outputs: Iterable[Output]) -> None:
        for output in outputs:
            match output:
                case Deliver():
                    for clients, event in output.copies():
                        for client in clients:
                            self.inbox.setdefault(client, []).append(event)
                case SendToSwitch(request=request):
                    self.sent_to_switch.append(request)
                    self._outbox.append(output)
                    self._send_outbox()
                case Resend(client=client, events=events):
                    self.inbox.setdefault(client, []).extend(events)
                case Journal(changes=changes):
                    self.journal.extend(changes)
                    self.journals.append(output)
                case ChangeMonitors(start=start, stop=stop):
                    self._change_monitors(start, stop)
                case AuditCalls(calls=calls):
                    self.audits.append(output)
                    self._audit(calls)
                case SendToPeer():
                    self.leaving.append((self, output))

    def _send_outbox(self) -> None:
        """Hand the switch what the core sent, one request at a time: as over TCP, the
        switch takes a request only after what it sent before has reached the core (a
        request made while an outcome is carried waits for the rest of that outcome)."""
        if self._sending:
            return
        self._sending = True
        try:
            while self._outbox:
                output = self._outbox.popleft()
                self._to_switch(output.token, output.request)
        finally:
            self._sending = False

    def _to_switch(self, token: int, request: Request | Unconfirmed) -> None:
        if isinstance(request, Unconfirmed):
            self.theirs.receive_data(self.ours.send_unconfirmed(request))
            self._deliver_to_switch(None)
            return
        invoke_id, data = self.ours.send_request(request)
        self.tokens[invoke_id] = token
        self.theirs.receive_data(data)
        self._deliver_to_switch(invoke_id)

    def _deliver_to_switch(self, invoke_id: InvokeId | None) -> None:
        inbound = self.theirs.next_message()
        assert isinstance(inbound, Inbound), inbound
        outcome = self.switch.handle(self.association, inbound.message, now=self.monotonic)
        self._carry(outcome, inbound.invoke_id)

    def _carry(self, outcome: Outcome, invoke_id: InvokeId | None = None) -> None:
        """Bring what the switch did back to the core, through the two sessions."""
        for effect in outcome.effects:
            match effect:
                case Reply(message=message) if invoke_id is not None:
                    self.ours.receive_data(self.theirs.send_response(invoke_id, message))
                    self._from_switch()
                case Send(association=association, message=message):
                    if association == self.association:
                        self._send_from_switch(message)
                case StartTimer():
                    self.timers.append(effect)
                case TrunkSend():
                    self.leaving.append((self, effect))

    def _send_from_switch(self, message: Event | Unconfirmed | Request) -> None:
        if self.events_lost:
            return
        if isinstance(message, Event):
            self.ours.receive_data(self.theirs.send_event(message))
        elif isinstance(message, Unconfirmed):
            self.ours.receive_data(self.theirs.send_unconfirmed(message))
        else:
            return  # the switch's own request (SystemStatus): nothing waits on its answer
        self._from_switch()

    def _from_switch(self) -> None:
        while (inbound := self.ours.next_message()) is not NEED_DATA:
            assert isinstance(inbound, Inbound)
            self._to_core(inbound)

    def _to_core(self, inbound: Inbound) -> None:
        message, now = inbound.message, self.now()
        if inbound.request is not None:  # the answer to a request of ours
            token = self.tokens.pop(inbound.invoke_id, None)
            if token is None:
                self._answers[inbound.invoke_id] = message
            elif isinstance(message, CSTAErrorCode):
                failure = ServiceError(message.category.value, message.value)
                self.perform(self.core.csta_failure(token, failure, now))
            else:
                assert isinstance(message, Response)
                self.perform(self.core.csta_answer(token, message, now))
        elif isinstance(message, Event):
            dn = self.monitors[message.monitor_cross_ref_id]
            self.perform(self.core.csta_event(dn, message, now))
        elif isinstance(message, Unconfirmed):
            self.perform(self.core.csta_invocation(message, now))

    # --- the link, as the link supervisor keeps it -------------------------------------------

    def drop_link(self) -> None:
        """The link to the switch breaks: the core hears of it, the switch forgets the
        association.  What the switch does meanwhile reaches nobody until reconnect()."""
        self._carry(self.switch.disconnect(self.association, now=self.monotonic))
        self.association = AssociationId(-1)
        self.perform(self.core.link_down(self.now()))

    def reconnect(self) -> None:
        """A new connection, brought up as after a drop: monitors, routes, resync."""
        self._bring_up()

    def snapshot(self, dns: Iterable[DeviceId]) -> tuple[Snapshot, AgentSnapshot]:
        """The calls at *dns* and the agents on their stations, asked of the switch as
        the link supervisor asks (SnapshotDevice, SnapshotCall, GetAgentState)."""
        dns = list(dns)
        call_ids: dict[CallId, None] = {}
        for dn in dns:
            reply = self._ask_switch(SnapshotDevice(snapshot_object=dn))
            assert isinstance(reply, SnapshotDeviceResponse), reply
            call_ids.update(
                dict.fromkeys(i.connection_identifier.call_id for i in reply.snapshot_data)
            )
        calls: Snapshot = {}
        for call_id in call_ids:
            reply = self._ask_switch(SnapshotCall(snapshot_object=ConnectionID(call_id=call_id)))
            if isinstance(reply, SnapshotCallResponse):
                calls[call_id] = [
                    SnapshotParty(info.device_on_call, info.local_connection_state)
                    for info in reply.snapshot_data
                    if info.device_on_call is not None
                ]
        agents: AgentSnapshot = {}
        for dn in dns:
            if self.core.model.kind(dn) is DnKind.EXTENSION:
                reply = self._ask_switch(GetAgentState(device=dn))
                assert isinstance(reply, GetAgentStateResponse), reply
                agents[dn] = agent_of(reply)
        return calls, agents

    def _bring_up(self) -> None:
        self.ours = CstaSession(Role.COMPUTING_FUNCTION)
        self.theirs = CstaSession(Role.SWITCHING_FUNCTION)
        self.association, greeting = self.switch.connect(now=self.monotonic)
        self.monitors: dict[MonitorCrossRefId, DeviceId] = {}
        self._carry(greeting)
        dns = self.core.monitored_dns()
        self._change_monitors(dns, ())
        calls, agents = self.snapshot(dns)
        self.perform(self.core.resync(calls, self.now(), dns, agents))
        stations = [dn for dn in dns if self.core.model.kind(dn) is DnKind.EXTENSION]
        replies = [self._ask_switch(r) for r in link_features.requests_for(stations)]
        answers = [r if isinstance(r, Response) else ServiceError("", "") for r in replies]
        self.perform(self.core.resync_features(link_features.features_of(stations, answers), self.now()))  # fmt: skip
        self.perform(self.core.link_up(self.now()))

    def _change_monitors(self, start: Iterable[DeviceId], stop: Iterable[DeviceId]) -> None:
        for dn in stop:
            (cross_ref,) = [x for x, monitored in self.monitors.items() if monitored == dn]
            self._ask_switch(MonitorStop(monitor_cross_ref_id=cross_ref))
            del self.monitors[cross_ref]
        for dn in start:
            started = self._ask_switch(MonitorStart(device_object=dn))
            assert isinstance(started, MonitorStartResponse), started
            self.monitors[started.monitor_cross_ref_id] = dn
            if self.core.model.kind(dn) is DnKind.ROUTING_POINT:
                registered = self._ask_switch(RouteRegister(routeing_device=dn))
                assert isinstance(registered, RouteRegisterResponse), registered

    def _audit(self, calls: Iterable[tuple[ConnId, CallId]]) -> None:
        """Stuck-call clean-up: ask the switch about each call, as the supervisor does."""
        gone = []
        for conn_id, call_id in calls:
            reply = self._ask_switch(SnapshotCall(snapshot_object=ConnectionID(call_id=call_id)))
            if isinstance(reply, CSTAErrorCode):
                reply = ServiceError(reply.category.value, reply.value)
            assert isinstance(reply, Response | ServiceError), reply
            if no_such_call(reply):
                gone.append(conn_id)
        if gone:
            self.perform(self.core.audited(gone, self.now()))

    def _ask_switch(self, request: Request) -> object:
        """One of the link's own requests; the switch's answer (a response or an error)."""
        invoke_id, data = self.ours.send_request(request)
        self.theirs.receive_data(data)
        self._deliver_to_switch(invoke_id)
        return self._answers.pop(invoke_id)
