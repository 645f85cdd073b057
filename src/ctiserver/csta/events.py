"""Call events (ECMA-269 § 17.2), reported on a monitor with invoke id 9999.

Fields follow the schema order of the ECMA-323 digest; the optional elements that
ctiserver neither sends nor reads are left out (the codec skips them on input).
`TransferedEvent` keeps the standard's single "r".
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.schema import Event, xml
from ctiserver.csta.types import (
    AssociatedCallingDeviceID,
    CallCharacteristics,
    CalledDeviceID,
    CallingDeviceID,
    ConnectionID,
    ConnectionListItem,
    NetworkCalledDeviceID,
    NetworkCallingDeviceID,
    PrivateData,
    RedirectionDeviceID,
    SubjectDeviceID,
)

_EXTENSIONS = "extensions/privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInitiatedEvent(Event):
    initiated_connection: ConnectionID
    initiating_device: SubjectDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginatedEvent(Event):
    originated_connection: ConnectionID
    calling_device: SubjectDeviceID | None = None
    called_device: CalledDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveredEvent(Event):
    connection: ConnectionID
    alerting_device: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    last_redirection_device: RedirectionDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    network_calling_device: NetworkCallingDeviceID | None = None
    network_called_device: NetworkCalledDeviceID | None = None
    associated_calling_device: AssociatedCallingDeviceID | None = None  # the trunk it came on
    call_characteristics: CallCharacteristics | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class EstablishedEvent(Event):
    established_connection: ConnectionID
    answering_device: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    last_redirection_device: RedirectionDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    network_calling_device: NetworkCallingDeviceID | None = None
    network_called_device: NetworkCalledDeviceID | None = None
    associated_calling_device: AssociatedCallingDeviceID | None = None  # the trunk it came on
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldEvent(Event):
    held_connection: ConnectionID
    holding_device: SubjectDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrievedEvent(Event):
    retrieved_connection: ConnectionID
    retrieving_device: SubjectDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClearedEvent(Event):
    dropped_connection: ConnectionID
    releasing_device: SubjectDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallClearedEvent(Event):
    cleared_call: ConnectionID
    correlator_data: str = ""
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferedEvent(Event):
    primary_old_call: ConnectionID
    secondary_old_call: ConnectionID | None = None
    transferring_device: SubjectDeviceID | None = None
    transferred_to_device: SubjectDeviceID | None = None
    transferred_connections: tuple[ConnectionListItem, ...] = xml(
        item="connectionListItem", default=()
    )
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferencedEvent(Event):
    primary_old_call: ConnectionID
    secondary_old_call: ConnectionID | None = None
    conferencing_device: SubjectDeviceID | None = None
    added_party: SubjectDeviceID | None = None
    conference_connections: tuple[ConnectionListItem, ...] = xml(
        item="connectionListItem", default=()
    )
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DivertedEvent(Event):
    connection: ConnectionID
    diverting_device: SubjectDeviceID | None = None
    new_destination: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    last_redirection_device: RedirectionDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedEvent(Event):
    queued_connection: ConnectionID
    queue: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    last_redirection_device: RedirectionDeviceID | None = None
    number_queued: int | None = None
    calls_in_front: int | None = None
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    network_calling_device: NetworkCallingDeviceID | None = None
    network_called_device: NetworkCalledDeviceID | None = None
    associated_calling_device: AssociatedCallingDeviceID | None = None  # the trunk it came on
    call_characteristics: CallCharacteristics | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEvent(Event):
    failed_connection: ConnectionID
    failing_device: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    last_redirection_device: RedirectionDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    correlator_data: str = ""
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkReachedEvent(Event):
    outbound_connection: ConnectionID
    network_interface_used: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    called_device: CalledDeviceID | None = None
    local_connection_info: LocalConnectionState | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)
