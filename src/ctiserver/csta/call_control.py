"""Call control services and their positive responses (ECMA-269 § 17).

Optional elements that ctiserver neither sends nor reads (accountCode, authCode,
mediaCallCharacteristics, …) are left out; the codec skips unknown elements on input.
`correlator_data` is the standard's opaque correlator, echoed by the switch in events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctiserver.csta.enumerations import AutoOriginate, EventCause
from ctiserver.csta.schema import Request, Response, xml
from ctiserver.csta.types import (
    CallCharacteristics,
    ConnectionID,
    ConnectionListItem,
    PrivateData,
)
from ctiserver.ids import DeviceId

_EXTENSIONS = "extensions/privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCallResponse(Response):
    calling_device: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCall(Request):
    RESPONSE = MakeCallResponse
    calling_device: DeviceId
    called_directory_number: DeviceId
    auto_originate: AutoOriginate | None = None
    correlator_data: str = ""
    call_characteristics: CallCharacteristics | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class MakePredictiveCallResponse(Response):
    initiated_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class MakePredictiveCall(Request):
    """ECMA-269 § 17.1.14: the switch calls *called_directory_number* first and, once it
    is answered, presents the call at *calling_device* (an extension, an ACD group or a
    routing device).  *alert_time*: seconds the called party may ring before the switch
    gives up (callNotAnswered)."""

    RESPONSE = MakePredictiveCallResponse
    calling_device: DeviceId
    called_directory_number: DeviceId
    alert_time: int | None = None
    correlator_data: str = ""
    call_characteristics: CallCharacteristics | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCall(Request):
    RESPONSE = AnswerCallResponse
    call_to_be_answered: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearConnectionResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearConnection(Request):
    RESPONSE = ClearConnectionResponse
    connection_to_be_cleared: ConnectionID
    reason: EventCause | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCall(Request):
    RESPONSE = ClearCallResponse
    call_to_be_cleared: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldCall(Request):
    RESPONSE = HoldCallResponse
    call_to_be_held: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrieveCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrieveCall(Request):
    RESPONSE = RetrieveCallResponse
    call_to_be_retrieved: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationCallResponse(Response):
    initiated_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationCall(Request):
    RESPONSE = ConsultationCallResponse
    existing_call: ConnectionID
    consulted_device: DeviceId
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlternateCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AlternateCall(Request):
    RESPONSE = AlternateCallResponse
    held_call: ConnectionID
    active_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectCall(Request):
    RESPONSE = ReconnectCallResponse
    active_call: ConnectionID
    held_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCallResponse(Response):
    transferred_call: ConnectionID | None = None
    connections: tuple[ConnectionListItem, ...] = xml(item="connectionListItem", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCall(Request):
    RESPONSE = TransferCallResponse
    held_call: ConnectionID
    active_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceCallResponse(Response):
    conference_call: ConnectionID | None = None
    connections: tuple[ConnectionListItem, ...] = xml(item="connectionListItem", default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceCall(Request):
    RESPONSE = ConferenceCallResponse
    held_call: ConnectionID
    active_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepTransferCallResponse(Response):
    transferred_call: ConnectionID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepTransferCall(Request):
    RESPONSE = SingleStepTransferCallResponse
    active_call: ConnectionID
    transferred_to: DeviceId
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepConferenceCallResponse(Response):
    conferenced_call: ConnectionID | None = None


class ParticipationType(enum.StrEnum):
    """How a device joins a call (ECMA-269 ParticipationType): heard and hearing, or
    hearing only.  Not in the schema digest the generated enumerations come from."""

    ACTIVE = "active"
    SILENT = "silent"


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepConferenceCall(Request):
    RESPONSE = SingleStepConferenceCallResponse
    active_call: ConnectionID
    device_to_join: DeviceId
    participation_type: ParticipationType | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeflectCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DeflectCall(Request):
    RESPONSE = DeflectCallResponse
    call_to_be_diverted: ConnectionID
    new_destination: DeviceId
