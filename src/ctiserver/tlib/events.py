"""Which attributes each T-Library event carries: the events' table, beside the requests'.

Every event has Event, Server, EventSequenceNumber and time; the table says what else
it must carry (mandatory) and may carry (optional), following the Genesys Events and
Models Reference where it lists them (EventRegistered, EventError, EventRouteRequest,
EventRouteUsed, EventAttachedDataChanged, EventAbandoned, EventAgentLogin, …) and the
call models of docs/protocol.md § 5 for the rest.  `problems(event)` names what is
wrong with an event against it; the tests hold every event the server sends to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.tlib.vocabulary import TMessage

STAMPS: Final = frozenset({"Event", "Server", "EventSequenceNumber", "time"})


@dataclass(frozen=True, slots=True)
class EventShape:
    mandatory: frozenset[str]
    optional: frozenset[str]

    @property
    def allowed(self) -> frozenset[str]:
        return STAMPS | self.mandatory | self.optional


def _shape(mandatory: Iterable[str] = (), optional: Iterable[str] = ()) -> EventShape:
    must = frozenset(mandatory)
    return EventShape(must, frozenset(optional) - must)


# What a call event says about its call, from ThisDN's point of view.
CALL = ("ThisDN", "ThisDNRole", "ConnID", "CallID", "CallType", "UserData")
CALL_OPTIONAL = (
    "ReferenceID",
    "CallState",
    "ThisQueue",
    "OtherDN",
    "OtherDNRole",
    "ThirdPartyDN",
    "ThirdPartyDNRole",
    "PreviousConnID",
    "TransferConnID",
    "ConferenceConnID",
    "ANI",
    "DNIS",
    "AgentID",
    "Extensions",
    "LastTransferConnID",
    "LastTransferHomeLocation",
    "LastTransferOrigDN",
    "FirstTransferConnID",
    "FirstTransferHomeLocation",
    "FirstTransferOrigDN",
    # reporting (docs/protocol.md § 5): the call's UUID, its network call id, its trunk
    "CallUUID",
    "NetworkCallID",
    "ThisTrunk",
    "OtherTrunk",
)
_CALL_EVENTS = (
    "EventDialing",
    "EventRinging",
    "EventEstablished",
    "EventReleased",
    "EventAbandoned",
    "EventDestinationBusy",
    "EventHeld",
    "EventRetrieved",
    "EventPartyChanged",
    "EventPartyAdded",
    "EventPartyDeleted",
    "EventQueued",
    "EventDiverted",
    "EventRouteUsed",
    "EventPartyInfo",
    "EventNetworkReached",
)
_REMOTE = ("RemoteLocation", "RemoteConnID", "RemoteDN")  # a party event from another site
_AGENT = ("ThisDN", "AgentWorkMode")
_TREATED = ("ThisDN", "ConnID", "CallID", "CallType", "TreatmentType")  # a treatment's call
_AGENT_OPTIONAL = ("ReferenceID", "AgentID", "ThisQueue", "Extensions", "Reasons")
# What the call-based events say of a call, and of one party of it.
_CALL_DATA = ("CallID", "CallType", "ANI", "DNIS", "UserData", "NetworkCallID")
_CALL_PARTY = ("CallUUID", "ConnID", "PartyUUID", "DN", "PartyState")

EVENTS: Final[Mapping[str, EventShape]] = {
    **{name: _shape(CALL, CALL_OPTIONAL) for name in _CALL_EVENTS},
    "EventPartyChanged": _shape(CALL, (*CALL_OPTIONAL, *_REMOTE)),
    "EventPartyAdded": _shape(CALL, (*CALL_OPTIONAL, *_REMOTE)),
    "EventPartyDeleted": _shape(CALL, (*CALL_OPTIONAL, *_REMOTE)),
    # ThisDN and ThisQueue must be equal (the Events and Models Reference)
    "EventRouteRequest": _shape((*CALL, "ThisQueue"), CALL_OPTIONAL),
    "EventAttachedDataChanged": _shape(
        ("ConnID", "CallID", "CallType", "UserData"),
        ("ReferenceID", "ThisDN", "ThisDNRole", "ThirdPartyDN", "ANI", "DNIS", "Extensions"),
    ),
    "EventAgentLogin": _shape((*_AGENT, "Extensions"), _AGENT_OPTIONAL),
    "EventAgentReady": _shape(_AGENT, _AGENT_OPTIONAL),
    "EventAgentNotReady": _shape(_AGENT, _AGENT_OPTIONAL),
    "EventAgentLogout": _shape(("ThisDN",), (*_AGENT_OPTIONAL, "AgentWorkMode")),
    "EventRegistered": _shape(
        ("ThisDN", "InfoType", "Extensions", "ReferenceID"), ("InfoStatus", "AgentID")
    ),
    "EventUnregistered": _shape(
        ("ThisDN",), ("ReferenceID", "ErrorCode", "ErrorMessage", "Extensions")
    ),
    "EventAddressInfo": _shape(
        ("ThisDN", "InfoType", "InfoStatus", "ReferenceID"), ("Extensions",)
    ),
    "EventServerInfo": _shape(
        ("ServerVersion", "ServerRole"), ("ReferenceID", "ClientSessionID", "Extensions")
    ),
    "EventLinkConnected": _shape((), ("ReferenceID",)),
    "EventLinkDisconnected": _shape((), ("ReferenceID",)),
    "EventError": _shape(
        ("ErrorCode", "ReferenceID"), ("ErrorMessage", "ThisDN", "ConnID", "Extensions")
    ),
    "EventACK": _shape(("ReferenceID",), ("ThisDN", "ConnID", "Extensions")),
    "EventPrivateInfo": _shape(
        ("PrivateMsgID", "ThisDN"), ("ReferenceID", "ConnID", "OtherDN", "Extensions")
    ),
    "EventAnswerAccessNumber": _shape(
        ("AccessNumber", "ThisDN", "ReferenceID"), ("ConnID", "Extensions")
    ),
    "EventReqGetAccessNumberCanceled": _shape(("ReferenceID", "XReferenceID"), ()),
    "EventRemoteConnectionSuccess": _shape(("ConnID", "ThisDN", "ReferenceID"), ()),
    "EventRemoteConnectionFailed": _shape(("ConnID", "ThisDN", "ReferenceID"), ()),
    # agents and supervision (docs/agents.md, docs/supervision.md)
    "EventAgentReserved": _shape(("ReferenceID",), ("ThisDN", "AgentID", "Place", "Extensions")),
    **{
        name: _shape(("ThisDN", "OtherDN"), ("ReferenceID", "MonitorNextCallType", "Extensions"))
        for name in ("EventMonitoringNextCall", "EventMonitoringCancelled")
    },
    **{
        name: _shape(("ThisDN", "ConnID", "CallID"), ("ReferenceID", "Extensions"))
        for name in ("EventMuteOn", "EventMuteOff")
    },
    **{
        name: _shape(("ThisDN", "OtherDN", "ConnID", "CallID"), ("ReferenceID", "Extensions"))
        for name in ("EventListenDisconnected", "EventListenReconnected")
    },
    # queries about the server and the sites (docs/protocol.md, Queries)
    "EventLocationInfo": _shape(
        ("LocationInfoType",), ("ReferenceID", "Location", "LocationInfo", "Extensions")
    ),
    "EventSwitchInfo": _shape(
        ("ReferenceID", "SwitchInfoType", "TimeinSecs", "TimeinuSecs"), ("Extensions",)
    ),
    "EventRegisteredAll": _shape(("ReferenceID",), ("Extensions",)),
    "EventUnregisteredAll": _shape(("ReferenceID",), ("Extensions",)),
    # --- calls: DTMF, treatments, user events, DN features (GenEM tables) ---------------
    "EventDTMFSent": _shape(
        ("ThisDN", "ConnID", "CallID"),
        ("ReferenceID", "ANI", "DNIS", "UserData", "Extensions"),
    ),
    "EventTreatmentApplied": _shape(
        (*_TREATED, "ThisDNRole", "Extensions"), ("ReferenceID", "TreatmentParms", "UserData")
    ),
    "EventTreatmentEnd": _shape(
        _TREATED,
        (
            "ReferenceID",
            "TreatmentParms",
            "UserData",
            "CollectedDigits",
            "LastCollectedDigit",
            "Extensions",
        ),
    ),
    "EventDigitsCollected": _shape(
        ("ThisDN", "ThisDNRole", "ConnID", "CallID", "CallType", "CallState", "CollectedDigits"),
        ("ReferenceID", "LastCollectedDigit", "OtherDN", "OtherDNRole", "UserData", "Extensions"),
    ),
    "EventUserEvent": _shape(("ThisDN", "UserData"), ("ConnID", "OtherDN", "Extensions")),
    **{
        name: _shape(("ThisDN",), ("ReferenceID", "Extensions"))
        for name in (
            "EventDNDOn",
            "EventDNDOff",
            "EventMessageWaitingOn",
            "EventMessageWaitingOff",
            "EventDNOutOfService",
            "EventDNBackInService",
        )
    },
    "EventForwardSet": _shape(("ThisDN", "ForwardMode", "OtherDN"), ("ReferenceID", "Extensions")),
    "EventForwardCancel": _shape(("ThisDN", "ForwardMode"), ("ReferenceID", "Extensions")),
    "EventTreatmentNotApplied": _shape(
        (*_TREATED, "ErrorCode"),
        ("ReferenceID", "ErrorMessage", "TreatmentParms", "UserData", "Extensions"),
    ),
    # --- call-based events (RequestStartCallMonitoring; GenEM, T-Library Call-Based
    # Events): about a call and its parties, with no ThisDN -----------------------------
    "EventCallCreated": _shape(
        ("CallUUID", "ConnID"),
        ("ReferenceID", *_CALL_DATA, "OrigCallUUID"),
    ),
    "EventCallDataChanged": _shape(("CallUUID", "ConnID"), ("ReferenceID", *_CALL_DATA)),
    "EventCallDeleted": _shape(("CallUUID", "ConnID"), ("CtrlParty", "RefCallUUID")),
    "EventCallPartyAdded": _shape(_CALL_PARTY, ("ReferenceID", "CtrlParty")),
    "EventCallPartyState": _shape(_CALL_PARTY, ()),
    "EventCallPartyMoved": _shape((*_CALL_PARTY, "NewCallUUID", "NewConnID"), ()),
    "EventCallPartyDeleted": _shape(_CALL_PARTY[:4], ("PartyState", "CtrlParty")),
}


def problems(event: TMessage) -> list[str]:
    """What is wrong with *event* against the table (nothing: an empty list)."""
    name = event.get("Event")
    shape = EVENTS.get(str(name))
    if shape is None:
        return [f"{name} is not an event of the table"]
    found = set(event)
    missing = sorted((STAMPS | shape.mandatory) - found)
    unknown = sorted(found - shape.allowed)
    return [f"{name} lacks {a}" for a in missing] + [f"{name} has {a}" for a in unknown]
