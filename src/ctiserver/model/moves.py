"""The moves the model's handlers share: finding or creating a call, learning about it,
placing a party in it, taking one out, and forgetting a call none of our DNs is in.

Each move reads the state and either returns a new value for the caller to complete
and emit, or emits the records of what it changed itself (say which in its docstring).
A move that changes nothing returns the very value it was given, so that `is` tells
whether there is anything to emit.

Rules (the model's, which the handlers follow):
1. A switch copies an event about a call to the monitor of every device in the call.
   Only the copy on a DN's *own* monitor changes that DN's party state and produces a
   change for it; the other copies only teach the model about devices that are not ours.
2. A call is keyed by ConnID.  The switch's callID indexes it until the call ends, after
   which a callID the switch reuses names a new call with a new ConnID.
3. A call is forgotten when the last of our DNs leaves it, unless it is on its way to
   one of them; a call that never had one of our DNs in it is never kept.
"""

from __future__ import annotations

import logging

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.types import PrivateData
from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    CallChanged,
    CallCreated,
    CallForgotten,
    NetworkCallIdLearned,
    PartyAbandoned,
    PartyChange,
    PartyMoved,
    PartyNoted,
    PartyReleased,
    PartyRemoved,
    Releasing,
)
from ctiserver.model.state import State
from ctiserver.model.states import PartyState, is_legal
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import CallType, DNRole

log = logging.getLogger(__name__)


# --- calls ---------------------------------------------------------------------------------


def call_for(
    state: State, call_id: CallId, *, calling: DeviceId | None, called: DeviceId | None = None
) -> Call:
    """The call the switch names *call_id*; created (with a new ConnID, emitting
    CallCreated) if unknown, with the caller and number dialled given."""
    call = state.call_by_call_id(call_id)
    if call is not None:
        return call
    conn_id = state.promised(calling) or state.conn_ids.allocate()
    call = Call(conn_id=conn_id, call_id=call_id, calling=calling, called=called)
    call = typed(state, call)
    state.emit(CallCreated(call=call))
    state.created(call.conn_id)
    return call


def commit(state: State, before: Call, after: Call) -> Call:
    """Emit *after* if it is a new value of *before*; returns *after*."""
    if after is before:
        return after
    if after.network_call_id != before.network_call_id:
        state.emit(NetworkCallIdLearned(call=after))
    else:
        state.emit(CallChanged(call=after))
    return after


def typed(state: State, call: Call) -> Call:
    """*call* with its CallType as its ends now say."""
    call_type = call_type_of(state, call)
    return call if call_type is call.call_type else replace(call, call_type=call_type)


def call_type_of(state: State, call: Call) -> CallType:
    if call.previous_conn_id is not None:
        return CallType.CONSULT
    if call.from_network:  # ECMA-269: networkCallingDevice is given for calls from a network
        return CallType.INBOUND
    if call.calling is not None and not state.is_ours(call.calling):
        return CallType.INBOUND
    if call.called is not None and not state.is_ours(call.called):
        return CallType.OUTBOUND
    return CallType.INTERNAL


def described(call: Call, calling: DeviceId | None, called: DeviceId | None) -> Call:
    """*call* with who calls and the number dialled, where not known yet."""
    new_calling = call.calling or calling
    new_called = call.called or called
    if new_calling == call.calling and new_called == call.called:
        return call
    return replace(call, calling=new_calling, called=new_called)


def learn_network(call: Call, private: PrivateData | None) -> Call:
    """*call* with the UUI and network call id from an event's private data."""
    if private is None:
        return call
    for element in private.elements:
        if element.name == "uui" and element.text and element.text != call.uui:
            call = replace(call, uui=element.text)
        elif (
            element.name == "networkCallID"
            and element.text
            and element.text != call.network_call_id
        ):
            call = replace(call, network_call_id=element.text)
    return call


def expect(state: State, call: Call, destination: DeviceId | None) -> Call:
    """*call* was sent on to *destination*; if that is ours, the call stays known
    meanwhile (rule 3).  Emits the change."""
    if destination is None or not state.is_ours(destination) or destination in call.expected:
        return call
    return commit(state, call, replace(call, expected=call.expected | {destination}))


def arrived(state: State, call: Call, device: DeviceId) -> Call:
    """*device* is in the call now: it is no longer awaited.  Emits the change."""
    if device not in call.expected:
        return call
    return commit(state, call, replace(call, expected=call.expected - {device}))


def forget_if_unused(state: State, conn_id: ConnId) -> None:
    """Rule 3: emit CallForgotten when none of our DNs is in the call and none awaits it."""
    call = state.call(conn_id)
    if call is not None and not call.expected and not state.has_ours(conn_id):
        state.emit(CallForgotten(conn_id=conn_id))


# --- parties -------------------------------------------------------------------------------


def touch(
    state: State, call: Call, device: DeviceId, dn: DeviceId, now: PartyState, role: DNRole
) -> Party:
    """*device*'s party in *call*, in state *now* as reported on *dn*'s monitor (rule 1):
    a new party if it has none; not emitted (the caller completes and emits it).  A
    device the call was on its way to is no longer awaited (that is emitted)."""
    arrived(state, call, device)
    party = state.party(device, call.conn_id)
    if party is None:
        return Party(dn=device, state=now, role=role)
    if device == dn or not state.is_ours(device):
        if party.state is now and party.present:
            return party
        return party.changed(state=checked(party, now), present=True)
    return party


def checked(party: Party, now: PartyState) -> PartyState:
    """*now*, logging a move the party-state table says is impossible (the switch is
    trusted: it reports the state)."""
    if not is_legal(party.state, now):
        log.info("switch reported %s going %s -> %s", party.dn, party.state.value, now.value)
    return now


def note(state: State, call: Call, party: Party, before: Party | None) -> None:
    """Emit PartyNoted for *party* if it is new or changed."""
    if party is not before:
        state.emit(PartyNoted(call=call, party=party))


def move(state: State, party: Party, source: Call, target: Call) -> None:
    """A transfer or conference moved *party*'s connection from *source* to *target*."""
    state.emit(PartyMoved(call=target, party=party, source=source.conn_id))
    forget_if_unused(state, source.conn_id)


def leave(state: State, change: PartyChange) -> None:
    """Emit *change* (a record that takes its party out), then forget the call if unused."""
    state.emit(change)
    forget_if_unused(state, change.call.conn_id)


def remove(state: State, call: Call, party: Party) -> None:
    """*party* left *call* without an event for anyone."""
    leave(state, PartyRemoved(call=call, party=party))


def ended(state: State, call: Call, party: Party, cause: EventCause | None) -> PartyChange:
    """How a party's leaving looks to its DN: abandoned if it was only offered the call;
    and who released it (releasing())."""
    others = state.others(call.conn_id, party.dn)
    releasing = releasing_party(call, party, others)
    offered = party.state in (PartyState.RINGING, PartyState.QUEUED)
    if offered and (cause is EventCause.CALL_CANCELLED or not others):
        return PartyAbandoned(call=call, party=party, releasing=releasing)
    return PartyReleased(call=call, party=party, releasing=releasing)


def releasing_party(call: Call, party: Party, others: list[Party]) -> Releasing:
    """Who released the call, seen by *party* leaving it.  ECMA-269's ConnectionCleared
    names the connection that went, not who hung up; but a party that goes while others
    stay left by itself, and one that goes last was left by the one before it
    (Call.released_by), if any.  A party dropped from a conference on a client's request
    (RequestDeleteFromConference) was released by the DN that asked, and a call cleared
    whole on one (RequestClearCall) by the DN that asked."""
    deciding = call.deleted_by.get(party.dn) or call.cleared_by  # DeleteFromConference, ClearCall
    if deciding is not None:
        return Releasing.LOCAL if deciding == party.dn else Releasing.REMOTE
    if others or call.released_by in (None, party.dn):
        return Releasing.LOCAL
    return Releasing.REMOTE
