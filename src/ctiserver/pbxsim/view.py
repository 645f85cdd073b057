"""A frozen picture of the switch's state, for tests, diagnostics and the operator.

Switch.view() builds one; it shares nothing with the live state, so it can be kept
and compared (a refused request must leave view() unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.ids import AgentId, CallId, DeviceId
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.calls import Call, RecordingState
from ctiserver.pbxsim.monitors import Monitor
from ctiserver.pbxsim.outcome import AssociationId, Timer, TrunkLinkId
from ctiserver.pbxsim.state import Dialogue, Registration, SwitchState, TrunkLink


@dataclass(frozen=True, slots=True)
class ConnectionView:
    device: DeviceId
    state: LocalConnectionState
    number: DeviceId  # as events name it: the device, or the far end's number
    recording: str | None = None  # the message id of its recording
    participation: str = "active"  # active, silent or coach (§ 4.15)
    coached: DeviceId | None = None


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: CallId
    connections: tuple[ConnectionView, ...]
    account_code: str = ""
    uui: str = ""
    network_call_id: str = ""

    @property
    def devices(self) -> tuple[DeviceId, ...]:
        return tuple(connection.device for connection in self.connections)

    def state_of(self, device: DeviceId) -> LocalConnectionState | None:
        for connection in self.connections:
            if connection.device == device:
                return connection.state
        return None


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: AgentId
    status: AgentStatus
    device: DeviceId | None
    group: DeviceId | None
    reason_code: str = ""


@dataclass(frozen=True, slots=True)
class RecordingView:
    message: str
    call_id: CallId
    device: DeviceId
    state: RecordingState


@dataclass(frozen=True, slots=True)
class LegView:
    """One trunk leg: *device* is the far end's connection in *call_id*."""

    network_call_id: str
    link: TrunkLinkId
    call_id: CallId
    device: DeviceId
    outbound: bool


@dataclass(frozen=True, slots=True)
class FeaturesView:
    """A station's features (§ 4.14); `forwarding` maps forwarding types (ECMA-323's
    values) to their destinations."""

    station: DeviceId
    dnd: bool
    forwarding: tuple[tuple[str, DeviceId], ...]
    message_waiting: bool
    out_of_service: bool


@dataclass(frozen=True, slots=True)
class SwitchView:
    calls: tuple[CallView, ...]
    agents: tuple[AgentView, ...]
    associations: tuple[AssociationId, ...]
    monitors: tuple[Monitor, ...]
    registrations: tuple[Registration, ...]
    dialogues: tuple[Dialogue, ...]
    queues: tuple[tuple[DeviceId, tuple[CallId, ...]], ...]
    timers: tuple[tuple[Timer, float], ...]
    hosts: tuple[tuple[DeviceId, DeviceId], ...] = ()  # (guest, host)
    recordings: tuple[RecordingView, ...] = ()
    trunk_links: tuple[TrunkLink, ...] = ()
    legs: tuple[LegView, ...] = ()
    microphone_muted: frozenset[DeviceId] = frozenset()
    speaker_muted: frozenset[DeviceId] = frozenset()
    features: tuple[FeaturesView, ...] = ()

    def features_of(self, station: str) -> FeaturesView | None:
        return next((f for f in self.features if f.station == station), None)

    def call(self, call_id: str) -> CallView | None:
        return next((call for call in self.calls if call.call_id == call_id), None)

    def calls_at(self, device: str) -> tuple[CallView, ...]:
        return tuple(call for call in self.calls if device in call.devices)

    def agent(self, agent_id: str) -> AgentView | None:
        return next((agent for agent in self.agents if agent.agent_id == agent_id), None)

    def queued(self, group: str) -> tuple[CallId, ...]:
        return next((calls for number, calls in self.queues if number == group), ())

    def host_of(self, guest: str) -> DeviceId | None:
        return next((host for g, host in self.hosts if g == guest), None)

    def recording(self, message: str) -> RecordingView | None:
        return next((r for r in self.recordings if r.message == message), None)

    def trunk_up(self, trunk: str) -> bool:
        """Whether *trunk* has a link that is up."""
        return any(link.trunk == trunk for link in self.trunk_links)

    def leg(self, network_call_id: str) -> LegView | None:
        return next((leg for leg in self.legs if leg.network_call_id == network_call_id), None)


def view_of(state: SwitchState) -> SwitchView:
    return SwitchView(
        calls=tuple(_call_view(call) for call in state.calls.values()),
        agents=tuple(
            AgentView(agent.agent_id, agent.status, agent.device, agent.group, agent.reason_code)
            for agent in state.agents.values()
        ),
        associations=tuple(state.associations),
        monitors=state.monitors.all(),
        registrations=tuple(state.registrations.values()),
        dialogues=tuple(state.dialogues.values()),
        queues=tuple((group, tuple(calls)) for group, calls in state.queues.items()),
        timers=tuple(sorted(state.deadlines.items(), key=lambda item: item[1])),
        hosts=tuple(state.hosts.items()),
        recordings=tuple(
            RecordingView(c.recording.message, call.call_id, c.device, c.recording.state)
            for call in state.calls.values()
            for c in call.connections.values()
            if c.recording is not None
        ),
        trunk_links=tuple(state.trunk_links.values()),
        legs=tuple(
            LegView(leg.network_call_id, leg.link, leg.call_id, leg.device, leg.outbound)
            for leg in state.legs.values()
        ),
        microphone_muted=frozenset(state.microphone_muted),
        speaker_muted=frozenset(state.speaker_muted),
        features=tuple(
            FeaturesView(
                station,
                f.dnd,
                tuple((kind.value, to) for kind, to in f.forwarding.items()),
                f.message_waiting,
                f.out_of_service,
            )
            for station, f in state.features.items()
        ),
    )


def _call_view(call: Call) -> CallView:
    connections = tuple(
        ConnectionView(
            c.device,
            c.state,
            c.shown(),
            c.recording.message if c.recording else None,
            c.participation,
            c.coached,
        )
        for c in call.connections.values()
    )
    return CallView(call.call_id, connections, call.account_code, call.uui, call.network_call_id)
