"""The switch's whole state in one place, and the Context through which one input changes it.

SwitchState holds calls, monitors, agents, ACD queues, route registrations and
dialogues, associations, guest associations (hot desking), trunk links and their legs,
and the deadlines of the timers that stand.  Nothing outside this package reads it;
tests read Switch.view().

A Context is made for each input.  Services read and change the state through it and
record their effects on it; Context.publish() is the one place that decides who hears
about a call event (docs/pbxsim.md § 3):

    an event about a call goes, once per monitor, to the monitors of every device with
    a connection in the call at that moment and of a device whose connection the event
    removes; each copy carries that monitor's monitorCrossRefID and, as
    localConnectionInfo, the state of the monitor's device's connection after the event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.events import DeliveredEvent, EstablishedEvent, FailedEvent, QueuedEvent
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import Event, Request, Response, Unconfirmed
from ctiserver.csta.types import ConnectionID, PrivateElement
from ctiserver.ids import AgentId, CallId, DeviceId, MonitorCrossRefId
from ctiserver.pbxsim import private
from ctiserver.pbxsim.agents import Agent
from ctiserver.pbxsim.calls import Call, Connection, Leg
from ctiserver.pbxsim.config import PbxConfig
from ctiserver.pbxsim.directory import Directory
from ctiserver.pbxsim.monitors import Monitors
from ctiserver.pbxsim.outcome import (
    AssociationId,
    Close,
    Effect,
    Outcome,
    RecordingEnded,
    Refused,
    Reply,
    Send,
    StartTimer,
    Timer,
    TrunkLinkId,
    TrunkSend,
    UseEdition,
)
from ctiserver.pbxsim.station import StationFeatures
from ctiserver.pbxsim.trunk_protocol import TrunkMessage

EventT = TypeVar("EventT", bound=Event)

UNADDRESSED: Final = MonitorCrossRefId("")
"""The monitorCrossRefID of an event before publish() addresses a copy to each monitor."""

PRESENTING: Final = (DeliveredEvent, EstablishedEvent, QueuedEvent, FailedEvent)
"""The events that present a party, and so carry the call's networkCallID and UUI."""


@dataclass(slots=True, eq=False)
class Association:
    """One CSTA link to an application, and its ECMA-354 session if it started one."""

    association_id: AssociationId
    edition: str
    session_id: str | None = None
    session_duration: int = 0


@dataclass(frozen=True, slots=True)
class Registration:
    """A RouteRegister: *association* routes the calls that reach *device*."""

    req_id: str
    association: AssociationId
    device: DeviceId


@dataclass(frozen=True, slots=True)
class TrunkLink:
    """A trunk link that is up: *trunk* is the local trunk it serves (None: it only
    brings calls in), *peer* the switch at the other end."""

    link_id: TrunkLinkId
    trunk: str | None
    peer: str


@dataclass(frozen=True, slots=True)
class Dialogue:
    """One routeing dialogue: a call waiting at a routing device for a RouteSelect."""

    cross_ref_id: str
    registration: Registration
    call_id: CallId
    device: DeviceId


class SwitchState:
    def __init__(self, config: PbxConfig) -> None:
        self.config = config
        self.directory = Directory(config)
        self.calls: dict[CallId, Call] = {}
        self.predictive: set[CallId] = set()  # MakePredictiveCall's not yet answered
        self.monitors = Monitors()
        self.agents: dict[AgentId, Agent] = {
            AgentId(agent_id): Agent(AgentId(agent_id), config.agent_passwords.get(agent_id))
            for agent_id in config.agents
        }
        self.queues: dict[DeviceId, list[CallId]] = {
            DeviceId(group.number): [] for group in config.acd_groups
        }
        self.seated: dict[DeviceId, Agent] = {}  # the agent logged on at each station
        self.registrations: dict[str, Registration] = {}
        self.dialogues: dict[str, Dialogue] = {}
        self.associations: dict[AssociationId, Association] = {}
        self.deadlines: dict[Timer, float] = {}
        self.hosts: dict[DeviceId, DeviceId] = {}  # guest -> host (hot desking)
        self.trunk_links: dict[TrunkLinkId, TrunkLink] = {}
        self.legs: dict[str, Leg] = {}  # network call id -> leg
        self.microphone_muted: set[DeviceId] = set()  # SetMicrophoneMute, until the last call
        self.speaker_muted: set[DeviceId] = set()  # SetSpeakerMute, likewise
        self.features: dict[DeviceId, StationFeatures] = {}  # pbxsim.features
        self._counters: dict[str, int] = {}

    def reconfigure(self, config: PbxConfig) -> None:
        """Take a new numbering plan.  New devices and agents appear at once; a removed
        device takes no new calls, while the calls it is in end as they would have."""
        self.config = config
        self.directory = Directory(config)
        for agent_id in config.agents:
            if AgentId(agent_id) not in self.agents:
                self.agents[AgentId(agent_id)] = Agent(
                    AgentId(agent_id), config.agent_passwords.get(agent_id)
                )
        for group in config.acd_groups:
            self.queues.setdefault(DeviceId(group.number), [])
        for guest, host in list(self.hosts.items()):
            if not (self.directory.is_station(guest) and self.directory.is_station(host)):
                del self.hosts[guest]

    def new_id(self, kind: str) -> str:
        """The next id of *kind* ("call", "session", …): decimal, never reused."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return str(self._counters[kind])

    def call(self, call_id: str) -> Call:
        """The call *call_id*.  Raises Refused(operation/invalidCallID)."""
        call = self.calls.get(CallId(call_id))
        if call is None:
            raise Refused(ErrorCategory.OPERATION, "invalidCallID")
        return call

    def connection(
        self, connection_id: ConnectionID, *, far_end: bool = False
    ) -> tuple[Call, Connection]:
        """The call and connection named.  Raises Refused(operation/invalidConnectionID).

        The far end of a trunk call is not this switch's to answer, hold or transfer:
        unless *far_end* allows it, naming one is refused with
        operation/requestIncompatibleWithConnection.
        """
        call = self.calls.get(connection_id.call_id)
        connection = call.connections.get(connection_id.device_id) if call else None
        if call is None or connection is None:
            raise Refused(ErrorCategory.OPERATION, "invalidConnectionID")
        if connection.leg is not None and not far_end:
            raise Refused(ErrorCategory.OPERATION, "requestIncompatibleWithConnection")
        return call, connection

    def connections_at(self, device: DeviceId) -> list[tuple[Call, Connection]]:
        """Every call *device* is in, oldest call first."""
        return [
            (call, call.connections[device])
            for call in self.calls.values()
            if device in call.connections
        ]

    def line(self, station: DeviceId) -> tuple[DeviceId, ...]:
        """The numbers on *station*'s phone: itself, and its guest or host (hot desking)."""
        if (host := self.hosts.get(station)) is not None:
            return (host, station)
        guest = next((g for g, h in self.hosts.items() if h == station), None)
        return (station,) if guest is None else (station, guest)

    def busy(self, station: DeviceId) -> bool:
        """A station is busy while its line has a connection that is not held."""
        return any(
            conn.state is not LocalConnectionState.HOLD
            for device in self.line(station)
            for _, conn in self.connections_at(device)
        )

    def agent_at(self, device: DeviceId) -> Agent | None:
        return self.seated.get(device)

    def registration_for(self, device: DeviceId) -> Registration | None:
        return next((r for r in self.registrations.values() if r.device == device), None)

    def dialogue_for(self, call_id: CallId, device: DeviceId) -> Dialogue | None:
        return next(
            (d for d in self.dialogues.values() if d.call_id == call_id and d.device == device),
            None,
        )


class Context:
    """One input's working set: the state, the time, the effects recorded so far, and the
    calls it published events of (`published`, in order: every change to a call's
    connections is published, so these are the calls the input changed)."""

    def __init__(
        self, state: SwitchState, now: float, association: AssociationId | None = None
    ) -> None:
        self.state = state
        self.now = now
        self.association = association
        self._effects: list[Effect] = []
        self.published: dict[int, Call] = {}  # id(call) -> call

    def outcome(self) -> Outcome:
        return Outcome(tuple(self._effects))

    def reply(self, message: Response | CSTAErrorCode) -> None:
        self._effects.append(Reply(message))

    def send(self, association: AssociationId, message: Event | Unconfirmed | Request) -> None:
        self._effects.append(Send(association, message))

    def use_edition(self, association: AssociationId, edition: str) -> None:
        self._effects.append(UseEdition(association, edition))

    def close(self, association: AssociationId) -> None:
        self._effects.append(Close(association))

    def trunk_send(self, link: TrunkLinkId, message: TrunkMessage) -> None:
        self._effects.append(TrunkSend(link, message))

    def recording_ended(self, ended: RecordingEnded) -> None:
        self._effects.append(ended)

    def start_timer(self, timer: Timer, delay: float) -> None:
        """Stand *timer* at now + *delay*, replacing any earlier deadline of it."""
        at = self.now + delay
        self.state.deadlines[timer] = at
        self._effects.append(StartTimer(at, timer))

    def cancel_timer(self, timer: Timer) -> None:
        self.state.deadlines.pop(timer, None)

    def publish(self, call: Call, event: Event, *, removed: Iterable[DeviceId] = ()) -> None:
        """Send a copy of *event* to each monitor concerned (see the module docstring)."""
        self.published[id(call)] = call
        devices = list(call.connections)
        devices += [device for device in removed if device not in call.connections]
        # Which of these fields an event class has varies; copied() checks the names.
        shared: dict[str, Any] = {}
        if isinstance(event, PRESENTING) and (elements := self.call_elements(call)):
            namespace = self.state.config.private_namespace
            shared["private_data"] = private.merged(event.private_data, namespace, elements)
        if call.correlator_data and hasattr(event, "correlator_data"):
            shared["correlator_data"] = call.correlator_data
        if call.network_calling is not None and hasattr(event, "network_calling_device"):
            shared["network_calling_device"] = call.network_calling
            shared["network_called_device"] = call.network_called
        if call.characteristics is not None and hasattr(event, "call_characteristics"):
            shared["call_characteristics"] = call.characteristics
        if call.trunk is not None and hasattr(event, "associated_calling_device"):
            shared["associated_calling_device"] = call.trunk
        states = hasattr(event, "local_connection_info")
        for device in devices:
            changes = dict(shared)
            if states:
                connection = call.connections.get(device)
                changes["local_connection_info"] = (
                    connection.state if connection else LocalConnectionState.NULL
                )
            self.publish_device(device, event, changes=changes)

    def call_elements(self, call: Call) -> list[PrivateElement]:
        """The private data a call carries: its network call id and UUI, when it has them."""
        elements = []
        if call.network_call_id:
            elements.append(private.leaf("networkCallID", call.network_call_id))
        if call.uui:
            elements.append(private.leaf("uui", call.uui))
        return elements

    def publish_device(
        self,
        device: DeviceId,
        event: Event,
        *,
        hosted: bool = True,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """Send a copy of *event*, with *changes*, to each monitor of *device*.

        A copy for a guest's monitors carries `hostDevice` while the guest is at a host,
        unless *hosted* is False (the event has no room for it).
        """
        changes = changes if changes is not None else {}
        host = self.state.hosts.get(device)
        if host is not None and hosted and hasattr(event, "private_data"):
            namespace = self.state.config.private_namespace
            data = changes.get("private_data", getattr(event, "private_data", None))
            element = private.leaf("hostDevice", host)
            changes["private_data"] = private.merged(data, namespace, [element])
        for monitor in self.state.monitors.on(device):
            changes["monitor_cross_ref_id"] = monitor.cross_ref_id
            self.send(monitor.association, copied(event, changes))


_Setters = tuple[tuple[str, Callable[[Any, Any], None]], ...]
_SETTERS: dict[type, tuple[_Setters, frozenset[str]]] = {}
_new = object.__new__


def copied(event: EventT, changes: Mapping[str, Any]) -> EventT:
    """*event* with *changes*, as dataclasses.replace() makes it, for half the
    instructions: each field is set straight into the new object's slot (events are
    frozen, slotted dataclasses without __post_init__).  Raises TypeError for a name
    that is not a field."""
    cls = type(event)
    found = _SETTERS.get(cls)
    if found is None:
        fields = tuple(field.name for field in dataclasses.fields(cls))
        found = _SETTERS[cls] = (
            tuple((name, getattr(cls, name).__set__) for name in fields),
            frozenset(fields),
        )
    setters, names = found
    if not names.issuperset(changes):
        raise TypeError(f"{cls.__name__} has no field {sorted(set(changes) - names)}")
    copy: EventT = _new(cls)
    for name, setter in setters:
        setter(copy, changes[name] if name in changes else getattr(event, name))
    return copy
