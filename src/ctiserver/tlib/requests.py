"""Which attributes each T-Library request takes, and how an attribute is checked.

The tables are the contract of docs/protocol.md: a request may carry its required and
optional attributes plus ReferenceID, Extensions and Reasons, and nothing else.  check()
turns a decoded JSON object into a valid TMessage or says precisely what is wrong.

Strings that may cross to the switch (DNs, AgentID, Password, the top-level values of
Extensions, such as a hot desk's host or an account code, …) are checked here for their
length and for control characters, which XML 1.0 cannot carry (§ 2.2): a bad one is an
EventError, never a malformed CSTA document or a dropped link.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, cast

from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import BINARY_KEY, ENUMERATIONS, TMessage

MAX_KV_DEPTH = 8
_INT64 = range(-(2**63), 2**63)
MAX_DN_LENGTH = 128
MAX_STRING_LENGTH = 256
DN_ATTRIBUTES = frozenset({"ThisDN", "OtherDN", "ThirdPartyDN", "ThisQueue", "AccessNumber"})
# C0 and C1 controls, DEL, surrogates, and the two noncharacters XML 1.0 excludes
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

STRING_ATTRIBUTES = frozenset(
    {
        "ThisDN",
        "OtherDN",
        "ThirdPartyDN",
        "ThisQueue",
        "ConnID",
        "TransferConnID",
        "ConferenceConnID",
        "AgentID",
        "Password",
        "Key",
        "Location",
        "ApplicationName",
        "ApplicationPassword",
        "CustomerID",
        "AccessNumber",
        "ClientSessionID",
        "Place",
        "DTMFDigits",
        "MusicPath",
        "TerminateDigits",
    }
)
INTEGER_ATTRIBUTES = frozenset(
    {
        "ReferenceID",
        "PrivateMsgID",
        "XReferenceID",
        "LastEventSequenceNumber",
        "NumberOfDigits",
    }
)
# Timeout: 0 and below mean something to RequestReserveAgent; a treatment's is above 0
SIGNED_INTEGER_ATTRIBUTES = frozenset({"Timeout", "Priority", "AgentIdleReason"})
KV_ATTRIBUTES = frozenset({"UserData", "Extensions", "Reasons", "TreatmentParms"})
COMMON_ATTRIBUTES = frozenset({"Request", "ReferenceID", "Extensions", "Reasons"})


@dataclass(frozen=True, slots=True)
class RequestSpec:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # required, except that a request naming a Location may leave it to the other site
    # (its default-dn, or where a pullback returns the call)
    here_required: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        return COMMON_ATTRIBUTES | set(self.required) | set(self.optional) | set(self.here_required)

    def missing_here(self, message: TMessage) -> str | None:
        """The first attribute a request served at this site needs and lacks."""
        return next((a for a in self.here_required if a not in message), None)


_CALL = ("ThisDN", "ConnID")
_ISCC = ("UserData", "Location", "XRouteType")


def _to_other_dn(*required: str, optional: tuple[str, ...] = ()) -> RequestSpec:
    """A request that moves a call to OtherDN, here or at another site (ISCC)."""
    return RequestSpec(required, (*optional, *_ISCC), here_required=("OtherDN",))


REQUESTS: dict[str, RequestSpec] = {
    "RequestRegisterClient": RequestSpec(
        ("ApplicationName",),
        ("ApplicationPassword", "ClientSessionID", "LastEventSequenceNumber"),
    ),
    "RequestQueryServer": RequestSpec(),
    "RequestRegisterAddress": RequestSpec(
        ("ThisDN",), ("RegisterMode", "ControlMode", "AddressType")
    ),
    "RequestUnregisterAddress": RequestSpec(("ThisDN",), ("ControlMode",)),
    "RequestQueryAddress": RequestSpec(("ThisDN",), ("InfoType", "AddressType", "ThisQueue")),
    "RequestMakeCall": _to_other_dn("ThisDN", optional=("MakeCallType",)),
    "RequestMakePredictiveCall": RequestSpec(("ThisDN", "OtherDN"), ("Timeout", "UserData")),
    "RequestAnswerCall": RequestSpec(_CALL),
    "RequestReleaseCall": RequestSpec(_CALL),
    "RequestClearCall": RequestSpec(_CALL),
    "RequestHoldCall": RequestSpec(_CALL),
    "RequestRetrieveCall": RequestSpec(_CALL),
    "RequestInitiateTransfer": _to_other_dn(*_CALL),
    "RequestCompleteTransfer": RequestSpec((*_CALL, "TransferConnID")),
    "RequestMuteTransfer": _to_other_dn(*_CALL),
    "RequestSingleStepTransfer": _to_other_dn(*_CALL),
    "RequestInitiateConference": _to_other_dn(*_CALL),
    "RequestCompleteConference": RequestSpec((*_CALL, "ConferenceConnID")),
    "RequestSingleStepConference": RequestSpec((*_CALL, "OtherDN"), _ISCC),
    "RequestDeleteFromConference": RequestSpec((*_CALL, "OtherDN")),
    "RequestMergeCalls": RequestSpec((*_CALL, "TransferConnID", "MergeType")),
    "RequestAlternateCall": RequestSpec((*_CALL, "TransferConnID")),
    "RequestReconnectCall": RequestSpec((*_CALL, "TransferConnID")),
    "RequestRedirectCall": RequestSpec((*_CALL, "OtherDN")),
    "RequestRouteCall": RequestSpec(_CALL, ("OtherDN", "RouteType", *_ISCC)),
    "RequestAgentLogin": RequestSpec(
        ("ThisDN",), ("ThisQueue", "AgentID", "Password", "AgentWorkMode")
    ),
    "RequestAgentLogout": RequestSpec(("ThisDN",), ("ThisQueue", "AgentID")),
    "RequestAgentReady": RequestSpec(("ThisDN",), ("ThisQueue", "AgentWorkMode")),
    "RequestAgentNotReady": RequestSpec(("ThisDN",), ("ThisQueue", "AgentWorkMode")),
    "RequestAgentSetIdleReason": RequestSpec(("ThisDN", "AgentIdleReason"), ("ThisQueue",)),
    "RequestAttachUserData": RequestSpec((*_CALL, "UserData")),
    "RequestUpdateUserData": RequestSpec((*_CALL, "UserData")),
    "RequestDeletePair": RequestSpec((*_CALL, "Key")),
    "RequestDeleteUserData": RequestSpec(_CALL),
    "RequestQueryCall": RequestSpec(_CALL, ("CallInfoType",)),
    "RequestPrivateService": RequestSpec(("ThisDN", "PrivateMsgID"), ("ConnID", "OtherDN")),
    # No Location (or this site's): this site's own access number (the Genesys rule).
    "RequestGetAccessNumber": RequestSpec(
        ("ThisDN",), ("Location", "ConnID", "OtherDN", "XRouteType", "UserData")
    ),
    "RequestCancelReqGetAccessNumber": RequestSpec(("XReferenceID",), ("ThisDN", "Location")),
}
# Agents and supervision (docs/agents.md, docs/supervision.md).
REQUESTS.update(
    {
        "RequestReserveAgent": RequestSpec(
            (), ("ThisDN", "AgentID", "Place", "Timeout", "Priority")
        ),
        "RequestMonitorNextCall": RequestSpec(("ThisDN", "OtherDN"), ("MonitorNextCallType",)),
        "RequestCancelMonitoring": RequestSpec(("ThisDN",), ("OtherDN",)),
        "RequestSetMuteOn": RequestSpec(_CALL),
        "RequestSetMuteOff": RequestSpec(_CALL),
        "RequestListenDisconnect": RequestSpec((*_CALL, "OtherDN")),
        "RequestListenReconnect": RequestSpec((*_CALL, "OtherDN")),
    }
)
# Queries about the server and the sites, and subscriptions (docs/protocol.md, Queries).
REQUESTS.update(
    {
        "RequestQueryLocation": RequestSpec((), ("Location", "LocationInfoType")),
        "RequestQuerySwitch": RequestSpec((), ("SwitchInfoType",)),
        "RequestRegisterAll": RequestSpec(),
        "RequestUnregisterAll": RequestSpec(),
        "RequestSetInputMask": RequestSpec(("InputMask",)),
        # call-based events of one call (docs/protocol.md, Call monitoring)
        "RequestStartCallMonitoring": RequestSpec(("ConnID",), ("ThisDN",)),
        "RequestStopCallMonitoring": RequestSpec(("ConnID",)),
    }
)
MAX_INPUT_MASK = 512  # event names in one InputMask


# --- calls: DTMF, treatments, user events, DN features (docs/protocol.md) -----------------

REQUESTS.update(
    {
        "RequestSendDTMF": RequestSpec((*_CALL, "DTMFDigits")),
        "RequestApplyTreatment": RequestSpec((*_CALL, "TreatmentType"), ("TreatmentParms",)),
        "RequestDistributeUserEvent": RequestSpec(("ThisDN", "UserData"), ("ConnID", "OtherDN")),
        "RequestSetDNDOn": RequestSpec(("ThisDN",)),
        "RequestSetDNDOff": RequestSpec(("ThisDN",)),
        "RequestCallForwardSet": RequestSpec(("ThisDN", "OtherDN"), ("ForwardMode",)),
        "RequestCallForwardCancel": RequestSpec(("ThisDN",), ("ForwardMode",)),
        "RequestSetMessageWaitingOn": RequestSpec(("ThisDN",)),
        "RequestSetMessageWaitingOff": RequestSpec(("ThisDN",)),
        "RequestGiveMusicTreatment": RequestSpec(_CALL, ("MusicPath", "Timeout")),
        "RequestGiveSilenceTreatment": RequestSpec(_CALL, ("Timeout",)),
        "RequestGiveRingBackTreatment": RequestSpec(_CALL, ("Timeout",)),
        "RequestCollectDigits": RequestSpec(
            _CALL, ("NumberOfDigits", "TerminateDigits", "Timeout")
        ),
    }
)


# T-Library requests a CSTA switch cannot serve: EventError 51 says why.
_IVR = "is an IVR's: a CSTA switch has no voice files or mailboxes a client opens"
_NETWORK = (
    "is a Network T-Server's (calls in a carrier's network); this server controls the "
    "calls of its CSTA switch: move a call to another site with RequestInitiateTransfer, "
    "RequestMuteTransfer or RequestSingleStepTransfer and a Location (ISCC)"
)
_NETWORK_REQUESTS = (
    "RequestNetworkConsult",
    "RequestNetworkAlternate",
    "RequestNetworkTransfer",
    "RequestNetworkMerge",
    "RequestNetworkReconnect",
    "RequestNetworkSingleStepTransfer",
    "RequestNetworkPrivateService",
)
NOT_SERVED: dict[str, str] = {
    "RequestLoginMailBox": f"RequestLoginMailBox {_IVR}",
    "RequestLogoutMailBox": f"RequestLogoutMailBox {_IVR}",
    "RequestOpenVoiceFile": f"RequestOpenVoiceFile {_IVR}; play announcements with "
    "RequestApplyTreatment (PlayAnnouncement)",
    "RequestCloseVoiceFile": f"RequestCloseVoiceFile {_IVR}",
    "RequestPlayVoiceFile": f"RequestPlayVoiceFile {_IVR}; play announcements with "
    "RequestApplyTreatment (PlayAnnouncement)",
    # between the two T-Servers of a Genesys hot-standby pair, not from clients
    "RequestSetDNInfo": "RequestSetDNInfo carries DN state between the members of a "
    "T-Server pair; this server's pair shares its state through the journal",
    "RequestLostBackupConnection": "RequestLostBackupConnection is for a T-Server pair's "
    "own use; a client of this server learns of a switchover from EventServerInfo",
    "RequestDistributeEvent": "RequestDistributeEvent has a client send events in the "
    "server's name; this server sends only the events it makes: tell other applications "
    "with RequestDistributeUserEvent (EventUserEvent)",
    "RequestSetCallInfo": "RequestSetCallInfo changes a call's attributes at the switch; "
    "no ECMA-269 service changes a call's type, ANI or DNIS: keep the call's own data "
    "in UserData (RequestUpdateUserData)",
    "RequestReserveAgentAndGetAccessNumber": "RequestReserveAgentAndGetAccessNumber is "
    "not served: reserve the agent with RequestReserveAgent, then ask the access number "
    "with RequestGetAccessNumber",
    "RequestSendReturnReceipt": f"RequestSendReturnReceipt {_NETWORK}",
    **{name: f"{name} {_NETWORK}" for name in _NETWORK_REQUESTS},
}


class InvalidRequest(Exception):
    """The request cannot be taken as it is; carries the EventError to answer with."""

    def __init__(self, code: TError, message: str, *, reference_id: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reference_id = reference_id


def check(message: Any) -> TMessage:
    """Check a decoded JSON value against the tables.  Raises InvalidRequest."""
    if not isinstance(message, dict):
        raise InvalidRequest(TError.INVALID_ATTR, "a request must be a JSON object")
    reference_id: Any = message.get("ReferenceID")
    known_reference: int = reference_id if _is_positive_int(reference_id) else 0
    name = message.get("Request")
    if not isinstance(name, str):
        raise InvalidRequest(
            TError.INVALID_ATTR,
            'a request needs "Request": "<RequestName>"',
            reference_id=known_reference,
        )
    spec = REQUESTS.get(name)
    if spec is None:
        why = NOT_SERVED.get(name, f"unknown request {name!r}")
        raise InvalidRequest(TError.UNSUP_OPER, why, reference_id=known_reference)
    try:
        _check_attributes(name, spec, message)
    except InvalidRequest as exc:
        exc.reference_id = known_reference
        raise
    return cast(TMessage, message)


def _check_attributes(name: str, spec: RequestSpec, message: dict[str, Any]) -> None:
    if "ReferenceID" not in message:
        raise InvalidRequest(TError.INVALID_ATTR, f"{name} lacks ReferenceID")
    here = () if "Location" in message else spec.here_required
    for attribute in (*spec.required, *here):
        if attribute not in message:
            raise InvalidRequest(TError.INVALID_ATTR, f"{name} lacks {attribute}")
    allowed = spec.allowed
    for attribute, value in message.items():
        if attribute not in allowed:
            raise InvalidRequest(
                TError.INVALID_ATTR, f"{name} does not take the attribute {attribute!r}"
            )
        if attribute == "InputMask":
            _check_names(attribute, value)
        elif attribute != "Request":
            _check_value(attribute, value)


def _check_value(attribute: str, value: Any) -> None:
    if attribute in STRING_ATTRIBUTES:
        if not isinstance(value, str) or not value:
            raise InvalidRequest(TError.INVALID_ATTR, f"{attribute} must be a non-empty string")
        limit = MAX_DN_LENGTH if attribute in DN_ATTRIBUTES else MAX_STRING_LENGTH
        check_switch_text(attribute, value, limit)
    elif attribute in INTEGER_ATTRIBUTES:
        if not _is_positive_int(value):
            raise InvalidRequest(TError.INVALID_ATTR, f"{attribute} must be a positive integer")
    elif attribute in SIGNED_INTEGER_ATTRIBUTES:
        if type(value) is not int or not -(2**31) <= value < 2**31:
            raise InvalidRequest(TError.INVALID_ATTR, f"{attribute} must be an integer")
    elif attribute in KV_ATTRIBUTES:
        check_kv_list(attribute, value, depth=1)
        if attribute == "Extensions":
            for key, item in value.items():
                if isinstance(item, str):
                    check_switch_text(f"Extensions.{key}", item, MAX_STRING_LENGTH)
    else:
        enumeration = ENUMERATIONS[attribute]
        if not isinstance(value, str) or value not in enumeration._value2member_map_:
            choices = ", ".join(member.value for member in enumeration)
            raise InvalidRequest(TError.INVALID_ATTR, f"{attribute} must be one of: {choices}")


def check_switch_text(where: str, value: str, limit: int) -> None:
    """A string that may reach the switch: at most *limit* characters, no controls."""
    if len(value) > limit:
        raise InvalidRequest(
            TError.INVALID_ATTR, f"{where} is {len(value)} characters long; at most {limit}"
        )
    if (found := _CONTROL.search(value)) is not None:
        raise InvalidRequest(
            TError.INVALID_ATTR,
            f"{where} contains the control character U+{ord(found.group()):04X}",
        )


def _check_names(attribute: str, value: Any) -> None:
    """A list of names (InputMask: event names)."""
    if not isinstance(value, list) or len(value) > MAX_INPUT_MASK:
        raise InvalidRequest(
            TError.INVALID_ATTR, f"{attribute} must be a list of at most {MAX_INPUT_MASK} names"
        )
    for name in value:
        if not isinstance(name, str) or not name:
            raise InvalidRequest(TError.INVALID_ATTR, f"{attribute} must hold non-empty strings")
        check_switch_text(attribute, name, MAX_STRING_LENGTH)


def _is_positive_int(value: Any) -> bool:
    return type(value) is int and 0 < value < 2**31


def check_kv_list(where: str, value: Any, *, depth: int) -> None:
    """A key-value list: an object of strings, 64-bit integers, lists and binaries."""
    if not isinstance(value, dict):
        raise InvalidRequest(TError.INVALID_ATTR, f"{where} must be a JSON object")
    if depth > MAX_KV_DEPTH:
        raise InvalidRequest(TError.INVALID_ATTR, f"{where} nests deeper than {MAX_KV_DEPTH}")
    for key, item in value.items():
        path = f"{where}.{key}"
        if type(item) is int:
            if item not in _INT64:
                raise InvalidRequest(TError.INVALID_ATTR, f"{path} is not a 64-bit integer")
        elif isinstance(item, dict) and BINARY_KEY in item:
            _check_binary(path, item)
        elif isinstance(item, dict):
            check_kv_list(path, item, depth=depth + 1)
        elif not isinstance(item, str):
            raise InvalidRequest(
                TError.INVALID_ATTR,
                f"{path} must be a string, an integer, a list or {{{BINARY_KEY!r}: base64}}",
            )


def _check_binary(path: str, item: dict[str, Any]) -> None:
    encoded = item[BINARY_KEY]
    if len(item) != 1 or not isinstance(encoded, str):
        raise InvalidRequest(TError.INVALID_ATTR, f"{path} is not a well-formed binary value")
    try:
        base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise InvalidRequest(TError.INVALID_ATTR, f"{path} is not valid base64") from None
