"""Why a request is refused, and the one place that turns that into a T-Library code.

Handlers raise the specific exceptions below (or let a switch error through); the core
answers every refusal with EventError whose ErrorCode comes from `error_code_for` and
whose ErrorMessage says what was wrong with this request.  Clients never see a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctiserver.csta.failure import ErrorCategory
from ctiserver.errors import CtiError, LinkDown, ServiceError
from ctiserver.ids import ConnId, DeviceId
from ctiserver.tlib.errors import TError


class RequestRefused(CtiError):
    """A request the server will not pass on; the message is for the client."""

    code = TError.UNKNOWN_ERROR


class DnNotConfigured(RequestRefused):
    code = TError.NOT_CONFIGURED

    def __init__(self, dn: str) -> None:
        super().__init__(f"DN {dn} is not configured on this server")
        self.dn = dn


class DnNotRegistered(RequestRefused):
    code = TError.NOT_REGISTERED

    def __init__(self, dn: DeviceId, *, monitoring: bool = False) -> None:
        if monitoring:
            super().__init__(
                f"this client registered DN {dn} in ModeMonitor, which does not control it"
            )
        else:
            super().__init__(f"this client has not registered DN {dn}")
        self.dn = dn


class UnknownConnId(RequestRefused):
    code = TError.INV_CONNID

    def __init__(self, dn: DeviceId, conn_id: ConnId) -> None:
        super().__init__(f"DN {dn} is not on a call with ConnID {conn_id}")
        self.dn = dn
        self.conn_id = conn_id


class InvalidAttribute(RequestRefused):
    code = TError.INVALID_ATTR


class NotSupported(RequestRefused):
    code = TError.UNSUP_OPER


class ResourceSeized(RequestRefused):
    code = TError.RESOURCE_SEIZED


class RouteNotTaken(RequestRefused):
    code = TError.CSTA_INVALID_DESTINATION


class AgentNotLoggedIn(RequestRefused):
    code = TError.SOFT_AGENT_NOT_LOGGED_IN


class AgentAlreadyLoggedIn(RequestRefused):
    code = TError.SOFT_AGENT_ALREADY_LOGGED_IN


class NotAConference(RequestRefused):
    code = TError.CSTA_REQUEST_INCOMPATIBLE_WITH_OBJECT


class NotYetRegisteredClient(RequestRefused):
    code = TError.INVALID_ATTR

    def __init__(self) -> None:
        super().__init__("the first request must be RequestRegisterClient")


class OnBackup(RequestRefused):
    """The backup of a hot-standby pair leaves the switch to the primary."""

    code = TError.OUT_OF_SERVICE

    def __init__(self, request: str) -> None:
        super().__init__(
            f"{request}: this server is the backup of its pair; "
            "send requests to the primary (its EventServerInfo says ServerRole Primary)"
        )


class SilentSwitch(CtiError):
    """The switch accepted a request but reported no event for it in time."""


# CSTA error value -> T-Library code, per category; else the category's generic code.
_CSTA_VALUES: Mapping[ErrorCategory, Mapping[str, TError]] = {
    ErrorCategory.OPERATION: {
        "requestIncompatibleWithObject": TError.CSTA_REQUEST_INCOMPATIBLE_WITH_OBJECT,
        "valueOutOfRange": TError.CSTA_VALUE_OUT_OF_RANGE,
        "objectNotKnown": TError.CSTA_OBJECT_NOT_KNOWN,
        "invalidCallingDeviceID": TError.CSTA_INVALID_CALLING_DEVICE,
        "invalidCalledDeviceID": TError.CSTA_INVALID_CALLED_DEVICE,
        "invalidForwardingDestination": TError.CSTA_INVALID_FORWARDING_DESTINATION,
        "privilegeViolationSpecifiedDevice": TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
        "privilegeViolationCalledDevice": TError.CSTA_PRIVILEGE_VIOLATION_CALLED_DEVICE,
        "privilegeViolationCallingDevice": TError.CSTA_PRIVILEGE_VIOLATION_CALLING_DEVICE,
        "invalidCallID": TError.CSTA_INVALID_CALL_IDENTIFIER,
        "invalidDeviceID": TError.CSTA_INVALID_DEVICE_IDENTIFIER,
        "invalidConnectionID": TError.CSTA_INVALID_CONNECTION_IDENTIFIER,
        "invalidDestination": TError.CSTA_INVALID_DESTINATION,
        "invalidFeature": TError.CSTA_INVALID_FEATURE,
        "invalidAllocationState": TError.CSTA_INVALID_ALLOCATION_STATE,
        "invalidCrossRefID": TError.CSTA_INVALID_CROSS_REF_ID,
        "invalidObjectType": TError.CSTA_INVALID_OBJECT_TYPE,
        "securityViolation": TError.CSTA_SECURITY_VIOLATION,
    },
    ErrorCategory.STATE_INCOMPATIBILITY: {
        "invalidObjectState": TError.CSTA_INCORRECT_OBJECT_STATE,
        "invalidConnectionIDForActiveCall": TError.CSTA_INVALID_CONNECTION_ID,
        "noActiveCall": TError.CSTA_NO_ACTIVE_CALL,
        "noHeldCall": TError.CSTA_NO_HELD_CALL,
        "noCallToClear": TError.CSTA_NO_CALL_TO_CLEAR,
        "noConnectionToClear": TError.CSTA_NO_CONNECTION_TO_CLEAR,
        "noCallToAnswer": TError.CSTA_NO_CALL_TO_ANSWER,
        "noCallToComplete": TError.CSTA_NO_CALL_TO_COMPLETE,
    },
    ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY: {
        "serviceBusy": TError.CSTA_SERVICE_BUSY,
        "resourceBusy": TError.CSTA_RESOURCE_BUSY,
        "resourceOutOfService": TError.CSTA_RESOURCE_OUT_OF_SERVICE,
        "networkBusy": TError.CSTA_NETWORK_BUSY,
        "networkOutOfService": TError.CSTA_NETWORK_OUT_OF_SERVICE,
        "overallMonitorLimitExceeded": TError.CSTA_OVERALL_MONITOR_LIMIT_EXCEEDED,
        "conferenceMemberLimitExceeded": TError.CSTA_CONFERENCE_MEMBER_LIMIT_EXCEEDED,
    },
    ErrorCategory.SUBSCRIBED_RESOURCE_AVAILABILITY: {
        "objectMonitorLimitExceeded": TError.CSTA_OBJECT_MONITOR_LIMIT_EXCEEDED,
        "trunkLimitExceeded": TError.CSTA_EXTERNAL_TRUNK_LIMIT_EXCEEDED,
        "outstandingReqLimitExceeded": TError.CSTA_OUTSTANDING_REQUEST_LIMIT_EXCEEDED,
    },
    ErrorCategory.PERFORMANCE_MANAGEMENT: {
        "performanceLimitExceeded": TError.CSTA_PERFORMANCE_LIMIT_EXCEEDED,
    },
    ErrorCategory.SECURITY: {
        "sequenceNumberViolated": TError.CSTA_SEQUENCE_NUMBER_VIOLATED,
        "timeStampViolated": TError.CSTA_TIME_STAMP_VIOLATED,
        "securityInfoViolated": TError.CSTA_PAC_VIOLATED,
    },
}

_CSTA_CATEGORIES: Mapping[str, TError] = {
    ErrorCategory.OPERATION: TError.CSTA_OPERATION,
    ErrorCategory.STATE_INCOMPATIBILITY: TError.CSTA_STATE_INCOMPATIBILITY,
    ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY: TError.CSTA_SYSTEM_RESOURCE,
    ErrorCategory.SUBSCRIBED_RESOURCE_AVAILABILITY: TError.CSTA_SUBSCRIBED_RESOURCE,
    ErrorCategory.PERFORMANCE_MANAGEMENT: TError.CSTA_PERFORMANCE_MANAGEMENT,
    ErrorCategory.SECURITY: TError.CSTA_SECURITY,
}


def csta_error_code(category: str, value: str) -> TError:
    """The T-Library code (1100-1199) of a CSTA error response."""
    try:
        known = ErrorCategory(category)
    except ValueError:
        return TError.CSTA_UNSPECIFIED
    specific = _CSTA_VALUES.get(known, {}).get(value)
    return specific or _CSTA_CATEGORIES.get(known, TError.CSTA_UNSPECIFIED)


def error_code_for(exc: BaseException) -> TError:
    match exc:
        case RequestRefused():
            return exc.code
        case ServiceError():
            return csta_error_code(exc.category, exc.value)
        case LinkDown():
            return TError.NO_SWITCH
        case TimeoutError() | SilentSwitch():
            return TError.TIMEOUT
        case _:
            return TError.INTERNAL


def error_message_for(exc: BaseException, request: str) -> str:
    match exc:
        case RequestRefused() | SilentSwitch():
            return str(exc)
        case ServiceError():
            return f"the switch refused {request}: {exc.category} {exc.value}"
        case LinkDown():
            return f"{request} was not sent: {exc}" if str(exc) else "no link to the switch"
        case TimeoutError():
            return f"the switch did not answer {request} in time"
        case _:
            return f"internal error while handling {request}; see the server log"
