"""Agent requests (docs/protocol.md, Agents) passed to the switch as SetAgentState
(ECMA-269 § 22.1.10):

    RequestAgentLogin     loggedOn, then ready (AgentWorkMode AutoIn) or notReady
    RequestAgentLogout    loggedOff
    RequestAgentReady     ready
    RequestAgentNotReady  notReady, or workingAfterCall for AgentWorkMode AfterCallWork

The password travels as hexBinary, as ECMA-323 writes it.  One agent per DN: another
AgentID on a DN that has one is refused; the same AgentID again is answered with
EventAgentLogin and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.csta.agents import SetAgentState
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.ids import DeviceId
from ctiserver.model.changes import AgentChanged, AgentEvent
from ctiserver.model.states import DnKind
from ctiserver.model.values import Agent
from ctiserver.tlib.vocabulary import AgentWorkMode
from ctiserver.tserver.checks import controlled_dn
from ctiserver.tserver.correlation import NO_CALL
from ctiserver.tserver.errors import AgentAlreadyLoggedIn, AgentNotLoggedIn, InvalidAttribute
from ctiserver.tserver.events import agent_event
from ctiserver.tserver.port import Core, RequestContext


def _station(core: Core, ctx: RequestContext) -> DeviceId:
    dn = controlled_dn(core, ctx)
    kind = core.model.dns[dn]
    if kind is not DnKind.EXTENSION:
        raise InvalidAttribute(f"agents log in on extensions; {dn} is a {kind.value}")
    return dn


def _logged_in(core: Core, dn: DeviceId) -> Agent:
    agent = core.model.agent(dn)
    if agent is None:
        raise AgentNotLoggedIn(f"no agent is logged in on DN {dn}")
    return agent


def _queue(core: Core, ctx: RequestContext) -> DeviceId | None:
    queue = ctx.message.get("ThisQueue")
    if queue is not None and core.model.dns.get(DeviceId(queue)) is not DnKind.ACD_QUEUE:
        raise InvalidAttribute(f"ThisQueue {queue} is not a configured ACD queue")
    return None if queue is None else DeviceId(queue)


def agent_login(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    queue = _queue(core, ctx)
    agent_id = ctx.message.get("AgentID", "")
    mode = AgentWorkMode(ctx.message.get("AgentWorkMode", AgentWorkMode.MANUAL_IN))
    current = core.model.agent(dn)
    if current is not None and current.agent_id != agent_id:
        raise AgentAlreadyLoggedIn(f"agent {current.agent_id} is logged in on DN {dn}")
    if current is not None:  # the same agent again changes nothing (Genesys allows it)
        again = AgentChanged(dn=dn, agent=current, what=AgentEvent.LOGGED_IN)
        core.reply(ctx, agent_event(again))
        return
    then = "EventAgentReady" if mode is AgentWorkMode.AUTO_IN else "EventAgentNotReady"
    pending = core.pending(ctx, dn, [("EventAgentLogin", NO_CALL), (then, NO_CALL)])
    core.intend(dn, mode, ctx.at)
    login = SetAgentState(
        device=dn,
        requested_agent_state=ReqAgentState.LOGGED_ON,
        agent_id=agent_id,
        password=ctx.message.get("Password", "").encode().hex(),
        group=queue,
    )
    core.to_switch(ctx, login, pending)
    follow = ReqAgentState.READY if mode is AgentWorkMode.AUTO_IN else ReqAgentState.NOT_READY
    core.follow_up(
        pending, SetAgentState(device=dn, requested_agent_state=follow, agent_id=agent_id)
    )


def agent_logout(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    request = SetAgentState(
        device=dn, requested_agent_state=ReqAgentState.LOGGED_OFF, agent_id=agent.agent_id
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentLogout", NO_CALL)]))


def agent_ready(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    if "AgentWorkMode" in ctx.message:
        core.intend(dn, AgentWorkMode(ctx.message["AgentWorkMode"]), ctx.at)
    request = SetAgentState(
        device=dn, requested_agent_state=ReqAgentState.READY, agent_id=agent.agent_id
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentReady", NO_CALL)]))


def agent_not_ready(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    mode = AgentWorkMode(ctx.message.get("AgentWorkMode", AgentWorkMode.AUX_WORK))
    state = ReqAgentState.NOT_READY
    if mode is AgentWorkMode.AFTER_CALL_WORK:
        state = ReqAgentState.WORKING_AFTER_CALL
    core.intend(dn, mode, ctx.at)
    request = SetAgentState(device=dn, requested_agent_state=state, agent_id=agent.agent_id)
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentNotReady", NO_CALL)]))


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestAgentLogin": agent_login,
    "RequestAgentLogout": agent_logout,
    "RequestAgentReady": agent_ready,
    "RequestAgentNotReady": agent_not_ready,
}
