"""T-Library events built from model changes and server facts.

Enumerated attributes hold the enumeration's member, which is the string the wire
carries (the T-Library enumerations are StrEnums): it encodes as that string.

Each function returns an event's attributes without the envelope stamps (Server, time,
EventSequenceNumber, ReferenceID), which the core adds when it sends the event.  The
attributes are those docs/protocol.md § 5 lists.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any, Final

from ctiserver.ids import AgentId, ConnId, DeviceId
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    CallDiverted,
    CallQueued,
    DestinationBusy,
    NetworkReached,
    PartyAbandoned,
    PartyAdded,
    PartyChange,
    PartyChanged,
    PartyDeleted,
    PartyDialed,
    PartyEstablished,
    PartyHeld,
    PartyRang,
    PartyReleased,
    PartyRetrieved,
    Releasing,
    RouteRequested,
    RouteUsed,
)
from ctiserver.model.states import PartyState
from ctiserver.model.values import Agent, Call, ConsultPurpose, Party
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import (
    AddressInfoType,
    CallState,
    DNRole,
    KVList,
    ServerRole,
    TMessage,
)

HOST_DN, GUEST_DN = "HOST_DN", "GUEST_DN"  # hot desking, in Extensions
REASON_CODE, WRAP_UP_TIME, UNTIMED = "ReasonCode", "WrapUpTime", "untimed"  # agents, Extensions

EVENT_NAMES: Mapping[type[PartyChange], str] = {
    PartyDialed: "EventDialing",
    PartyRang: "EventRinging",
    PartyEstablished: "EventEstablished",
    PartyReleased: "EventReleased",
    PartyAbandoned: "EventAbandoned",
    DestinationBusy: "EventDestinationBusy",
    PartyHeld: "EventHeld",
    PartyRetrieved: "EventRetrieved",
    PartyChanged: "EventPartyChanged",
    PartyAdded: "EventPartyAdded",
    PartyDeleted: "EventPartyDeleted",
    CallQueued: "EventQueued",
    CallDiverted: "EventDiverted",
    RouteRequested: "EventRouteRequest",
    RouteUsed: "EventRouteUsed",
    NetworkReached: "EventNetworkReached",
}
# Events that carry the caller's number and the number dialled.
_WITH_ANI = {PartyRang, CallQueued, RouteRequested}
_RELEASED = {PartyReleased, PartyAbandoned}
# Events at a queue or routing point: the trunk the call came on is ThisTrunk there.
_AT_A_QUEUE = {CallQueued, CallDiverted, RouteRequested, RouteUsed}
# ReleasingParty (Extensions of EventReleased and EventAbandoned), and the CallStates
# that say the party released the call itself (it transferred, conferenced, redirected, or
# its forwarding sent the call on).
RELEASING_PARTY = "ReleasingParty"
RELEASING: Mapping[Releasing, str] = {
    Releasing.LOCAL: "1 Local",
    Releasing.REMOTE: "2 Remote",
    Releasing.UNKNOWN: "3 Unknown",
}
_MOVED_ON = (
    CallState.TRANSFERRED,
    CallState.CONFERENCED,
    CallState.REDIRECTED,
    CallState.FORWARDED,
)

AGENT_EVENT_NAMES: Mapping[AgentEvent, str] = {
    AgentEvent.LOGGED_IN: "EventAgentLogin",
    AgentEvent.LOGGED_OUT: "EventAgentLogout",
    AgentEvent.READY: "EventAgentReady",
    AgentEvent.NOT_READY: "EventAgentNotReady",
}


def event_for(change: PartyChange, call: Call) -> TMessage:
    """The T-Library event that tells `change.party.dn`'s registrants of *change*, about
    *call* as it is now (the requester or ISCC may have given it data since)."""
    event = call_event(EVENT_NAMES[type(change)], call, change.party)
    event["CallState"] = change.call_state
    other = change.other_dn or change.party.other_dn
    if other is not None:
        event["OtherDN"] = other
        event["OtherDNRole"] = change.other_role or _other_role(change.party)
    if change.third_party_dn is not None:
        event["ThirdPartyDN"] = change.third_party_dn
        if change.third_party_role is not None:
            event["ThirdPartyDNRole"] = change.third_party_role
    if change.previous_conn_id is not None:
        event["PreviousConnID"] = change.previous_conn_id
    if change.agent_id is not None:
        event["AgentID"] = change.agent_id
    if type(change) in _WITH_ANI:
        _add_ani_dnis(event, call)
    if call.trunk:
        _add_trunk(event, change, call)
    if type(change) in _RELEASED and isinstance(change, PartyReleased | PartyAbandoned):
        releasing = Releasing.LOCAL if change.call_state in _MOVED_ON else change.releasing
        event["Extensions"] = {RELEASING_PARTY: RELEASING[releasing]}
    return event


def _add_trunk(event: TMessage, change: PartyChange, call: Call) -> None:
    """ThisTrunk at a queue or routing point; elsewhere OtherTrunk when OtherDN is the
    party across the trunk (the caller of a call that came in on it, the number dialled
    by one that went out on it), and on EventNetworkReached (the trunk it went out on)."""
    if type(change) in _AT_A_QUEUE:
        event["ThisTrunk"] = call.trunk
        return
    far = call.calling if call.from_network else call.called
    if type(change) is NetworkReached or event.get("OtherDN") == far:
        event["OtherTrunk"] = call.trunk


@functools.lru_cache(maxsize=1 << 16)
def call_uuid(server: str, conn_id: str) -> str:
    """The call's CallUUID (the Events and Models Reference's call attribute): a UUID
    made from the server's name and the ConnID, 32 hexadecimal digits, so that both
    members of a hot-standby pair (one name) give a call the same one."""
    # uuid.uuid5's value, made without building UUID objects (a quarter of the time)
    digest = bytearray(
        hashlib.sha1(_URL_NAMESPACE + f"ctiserver:{server}:{conn_id}".encode()).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return digest[:16].hex().upper()


_URL_NAMESPACE: Final = uuid.NAMESPACE_URL.bytes


def call_event(name: str, call: Call, party: Party) -> TMessage:
    """What every call event carries, from the point of view of *party*."""
    event: TMessage = {
        "Event": name,
        "ThisDN": party.dn,
        "ThisDNRole": party.role,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type,
    }
    if party.this_queue is not None:
        event["ThisQueue"] = party.this_queue
    if call.previous_conn_id is not None:
        event["PreviousConnID"] = call.previous_conn_id
        if call.calling == party.dn and call.purpose is ConsultPurpose.TRANSFER:
            event["TransferConnID"] = call.previous_conn_id
        elif call.calling == party.dn and call.purpose is ConsultPurpose.CONFERENCE:
            event["ConferenceConnID"] = call.previous_conn_id
    event["UserData"] = call.user_data  # never changed in place (model.values)
    if call.network_call_id:
        event["NetworkCallID"] = call.network_call_id
    if call.origin is not None:  # the call came from another site (ISCC): CallHistory
        origin = call.origin
        event["LastTransferConnID"] = origin.conn_id
        event["LastTransferHomeLocation"] = origin.location
        event["LastTransferOrigDN"] = origin.dn
        location, conn_id, dn = origin.first
        event["FirstTransferConnID"] = conn_id
        event["FirstTransferHomeLocation"] = location
        event["FirstTransferOrigDN"] = dn
    return event


def _other_role(party: Party) -> DNRole:
    if party.role is DNRole.ORIGINATION:
        return DNRole.DESTINATION
    return DNRole.ORIGINATION


def _add_ani_dnis(event: TMessage, call: Call) -> None:
    if call.ani is not None:
        event["ANI"] = call.ani
    if call.dnis is not None:
        event["DNIS"] = call.dnis


def agent_event(change: AgentChanged) -> TMessage:
    """The agent event of *change*: the request's Reasons echoed, and in Extensions the
    ReasonCode and, for an emulated after-call work, its WrapUpTime."""
    agent = change.agent
    event: TMessage = {
        "Event": AGENT_EVENT_NAMES[change.what],
        "ThisDN": change.dn,
        "AgentID": agent.agent_id,
        "AgentWorkMode": agent.work_mode,
    }
    if agent.queue is not None:
        event["ThisQueue"] = agent.queue
    extensions = agent_extensions(agent)
    if extensions or change.what is AgentEvent.LOGGED_IN:
        event["Extensions"] = extensions
    if agent.reasons:
        event["Reasons"] = agent.reasons
    return event


def agent_extensions(agent: Agent) -> KVList:
    """ReasonCode (the hardware reason, genesys-tlib.md § 1.6) and WrapUpTime."""
    extensions: KVList = {}
    if agent.reason_code:
        extensions[REASON_CODE] = agent.reason_code
    if agent.after_call_work:
        extensions[WRAP_UP_TIME] = wrap_up_value(agent.after_call_work)
    return extensions


def wrap_up_value(wrap_up: str) -> str | int:
    """WrapUpTime as Extensions carry it: seconds, or the string "untimed"."""
    return wrap_up if wrap_up == UNTIMED else int(wrap_up)


def user_data_event(
    call: Call, dn: DeviceId, changed_by: DeviceId, party: Party | None
) -> TMessage:
    """EventAttachedDataChanged for *dn*'s registrants: the whole current UserData."""
    event: TMessage = {
        "Event": "EventAttachedDataChanged",
        "ThisDN": dn,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type,
        "ThirdPartyDN": changed_by,
        "UserData": call.user_data,
    }
    if party is not None:
        event["ThisDNRole"] = party.role
    return event


def error_event(reference_id: int, code: int, message: str, *, dn: DeviceId | None) -> TMessage:
    event: TMessage = {
        "Event": "EventError",
        "ReferenceID": reference_id,
        "ErrorCode": code,
        "ErrorMessage": message,
    }
    if dn is not None:
        event["ThisDN"] = dn
    return event


def ack_event(dn: DeviceId | None, conn_id: ConnId | None = None) -> TMessage:
    """EventACK: the request was done and no other event says so."""
    event: TMessage = {"Event": "EventACK"}
    if dn is not None:
        event["ThisDN"] = dn
    if conn_id is not None:
        event["ConnID"] = conn_id
    return event


def private_info(number: int, dn: DeviceId, **attributes: Any) -> TMessage:
    """EventPrivateInfo *number* (a private service's result or report) for *dn*."""
    event: TMessage = {"Event": "EventPrivateInfo", "PrivateMsgID": number, "ThisDN": dn}
    event.update(attributes)  # type: ignore[typeddict-item]
    return event


def private_answer(number: int) -> str:
    """The correlation name of EventPrivateInfo *number* (the event name is shared)."""
    return f"EventPrivateInfo:{int(number)}"


# The roles of OtherDN and ThirdPartyDN in a party event told from another site.
_REMOTE_ROLES: Mapping[str, tuple[DNRole | None, DNRole]] = {
    "EventPartyAdded": (DNRole.NEW_PARTY, DNRole.ADDED_BY),
    "EventPartyDeleted": (DNRole.DELETED_PARTY, DNRole.DELETED_BY),
    "EventPartyChanged": (None, DNRole.TRANSFERRED_BY),
}
REMOTE_PARTY_EVENTS = frozenset(_REMOTE_ROLES)


def remote_party_event(
    name: str,
    call: Call,
    party: Party,
    *,
    location: str,
    far_conn_id: str,
    far_dn: str,
    other_dn: str,
    by: str,
    call_state: str,
) -> TMessage:
    """A party event of this call's instance at *location*, for *party*'s registrants
    here (event propagation): RemoteLocation, RemoteConnID and RemoteDN say where."""
    event = call_event(name, call, party)
    other_role, by_role = _REMOTE_ROLES[name]
    if other_dn:
        event["OtherDN"] = DeviceId(other_dn)
        if other_role is not None:
            event["OtherDNRole"] = other_role
    if by:
        event["ThirdPartyDN"] = DeviceId(by)
        event["ThirdPartyDNRole"] = by_role
    if call_state:
        event["CallState"] = CallState(call_state)
    event["RemoteLocation"] = location
    event["RemoteConnID"] = far_conn_id
    event["RemoteDN"] = far_dn
    return event


# --- call-based events (RequestStartCallMonitoring; docs/protocol.md, Call monitoring) --------

# A party's state as the call-based events name it: the Generic Telephony States of the
# Genesys unified call-party states (genesys-tlib.md § 1.3, PartyState), Dialing (the
# state modifier) for a caller not answered yet.
PARTY_STATES: Mapping[PartyState, str] = {
    PartyState.INITIATED: "Initiated",
    PartyState.DIALING: "Dialing",
    PartyState.RINGING: "Alerting",
    PartyState.QUEUED: "Queued",
    PartyState.ESTABLISHED: "Connected",
    PartyState.HELD: "Held",
    PartyState.FAILED: "Failed",
}


@functools.lru_cache(maxsize=1 << 16)
def party_uuid(server: str, conn_id: str, dn: str) -> str:
    """The PartyUUID of *dn*'s part in call *conn_id*, made as CallUUID is: both members
    of a pair give it the same.  A party moved to another call has a new one there."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ctiserver:{server}:{conn_id}:{dn}").hex.upper()


def call_data(name: str, server: str, call: Call) -> TMessage:
    """EventCallCreated or EventCallDataChanged: the call's attributes as they are."""
    event: TMessage = {
        "Event": name,
        "CallUUID": call_uuid(server, call.conn_id),
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type,
    }
    _add_ani_dnis(event, call)
    event["UserData"] = call.user_data
    if call.network_call_id:
        event["NetworkCallID"] = call.network_call_id
    if name == "EventCallCreated" and call.previous_conn_id is not None:
        event["OrigCallUUID"] = call_uuid(server, call.previous_conn_id)
    return event


def call_deleted(server: str, conn_id: ConnId, ctrl: str | None, into: ConnId | None) -> TMessage:
    """EventCallDeleted: CtrlParty released it; RefCallUUID is the call it merged into."""
    event: TMessage = {
        "Event": "EventCallDeleted",
        "CallUUID": call_uuid(server, conn_id),
        "ConnID": conn_id,
    }
    if ctrl is not None:
        event["CtrlParty"] = ctrl
    if into is not None:
        event["RefCallUUID"] = call_uuid(server, into)
    return event


def call_party(
    name: str, server: str, conn_id: ConnId, dn: DeviceId, state: str | None
) -> TMessage:
    """EventCallPartyAdded, -State, -Moved or -Deleted about *dn*'s part in the call."""
    event: TMessage = {
        "Event": name,
        "CallUUID": call_uuid(server, conn_id),
        "ConnID": conn_id,
        "PartyUUID": party_uuid(server, conn_id, dn),
        "DN": dn,
    }
    if state is not None:
        event["PartyState"] = state
    return event


# --- server, registration and ISCC events ----------------------------------------------------


def link_event(up: bool) -> TMessage:
    """EventLinkConnected or EventLinkDisconnected: the link to the switch."""
    return {"Event": "EventLinkConnected" if up else "EventLinkDisconnected"}


def server_info(version: str, role: ServerRole) -> TMessage:
    return {"Event": "EventServerInfo", "ServerVersion": version, "ServerRole": role}


def registered(dn: DeviceId, kind: str, extensions: KVList, agent: AgentId | None) -> TMessage:
    """EventRegistered: exactly the attributes of the Genesys Registration Events table."""
    event: TMessage = {
        "Event": "EventRegistered",
        "ThisDN": dn,
        "InfoType": AddressInfoType.ADDRESS_TYPE,
        "InfoStatus": kind,
        "Extensions": extensions,
    }
    if agent is not None:
        event["AgentID"] = agent
    return event


def unregistered(dn: DeviceId, *, removed: bool = False) -> TMessage:
    """EventUnregistered; for a DN that left the configuration, the error that says so."""
    event: TMessage = {"Event": "EventUnregistered", "ThisDN": dn}
    if removed:
        event["ErrorCode"] = TError.NOT_CONFIGURED.value
        event["ErrorMessage"] = f"DN {dn} was removed from the configuration"
    return event


def address_info(
    dn: DeviceId, info_type: AddressInfoType, status: str, extensions: KVList
) -> TMessage:
    return {
        "Event": "EventAddressInfo",
        "ThisDN": dn,
        "InfoType": info_type,
        "InfoStatus": status,
        "Extensions": extensions,
    }


def access_number(number: str, dn: DeviceId, conn_id: str | None) -> TMessage:
    """EventAnswerAccessNumber: the number that reaches the destination (ISCC)."""
    event: TMessage = {"Event": "EventAnswerAccessNumber", "AccessNumber": number, "ThisDN": dn}
    if conn_id:
        event["ConnID"] = conn_id
    return event


def access_number_cancelled(reference_id: int) -> TMessage:
    return {"Event": "EventReqGetAccessNumberCanceled", "XReferenceID": reference_id}


def remote_connection(success: bool, dn: DeviceId, conn_id: ConnId) -> TMessage:
    """EventRemoteConnectionSuccess or Failed: the call reached the other site, or not."""
    name = "EventRemoteConnectionSuccess" if success else "EventRemoteConnectionFailed"
    return {"Event": name, "ThisDN": dn, "ConnID": conn_id}
