"""ACD agent services and events (ECMA-269 §§ 22.1.7, 22.1.10, 22.2).

ECMA-269 gives SetAgentState and the agent events no reason: a switch that takes one
carries it in private data (`extensions`), as ctiserver's `reasonCode` element does
(docs/pbxsim.md § 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import AgentState, EventCause, ReqAgentState
from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import PrivateData, SubjectDeviceID
from ctiserver.ids import DeviceId

_EXTENSIONS = "extensions/privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentStateResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentState(Request):
    RESPONSE = SetAgentStateResponse
    device: DeviceId
    requested_agent_state: ReqAgentState
    agent_id: str = xml("agentID", default="")
    password: str = ""
    group: DeviceId | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentInfo:
    acd_group: DeviceId | None = None
    agent_state: AgentState | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateEntry:
    agent_id: str = xml("agentID")
    logged_on_state: bool
    agent_info: tuple[AgentInfo, ...] = xml(item="agentInfoItem", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentStateResponse(Response):
    agent_state_list: tuple[AgentStateEntry, ...] = xml(item="agentStateEntry", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentState(Request):
    RESPONSE = GetAgentStateResponse
    device: DeviceId
    acd_group: DeviceId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOnEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOffEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReadyEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentNotReadyEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentWorkingAfterCallEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentBusyEvent(Event):
    agent_device: SubjectDeviceID
    agent_id: str = xml("agentID", default="")
    acd_group: DeviceId | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)
