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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ctiserver.clock import Instant
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.routeing import RouteRegister, RouteRegisterResponse
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.csta.session import NEED_DATA, CstaSession, Inbound, Role
from ctiserver.csta.system import MonitorStart, MonitorStartResponse
from ctiserver.errors import ServiceError
from ctiserver.ids import ClientId, DeviceId, InvokeId, MonitorCrossRefId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, RoutingPoint, expand_numbers
from ctiserver.pbxsim.outcome import Outcome, Reply, Send, StartTimer
from ctiserver.pbxsim.phone import PhoneAction
from ctiserver.pbxsim.switch import Switch
from ctiserver.tlib.events import problems
from ctiserver.tlib.requests import check
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import (
    AuditCalls,
    ChangeMonitors,
    CoreSettings,
    Deliver,
    Journal,
    Output,
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
    ) -> None:
        self.monotonic, self.wall = 1000.0, 1_795_000_000.0
        self.switch = Switch(pbx)
        self.core = TServerCore(
            settings=settings or CoreSettings(name="tserver-a", location="SiteA"),
            dns=dns,
            started=self.now(),
        )
        self.ours = CstaSession(Role.COMPUTING_FUNCTION)
        self.theirs = CstaSession(Role.SWITCHING_FUNCTION)
        self.association, greeting = self.switch.connect(now=self.monotonic)
        self.monitors: dict[MonitorCrossRefId, DeviceId] = {}
        self.tokens: dict[InvokeId, int] = {}  # our invoke id -> the core's token
        self.timers: list[StartTimer] = []
        self.inbox: dict[ClientId, list[TMessage]] = {}
        self.journal: list[Any] = []
        self.sent_to_switch: list[Request | Unconfirmed] = []
        self._references = 100
        self._carry(greeting)
        self._bring_up(dns)

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
                case SendToSwitch(token=token, request=request):
                    self.sent_to_switch.append(request)
                    self._to_switch(token, request)
                case Journal(changes=changes):
                    self.journal.extend(changes)
                case ChangeMonitors() | AuditCalls() | SendToPeer():
                    pass  # no other site here; monitors change only at bring-up

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

    def _send_from_switch(self, message: Event | Unconfirmed | Request) -> None:
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
                self._bring_up_reply(inbound)
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

    # --- bring-up, as the link supervisor does it --------------------------------------------

    def _bring_up(self, dns: Mapping[DeviceId, DnKind]) -> None:
        self._pending_monitors: dict[InvokeId, DeviceId] = {}
        for dn, kind in dns.items():
            invoke_id, data = self.ours.send_request(MonitorStart(device_object=dn))
            self._pending_monitors[invoke_id] = dn
            self.theirs.receive_data(data)
            self._deliver_to_switch(invoke_id)
            if kind is DnKind.ROUTING_POINT:
                invoke_id, data = self.ours.send_request(RouteRegister(routeing_device=dn))
                self.theirs.receive_data(data)
                self._deliver_to_switch(invoke_id)
        self.perform(self.core.link_up(self.now()))

    def _bring_up_reply(self, inbound: Inbound) -> None:
        message = inbound.message
        if isinstance(message, MonitorStartResponse):
            dn = self._pending_monitors.pop(inbound.invoke_id)
            self.monitors[message.monitor_cross_ref_id] = dn
        else:
            assert isinstance(message, RouteRegisterResponse), message
