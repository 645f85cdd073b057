"""The T-Library vocabulary: message names, enumerations and the message dictionary type.

Names and numbers are those of T-Library 7.1 (its tlib_ext.h header; docs/protocol.md).
On the JSON wire an enumeration is written as its value's name without the type prefix
("CallTypeInternal" -> "Internal"), which is each member's value here.
"""

from __future__ import annotations

import enum
from typing import TypedDict

# --- key-value lists (UserData, Extensions, Reasons) -------------------------------------
# A value is a string, an integer, a nested list, or binary written {"$binary": base64}.
KVValue = str | int | dict[str, "KVValue"]
KVList = dict[str, KVValue]

BINARY_KEY = "$binary"


class CallType(enum.StrEnum):
    UNKNOWN = "Unknown"
    INTERNAL = "Internal"
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"
    CONSULT = "Consult"


class CallState(enum.StrEnum):
    OK = "Ok"
    TRANSFERRED = "Transferred"
    CONFERENCED = "Conferenced"
    GENERAL_ERROR = "GeneralError"
    SYSTEM_ERROR = "SystemError"
    REMOTE_RELEASE = "RemoteRelease"
    BUSY = "Busy"
    NO_ANSWER = "NoAnswer"
    SIT_DETECTED = "SitDetected"
    ANSWERING_MACHINE_DETECTED = "AnsweringMachineDetected"
    ALL_TRUNKS_BUSY = "AllTrunksBusy"
    SIT_INVALIDNUM = "SitInvalidnum"
    SIT_VACANT = "SitVacant"
    SIT_INTERCEPT = "SitIntercept"
    SIT_UNKNOWN = "SitUnknown"
    SIT_NOCIRCUIT = "SitNocircuit"
    SIT_REORDER = "SitReorder"
    FAX_DETECTED = "FaxDetected"
    QUEUE_FULL = "QueueFull"
    CLEARED = "Cleared"
    OVERFLOWED = "Overflowed"
    ABANDONED = "Abandoned"
    REDIRECTED = "Redirected"
    FORWARDED = "Forwarded"
    CONSULT = "Consult"
    PICKEDUP = "Pickedup"
    DROPPED = "Dropped"
    DROPPEDNOANSWER = "Droppednoanswer"
    UNKNOWN = "Unknown"
    COVERED = "Covered"
    CONVERSE_ON = "ConverseOn"
    BRIDGED = "Bridged"
    DEAFENED = "Deafened"
    HELD = "Held"


class DNRole(enum.StrEnum):
    UNKNOWN = "Unknown"
    ORIGINATION = "Origination"
    DESTINATION = "Destination"
    CONFERENCE_MEMBER = "ConferenceMember"
    NEW_PARTY = "NewParty"
    ADDED_BY = "AddedBy"
    DELETED_BY = "DeletedBy"
    TRANSFERRED_BY = "TransferredBy"
    DELETED_PARTY = "DeletedParty"
    CONFERENCED_BY = "ConferencedBy"
    OBSERVER = "Observer"


class AgentWorkMode(enum.StrEnum):
    UNKNOWN = "Unknown"
    MANUAL_IN = "ManualIn"
    AUTO_IN = "AutoIn"
    AFTER_CALL_WORK = "AfterCallWork"
    AUX_WORK = "AuxWork"
    NO_CALL_DISCONNECT = "NoCallDisconnect"
    WALK_AWAY = "WalkAway"
    RETURN_BACK = "ReturnBack"
    # tlib_ext.h: AgentLegalGuard = AgentAutoIn, "substate of NotReady": the same number
    # (2), written by its NotReady name on an EventAgentNotReady of a legal guard.
    LEGAL_GUARD = "LegalGuard"


class AddressType(enum.StrEnum):
    UNKNOWN = "Unknown"
    DN = "DN"
    POSITION = "Position"
    QUEUE = "Queue"
    ROUTE_DN = "RouteDN"
    TRUNK = "Trunk"
    VOICE_CHANNEL = "VoiceChannel"
    DATA_CHANNEL = "DataChannel"
    ANNOUNCEMENT = "Announcement"
    ASAI = "ASAI"
    ACD_GROUP = "ACDGroup"
    VSP = "VSP"
    ROUTE_QUEUE = "RouteQueue"
    AGENT_ID = "AgentID"
    OTHER = "Other"


class RegisterMode(enum.StrEnum):
    MODE_SHARE = "ModeShare"
    MODE_PRIVATE = "ModePrivate"
    MODE_MONITOR = "ModeMonitor"


class ControlMode(enum.StrEnum):
    REGISTER_DEFAULT = "RegisterDefault"
    REGISTER_FORCE = "RegisterForce"
    REGISTER_LOCAL = "RegisterLocal"


class MakeCallType(enum.StrEnum):
    REGULAR = "Regular"
    DIRECT_AGENT = "DirectAgent"
    SUPERVISOR_ASSIST = "SupervisorAssist"
    PRIORITY = "Priority"
    DIRECT_PRIORITY = "DirectPriority"


class RouteType(enum.StrEnum):
    UNKNOWN = "Unknown"
    DEFAULT = "Default"
    LABEL = "Label"
    OVERWRITE_DNIS = "OverwriteDNIS"
    DDD = "DDD"
    IDDD = "IDDD"
    DIRECT = "Direct"
    REJECT = "Reject"
    ANNOUNCEMENT = "Announcement"
    POST_FEATURE = "PostFeature"
    DIRECT_AGENT = "DirectAgent"
    PRIORITY = "Priority"
    DIRECT_PRIORITY = "DirectPriority"
    AGENT_ID = "AgentID"
    CALL_DISCONNECT = "CallDisconnect"


class XRouteType(enum.StrEnum):
    DEFAULT = "Default"
    ROUTE = "Route"
    DIRECT = "Direct"
    REROUTE = "Reroute"
    DIRECT_UUI = "DirectUUI"
    DIRECT_ANI = "DirectANI"
    DIRECT_NO_TOKEN = "DirectNoToken"
    DNIS_POOLING = "DNISPooling"
    DIRECT_DIGITS = "DirectDigits"
    PULL_BACK = "PullBack"
    EXT_PROTOCOL = "ExtProtocol"
    ROUTE_UUI = "RouteUUI"
    DIRECT_NETWORK_CALL_ID = "DirectNetworkCallID"


class AddressInfoType(enum.StrEnum):
    ADDRESS_STATUS = "AddressStatus"
    MESSAGE_WAITING_STATUS = "MessageWaitingStatus"
    ASSOCIATION_STATUS = "AssociationStatus"
    CALL_FORWARDING_STATUS = "CallForwardingStatus"
    AGENT_STATUS = "AgentStatus"
    NUMBER_OF_AGENTS_IN_QUEUE = "NumberOfAgentsInQueue"
    NUMBER_OF_AVAILABLE_AGENTS_IN_QUEUE = "NumberOfAvailableAgentsInQueue"
    NUMBER_OF_CALLS_IN_QUEUE = "NumberOfCallsInQueue"
    ADDRESS_TYPE = "AddressType"
    CALLS_QUERY = "CallsQuery"
    SEND_ALL_CALLS_STATUS = "SendAllCallsStatus"
    QUEUE_LOGIN_AUDIT = "QueueLoginAudit"
    NUMBER_OF_IDLE_TRUNKS = "NumberOfIdleTrunks"
    NUMBER_OF_TRUNKS_IN_USE = "NumberOfTrunksInUse"
    DATABASE_VALUE = "DatabaseValue"
    DN_STATUS = "DNStatus"
    QUEUE_STATUS = "QueueStatus"


class AddressStatus(enum.StrEnum):
    IDLE = "Idle"
    ORIGINATION = "Origination"
    DIALING = "Dialing"
    TALKING = "Talking"
    RINGING = "Ringing"
    HELD = "Held"
    TREATMENT = "Treatment"
    LOCKED_OUT = "LockedOut"
    MAINTENANCE = "Maintenance"
    AVAILABLE = "Available"
    VACANT = "Vacant"


class CallInfoType(enum.StrEnum):
    PARTIES_QUERY = "PartiesQuery"
    STATUS_QUERY = "StatusQuery"


class ServerRole(enum.StrEnum):
    PRIMARY = "Primary"
    BACKUP = "Backup"


class TreatmentType(enum.StrEnum):
    UNKNOWN = "Unknown"
    IVR = "IVR"
    MUSIC = "Music"
    RING_BACK = "RingBack"
    SILENCE = "Silence"
    BUSY = "Busy"
    COLLECT_DIGITS = "CollectDigits"
    PLAY_ANNOUNCEMENT = "PlayAnnouncement"
    PLAY_ANNOUNCEMENT_AND_DIGITS = "PlayAnnouncementAndDigits"
    VERIFY_DIGITS = "VerifyDigits"
    RECORD_USER_ANNOUNCEMENT = "RecordUserAnnouncement"
    DELETE_USER_ANNOUNCEMENT = "DeleteUserAnnouncement"
    CANCEL_CALL = "CancelCall"
    PLAY_APPLICATION = "PlayApplication"
    SET_DEFAULT_ROUTE = "SetDefaultRoute"
    TEXT_TO_SPEECH = "TextToSpeech"
    TEXT_TO_SPEECH_AND_DIGITS = "TextToSpeechAndDigits"
    FAST_BUSY = "FastBusy"
    RAN = "RAN"


class MergeType(enum.StrEnum):
    FOR_TRANSFER = "ForTransfer"
    FOR_CONFERENCE = "ForConference"


class ForwardMode(enum.StrEnum):
    NONE = "None"
    UNCONDITIONAL = "Unconditional"
    ON_BUSY = "OnBusy"
    ON_NO_ANSWER = "OnNoAnswer"
    ON_BUSY_AND_NO_ANSWER = "OnBusyAndNoAnswer"
    SEND_ALL_CALLS = "SendAllCalls"


class PartyState(enum.IntEnum):
    """The `ps-N` values of EventAddressInfo Extensions (tlib_ext.h PartyState)."""

    INITIATED = 0x1
    QUEUED = 0x9
    ALERTING = 0xA
    BUSY = 0xB
    CONNECTED = 0xC
    HELD = 0xE
    FAILED = 0xF
    DIALING = 0x10001  # Initiated with the Dialing modifier


class MonitorNextCallType(enum.StrEnum):
    """TMonitorNextCallType: the supervisor's next call only, or every call."""

    ONE_CALL = "OneCall"
    ALL_CALLS = "AllCalls"


class LocationInfoType(enum.StrEnum):
    """TLocationInfoType: what RequestQueryLocation asks, what EventLocationInfo says."""

    ALL_LOCATIONS = "AllLocations"
    LOCATION_DATA = "LocationData"
    MONITOR_LOCATION = "MonitorLocation"
    CANCEL_MONITOR_LOCATION = "CancelMonitorLocation"
    MONITOR_ALL_LOCATIONS = "MonitorAllLocations"
    CANCEL_MONITOR_ALL_LOCATIONS = "CancelMonitorAllLocations"
    LOCATION_MONITOR_CANCELED = "LocationMonitorCanceled"
    ALL_LOCATIONS_MONITOR_CANCELED = "AllLocationsMonitorCanceled"


class SwitchInfoType(enum.StrEnum):
    """TSwitchInfoType: what RequestQuerySwitch asks."""

    DATE_TIME = "DateTime"
    CLASSIFIER_STAT = "ClassifierStat"


ENUMERATIONS: dict[str, type[enum.StrEnum]] = {
    "CallType": CallType,
    "CallState": CallState,
    "ThisDNRole": DNRole,
    "OtherDNRole": DNRole,
    "ThirdPartyDNRole": DNRole,
    "AgentWorkMode": AgentWorkMode,
    "AddressType": AddressType,
    "RegisterMode": RegisterMode,
    "ControlMode": ControlMode,
    "MakeCallType": MakeCallType,
    "RouteType": RouteType,
    "XRouteType": XRouteType,
    "InfoType": AddressInfoType,
    "CallInfoType": CallInfoType,
    "ServerRole": ServerRole,
    "MonitorNextCallType": MonitorNextCallType,
    "LocationInfoType": LocationInfoType,
    "SwitchInfoType": SwitchInfoType,
    "TreatmentType": TreatmentType,
    "ForwardMode": ForwardMode,
    "MergeType": MergeType,
}


class TMessage(TypedDict, total=False):
    """One T-Library message as JSON: a request ("Request") or an event ("Event")."""

    Request: str
    Event: str
    ReferenceID: int
    Server: str
    EventSequenceNumber: int
    time: str
    ThisDN: str
    ThisDNRole: str
    ThisQueue: str
    OtherDN: str
    OtherDNRole: str
    OtherQueue: str
    ThirdPartyDN: str
    ThirdPartyDNRole: str
    ThirdPartyQueue: str
    ConnID: str
    PreviousConnID: str
    TransferConnID: str
    ConferenceConnID: str
    LastTransferConnID: str
    LastTransferHomeLocation: str
    LastTransferOrigDN: str
    FirstTransferConnID: str
    FirstTransferHomeLocation: str
    FirstTransferOrigDN: str
    RemoteLocation: str
    RemoteConnID: str
    RemoteDN: str
    CallID: str
    CallType: str
    CallState: str
    ANI: str
    DNIS: str
    AgentID: str
    AgentWorkMode: str
    Password: str
    UserData: KVList
    Extensions: KVList
    Reasons: KVList
    Key: str
    ErrorCode: int
    ErrorMessage: str
    AddressType: str
    InfoType: str
    InfoStatus: str
    RegisterMode: str
    ControlMode: str
    MakeCallType: str
    RouteType: str
    CallInfoType: str
    Location: str
    AccessNumber: str
    XRouteType: str
    XReferenceID: int
    PrivateMsgID: int
    CustomerID: str
    ApplicationName: str
    ApplicationPassword: str
    ServerVersion: str
    ServerRole: str
    ServerStartTime: str
    ClientSessionID: str
    LastEventSequenceNumber: int
    Parties: list[KVList]
    Place: str
    Timeout: int
    Priority: int
    MonitorNextCallType: str
    CallUUID: str
    # the call-based events (RequestStartCallMonitoring)
    OrigCallUUID: str
    NewCallUUID: str
    RefCallUUID: str
    NewConnID: str
    PartyUUID: str
    DN: str
    PartyState: str
    CtrlParty: str
    NetworkCallID: str
    ThisTrunk: str
    OtherTrunk: str
    LocationInfoType: str
    LocationInfo: KVList
    SwitchInfoType: str
    TimeinSecs: int
    TimeinuSecs: int
    InputMask: list[str]
    AgentIdleReason: int
    DTMFDigits: str
    TreatmentType: str
    TreatmentParms: KVList
    CollectedDigits: str
    LastCollectedDigit: str
    ForwardMode: str
    MergeType: str
    MusicPath: str
    NumberOfDigits: int
    TerminateDigits: str
