"""ACD agents as the switch reports them (ECMA-269 § 17.2.21-25): who is logged in on
which DN, for which queue, and whether ready.

AgentLoggedOn/LoggedOff/Ready/NotReady/WorkingAfterCall events on a DN's monitor become
AgentChanged facts; the T-Library work mode of a NotReady is the one the client asked
for (recorded by `intend`), AfterCallWork for wrap-up, AuxWork otherwise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctiserver.csta.agents import (
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentWorkingAfterCallEvent,
)
from ctiserver.ids import AgentId, DeviceId
from ctiserver.model.changes import AgentChanged, AgentEvent, Change
from ctiserver.tlib.vocabulary import AgentWorkMode

if TYPE_CHECKING:
    from ctiserver.model.model import Model


class AgentStatus(enum.Enum):
    READY = "Ready"
    NOT_READY = "NotReady"
    AFTER_CALL_WORK = "AfterCallWork"


@dataclass(slots=True)
class AgentOnDn:
    agent_id: AgentId
    queue: DeviceId | None
    status: AgentStatus = AgentStatus.NOT_READY
    ready_mode: AgentWorkMode = AgentWorkMode.MANUAL_IN  # AutoIn or ManualIn
    work_mode: AgentWorkMode = AgentWorkMode.AUX_WORK  # as last reported


_READY_MODES = (AgentWorkMode.AUTO_IN, AgentWorkMode.MANUAL_IN)


def intend(model: Model, dn: DeviceId, work_mode: AgentWorkMode) -> None:
    """The work mode a client asked for, reported with the DN's next agent event."""
    model.agent_intents[dn] = work_mode


def _changed(dn: DeviceId, agent: AgentOnDn, what: AgentEvent) -> AgentChanged:
    return AgentChanged(
        dn=dn, agent_id=agent.agent_id, queue=agent.queue, what=what, work_mode=agent.work_mode
    )


def _agent(model: Model, dn: DeviceId, device: DeviceId) -> AgentOnDn | None:
    return model.agents.get(dn) if device == dn else None


def on_logged_on(model: Model, dn: DeviceId, event: AgentLoggedOnEvent) -> list[Change]:
    if event.agent_device != dn:
        return []
    agent = AgentOnDn(AgentId(event.agent_id), event.acd_group)
    wanted = model.agent_intents.pop(dn, AgentWorkMode.MANUAL_IN)
    agent.ready_mode = agent.work_mode = (
        wanted if wanted in _READY_MODES else AgentWorkMode.MANUAL_IN
    )
    model.agents[dn] = agent
    return [_changed(dn, agent, AgentEvent.LOGGED_IN)]


def on_logged_off(model: Model, dn: DeviceId, event: AgentLoggedOffEvent) -> list[Change]:
    agent = model.agents.pop(dn, None) if event.agent_device == dn else None
    model.agent_intents.pop(dn, None)
    if agent is None:
        return []
    return [_changed(dn, agent, AgentEvent.LOGGED_OUT)]


def on_ready(model: Model, dn: DeviceId, event: AgentReadyEvent) -> list[Change]:
    agent = _agent(model, dn, event.agent_device)
    if agent is None:
        return []
    wanted = model.agent_intents.pop(dn, agent.ready_mode)
    agent.ready_mode = wanted if wanted in _READY_MODES else agent.ready_mode
    agent.status, agent.work_mode = AgentStatus.READY, agent.ready_mode
    return [_changed(dn, agent, AgentEvent.READY)]


def on_not_ready(model: Model, dn: DeviceId, event: AgentNotReadyEvent) -> list[Change]:
    agent = _agent(model, dn, event.agent_device)
    if agent is None:
        return []
    wanted = model.agent_intents.pop(dn, AgentWorkMode.AUX_WORK)
    agent.status = AgentStatus.NOT_READY
    agent.work_mode = AgentWorkMode.AUX_WORK if wanted in _READY_MODES else wanted
    return [_changed(dn, agent, AgentEvent.NOT_READY)]


def on_after_call_work(
    model: Model, dn: DeviceId, event: AgentWorkingAfterCallEvent
) -> list[Change]:
    agent = _agent(model, dn, event.agent_device)
    if agent is None:
        return []
    model.agent_intents.pop(dn, None)
    agent.status, agent.work_mode = AgentStatus.AFTER_CALL_WORK, AgentWorkMode.AFTER_CALL_WORK
    return [_changed(dn, agent, AgentEvent.NOT_READY)]


HANDLERS: dict[type[Any], Any] = {
    AgentLoggedOnEvent: on_logged_on,
    AgentLoggedOffEvent: on_logged_off,
    AgentReadyEvent: on_ready,
    AgentNotReadyEvent: on_not_ready,
    AgentWorkingAfterCallEvent: on_after_call_work,
}
