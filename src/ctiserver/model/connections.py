"""How the basic connection events change the model: a call being made, offered,
answered, held, retrieved, failed and cleared (ECMA-269 §§ 17.2.5-17.2.20).

Each handler takes the event as reported on the monitor of our DN `dn` and returns the
changes for `dn` alone (model rule 1).  Conference-aware cases are here too: a party
leaving a call of three or more is EventPartyDeleted for those who stay, and a party
answering a single-step conference is EventPartyAdded for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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
from ctiserver.ids import DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    Change,
    DestinationBusy,
    NetworkCallIdLearned,
    PartyAdded,
    PartyDeleted,
    PartyDialed,
    PartyEstablished,
    PartyHeld,
    PartyRang,
    PartyRetrieved,
)
from ctiserver.model.states import DnKind, PartyState
from ctiserver.tlib.vocabulary import CallState, CallType, DNRole

if TYPE_CHECKING:
    from ctiserver.model.model import Model

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
}


def learn_network(call: Call, private: PrivateData | None) -> list[Change]:
    """UUI and the network call id, from the private data of any event of the call."""
    if private is None:
        return []
    learned: list[Change] = []
    for element in private.elements:
        if element.name == "uui" and element.text:
            call.uui = element.text
        elif element.name == "networkCallID" and element.text:
            if call.network_call_id != element.text:
                learned.append(NetworkCallIdLearned(call=call))
            call.network_call_id = element.text
    return learned


def link_consultation(model: Model, call: Call, consulting: DeviceId | None) -> None:
    """A consultation call (cause consultation) consults the call its maker holds."""
    if call.previous_conn_id is not None or consulting is None:
        return
    held = [c for c in model.calls_at(consulting) if c.parties[consulting].state is PartyState.HELD]
    if not held:
        return
    original = held[-1]
    call.previous_conn_id = original.conn_id
    call.call_type = CallType.CONSULT
    if model.consult_user_data == "inherited":
        call.user_data = dict(original.user_data)
    elif model.consult_user_data == "joint":
        call.user_data = original.user_data
        call.shares_data_with.add(original.conn_id)
        original.shares_data_with.add(call.conn_id)


def on_service_initiated(model: Model, dn: DeviceId, event: ServiceInitiatedEvent) -> list[Change]:
    connection = event.initiated_connection
    device = connection.device_id or dn
    call, changes = model.call_for(connection.call_id, calling=device)
    if event.cause is EventCause.CONSULTATION:
        link_consultation(model, call, device)
    model.touch(call, device, dn, PartyState.INITIATED, DNRole.ORIGINATION)
    return changes


def on_originated(model: Model, dn: DeviceId, event: OriginatedEvent) -> list[Change]:
    connection = event.originated_connection
    device = connection.device_id or event.calling_device or dn
    call, changes = model.call_for(connection.call_id, calling=device)
    call.calling = call.calling or device
    call.called = event.called_device or call.called
    changes += learn_network(call, event.private_data)
    if event.cause is EventCause.CONSULTATION:
        link_consultation(model, call, device)
    call.call_type = model.call_type(call)
    party = model.touch(call, device, dn, PartyState.DIALING, DNRole.ORIGINATION)
    if device == dn:
        party.other_dn = call.called
        changes.append(PartyDialed(call=call, party=party))
    return changes


def on_network_reached(model: Model, dn: DeviceId, event: NetworkReachedEvent) -> list[Change]:
    """The call left this switch on a trunk; the caller stays Dialing until answered."""
    connection = event.outbound_connection
    call, changes = model.call_for(connection.call_id, calling=event.calling_device)
    call.called = call.called or event.called_device
    changes += learn_network(call, event.private_data)
    call.call_type = model.call_type(call)
    return changes


def on_delivered(model: Model, dn: DeviceId, event: DeliveredEvent) -> list[Change]:
    connection = event.connection
    device = event.alerting_device or connection.device_id
    call, changes = model.call_for(connection.call_id, calling=event.calling_device)
    model.learn_caller(call, event.calling_device, event.called_device, dn)
    changes += learn_network(call, event.private_data)
    if event.cause is EventCause.CONSULTATION:
        link_consultation(model, call, event.calling_device)
    party = model.touch(call, device, dn, PartyState.RINGING, DNRole.DESTINATION)
    if event.cause is EventCause.SINGLE_STEP_CONFERENCE:
        party.added_by = event.calling_device
    if device != dn:
        return changes
    party.other_dn = event.calling_device
    changes.append(_rang(model, call, party, event))
    return changes


def _rang(model: Model, call: Call, party: Party, event: DeliveredEvent) -> PartyRang:
    """EventRinging: from a queue or routing point (ThisQueue), by transfer, redirection
    or conference (ThirdPartyDN), with the agent at an ACD queue's destination."""
    via = event.last_redirection_device
    kind = model.kind(via)
    if kind in (DnKind.ACD_QUEUE, DnKind.ROUTING_POINT):
        party.this_queue = via
    third: DeviceId | None = None
    role: DNRole | None = None
    match event.cause:
        case EventCause.SINGLE_STEP_TRANSFER:
            third, role = via, DNRole.TRANSFERRED_BY
        case EventCause.REDIRECTED if kind is None or kind is DnKind.EXTENSION:
            third = via
        case EventCause.SINGLE_STEP_CONFERENCE:
            third, role = event.calling_device, DNRole.ADDED_BY
    agent = model.agent_id_at(party.dn) if kind is DnKind.ACD_QUEUE else None
    return PartyRang(
        call=call, party=party, third_party_dn=third, third_party_role=role, agent_id=agent
    )


def on_established(model: Model, dn: DeviceId, event: EstablishedEvent) -> list[Change]:
    connection = event.established_connection
    answering = event.answering_device or connection.device_id
    call, changes = model.call_for(connection.call_id, calling=event.calling_device)
    model.learn_caller(call, event.calling_device, event.called_device, dn)
    changes += learn_network(call, event.private_data)
    party = model.touch(call, answering, dn, PartyState.ESTABLISHED, DNRole.DESTINATION)
    conference = len(call.present) > 2
    if answering == dn:
        party.other_dn = party.other_dn or event.calling_device
        state = CallState.CONFERENCED if conference else CallState.OK
        changes.append(PartyEstablished(call=call, party=party, call_state=state))
        return changes
    own = call.parties.get(dn)
    if own is None:
        return changes
    if event.cause is EventCause.SINGLE_STEP_CONFERENCE:
        changes.append(_added(call, own, party))
    elif own.state is PartyState.DIALING or own.other_dn == answering:
        model.set_state(own, PartyState.ESTABLISHED)
        own.other_dn = answering
        changes.append(PartyEstablished(call=call, party=own))
    return changes


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


def on_held(model: Model, dn: DeviceId, event: HeldEvent) -> list[Change]:
    connection = event.held_connection
    holding = event.holding_device or connection.device_id
    call = model.call_by_call_id(connection.call_id)
    party = None if call is None else call.parties.get(holding)
    if call is None or party is None:
        return []
    if holding != dn:
        if not model.is_ours(holding):
            model.set_state(party, PartyState.HELD)
        return []
    model.set_state(party, PartyState.HELD)
    return [PartyHeld(call=call, party=party)]


def on_retrieved(model: Model, dn: DeviceId, event: RetrievedEvent) -> list[Change]:
    connection = event.retrieved_connection
    retrieving = event.retrieving_device or connection.device_id
    call = model.call_by_call_id(connection.call_id)
    party = None if call is None else call.parties.get(retrieving)
    if call is None or party is None:
        return []
    if retrieving != dn:
        if not model.is_ours(retrieving):
            model.set_state(party, PartyState.ESTABLISHED)
        return []
    model.set_state(party, PartyState.ESTABLISHED)
    return [PartyRetrieved(call=call, party=party)]


def on_connection_cleared(
    model: Model, dn: DeviceId, event: ConnectionClearedEvent
) -> list[Change]:
    connection = event.dropped_connection
    call = model.call_by_call_id(connection.call_id)
    device = connection.device_id or event.releasing_device
    party = None if call is None or device is None else call.parties.get(device)
    if call is None or party is None or device is None:
        return []
    if device == dn:
        change = model.ended(call, party, event.cause)
        model.remove_party(call, party)
        return [change]
    changes = _deleted_from_conference(call, dn, device)
    party.present = False
    if not model.is_ours(device):
        model.remove_party(call, party)
    return changes


def _deleted_from_conference(call: Call, dn: DeviceId, dropped: DeviceId) -> list[Change]:
    """*dropped* left a call of three or more: EventPartyDeleted for *dn*, who stays."""
    own = call.parties.get(dn)
    staying = [p for p in call.present if p.dn != dropped]
    if own is None or not own.present or len(staying) < 2:
        return []
    state = CallState.CONFERENCED if len(staying) > 2 else CallState.OK
    if len(staying) == 2:
        (other,) = [p for p in staying if p.dn != dn]
        own.other_dn = other.dn
    return [
        PartyDeleted(
            call=call,
            party=own,
            other_dn=dropped,
            other_role=DNRole.DELETED_PARTY,
            third_party_dn=call.deleted_by.get(dropped, dropped),
            third_party_role=DNRole.DELETED_BY,
            call_state=state,
        )
    ]


def on_call_cleared(model: Model, dn: DeviceId, event: CallClearedEvent) -> list[Change]:
    call = model.call_by_call_id(event.cleared_call.call_id)
    party = None if call is None else call.parties.get(dn)
    if call is None or party is None:
        return []
    change = model.ended(call, party, event.cause)
    model.remove_party(call, party)
    return [change]


def on_failed(model: Model, dn: DeviceId, event: FailedEvent) -> list[Change]:
    connection = event.failed_connection
    failing = event.failing_device or connection.device_id
    call, changes = model.call_for(connection.call_id, calling=event.calling_device)
    model.learn_caller(call, event.calling_device, event.called_device, dn)
    own = call.parties.get(dn)
    if own is None:
        return changes
    if failing == dn:  # a queue or routing point gave up the call: it leaves quietly
        if model.kind(dn) is not DnKind.EXTENSION:
            model.remove_party(call, own)
        return changes
    model.set_state(own, PartyState.FAILED)
    own.other_dn = own.other_dn or failing
    call_state = (
        FAILURE_CALL_STATES.get(event.cause, CallState.GENERAL_ERROR)
        if event.cause
        else CallState.GENERAL_ERROR
    )
    changes.append(DestinationBusy(call=call, party=own, call_state=call_state))
    return changes


HANDLERS: dict[type[Any], Any] = {
    ServiceInitiatedEvent: on_service_initiated,
    OriginatedEvent: on_originated,
    NetworkReachedEvent: on_network_reached,
    DeliveredEvent: on_delivered,
    EstablishedEvent: on_established,
    HeldEvent: on_held,
    RetrievedEvent: on_retrieved,
    ConnectionClearedEvent: on_connection_cleared,
    CallClearedEvent: on_call_cleared,
    FailedEvent: on_failed,
}
