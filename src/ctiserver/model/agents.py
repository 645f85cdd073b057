"""ACD agents as the switch reports them (ECMA-269 § 17.2.21-25): who is logged in on
which DN, for which queue, and whether ready; and the agent states the T-Server's
emulated features set themselves (`emulate`, `time`).

AgentLoggedOn/LoggedOff/Ready/NotReady/WorkingAfterCall events on a DN's monitor become
AgentChanged facts.  A client's request leaves an intent (`intend`): the work mode it
asked for, its Reasons and ReasonCode; the next event that moves the agent uses it up,
and reports what it asked.

Rules:
1. The work mode of a NotReady is the intent's; with no intent, the agent's own when it
   is NotReady already (a legal guard stays one), else AuxWork.  AfterCallWork is
   reported for wrap-up.  A ready mode (AutoIn, ManualIn) is kept for the next Ready.
2. The ReasonCode is the one the switch reports in its private data (`reasonCode`),
   else the intent's; the Reasons are the intent's.  A change the switch makes alone
   carries neither.
3. A report that leaves the agent as it was, with no intent, tells nobody: it is the
   switch following a state the T-Server set (an emulated after-call work or legal
   guard), or saying again what it said.  A report that changes the agent ends the
   emulated features' timer.
4. At login the intent stays for the Ready or NotReady that follows it (the T-Server
   asks for one at once), and gives the agent the client's session and WrapUpTime.
"""

from __future__ import annotations

from ctiserver.csta.agents import (
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentWorkingAfterCallEvent,
)
from ctiserver.csta.types import PrivateData
from ctiserver.ids import AgentId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import AgentChanged, AgentEvent, AgentIntended, AgentTimed
from ctiserver.model.state import State
from ctiserver.model.states import AgentStatus
from ctiserver.model.values import Agent, AgentIntent
from ctiserver.tlib.vocabulary import AgentWorkMode

_READY_MODES = (AgentWorkMode.AUTO_IN, AgentWorkMode.MANUAL_IN)
REASON_CODE = "reasonCode"  # the private element that carries a reason (docs/pbxsim.md § 8)
_AgentReport = AgentReadyEvent | AgentNotReadyEvent | AgentWorkingAfterCallEvent


def intend(state: State, dn: DeviceId, intent: AgentIntent) -> None:
    """What a client asked of the agent, reported with the DN's next agent event."""
    state.emit(AgentIntended(dn=dn, intent=intent))


def _used_intent(state: State, dn: DeviceId) -> AgentIntent | None:
    """The DN's intent, which this event uses up (emitted)."""
    wanted = state.intent(dn)
    if wanted is not None:
        state.emit(AgentIntended(dn=dn, intent=None))
    return wanted


def _agent(state: State, dn: DeviceId, device: DeviceId) -> Agent | None:
    return state.agent(dn) if device == dn else None


def reported_code(data: PrivateData | None) -> str:
    """The reason code in a switch event's private data (the model reads only private
    data in its own namespace: Model.apply drops the rest)."""
    found = data.find(REASON_CODE) if data is not None else None
    return found.text if found is not None else ""


def on_logged_on(state: State, dn: DeviceId, event: AgentLoggedOnEvent) -> None:
    if event.agent_device != dn:
        return
    wanted = state.intent(dn) or AgentIntent()  # rule 4: kept for the next event
    mode = wanted.work_mode if wanted.work_mode in _READY_MODES else AgentWorkMode.MANUAL_IN
    assert mode is not None
    agent = Agent(
        AgentId(event.agent_id),
        event.acd_group,
        ready_mode=mode,
        work_mode=mode,
        reasons=wanted.reasons,
        reason_code=reported_code(event.private_data) or wanted.reason_code,
        session=wanted.session,
        wrap_up_time=wanted.wrap_up_time,
    )
    state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.LOGGED_IN))


def on_logged_off(state: State, dn: DeviceId, event: AgentLoggedOffEvent) -> None:
    if event.agent_device != dn:
        return
    wanted = _used_intent(state, dn) or AgentIntent()
    agent = state.agent(dn)
    if agent is not None:
        code = reported_code(event.private_data) or wanted.reason_code
        agent = replace(agent, reasons=wanted.reasons, reason_code=code)
        state.emit(AgentChanged(dn=dn, agent=agent, what=AgentEvent.LOGGED_OUT))


def on_ready(state: State, dn: DeviceId, event: AgentReadyEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    wanted = _used_intent(state, dn)
    mode = wanted.work_mode if wanted is not None else None
    ready_mode = mode if mode in _READY_MODES else agent.ready_mode
    assert ready_mode is not None
    moved = replace(agent, status=AgentStatus.READY, ready_mode=ready_mode, work_mode=ready_mode)
    _report(state, dn, agent, moved, wanted, event, AgentEvent.READY)


def on_not_ready(state: State, dn: DeviceId, event: AgentNotReadyEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    wanted = _used_intent(state, dn)
    if wanted is not None and wanted.work_mode not in (None, *_READY_MODES):
        work_mode = wanted.work_mode
    elif wanted is None and agent.status is AgentStatus.NOT_READY:
        work_mode = agent.work_mode  # rule 1: a legal guard stays one
    else:
        work_mode = AgentWorkMode.AUX_WORK
    assert work_mode is not None
    moved = replace(agent, status=AgentStatus.NOT_READY, work_mode=work_mode)
    _report(state, dn, agent, moved, wanted, event, AgentEvent.NOT_READY)


def on_after_call_work(state: State, dn: DeviceId, event: AgentWorkingAfterCallEvent) -> None:
    agent = _agent(state, dn, event.agent_device)
    if agent is None:
        return
    wanted = _used_intent(state, dn)
    moved = replace(
        agent, status=AgentStatus.AFTER_CALL_WORK, work_mode=AgentWorkMode.AFTER_CALL_WORK
    )
    _report(state, dn, agent, moved, wanted, event, AgentEvent.NOT_READY)


def _report(
    state: State,
    dn: DeviceId,
    agent: Agent,
    moved: Agent,
    wanted: AgentIntent | None,
    event: _AgentReport,
    what: AgentEvent,
) -> None:
    """Rules 2 and 3: emit the agent as *moved* says, with its reasons, unless nothing
    changed and nobody asked."""
    code = reported_code(event.private_data)
    if wanted is not None:
        moved = replace(moved, reasons=wanted.reasons, reason_code=code or wanted.reason_code)
    elif moved != agent or code:
        moved = replace(moved, reasons={}, reason_code=code)
    if moved == agent and wanted is None:
        return
    moved = replace(moved, until=None, after_call_work="")
    state.emit(AgentChanged(dn=dn, agent=moved, what=what))


def emulate(state: State, dn: DeviceId, agent: Agent, what: AgentEvent) -> None:
    """A state the T-Server sets itself (an emulated after-call work or legal guard),
    told as the switch's would be."""
    if state.agent(dn) is not None:
        state.emit(AgentChanged(dn=dn, agent=agent, what=what))


def time(state: State, dn: DeviceId, until: float | None, after_call_work: str = "") -> None:
    """Set (or, with None, stop) the emulated features' timer of the agent on *dn*."""
    agent = state.agent(dn)
    if agent is not None and (agent.until, agent.after_call_work) != (until, after_call_work):
        state.emit(AgentTimed(dn=dn, until=until, after_call_work=after_call_work))
