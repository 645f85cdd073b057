"""T-Library events built from model changes and server facts.

One function per kind of event; each returns the event's attributes without the
envelope stamps (Server, time, EventSequenceNumber, ReferenceID), which the core adds
when it sends the event.  The attributes are those of reference/call-models.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ctiserver.ids import DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    DestinationBusy,
    PartyAbandoned,
    PartyChange,
    PartyDialed,
    PartyEstablished,
    PartyRang,
    PartyReleased,
)
from ctiserver.tlib.vocabulary import CallState, DNRole, TMessage

EVENT_NAMES: Mapping[type[PartyChange], str] = {
    PartyDialed: "EventDialing",
    PartyRang: "EventRinging",
    PartyEstablished: "EventEstablished",
    PartyReleased: "EventReleased",
    PartyAbandoned: "EventAbandoned",
    DestinationBusy: "EventDestinationBusy",
}


def call_event(
    name: str, call: Call, party: Party, *, call_state: CallState = CallState.OK
) -> TMessage:
    """The attributes every call event carries, from the point of view of *party*."""
    event: TMessage = {
        "Event": name,
        "ThisDN": party.dn,
        "ThisDNRole": party.role.value,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type.value,
        "CallState": call_state.value,
    }
    if party.other_dn is not None:
        event["OtherDN"] = party.other_dn
        event["OtherDNRole"] = _other_role(party).value
    if party.this_queue is not None:
        event["ThisQueue"] = party.this_queue
    if call.previous_conn_id is not None:
        event["PreviousConnID"] = call.previous_conn_id
    event["UserData"] = dict(call.user_data)
    return event


def _other_role(party: Party) -> DNRole:
    if party.role is DNRole.ORIGINATION:
        return DNRole.DESTINATION
    return DNRole.ORIGINATION


def _ringing(change: PartyChange) -> TMessage:
    event = call_event("EventRinging", change.call, change.party)
    _add_ani_dnis(event, change.call)
    return event


def _add_ani_dnis(event: TMessage, call: Call) -> None:
    if call.ani is not None:
        event["ANI"] = call.ani
    if call.dnis is not None:
        event["DNIS"] = call.dnis


def _with_call_state(name: str) -> Callable[[PartyChange], TMessage]:
    def build(change: PartyChange) -> TMessage:
        state = getattr(change, "call_state", CallState.OK)
        return call_event(name, change.call, change.party, call_state=state)

    return build


_BUILDERS: Mapping[type[PartyChange], Callable[[PartyChange], TMessage]] = {
    PartyDialed: _with_call_state("EventDialing"),
    PartyRang: _ringing,
    PartyEstablished: _with_call_state("EventEstablished"),
    PartyReleased: _with_call_state("EventReleased"),
    PartyAbandoned: _with_call_state("EventAbandoned"),
    DestinationBusy: _with_call_state("EventDestinationBusy"),
}


def event_for(change: PartyChange) -> TMessage:
    """The T-Library event that tells `change.party.dn`'s registrants of *change*."""
    return _BUILDERS[type(change)](change)


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
