"""Supervision requests (docs/supervision.md):

    RequestMonitorNextCall    a supervisor (ThisDN) subscribes to an agent's (OtherDN)
                              next call or every call: EventMonitoringNextCall
    RequestCancelMonitoring   the subscription ends: EventMonitoringCancelled
    RequestSetMuteOn/Off      ThisDN is not heard in the call, or heard again:
                              SetMicrophoneMute; for a supervisor observing the call,
                              its MonitorMode changes instead (mute, connect, coach)
    RequestListenDisconnect   OtherDN hears the call no more, or again: SetSpeakerMute
    RequestListenReconnect

The subscriptions and the observing itself are tserver.monitoring's; this module checks
the requests and asks.  The Extensions `MonitorMode` (mute, connect, coach; `normal` is
taken as mute) and `MonitorScope` (call, agent) of RequestMonitorNextCall default to the
options default-monitor-mode and default-monitor-scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ctiserver.csta.audio import SetMicrophoneMute, SetSpeakerMute
from ctiserver.csta.escape import Escape
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.model.supervision import PARTICIPATION
from ctiserver.model.values import Call, Monitoring
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import DNRole, MonitorNextCallType
from ctiserver.tserver.checks import call_at, configured_dn, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute, RequestRefused
from ctiserver.tserver.port import Core, RequestContext

MONITOR_MODE, MONITOR_SCOPE = "MonitorMode", "MonitorScope"
MODES: Final = ("mute", "connect", "coach")
SCOPES: Final = ("call", "agent")


class AgentMonitored(RequestRefused):
    """Another supervisor monitors the agent already."""

    code = TError.RESOURCE_SEIZED


def _extension(ctx: RequestContext, key: str, choices: tuple[str, ...], default: str) -> str:
    value = (ctx.message.get("Extensions") or {}).get(key, default)
    value = "mute" if key == MONITOR_MODE and value == "normal" else value
    if value not in choices:
        raise InvalidAttribute(f"Extensions {key} must be one of: {', '.join(choices)}")
    return str(value)


def _extension_dn(core: Core, ctx: RequestContext, attribute: str = "OtherDN") -> DeviceId:
    dn = configured_dn(core, ctx, attribute)
    if core.model.kind(dn) is not DnKind.EXTENSION:
        raise InvalidAttribute(f"{attribute} {dn} is not an extension")
    return dn


def monitor_next_call(core: Core, ctx: RequestContext) -> None:
    supervisor = controlled_dn(core, ctx)
    if core.model.kind(supervisor) is not DnKind.EXTENSION:
        raise InvalidAttribute(f"ThisDN {supervisor} is not an extension")
    agent = _extension_dn(core, ctx)
    if agent == supervisor:
        raise InvalidAttribute("a supervisor cannot monitor its own DN")
    holder = core.model.monitoring_of(agent)
    if holder is not None and holder.supervisor != supervisor:
        raise AgentMonitored(f"DN {agent} is monitored by supervisor {holder.supervisor}")
    options = core.settings.supervision
    kind = ctx.message.get("MonitorNextCallType", MonitorNextCallType.ONE_CALL)
    monitoring = Monitoring(
        supervisor,
        agent,
        MonitorNextCallType(kind).value,
        _extension(ctx, MONITOR_MODE, MODES, options.default_monitor_mode),
        _extension(ctx, MONITOR_SCOPE, SCOPES, options.default_monitor_scope),
    )
    core.monitor(ctx, monitoring)


def cancel_monitoring(core: Core, ctx: RequestContext) -> None:
    supervisor = controlled_dn(core, ctx)
    monitoring = core.model.monitorings.get(supervisor)
    agent = DeviceId(ctx.message["OtherDN"]) if "OtherDN" in ctx.message else None
    if monitoring is None or agent not in (None, monitoring.agent):
        watched = f"DN {agent}" if agent is not None else "any DN"
        raise InvalidAttribute(f"supervisor {supervisor} is not monitoring {watched}")
    core.cancel_monitoring(ctx, monitoring)


def _set_mute(core: Core, ctx: RequestContext, muted: bool) -> None:
    dn = controlled_dn(core, ctx)
    call, party = call_at(core, ctx, dn)
    answer = "EventMuteOn" if muted else "EventMuteOff"
    if party.role is DNRole.OBSERVER:  # a supervisor's MonitorMode changes
        mode = "mute" if muted else "connect"
        wanted = _extension(ctx, MONITOR_MODE, MODES, mode)
        # Coach is reached by MuteOn from connect, by MuteOff from mute: either answers.
        answers = [("EventMuteOn", call.conn_id), ("EventMuteOff", call.conn_id)]
        pending = core.pending(ctx, dn, answers if wanted == "coach" else [(answer, call.conn_id)])
        core.to_switch(ctx, _participation(core, call, dn, wanted), pending)
        return
    pending = core.pending(ctx, dn, [(answer, call.conn_id)])
    core.to_switch(ctx, SetMicrophoneMute(device=dn, microphone_mute_on=muted), pending)


def _participation(core: Core, call: Call, dn: DeviceId, mode: str) -> Escape:
    """The Escape that makes an observer take part as *mode* says (pbxsim.md § 4.15)."""
    children = [
        PrivateElement("device", dn),
        PrivateElement("call", call.call_id),
        PrivateElement("type", PARTICIPATION[mode]),
    ]
    party = core.model.party(dn, call.conn_id)
    if mode == "coach" and party is not None and party.added_by is not None:
        children.append(PrivateElement("coached", party.added_by))
    element = PrivateElement("participation", children=tuple(children))
    return Escape(private_data=PrivateData(core.settings.private_namespace, (element,)))


def set_mute_on(core: Core, ctx: RequestContext) -> None:
    _set_mute(core, ctx, True)


def set_mute_off(core: Core, ctx: RequestContext) -> None:
    _set_mute(core, ctx, False)


def _listen(core: Core, ctx: RequestContext, listening: bool) -> None:
    dn = controlled_dn(core, ctx)
    call, _ = call_at(core, ctx, dn)
    listener = DeviceId(ctx.message["OtherDN"])
    party = core.model.party(listener, call.conn_id)
    if party is None or not party.present:
        raise InvalidAttribute(f"OtherDN {listener} is not a party of call {call.conn_id}")
    if core.model.kind(listener) is not DnKind.EXTENSION:
        raise InvalidAttribute(f"OtherDN {listener} is not an extension of this switch")
    answer = "EventListenReconnected" if listening else "EventListenDisconnected"
    pending = core.pending(ctx, dn, [(answer, call.conn_id)])
    request = SetSpeakerMute(device=listener, speaker_mute_on=not listening)
    core.to_switch(ctx, request, pending)


def listen_disconnect(core: Core, ctx: RequestContext) -> None:
    _listen(core, ctx, False)


def listen_reconnect(core: Core, ctx: RequestContext) -> None:
    _listen(core, ctx, True)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestMonitorNextCall": monitor_next_call,
    "RequestCancelMonitoring": cancel_monitoring,
    "RequestSetMuteOn": set_mute_on,
    "RequestSetMuteOff": set_mute_off,
    "RequestListenDisconnect": listen_disconnect,
    "RequestListenReconnect": listen_reconnect,
}
