"""ACD agent services (ECMA-269 § 22.1.7, § 22.1.10), wrap-up, and the choice of agent.

Agent events go to the monitors of the agent's station.  Which agent gets a waiting
call: a ready agent of the group whose station is not busy, the one idle longest.
An agent is idle from when it became ready, or from when its last ACD call ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ctiserver.csta.agents import (
    AgentInfo,
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentStateEntry,
    AgentWorkingAfterCallEvent,
    GetAgentState,
    GetAgentStateResponse,
    SetAgentState,
    SetAgentStateResponse,
)
from ctiserver.csta.failure import ErrorCategory
from ctiserver.ids import AgentId, DeviceId
from ctiserver.pbxsim import features, private
from ctiserver.pbxsim.agents import (
    CSTA_AGENT_STATE,
    TRIGGER_FOR_REQUEST,
    Agent,
    AgentStatus,
    AgentTrigger,
    next_status,
)
from ctiserver.pbxsim.outcome import Refused, Timer, TimerKind
from ctiserver.pbxsim.state import UNADDRESSED, Context, SwitchState

_OPERATION = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
REASON_CODE = "reasonCode"  # the private element of a reason (docs/pbxsim.md § 8)


def set_agent_state(ctx: Context, request: SetAgentState) -> None:
    device = request.device
    if not ctx.state.directory.is_station(device):
        raise Refused(_OPERATION, "invalidDeviceID")
    trigger = TRIGGER_FOR_REQUEST[request.requested_agent_state]
    if trigger is AgentTrigger.LOG_ON:
        agent = _agent_logging_on(ctx.state, request)
    else:
        agent = _agent_at(ctx.state, request)
    next_status(agent.status, trigger)  # refuses a move the table does not have
    ctx.reply(SetAgentStateResponse())
    if trigger is AgentTrigger.LOG_ON:
        agent.device, agent.group = device, request.group
        ctx.state.seated[device] = agent
    namespace = ctx.state.config.private_namespace
    _move(ctx, agent, trigger, private.text(request.private_data, namespace, REASON_CODE))


def _unhex(password: str) -> str | None:
    """ECMA-323 writes the password as hexBinary; None when it is not."""
    try:
        return bytes.fromhex(password).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _agent_logging_on(state: SwitchState, request: SetAgentState) -> Agent:
    agent = state.agents.get(AgentId(request.agent_id))
    if agent is None:
        raise Refused(_OPERATION, "invalidAgentIdentifier")
    if agent.password is not None and _unhex(request.password) != agent.password:
        raise Refused(_OPERATION, "invalidAgentPassword")
    group = request.group
    if group is not None and group not in state.directory.acd_groups:
        raise Refused(_OPERATION, "invalidAgentGroup")
    there = state.agent_at(request.device)
    if there is not None and there is not agent:
        raise Refused(_STATE, "invalidDeviceState")  # another agent is on this station
    if agent.device is not None and agent.device != request.device:
        raise Refused(_STATE, "invalidDeviceState")  # the agent is on another station
    return agent


def _agent_at(state: SwitchState, request: SetAgentState) -> Agent:
    agent = state.agent_at(request.device)
    if agent is None:
        raise Refused(_OPERATION, "invalidAgentState")  # nobody is logged on here
    if request.agent_id and request.agent_id != agent.agent_id:
        raise Refused(_OPERATION, "invalidAgentIdentifier")
    return agent


def _move(ctx: Context, agent: Agent, trigger: AgentTrigger, reason_code: str = "") -> None:
    """Take one move of *agent* and tell its station's monitors; *reason_code* is why
    (given by the request that asked for the move)."""
    assert agent.device is not None
    device, group = agent.device, agent.group
    ctx.cancel_timer(_wrap_up_timer(agent))
    agent.status = next_status(agent.status, trigger)
    agent.reason_code = reason_code
    if agent.status is AgentStatus.READY:
        _became_idle(ctx, agent)
    elif agent.status is AgentStatus.LOGGED_OFF:
        agent.device, agent.group = None, None
        ctx.state.seated.pop(device, None)
    event = _EVENTS[trigger](
        monitor_cross_ref_id=UNADDRESSED,
        agent_device=device,
        agent_id=agent.agent_id,
        acd_group=group,
    )
    if reason_code:
        namespace = ctx.state.config.private_namespace
        event = private.with_elements(event, namespace, [private.leaf(REASON_CODE, reason_code)])
    ctx.publish_device(device, event)


_AgentEvent = (
    AgentLoggedOnEvent
    | AgentLoggedOffEvent
    | AgentReadyEvent
    | AgentNotReadyEvent
    | AgentWorkingAfterCallEvent
)
_EVENTS: Final[Mapping[AgentTrigger, type[_AgentEvent]]] = {
    AgentTrigger.LOG_ON: AgentLoggedOnEvent,  # the agent is then not ready, without an event
    AgentTrigger.LOG_OFF: AgentLoggedOffEvent,
    AgentTrigger.SET_READY: AgentReadyEvent,
    AgentTrigger.SET_NOT_READY: AgentNotReadyEvent,
    AgentTrigger.SET_WORKING_AFTER_CALL: AgentWorkingAfterCallEvent,
    AgentTrigger.ACD_CALL_ENDED: AgentWorkingAfterCallEvent,
    AgentTrigger.WRAP_UP_ELAPSED: AgentReadyEvent,
}


def _became_idle(ctx: Context, agent: Agent) -> None:
    agent.idle_since = (ctx.now, int(ctx.state.new_id("idle")))


def _wrap_up_timer(agent: Agent) -> Timer:
    return Timer(TimerKind.WRAP_UP, agent.agent_id)


def get_agent_state(ctx: Context, request: GetAgentState) -> None:
    if not ctx.state.directory.is_station(request.device):
        raise Refused(_OPERATION, "invalidDeviceID")
    agent = ctx.state.agent_at(request.device)
    if agent is None:
        ctx.reply(GetAgentStateResponse())
        return
    groups = [agent.group] if agent.group else list(ctx.state.directory.acd_groups)
    state = CSTA_AGENT_STATE[agent.status]
    entry = AgentStateEntry(
        agent_id=agent.agent_id,
        logged_on_state=True,
        agent_info=tuple(AgentInfo(acd_group=group, agent_state=state) for group in groups),
    )
    ctx.reply(GetAgentStateResponse(agent_state_list=(entry,)))


def acd_call_ended(ctx: Context, device: DeviceId, group: DeviceId) -> None:
    """An ACD call from *group* that was talked on ended at *device*: start wrap-up."""
    agent = ctx.state.agent_at(device)
    if agent is None:
        return
    _became_idle(ctx, agent)
    wrap_up = ctx.state.directory.acd_groups[group].wrap_up_time
    if agent.status is AgentStatus.READY and wrap_up > 0:
        _move(ctx, agent, AgentTrigger.ACD_CALL_ENDED)
        ctx.start_timer(_wrap_up_timer(agent), wrap_up)


def wrap_up_elapsed(ctx: Context, agent_id: str) -> None:
    agent = ctx.state.agents.get(AgentId(agent_id))
    if agent is not None and agent.status is AgentStatus.WORKING_AFTER_CALL:
        _move(ctx, agent, AgentTrigger.WRAP_UP_ELAPSED)


def choose_agent(state: SwitchState, group: DeviceId) -> Agent | None:
    """The ready agent of *group* with a free station who has been idle longest."""
    candidates = [
        agent
        for agent in state.agents.values()
        if agent.status is AgentStatus.READY
        and agent.serves(group)
        and agent.device is not None
        and not state.busy(agent.device)
        and features.reachable(state, agent.device)
    ]
    return min(candidates, key=lambda agent: agent.idle_since, default=None)
