"""Logical device features (ECMA-269 § 22.2) and the maintenance events (§ 24.2): do not
disturb, forwarding, the message waiting indicator, and a device going out of service
and back.

Each Set service answers its response and the switch reports the new setting with the
event of the feature on the device's monitors; the Get services read the settings
(the link's resynchronisation after a reconnect).  OutOfServiceEvent and
BackInServiceEvent come from the switch alone.  Optional elements ctiserver neither
sends nor reads (callOrigination, callingDeviceList, ringDuration, …) are left out; the
codec skips them on input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import PrivateData, SubjectDeviceID
from ctiserver.ids import DeviceId

_EXTENSIONS = "extensions/privateData/private"


class ForwardingType(enum.StrEnum):
    """When a device's calls are forwarded (ECMA-323 ForwardingType)."""

    IMMEDIATE = "forwardImmediate"
    BUSY = "forwardBusy"
    NO_ANSWER = "forwardNoAns"
    DND = "forwardDND"
    BUSY_INTERNAL = "forwardBusyInt"
    BUSY_EXTERNAL = "forwardBusyExt"
    NO_ANSWER_INTERNAL = "forwardNoAnsInt"
    NO_ANSWER_EXTERNAL = "forwardNoAnsExt"
    IMMEDIATE_INTERNAL = "forwardImmInt"
    IMMEDIATE_EXTERNAL = "forwardImmExt"
    DND_INTERNAL = "forwardDNDInt"
    DND_EXTERNAL = "forwardDNDExt"


# --- do not disturb --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDoNotDisturbResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDoNotDisturb(Request):
    RESPONSE = SetDoNotDisturbResponse
    device: DeviceId
    do_not_disturb_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDoNotDisturbResponse(Response):
    do_not_disturb_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDoNotDisturb(Request):
    RESPONSE = GetDoNotDisturbResponse
    device: DeviceId
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoNotDisturbEvent(Event):
    device: SubjectDeviceID | None = None
    do_not_disturb_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


# --- forwarding ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetForwardingResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetForwarding(Request):
    RESPONSE = SetForwardingResponse
    device: DeviceId
    forwarding_type: ForwardingType | None = None
    activate_forward: bool
    forward_dn: DeviceId | None = xml("forwardDN", default=None)
    ring_count: int | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardListItem:
    """One forwarding setting of a device (GetForwardingResponse)."""

    forwarding_type: ForwardingType | None = None
    forward_status: bool
    forward_dn: DeviceId | None = xml("forwardDN", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetForwardingResponse(Response):
    forwarding_list: tuple[ForwardListItem, ...] = xml(item="forwardListItem", default=())
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetForwarding(Request):
    RESPONSE = GetForwardingResponse
    device: DeviceId
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardingEvent(Event):
    device: SubjectDeviceID | None = None
    forwarding_type: ForwardingType | None = None
    forward_status: bool
    forward_to: DeviceId | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


# --- message waiting -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMessageWaitingIndicatorResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMessageWaitingIndicator(Request):
    RESPONSE = SetMessageWaitingIndicatorResponse
    device: DeviceId
    message_waiting_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetMessageWaitingIndicatorResponse(Response):
    message_waiting_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetMessageWaitingIndicator(Request):
    RESPONSE = GetMessageWaitingIndicatorResponse
    device: DeviceId
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageWaitingEvent(Event):
    target_device: SubjectDeviceID | None = None
    message_waiting_on: bool
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


# --- maintenance -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OutOfServiceEvent(Event):
    device: SubjectDeviceID | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackInServiceEvent(Event):
    device: SubjectDeviceID | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)
