"""A frozen picture of the switch's state, for tests, diagnostics and the operator.

Switch.view() builds one; it shares nothing with the live state, so it can be kept
and compared (a refused request must leave view() unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.ids import AgentId, CallId, DeviceId
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.monitors import Monitor
from ctiserver.pbxsim.outcome import AssociationId, Timer
from ctiserver.pbxsim.state import Dialogue, Registration, SwitchState


@dataclass(frozen=True, slots=True)
class ConnectionView:
    device: DeviceId
    state: LocalConnectionState


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: CallId
    connections: tuple[ConnectionView, ...]

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

    def call(self, call_id: str) -> CallView | None:
        return next((call for call in self.calls if call.call_id == call_id), None)

    def calls_at(self, device: str) -> tuple[CallView, ...]:
        return tuple(call for call in self.calls if device in call.devices)

    def agent(self, agent_id: str) -> AgentView | None:
        return next((agent for agent in self.agents if agent.agent_id == agent_id), None)

    def queued(self, group: str) -> tuple[CallId, ...]:
        return next((calls for number, calls in self.queues if number == group), ())


def view_of(state: SwitchState) -> SwitchView:
    return SwitchView(
        calls=tuple(
            CallView(
                call.call_id,
                tuple(ConnectionView(c.device, c.state) for c in call.connections.values()),
            )
            for call in state.calls.values()
        ),
        agents=tuple(
            AgentView(agent.agent_id, agent.status, agent.device, agent.group)
            for agent in state.agents.values()
        ),
        associations=tuple(state.associations),
        monitors=state.monitors.all(),
        registrations=tuple(state.registrations.values()),
        dialogues=tuple(state.dialogues.values()),
        queues=tuple((group, tuple(calls)) for group, calls in state.queues.items()),
        timers=tuple(sorted(state.deadlines.items(), key=lambda item: item[1])),
    )
