"""MakeCallType and RouteType: what each asks of the switch, or why it is refused
(docs/protocol.md, RequestMakeCall and Routing).

A MakeCallType becomes ECMA-269 call characteristics on MakeCall (§ 12.3.7):

    Regular           none
    DirectAgent       directAgent: OtherDN is an agent's DN, and the call reaches that
                      agent as an ACD call
    SupervisorAssist  assistCall: an agent at ThisDN asks OtherDN for help
    Priority          priorityCall: ahead of other calls in an ACD queue
    DirectPriority    directAgent and priorityCall

A RouteType becomes the RouteSelect of the route (or RouteEnd): RouteSelect has no call
characteristics, so the flags travel in its private data, with the standard's element
names, as the switch's UUI does (docs/pbxsim.md § 4.12).

    Default, Label, Direct, DDD, IDDD   to OtherDN as given
    OverwriteDNIS                       to OtherDN, and the call's DNIS becomes OtherDN
                                        (<dnis>) once the switch has routed it
    DirectAgent, Priority, DirectPriority   to OtherDN with those characteristics
    AgentID                             OtherDN is an AgentID: to the DN where that agent
                                        is logged in, as a direct-agent call
    Reject, CallDisconnect              RouteEnd: the call is refused (routing.py)
    Unknown, Announcement, PostFeature  refused with EventError 53, saying why
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.csta.types import CallCharacteristics, PrivateData, PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.tlib.vocabulary import MakeCallType, RouteType
from ctiserver.tserver.errors import AgentNotLoggedIn, InvalidAttribute
from ctiserver.tserver.port import Queries

_DIRECT = CallCharacteristics(direct_agent=True)
_PRIORITY = CallCharacteristics(priority_call=True)
_DIRECT_PRIORITY = CallCharacteristics(direct_agent=True, priority_call=True)

MAKE_CALL_TYPES: Final[Mapping[MakeCallType, CallCharacteristics | None]] = {
    MakeCallType.REGULAR: None,
    MakeCallType.DIRECT_AGENT: _DIRECT,
    MakeCallType.SUPERVISOR_ASSIST: CallCharacteristics(assist_call=True),
    MakeCallType.PRIORITY: _PRIORITY,
    MakeCallType.DIRECT_PRIORITY: _DIRECT_PRIORITY,
}

# What the switch's refusal of a MakeCall with characteristics means.
MAKE_CALL_REFUSALS: Final[Mapping[str, str]] = {
    "invalidCalledDeviceState": "no agent is logged in at OtherDN (MakeCallType DirectAgent)",
    "requestIncompatibleWithCallingDevice": (
        "MakeCallType SupervisorAssist needs an agent logged in at ThisDN"
    ),
}

_ROUTE_CHARACTERISTICS: Final[Mapping[RouteType, CallCharacteristics]] = {
    RouteType.DIRECT_AGENT: _DIRECT,
    RouteType.PRIORITY: _PRIORITY,
    RouteType.DIRECT_PRIORITY: _DIRECT_PRIORITY,
    RouteType.AGENT_ID: _DIRECT,
}
_AS_GIVEN: Final = frozenset(
    {RouteType.DEFAULT, RouteType.LABEL, RouteType.DIRECT, RouteType.DDD, RouteType.IDDD}
)
REFUSED_ROUTE_TYPES: Final[Mapping[RouteType, str]] = {
    RouteType.UNKNOWN: "RouteType Unknown names no way of routing",
    RouteType.ANNOUNCEMENT: (
        "RouteType Announcement is not served: a CSTA switch routes to devices; play an "
        "announcement with RequestApplyTreatment (TreatmentType PlayAnnouncement)"
    ),
    RouteType.POST_FEATURE: (
        "RouteType PostFeature is not served: CSTA has no feature access after routing"
    ),
}


def make_call_characteristics(make_call_type: str | None) -> CallCharacteristics | None:
    return MAKE_CALL_TYPES[MakeCallType(make_call_type or MakeCallType.REGULAR)]


@dataclass(frozen=True, slots=True)
class Route:
    """Where a RequestRouteCall sends its call, and what it tells the switch."""

    destination: DeviceId
    dnis: DeviceId | None = None  # the DNIS the call takes (OverwriteDNIS)
    characteristics: CallCharacteristics | None = None

    def private_data(self, namespace: str, given: PrivateData | None) -> PrivateData | None:
        """The RouteSelect's private data: what *given* has (ISCC's UUI), with ours."""
        elements = list(given.elements) if given is not None else []
        if self.dnis is not None:
            elements.append(PrivateElement("dnis", self.dnis))
        if self.characteristics is not None:
            elements.append(_characteristics_element(self.characteristics))
        if not elements:
            return None
        return PrivateData(given.namespace if given is not None else namespace, tuple(elements))


def _characteristics_element(characteristics: CallCharacteristics) -> PrivateElement:
    flags = [
        ("priorityCall", characteristics.priority_call),
        ("directAgent", characteristics.direct_agent),
    ]
    children = tuple(PrivateElement(name, "true") for name, on in flags if on)
    return PrivateElement("callCharacteristics", children=children)


def route_for(model: Queries, route_type: RouteType, destination: DeviceId) -> Route:
    """The route a RouteType (other than Reject and CallDisconnect) asks for.  Raises
    InvalidAttribute for a RouteType that is not served, AgentNotLoggedIn for an
    AgentID that is logged in nowhere."""
    refusal = REFUSED_ROUTE_TYPES.get(route_type)
    if refusal is not None:
        raise InvalidAttribute(refusal)
    if route_type in _AS_GIVEN:
        return Route(destination)
    if route_type is RouteType.OVERWRITE_DNIS:
        return Route(destination, dnis=destination)
    if route_type is RouteType.AGENT_ID:
        destination = _agent_dn(model, destination)
    characteristics = _ROUTE_CHARACTERISTICS[route_type]
    check_agent_at(model, destination, characteristics, f"RouteType {route_type}")
    return Route(destination, characteristics=characteristics)


def check_agent_at(
    model: Queries, dn: DeviceId, characteristics: CallCharacteristics | None, why: str
) -> None:
    """A direct-agent call to one of our DNs needs an agent logged in there (the switch
    would refuse it; this says so more clearly).  Raises AgentNotLoggedIn."""
    direct = characteristics is not None and characteristics.direct_agent
    if direct and model.is_ours(dn) and model.agent(dn) is None:
        raise AgentNotLoggedIn(f"{why}: no agent is logged in at {dn}")


def _agent_dn(model: Queries, agent_id: str) -> DeviceId:
    for dn, agent in model.agents.items():
        if agent.agent_id == agent_id:
            return dn
    raise AgentNotLoggedIn(f"RouteType AgentID: agent {agent_id} is not logged in on any DN")
