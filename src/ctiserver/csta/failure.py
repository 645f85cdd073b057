"""CSTAErrorCode, the negative response to any request (ECMA-323 UniversalFailure).

The document has exactly one child: its element is the error *category* and its text
the *value*, e.g. `<CSTAErrorCode><operation>invalidDeviceID</operation></CSTAErrorCode>`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from ctiserver.csta.schema import Kind, Message


class ErrorCategory(enum.StrEnum):
    """The UniversalFailure choices, spelled as on the wire (sic: "Availibility")."""

    OPERATION = "operation"
    SECURITY = "security"
    STATE_INCOMPATIBILITY = "stateIncompatibility"
    SYSTEM_RESOURCE_AVAILABILITY = "systemResourceAvailibility"
    SUBSCRIBED_RESOURCE_AVAILABILITY = "subscribedResourceAvailability"
    PERFORMANCE_MANAGEMENT = "performanceManagement"
    PRIVATE_DATA = "privateData"
    UNSPECIFIED = "unspecified"
    PRIVATE_ERROR_CODE = "privateErrorCode"


@dataclass(frozen=True, slots=True, kw_only=True)
class CSTAErrorCode(Message):
    KIND: ClassVar[Kind] = Kind.ERROR
    category: ErrorCategory
    value: str
