"""CSTA data types shared by services and events (ECMA-269 §12, ECMA-323 schema types).

Device identifiers come in a few XML forms, told apart by an `Annotated` marker so that
the codec can encode them and mypy still sees a plain DeviceId:

    DeviceID            <callingDevice>7001</callingDevice>
    SubjectDeviceID &c. <alertingDevice><deviceIdentifier>7002</deviceIdentifier></alertingDevice>
                        (or <notKnown/> / <restricted/>, which decode to None)
    RedirectionDeviceID <lastRedirectionDevice><numberDialed>5000</numberDialed></…>

A ConnectionID's callID or deviceID may be absent in the standard; absent is "" here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.schema import xml
from ctiserver.ids import CallId, DeviceId
from ctiserver.immutable import immutable


class Form(enum.Enum):
    """How a device identifier is written in XML."""

    EXTENDED_DEVICE = enum.auto()
    REDIRECTION_DEVICE = enum.auto()


DeviceID = DeviceId
SubjectDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
CallingDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
CalledDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
AssociatedCallingDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
AssociatedCalledDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
NetworkCallingDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
NetworkCalledDeviceID = Annotated[DeviceId, Form.EXTENDED_DEVICE]
RedirectionDeviceID = Annotated[DeviceId, Form.REDIRECTION_DEVICE]


@immutable
class ConnectionID:
    """One device's participation in one call (ECMA-269 §12.2.7)."""

    call_id: CallId = CallId("")
    device_id: DeviceId = DeviceId("")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionListItem:
    """One connection changed by a transfer or conference: old and new identity."""

    new_connection: ConnectionID | None = None
    old_connection: ConnectionID | None = None
    endpoint: DeviceId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCharacteristics:
    """What kind of call a request makes, or a switch reports (ECMA-269 § 12.3.7): the
    flags ctiserver uses, in schema order; the codec skips the others on input."""

    acd_call: bool | None = None
    priority_call: bool | None = None
    direct_agent: bool | None = None
    assist_call: bool | None = None


@dataclass(frozen=True, slots=True)
class PrivateElement:
    """One element of vendor private data (ECMA-269 §12.3.26): a name, text, children."""

    name: str
    text: str = ""
    children: tuple[PrivateElement, ...] = ()

    def child_text(self, name: str) -> str | None:
        for child in self.children:
            if child.name == name:
                return child.text
        return None


@dataclass(frozen=True, slots=True)
class PrivateData:
    """The contents of `<privateData><private>`, read by local names."""

    namespace: str
    elements: tuple[PrivateElement, ...]

    def find(self, name: str) -> PrivateElement | None:
        for element in self.elements:
            if element.name == name:
                return element
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDeviceResponseInfo:
    """One call at a device, as SnapshotDevice reports it (ECMA-269 §16.2.2)."""

    connection_identifier: ConnectionID
    local_call_state: LocalConnectionState | None = xml(
        "localCallState/compoundCallState/localConnectionState", default=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotCallResponseInfo:
    """One party of a call, as SnapshotCall reports it (ECMA-269 §16.2.1)."""

    device_on_call: SubjectDeviceID | None = None
    call_identifier: ConnectionID | None = None
    local_connection_state: LocalConnectionState | None = None
