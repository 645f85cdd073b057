"""Voice-unit services and events (ECMA-269 § 26) as far as call recording and treatments
need them.

RecordMessage starts recording a connection and names the recording ("message");
Stop, Suspend and Resume act on it.  PlayMessage plays a message over a connection
(PlayEvent when it begins, StopEvent when it ends); Stop ends it early.  The standard
has no resume event: the voice-unit events are Play, Record, Review, Stop, SuspendPlay
and SuspendRecord, so a resumed recording is reported by a new RecordEvent for the
same message (docs/pbxsim.md § 8.2).
Optional elements ctiserver neither sends nor reads (encodingAlgorithm, termination,
servicesPermitted, …) are left out; the codec skips them on input.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import ConnectionID, PrivateData

_EXTENSIONS = "extensions/privateData/private"

# --- services -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordMessageResponse(Response):
    resulting_message: str
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordMessage(Request):
    """CSTA "Record": record what is said on a connection."""

    RESPONSE = RecordMessageResponse
    call_to_be_recorded: ConnectionID
    resource: str = ""
    sampling_rate: int | None = None
    max_duration: int | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop(Request):
    RESPONSE = StopResponse
    connection: ConnectionID
    message_to_be_stopped: str = ""
    resource: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuspendResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Suspend(Request):
    RESPONSE = SuspendResponse
    connection: ConnectionID
    message: str = ""
    resource: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume(Request):
    RESPONSE = ResumeResponse
    connection: ConnectionID
    message_to_resume: str = ""
    resource: str = ""
    duration: int | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEvent(Event):
    """Recording of *message* started (or resumed) on *connection*."""

    connection: ConnectionID
    message: str = ""
    resource: str = ""
    length: int | None = None
    current_position: int | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopEvent(Event):
    connection: ConnectionID
    message: str = ""
    resource: str = ""
    length: int | None = None
    current_position: int | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuspendRecordEvent(Event):
    connection: ConnectionID
    message: str = ""
    resource: str = ""
    length: int | None = None
    current_position: int | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


# --- playing messages (treatments) ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayMessageResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayMessage(Request):
    """CSTA "Play Message": play *message_to_be_played* over a connection; *duration* in
    milliseconds (absent: as long as the message lasts).  Treatments at routing devices
    use it as the Genesys CSTA connector does (docs/pbxsim.md § 8.5)."""

    RESPONSE = PlayMessageResponse
    message_to_be_played: str
    over_connection: ConnectionID
    duration: int | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayEvent(Event):
    """The playing of *message* began on *connection*."""

    connection: ConnectionID
    message: str = ""
    resource: str = ""
    length: int | None = None
    current_position: int | None = None
    speed: int | None = None
    cause: EventCause | None = None
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)
