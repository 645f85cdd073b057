"""How the basic connection events change the model: a call being made, offered,
answered, held, retrieved, failed and cleared (ECMA-269 §§ 17.2.5-17.2.20).

Each handler takes the event as reported on the monitor of our DN `dn` and emits the
records of what changed, with an event-bearing change for `dn` alone (model.moves,
rule 1).  Conference-aware cases are here too: a party leaving a call of three or more
is EventPartyDeleted for those who stay, and a party answering a single-step conference
is EventPartyAdded for the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    HeldEvent,
    NetworkReachedEvent,
    OriginatedEvent,
    RetrievedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.types import PrivateData
from ctiserver.ids import CallId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    DestinationBusy,
    NetworkReached,
    PartyAdded,
    PartyChange,
    PartyDeleted,
    PartyDialed,
    PartyEstablished,
    PartyHeld,
    PartyNoted,
    PartyRang,
    PartyRetrieved,
)
from ctiserver.model.moves import (
    call_for,
    checked,
    commit,
    described,
    ended,
    learn_network,
    leave,
    note,
    remove,
    touch,
    typed,
)
from ctiserver.model.state import State
from ctiserver.model.states import DnKind, PartyState
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import CallState, CallType, DNRole

# How a device is added to a call by SingleStepConferenceCall (docs/pbxsim.md § 4.15).
JOINING = (EventCause.SINGLE_STEP_CONFERENCE, EventCause.SILENT_PARTICIPATION)
# ECMA-269 causes of a FailedEvent -> the CallState of EventDestinationBusy.
FAILURE_CALL_STATES: Mapping[EventCause, CallState] = {
    EventCause.BUSY: CallState.BUSY,
    EventCause.BLOCKED: CallState.BUSY,
    EventCause.DEST_NOT_OBTAINABLE: CallState.SIT_INVALIDNUM,
    EventCause.INVALID_NUMBER_FORMAT: CallState.SIT_INVALIDNUM,
    EventCause.NUMBER_UNALLOCATED: CallState.SIT_VACANT,
    EventCause.NUMBER_CHANGED: CallState.SIT_INTERCEPT,
    EventCause.TRUNKS_BUSY: CallState.ALL_TRUNKS_BUSY,
    EventCause.NETWORK_CONGESTION: CallState.SIT_NOCIRCUIT,
    EventCause.RESOURCES_NOT_AVAILABLE: CallState.SIT_NOCIRCUIT,
    EventCause.CALL_NOT_ANSWERED: CallState.NO_ANSWER,
    EventCause.REORDER_TONE: CallState.SIT_REORDER,
    EventCause.DO_NOT_DISTURB: CallState.BUSY,
}
# The causes of a call forwarded by its destination (EventRinging: CallState Forwarded).
FORWARDED: frozenset[EventCause] = frozenset(
    {
        EventCause.CALL_FORWARD,
        EventCause.CALL_FORWARD_IMMEDIATE,
        EventCause.CALL_FORWARD_BUSY,
        EventCause.CALL_FORWARD_NO_ANSWER,
    }
)


def consulting(state: State, call: Call, device: DeviceId | None) -> Call:
    """A consultation call (cause consultation) consults the call its maker holds: its
    PreviousConnID, and UserData by `consult-user-data` (the original's joins it when
    joint, which this emits)."""
    if call.previous_conn_id is not None or device is None:
        return call
    held = [c for c in state.calls_at(device) if _held_at(state, c, device)]
    if not held:
        return call
    original = held[-1]
    call = replace(call, previous_conn_id=original.conn_id, call_type=CallType.CONSULT)
    if state.consult_user_data == "inherited":
        call = replace(call, user_data=dict(original.user_data))
    elif state.consult_user_data == "joint":
        call = replace(
            call,
            user_data=original.user_data,
            shares_data_with=call.shares_data_with | {original.conn_id},
        )
        joined = replace(original, shares_data_with=original.shares_data_with | {call.conn_id})
        commit(state, original, joined)
    return call


def _held_at(state: State, call: Call, device: DeviceId) -> bool:
    party = state.party(device, call.conn_id)
    return party is not None and party.state is PartyState.HELD


def learned(
    state: State,
    call: Call,
    calling: DeviceId | None,
    called: DeviceId | None,
    private: PrivateData | None,
    network_calling: DeviceId | None = None,
    trunk: DeviceId | None = None,
) -> Call:
    """*call* with the caller, the number dialled and the network facts an event gives
    (a networkCallingDevice says it came in on a trunk, associatedCallingDevice names
    the trunk); a caller not ours is placed in the call as Dialing.  Emits what
    changed."""
    new = learn_network(described(call, calling, called), private)
    if network_calling is not None and not new.from_network:
        new = replace(new, from_network=True)
    if trunk and trunk != new.trunk:
        new = replace(new, trunk=trunk)
    if new is not call:
        new = typed(state, new)
    call = commit(state, call, new)
    unknown = calling is not None and state.party(calling, call.conn_id) is None
    if calling is not None and unknown and not state.is_ours(calling):
        caller = Party(dn=calling, state=PartyState.DIALING, role=DNRole.ORIGINATION)
        state.emit(PartyNoted(call=call, party=caller))
    return call


def on_service_initiated(state: State, dn: DeviceId, event: ServiceInitiatedEvent) -> None:
    connection = event.initiated_connection
    device = connection.device_id or dn
    call = call_for(state, connection.call_id, calling=device)
    if event.cause is EventCause.CONSULTATION:
        call = commit(state, call, consulting(state, call, device))
    before = state.party(device, call.conn_id)
    note(
        state,
        call,
        touch(state, call, device, dn, PartyState.INITIATED, DNRole.ORIGINATION),
        before,
    )


def on_originated(state: State, dn: DeviceId, event: OriginatedEvent) -> None:
    connection = event.originated_connection
    device = connection.device_id or event.calling_device or dn
    call = call_for(state, connection.call_id, calling=device, called=event.called_device)
    new = described(call, device, None)
    if event.called_device is not None and new.called != event.called_device:
        new = replace(new, called=event.called_device)
    new = learn_network(new, event.private_data)
    if event.cause is EventCause.CONSULTATION:
        new = consulting(state, new, device)
    call = commit(state, call, new if new is call else typed(state, new))
    before = state.party(device, call.conn_id)
    party = touch(state, call, device, dn, PartyState.DIALING, DNRole.ORIGINATION)
    if device != dn:
        note(state, call, party, before)
        return
    party = party.changed(other_dn=call.called)
    state.emit(PartyDialed(call=call, party=party))


def on_network_reached(state: State, dn: DeviceId, event: NetworkReachedEvent) -> None:
    """The call left this switch on a trunk (networkInterfaceUsed names it); the caller
    stays Dialing until answered, and hears EventNetworkReached."""
    call = call_for(state, event.outbound_connection.call_id, calling=event.calling_device)
    new = learn_network(described(call, None, event.called_device), event.private_data)
    trunk = event.network_interface_used
    if trunk and trunk != new.trunk:
        new = replace(new, trunk=trunk)
    call = commit(state, call, typed(state, new))
    own = state.party(dn, call.conn_id)
    if own is not None and own.present and own.state is PartyState.DIALING:
        state.emit(NetworkReached(call=call, party=own, other_dn=event.called_device))


def on_delivered(state: State, dn: DeviceId, event: DeliveredEvent) -> None:
    connection = event.connection
    device = event.alerting_device or connection.device_id
    call = call_for(
        state, connection.call_id, calling=event.calling_device, called=event.called_device
    )
    call = learned(
        state,
        call,
        event.calling_device,
        event.called_device,
        event.private_data,
        event.network_calling_device,
        event.associated_calling_device,
    )
    if event.cause is EventCause.CONSULTATION:
        call = commit(state, call, consulting(state, call, event.calling_device))
    before = state.party(device, call.conn_id)
    role = DNRole.OBSERVER if device in call.observers else DNRole.DESTINATION
    party = touch(state, call, device, dn, PartyState.RINGING, role)
    if event.cause in JOINING:
        party = party.changed(added_by=event.calling_device)
    if device != dn:
        note(state, call, party, before)
        return
    party = party.changed(other_dn=event.calling_device)
    if party.role is DNRole.OBSERVER:
        state.emit(_observing(state, call, party, PartyRang))
        return
    state.emit(_rang(state, call, party, event))


def _observing(
    state: State, call: Call, observer: Party, kind: type[PartyRang] | type[PartyEstablished]
) -> PartyRang | PartyEstablished:
    """EventRinging or EventEstablished of a supervisor observing the call: CallState
    Bridged, OtherDN the party the monitored agent talks with (the Events and Models
    Reference, "Monitoring calls")."""
    talking = [
        p
        for p in state.present(call.conn_id)
        if p.dn not in (observer.dn, observer.added_by) and p.role is not DNRole.OBSERVER
    ]
    other = talking[0] if talking else None
    observer = observer.changed(other_dn=other.dn if other is not None else observer.added_by)
    return kind(
        call=call,
        party=observer,
        call_state=CallState.BRIDGED,
        other_role=other.role if other is not None else None,
    )


def _rang(state: State, call: Call, party: Party, event: DeliveredEvent) -> PartyRang:
    """EventRinging: from a queue or routing point (ThisQueue), by transfer, redirection
    or conference (ThirdPartyDN), with the agent at the destination of an ACD queue or
    of a direct-agent call."""
    via = event.last_redirection_device
    kind = state.kind(via)
    if kind in (DnKind.ACD_QUEUE, DnKind.ROUTING_POINT):
        party = party.changed(this_queue=via)
    third: DeviceId | None = None
    role: DNRole | None = None
    state_ = CallState.FORWARDED if event.cause in FORWARDED else CallState.OK
    match event.cause:
        case EventCause.SINGLE_STEP_TRANSFER:
            third, role = via, DNRole.TRANSFERRED_BY
        case EventCause.REDIRECTED if kind is None or kind is DnKind.EXTENSION:
            third = via
        case EventCause.SINGLE_STEP_CONFERENCE:
            third, role = event.calling_device, DNRole.ADDED_BY
        case cause if cause in FORWARDED:
            third = via
    direct = event.call_characteristics is not None and event.call_characteristics.direct_agent
    agent = state.agent_id_at(party.dn) if kind is DnKind.ACD_QUEUE or direct else None
    return PartyRang(
        call=call,
        party=party,
        call_state=state_,
        third_party_dn=third,
        third_party_role=role,
        agent_id=agent,
    )


def on_established(state: State, dn: DeviceId, event: EstablishedEvent) -> None:
    connection = event.established_connection
    answering = event.answering_device or connection.device_id
    call = call_for(
        state, connection.call_id, calling=event.calling_device, called=event.called_device
    )
    call = learned(
        state,
        call,
        event.calling_device,
        event.called_device,
        event.private_data,
        event.network_calling_device,
        event.associated_calling_device,
    )
    before = state.party(answering, call.conn_id)
    party = touch(state, call, answering, dn, PartyState.ESTABLISHED, DNRole.DESTINATION)
    if answering == dn and party.role is DNRole.OBSERVER:
        state.emit(_observing(state, call, party, PartyEstablished))
        return
    if answering == dn:
        present = [p for p in state.present(call.conn_id) if p.dn != dn]
        conference = len(present) + 1 > 2
        party = party.changed(other_dn=party.other_dn or event.calling_device)
        state_ = CallState.CONFERENCED if conference else CallState.OK
        state.emit(PartyEstablished(call=call, party=party, call_state=state_))
        return
    note(state, call, party, before)
    own = state.party(dn, call.conn_id)
    if own is None:
        return
    if party.role is DNRole.OBSERVER:
        if own.dn == party.added_by:  # the monitored agent alone is told
            state.emit(_observed(call, own, party))
    elif event.cause in JOINING:
        state.emit(_added(call, own, party))
    elif own.state is PartyState.DIALING or (
        own.other_dn == answering and not _predictive_answered(own, event)
    ):
        own = own.changed(state=PartyState.ESTABLISHED, other_dn=answering)
        state.emit(PartyEstablished(call=call, party=own))


def _predictive_answered(own: Party, event: EstablishedEvent) -> bool:
    """The calling DN of a predictive call answered it, offered once the called party
    (*own*, talking already) had: no second EventEstablished for that party."""
    predictive = event.cause is EventCause.MAKE_PREDICTIVE_CALL
    return predictive and own.state is PartyState.ESTABLISHED


def _observed(call: Call, own: Party, observer: Party) -> PartyAdded:
    return PartyAdded(
        call=call,
        party=own,
        other_dn=observer.dn,
        other_role=DNRole.OBSERVER,
        call_state=CallState.BRIDGED,
    )


def _added(call: Call, own: Party, added: Party) -> PartyAdded:
    return PartyAdded(
        call=call,
        party=own,
        other_dn=added.dn,
        other_role=DNRole.NEW_PARTY,
        third_party_dn=added.added_by,
        third_party_role=DNRole.ADDED_BY,
        call_state=CallState.CONFERENCED,
    )


def on_held(state: State, dn: DeviceId, event: HeldEvent) -> None:
    connection = event.held_connection
    device = event.holding_device or connection.device_id
    _hold_or_retrieve(state, dn, connection.call_id, device, PartyState.HELD)


def on_retrieved(state: State, dn: DeviceId, event: RetrievedEvent) -> None:
    connection = event.retrieved_connection
    device = event.retrieving_device or connection.device_id
    _hold_or_retrieve(state, dn, connection.call_id, device, PartyState.ESTABLISHED)


def _hold_or_retrieve(
    state: State, dn: DeviceId, call_id: CallId, device: DeviceId, now: PartyState
) -> None:
    call = state.call_by_call_id(call_id)
    party = None if call is None else state.party(device, call.conn_id)
    if call is None or party is None:
        return
    if device != dn:
        if not state.is_ours(device):
            note(state, call, party.changed(state=now), party)
        return
    party = party.changed(state=checked(party, now))
    change = PartyHeld if now is PartyState.HELD else PartyRetrieved
    state.emit(change(call=call, party=party))


def on_connection_cleared(state: State, dn: DeviceId, event: ConnectionClearedEvent) -> None:
    connection = event.dropped_connection
    call = state.call_by_call_id(connection.call_id)
    device = connection.device_id or event.releasing_device
    if call is None or device is None:
        return
    party = state.party(device, call.conn_id)
    if party is None and event.releasing_device is not None and device != dn:
        # The far end of a trunk call: its connection's deviceID is not the number the
        # call knows it by, the releasing device is.
        known = state.party(event.releasing_device, call.conn_id)
        if known is not None and not state.is_ours(known.dn):
            device, party = known.dn, known
    going = party.present if party is not None else not state.is_ours(device)  # a far end
    if going and call.released_by != device and state.has_others(call.conn_id, device):
        call = commit(state, call, replace(call, released_by=device))  # it left the others
    if party is None:
        return
    if device == dn:
        leave(state, _failed_call_state(ended(state, call, party, event.cause), event.cause))
        return
    _deleted_from_conference(state, call, dn, device)
    if not state.is_ours(device):
        remove(state, call, party)
    elif party.present:
        state.emit(PartyNoted(call=call, party=party.changed(present=False)))


def _failed_call_state(change: PartyChange, cause: EventCause | None) -> PartyChange:
    """A call the switch itself gave up while it was being made (a predictive call that
    found OtherDN busy or unanswered): EventReleased says why, as EventDestinationBusy
    does."""
    making = change.party.state in (PartyState.DIALING, PartyState.FAILED)
    if not making or cause is None or cause not in FAILURE_CALL_STATES:
        return change
    return replace(change, call_state=FAILURE_CALL_STATES[cause])


def _deleted_from_conference(state: State, call: Call, dn: DeviceId, dropped: DeviceId) -> None:
    """*dropped* left a call of three or more: EventPartyDeleted for *dn*, who stays.  An
    observer is seen by the agent it monitors alone (and sees everyone)."""
    own = state.party(dn, call.conn_id)
    gone = state.party(dropped, call.conn_id)
    if own is None or not own.present:
        return
    if gone is not None and gone.role is DNRole.OBSERVER:
        if dn == gone.added_by:
            state.emit(_unobserved(call, own, gone))
        return
    staying = [p for p in state.present(call.conn_id) if p.dn != dropped]
    if own.role is not DNRole.OBSERVER:
        staying = [p for p in staying if p.role is not DNRole.OBSERVER]
    if len(staying) < 2:
        return
    call_state = CallState.CONFERENCED if len(staying) > 2 else CallState.OK
    if len(staying) == 2:
        (other,) = [p for p in staying if p.dn != dn]
        own = own.changed(other_dn=other.dn)
    state.emit(
        PartyDeleted(
            call=call,
            party=own,
            other_dn=dropped,
            other_role=DNRole.DELETED_PARTY,
            third_party_dn=call.deleted_by.get(dropped, dropped),
            third_party_role=DNRole.DELETED_BY,
            call_state=call_state,
        )
    )


def _unobserved(call: Call, own: Party, observer: Party) -> PartyDeleted:
    return PartyDeleted(
        call=call,
        party=own,
        other_dn=observer.dn,
        other_role=DNRole.DELETED_PARTY,
        third_party_dn=call.deleted_by.get(observer.dn, observer.dn),
        third_party_role=DNRole.DELETED_BY,
    )


def on_call_cleared(state: State, dn: DeviceId, event: CallClearedEvent) -> None:
    call = state.call_by_call_id(event.cleared_call.call_id)
    party = None if call is None else state.party(dn, call.conn_id)
    if call is None or party is None:
        return
    leave(state, ended(state, call, party, event.cause))


def on_failed(state: State, dn: DeviceId, event: FailedEvent) -> None:
    connection = event.failed_connection
    failing = event.failing_device or connection.device_id
    call = call_for(
        state, connection.call_id, calling=event.calling_device, called=event.called_device
    )
    call = learned(state, call, event.calling_device, event.called_device, event.private_data)
    own = state.party(dn, call.conn_id)
    if own is None:
        return
    if failing == dn:  # a queue or routing point gave up the call: it leaves quietly
        if state.kind(dn) is not DnKind.EXTENSION:
            remove(state, call, own)
        return
    own = own.changed(state=checked(own, PartyState.FAILED), other_dn=own.other_dn or failing)
    call_state = (
        FAILURE_CALL_STATES.get(event.cause, CallState.GENERAL_ERROR)
        if event.cause
        else CallState.GENERAL_ERROR
    )
    state.emit(DestinationBusy(call=call, party=own, call_state=call_state))
