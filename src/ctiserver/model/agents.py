"""ACD agents as the switch reports them (ECMA-269 § 17.2.21-25): who is logged in on
which DN, for which queue, and whether ready.

AgentLoggedOn/LoggedOff/Ready/NotReady/WorkingAfterCall events on a DN's monitor become
AgentChanged facts; the T-Library work mode of a NotReady is the one the client asked
for (recorded by `intend`), AfterCallWork for wrap-up, AuxWork otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from ctiserver.csta.agents import (
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentWorkingAfterCallEvent,
)
from ctiserver.ids import AgentId, DeviceId
from ctiserver.model.changes import AgentChanged, AgentEvent, AgentIntended
from ctiserver.model.state import State
from ctiserver.model.states import AgentStatus
from ctiserver.model.values import Agent
from ctiserver.tlib.vocabulary import AgentWorkMode

_READY_MODES = (AgentWorkMode.AUTO_IN, AgentWorkMode.MANUAL_IN)


def intend(state: State, dn: DeviceId, work_mode: AgentWorkMode) -> None:
    """The work mode a client asked for, reported with the DN's next agent event."""
    state.emit(AgentIntended(dn=dn, work_mode=work_mode))


def _used_intent(state: State, dn: DeviceId) -> AgentWorkMode | None:
    """The DN's intent, which this event uses up (emitted)."""
    wanted = state.intent(dn)
    if wanted is not None:
        state.emit(AgentIntended(dn=dn, work_mode=None))
    return wanted


def _agent(state: State, dn: DeviceId, device: DeviceId) -> Agent | None:
    return state.agent(dn) if device == dn else None


def on_logged_on(state: State, dn: DeviceId, event: AgentLoggedOnEvent) -> None:
    if event.agent_device != dn:
        return
    wanted = _used_intent(state, dn) or AgentWorkMode.MANUAL_IN
    mode = wanted if wanted in _READY_MODES else AgentWorkMode.MANUAL_IN
    agent = Agent(AgentId(event.agent_id), event.acd_group, ready_mode=mode, work_mode=mode)
    state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.LOGGED_IN))


def on_logged_off(state: State, dn: DeviceId, event: AgentLoggedOffEvent) -> None:
    if event.agent_device != dn:
        return
    _used_intent(state, dn)
    agent = state.agent(dn)
    if agent is not None:
        state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.LOGGED_OUT))


def on_ready(state: State, dn: DeviceId, event: AgentReadyEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    wanted = _used_intent(state, dn) or agent.ready_mode
    ready_mode = wanted if wanted in _READY_MODES else agent.ready_mode
    agent = replace(agent, status=AgentStatus.READY, ready_mode=ready_mode, work_mode=ready_mode)
    state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.READY))


def on_not_ready(state: State, dn: DeviceId, event: AgentNotReadyEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    wanted = _used_intent(state, dn) or AgentWorkMode.AUX_WORK
    work_mode = AgentWorkMode.AUX_WORK if wanted in _READY_MODES else wanted
    agent = replace(agent, status=AgentStatus.NOT_READY, work_mode=work_mode)
    state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.NOT_READY))


def on_after_call_work(state: State, dn: DeviceId, event: AgentWorkingAfterCallEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    _used_intent(state, dn)
    agent = replace(
        agent, status=AgentStatus.AFTER_CALL_WORK, work_mode=AgentWorkMode.AFTER_CALL_WORK
    )
    state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.NOT_READY))
