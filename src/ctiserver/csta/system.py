"""Association and supervision messages: ECMA-354 application sessions, system status,
system registration, monitoring and snapshots (ECMA-269 §§ 13, 14, 16; ECMA-354 § 6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ctiserver.csta.enumerations import MonitorType, SystemStatusValue
from ctiserver.csta.schema import Request, Response, Unconfirmed, Vocabulary, xml
from ctiserver.csta.types import (
    ConnectionID,
    SnapshotCallResponseInfo,
    SnapshotDeviceResponseInfo,
)
from ctiserver.ids import DeviceId, MonitorCrossRefId

# --- ECMA-354 application session ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSessionPosResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    session_id: str = xml("sessionID")
    actual_protocol_version: str = ""
    actual_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSessionNegResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    defined_error: str = xml("errorCode/definedError", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSession(Request):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    RESPONSE = StartApplicationSessionPosResponse
    application_id: str = xml("applicationInfo/applicationID")
    requested_protocol_versions: tuple[str, ...] = xml(
        "requestedProtocolVersions", item="protocolVersion", default=()
    )
    requested_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSessionPosResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSessionNegResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    defined_error: str = xml("errorCode/definedError", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSession(Request):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    RESPONSE = StopApplicationSessionPosResponse
    session_id: str = xml("sessionID")
    defined_end_reason: str = xml("sessionEndReason/definedEndReason", default="normal")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimerPosResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    actual_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimerNegResponse(Response):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    defined_error: str = xml("errorCode/definedError", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimer(Request):
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    RESPONSE = ResetApplicationSessionTimerPosResponse
    session_id: str = xml("sessionID")
    requested_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationSessionTerminated(Unconfirmed):
    """The switch ended the session (ECMA-354), e.g. because its timer expired."""

    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.APPLICATION_SESSION
    session_id: str = xml("sessionID")
    defined_term_reason: str = xml("sessionTermReason/definedTermReason", default="")


# --- system status and registration (ECMA-269 § 22) -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatusResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatus(Request):
    RESPONSE = SystemStatusResponse
    sys_stat_register_id: str = ""
    system_status: SystemStatusValue


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSystemStatusResponse(Response):
    system_status: SystemStatusValue


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSystemStatus(Request):
    RESPONSE = RequestSystemStatusResponse
    sys_stat_register_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemRegisterResponse(Response):
    sys_stat_register_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemRegister(Request):
    RESPONSE = SystemRegisterResponse
    system_status: bool | None = xml("requestTypes/systemStatus", default=None)
    request_system_status: bool | None = xml("requestTypes/requestSystemStatus", default=None)


# --- monitoring (ECMA-269 § 13) ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStartResponse(Response):
    monitor_cross_ref_id: MonitorCrossRefId


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStart(Request):
    RESPONSE = MonitorStartResponse
    device_object: DeviceId = xml("monitorObject/deviceObject")
    monitor_type: MonitorType | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStopResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStop(Request):
    RESPONSE = MonitorStopResponse
    monitor_cross_ref_id: MonitorCrossRefId


# --- snapshots (ECMA-269 § 16) -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDeviceResponse(Response):
    """Our switches answer with the data inline (`snapshotData`), never a cross-ref id."""

    snapshot_data: tuple[SnapshotDeviceResponseInfo, ...] = xml(
        "crossRefIDorSnapshotData/snapshotData", item="snapshotDeviceResponseInfo", default=()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDevice(Request):
    RESPONSE = SnapshotDeviceResponse
    snapshot_object: DeviceId


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotCallResponse(Response):
    snapshot_data: tuple[SnapshotCallResponseInfo, ...] = xml(
        "crossRefIDorSnapshotData/snapshotData", item="snapshotCallResponseInfo", default=()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotCall(Request):
    RESPONSE = SnapshotCallResponse
    snapshot_object: ConnectionID
