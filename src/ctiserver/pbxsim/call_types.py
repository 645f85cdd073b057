"""What kind of call a request asks for, as the switch honours it: ECMA-269's call
characteristics (§ 12.3.7) on MakeCall, and the same flags in RouteSelect's private data
(docs/pbxsim.md § 4.12).

    priorityCall   at an ACD group the call waits ahead of every call that is not a
                   priority call (behind the priority calls already waiting)
    directAgent    the call goes to the agent logged on at the station called, as an ACD
                   call of the agent's group (wrap-up follows it); a station with no
                   agent logged on refuses it
    assistCall     an agent asks for help (supervisor assist): the calling station must
                   have an agent logged on

A call keeps its characteristics; every event with a `callCharacteristics` element
carries them (Context.publish).
"""

from __future__ import annotations

from dataclasses import replace

from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import CallCharacteristics, PrivateData
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import private
from ctiserver.pbxsim.calls import Call
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import SwitchState

_FLAGS = ("priorityCall", "directAgent", "acdCall", "assistCall")


def check_make_call(
    state: SwitchState,
    station: DeviceId,
    number: DeviceId,
    characteristics: CallCharacteristics | None,
) -> DeviceId | None:
    """Refuse what the switch cannot honour; the ACD group of a direct-agent call."""
    if characteristics is None:
        return None
    if characteristics.assist_call and state.agent_at(station) is None:
        raise Refused(ErrorCategory.OPERATION, "requestIncompatibleWithCallingDevice")
    if characteristics.direct_agent:
        return direct_agent_group(state, number)
    return None


def direct_agent_group(state: SwitchState, number: DeviceId) -> DeviceId | None:
    """The group of the agent at *number*.  Raises Refused when nobody is logged on
    there (stateIncompatibility/invalidCalledDeviceState)."""
    agent = state.agent_at(number) if state.directory.is_station(number) else None
    if agent is None:
        raise Refused(ErrorCategory.STATE_INCOMPATIBILITY, "invalidCalledDeviceState")
    return agent.group


def is_priority(call: Call) -> bool:
    return bool(call.characteristics is not None and call.characteristics.priority_call)


def queue_position(state: SwitchState, waiting: list[CallId], call: Call) -> int:
    """Where *call* joins a queue's waiting calls: a priority call behind the priority
    calls already there, any other call at the end."""
    if not is_priority(call):
        return len(waiting)
    ahead = [c for c in waiting if c in state.calls and is_priority(state.calls[c])]
    return len(ahead)


def from_private(data: PrivateData | None, namespace: str) -> CallCharacteristics | None:
    """The characteristics a RouteSelect's private data asks for:
    `<callCharacteristics><priorityCall>true</priorityCall>…</callCharacteristics>`."""
    element = private.element(data, namespace, "callCharacteristics")
    if element is None:
        return None
    flags = {flag: element.child_text(flag) == "true" for flag in _FLAGS}
    return CallCharacteristics(
        priority_call=flags["priorityCall"] or None,
        direct_agent=flags["directAgent"] or None,
        acd_call=flags["acdCall"] or None,
        assist_call=flags["assistCall"] or None,
    )


def merged(call: Call, more: CallCharacteristics | None) -> CallCharacteristics | None:
    """The call's characteristics with the flags of *more* set too."""
    if more is None:
        return call.characteristics
    if call.characteristics is None:
        return more
    old = call.characteristics
    return replace(
        old,
        priority_call=old.priority_call or more.priority_call,
        direct_agent=old.direct_agent or more.direct_agent,
        acd_call=old.acd_call or more.acd_call,
        assist_call=old.assist_call or more.assist_call,
    )
