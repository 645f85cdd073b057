"""Agent requests (docs/protocol.md, Agents) passed to the switch as SetAgentState
(ECMA-269 § 22.1.10):

    RequestAgentLogin     loggedOn, then ready (AgentWorkMode AutoIn) or notReady
    RequestAgentLogout    loggedOff
    RequestAgentReady     ready
    RequestAgentNotReady  notReady, or workingAfterCall for AgentWorkMode AfterCallWork
    RequestAgentSetIdleReason  the NotReady agent's state again, with AgentIdleReason as
                          its reason code: answered by EventAgentNotReady

The password travels as hexBinary, as ECMA-323 writes it.  One agent per DN: another
AgentID on a DN that has one is refused; the same AgentID again is answered with
EventAgentLogin and changes nothing.

Each request leaves an intent in the model (model.agents): its work mode, `Reasons` and
Extensions `ReasonCode`, which the agent event that answers it reports and the DN's
status keeps.  The ReasonCode also goes to the switch, in SetAgentState's private data.
At login the intent names the client's session (for agent-logout-on-unreg) and the
Extensions `WrapUpTime` of the emulated after-call work (tserver.agent_emulation).
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.csta.agents import SetAgentState
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.model.agents import REASON_CODE as REASON_ELEMENT
from ctiserver.model.changes import AgentChanged, AgentEvent
from ctiserver.model.states import AgentStatus, DnKind
from ctiserver.model.values import Agent, AgentIntent
from ctiserver.tlib.vocabulary import AgentWorkMode
from ctiserver.tserver.checks import controlled_dn
from ctiserver.tserver.correlation import NO_CALL
from ctiserver.tserver.errors import AgentAlreadyLoggedIn, AgentNotLoggedIn, InvalidAttribute
from ctiserver.tserver.events import REASON_CODE, UNTIMED, WRAP_UP_TIME, agent_event
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


def reason_code(ctx: RequestContext) -> str:
    """Extensions ReasonCode (a string or an integer), as text."""
    code = (ctx.message.get("Extensions") or {}).get(REASON_CODE)
    if code is None:
        return ""
    if isinstance(code, bool) or not isinstance(code, str | int) or code == "":
        raise InvalidAttribute("Extensions ReasonCode must be a non-empty string or an integer")
    return str(code)


def wrap_up_time(ctx: RequestContext) -> str:
    """Extensions WrapUpTime of a login: seconds (0 or more) or "untimed"."""
    value = (ctx.message.get("Extensions") or {}).get(WRAP_UP_TIME)
    if value is None:
        return ""
    text = str(value) if not isinstance(value, bool) else ""
    if text != UNTIMED and not (text.isdigit() and int(text) < 1_000_000):
        raise InvalidAttribute('Extensions WrapUpTime must be seconds (0 or more) or "untimed"')
    return text


def intent(ctx: RequestContext, work_mode: AgentWorkMode | None, **more: str) -> AgentIntent:
    return AgentIntent(
        work_mode=work_mode,
        reasons=dict(ctx.message.get("Reasons") or {}),
        reason_code=reason_code(ctx),
        **more,
    )


def set_agent_state(
    dn: DeviceId,
    state: ReqAgentState,
    agent_id: str,
    code: str,
    namespace: str,
    *,
    password: str = "",
    group: DeviceId | None = None,
) -> SetAgentState:
    """SetAgentState, with the reason code in the switch's private data."""
    data = None
    if code:
        data = PrivateData(namespace, (PrivateElement(REASON_ELEMENT, code),))
    return SetAgentState(
        device=dn,
        requested_agent_state=state,
        agent_id=agent_id,
        password=password,
        group=group,
        private_data=data,
    )


_READY_MODES = (AgentWorkMode.AUTO_IN, AgentWorkMode.MANUAL_IN)


def _ready_mode(request: str, mode: AgentWorkMode) -> AgentWorkMode:
    if mode not in _READY_MODES:
        raise InvalidAttribute(f"{request} takes AgentWorkMode AutoIn or ManualIn, not {mode}")
    return mode


def agent_login(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    queue = _queue(core, ctx)
    agent_id = ctx.message.get("AgentID", "")
    mode = _ready_mode(ctx.name, AgentWorkMode(ctx.message.get("AgentWorkMode", "ManualIn")))
    wanted = intent(
        ctx, mode, session=core.session_of(ctx.client) or "", wrap_up_time=wrap_up_time(ctx)
    )
    current = core.model.agent(dn)
    if current is not None and current.agent_id != agent_id:
        raise AgentAlreadyLoggedIn(f"agent {current.agent_id} is logged in on DN {dn}")
    if current is not None:  # the same agent again changes nothing (Genesys allows it)
        again = AgentChanged(dn=dn, agent=current, what=AgentEvent.LOGGED_IN)
        core.reply(ctx, agent_event(again))
        return
    then = "EventAgentReady" if mode is AgentWorkMode.AUTO_IN else "EventAgentNotReady"
    pending = core.pending(ctx, dn, [("EventAgentLogin", NO_CALL), (then, NO_CALL)])
    core.intend(dn, wanted, ctx.at)
    namespace = core.settings.private_namespace
    login = set_agent_state(
        dn,
        ReqAgentState.LOGGED_ON,
        agent_id,
        wanted.reason_code,
        namespace,
        password=ctx.message.get("Password", "").encode().hex(),
        group=queue,
    )
    core.to_switch(ctx, login, pending)
    follow = ReqAgentState.READY if mode is AgentWorkMode.AUTO_IN else ReqAgentState.NOT_READY
    core.follow_up(pending, set_agent_state(dn, follow, agent_id, wanted.reason_code, namespace))


def agent_logout(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    wanted = intent(ctx, None)
    core.intend(dn, wanted, ctx.at)
    request = set_agent_state(
        dn,
        ReqAgentState.LOGGED_OFF,
        agent.agent_id,
        wanted.reason_code,
        core.settings.private_namespace,
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentLogout", NO_CALL)]))


def agent_ready(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    mode = None
    if "AgentWorkMode" in ctx.message:
        mode = _ready_mode(ctx.name, AgentWorkMode(ctx.message["AgentWorkMode"]))
    wanted = intent(ctx, mode)
    core.intend(dn, wanted, ctx.at)
    request = set_agent_state(
        dn, ReqAgentState.READY, agent.agent_id, wanted.reason_code, core.settings.private_namespace
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentReady", NO_CALL)]))


_NOT_READY_MODES = (
    AgentWorkMode.AUX_WORK,
    AgentWorkMode.AFTER_CALL_WORK,
    AgentWorkMode.NO_CALL_DISCONNECT,
    AgentWorkMode.WALK_AWAY,
    AgentWorkMode.RETURN_BACK,
    AgentWorkMode.UNKNOWN,
)


def agent_not_ready(core: Core, ctx: RequestContext) -> None:
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    mode = AgentWorkMode(ctx.message.get("AgentWorkMode", AgentWorkMode.AUX_WORK))
    if mode not in _NOT_READY_MODES:
        choices = ", ".join(m.value for m in _NOT_READY_MODES)
        raise InvalidAttribute(f"RequestAgentNotReady takes AgentWorkMode {choices}; not {mode}")
    state = ReqAgentState.NOT_READY
    if mode is AgentWorkMode.AFTER_CALL_WORK:
        state = ReqAgentState.WORKING_AFTER_CALL
    wanted = intent(ctx, mode)
    core.intend(dn, wanted, ctx.at)
    request = set_agent_state(
        dn, state, agent.agent_id, wanted.reason_code, core.settings.private_namespace
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentNotReady", NO_CALL)]))


def agent_set_idle_reason(core: Core, ctx: RequestContext) -> None:
    """The T-Library's older way to give a NotReady agent a reason: the agent stays in
    its work mode (AfterCallWork included) with AgentIdleReason as its ReasonCode."""
    dn = _station(core, ctx)
    agent = _logged_in(core, dn)
    if agent.status is AgentStatus.READY:
        raise InvalidAttribute(
            f"the agent on DN {dn} is {agent.status.value}: an idle reason is for a NotReady agent"
        )
    idle_reason = ctx.message["AgentIdleReason"]
    if idle_reason < 0:
        raise InvalidAttribute("AgentIdleReason must be 0 or more")
    wanted = AgentIntent(
        work_mode=agent.work_mode,
        reasons=dict(ctx.message.get("Reasons") or {}),
        reason_code=str(idle_reason),
    )
    core.intend(dn, wanted, ctx.at)
    state = ReqAgentState.NOT_READY
    if agent.status is AgentStatus.AFTER_CALL_WORK:
        state = ReqAgentState.WORKING_AFTER_CALL
    request = set_agent_state(
        dn, state, agent.agent_id, wanted.reason_code, core.settings.private_namespace
    )
    core.to_switch(ctx, request, core.pending(ctx, dn, [("EventAgentNotReady", NO_CALL)]))


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestAgentLogin": agent_login,
    "RequestAgentLogout": agent_logout,
    "RequestAgentReady": agent_ready,
    "RequestAgentNotReady": agent_not_ready,
    "RequestAgentSetIdleReason": agent_set_idle_reason,
}
