"""The server's model of the switch: DNs, calls and parties, driven by CSTA events.

The model is pure: `apply(dn, event)` takes one CSTA event as reported on the monitor of
our DN `dn` and returns what changed, as past-tense facts (model.changes).  It never
sends anything and never reads a clock.

Rules:
1. A switch copies an event about a call to the monitor of every device in the call.
   Only the copy on a DN's *own* monitor changes that DN's party state and produces a
   change for it; the other copies only teach the model about devices that are not ours.
2. A call is keyed by ConnID.  The switch's callID indexes it until the call ends, after
   which a callID the switch reuses names a new call with a new ConnID.
3. A call is forgotten when the last of our DNs leaves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    OriginatedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.schema import Event
from ctiserver.ids import CallId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    CallCreated,
    Change,
    DestinationBusy,
    PartyAbandoned,
    PartyDialed,
    PartyEstablished,
    PartyRang,
    PartyReleased,
)
from ctiserver.model.states import DnKind, PartyState, is_legal
from ctiserver.tlib.vocabulary import CallState, CallType, DNRole

log = logging.getLogger(__name__)

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

# What a snapshot's LocalConnectionState means for a party.
SNAPSHOT_STATES: Mapping[LocalConnectionState, PartyState] = {
    LocalConnectionState.INITIATED: PartyState.INITIATED,
    LocalConnectionState.ALERTING: PartyState.RINGING,
    LocalConnectionState.CONNECTED: PartyState.ESTABLISHED,
    LocalConnectionState.HOLD: PartyState.HELD,
    LocalConnectionState.QUEUED: PartyState.QUEUED,
    LocalConnectionState.FAIL: PartyState.FAILED,
}


@dataclass(frozen=True, slots=True)
class SnapshotParty:
    """One connection of a call as a switch snapshot reports it."""

    device: DeviceId
    state: LocalConnectionState | None


class Model:
    def __init__(self, *, dns: Mapping[DeviceId, DnKind], conn_ids: ConnIdAllocator) -> None:
        self.dns: dict[DeviceId, DnKind] = dict(dns)
        self._conn_ids = conn_ids
        self._calls: dict[ConnId, Call] = {}
        self._by_call_id: dict[CallId, Call] = {}
        self._calls_at: dict[DeviceId, dict[ConnId, Call]] = {dn: {} for dn in self.dns}
        self._handlers: dict[type[Event], Callable[[DeviceId, Any], list[Change]]] = {
            ServiceInitiatedEvent: self._on_service_initiated,
            OriginatedEvent: self._on_originated,
            DeliveredEvent: self._on_delivered,
            EstablishedEvent: self._on_established,
            ConnectionClearedEvent: self._on_connection_cleared,
            CallClearedEvent: self._on_call_cleared,
            FailedEvent: self._on_failed,
        }

    # --- queries ------------------------------------------------------------------------

    def call(self, conn_id: ConnId) -> Call | None:
        return self._calls.get(conn_id)

    def call_by_call_id(self, call_id: CallId) -> Call | None:
        return self._by_call_id.get(call_id)

    def calls_at(self, dn: DeviceId) -> list[Call]:
        return list(self._calls_at.get(dn, {}).values())

    def party(self, dn: DeviceId, conn_id: ConnId) -> Party | None:
        call = self._calls_at.get(dn, {}).get(conn_id)
        return None if call is None else call.parties.get(dn)

    @property
    def calls(self) -> list[Call]:
        return list(self._calls.values())

    # --- configuration ------------------------------------------------------------------

    def reconfigure(self, dns: Mapping[DeviceId, DnKind]) -> None:
        """Take a new DN table; removed DNs leave their calls without a trace."""
        for dn in set(self.dns) - set(dns):
            for call in self.calls_at(dn):
                self._remove_party(call, call.parties[dn])
            del self._calls_at[dn]
        for dn in set(dns) - set(self.dns):
            self._calls_at[dn] = {}
        self.dns = dict(dns)

    # --- switch events ------------------------------------------------------------------

    def apply(self, dn: DeviceId, event: Event) -> list[Change]:
        """Apply *event* as reported on the monitor of our DN *dn*."""
        handler = self._handlers.get(type(event))
        if handler is None:
            log.info("%s on %s: not used by the call model", type(event).__name__, dn)
            return []
        return handler(dn, event)

    def _on_service_initiated(self, dn: DeviceId, event: ServiceInitiatedEvent) -> list[Change]:
        connection = event.initiated_connection
        device = connection.device_id or dn
        call, changes = self._call(connection.call_id, calling=device)
        self._touch(call, device, dn, PartyState.INITIATED, DNRole.ORIGINATION)
        return changes

    def _on_originated(self, dn: DeviceId, event: OriginatedEvent) -> list[Change]:
        connection = event.originated_connection
        device = connection.device_id or event.calling_device or dn
        call, changes = self._call(connection.call_id, calling=device)
        call.calling = call.calling or device
        call.called = event.called_device or call.called
        call.call_type = self._call_type(call)
        party = self._touch(call, device, dn, PartyState.DIALING, DNRole.ORIGINATION)
        if device == dn:
            party.other_dn = call.called
            changes.append(PartyDialed(call=call, party=party))
        return changes

    def _on_delivered(self, dn: DeviceId, event: DeliveredEvent) -> list[Change]:
        connection = event.connection
        device = event.alerting_device or connection.device_id
        call, changes = self._call(connection.call_id, calling=event.calling_device)
        self._learn_caller(call, event.calling_device, event.called_device, dn)
        party = self._touch(call, device, dn, PartyState.RINGING, DNRole.DESTINATION)
        if device == dn:
            party.other_dn = event.calling_device
            changes.append(PartyRang(call=call, party=party))
        return changes

    def _on_established(self, dn: DeviceId, event: EstablishedEvent) -> list[Change]:
        connection = event.established_connection
        answering = event.answering_device or connection.device_id
        call, changes = self._call(connection.call_id, calling=event.calling_device)
        self._learn_caller(call, event.calling_device, event.called_device, dn)
        party = self._touch(call, answering, dn, PartyState.ESTABLISHED, DNRole.DESTINATION)
        if answering == dn:
            party.other_dn = party.other_dn or event.calling_device
            changes.append(PartyEstablished(call=call, party=party))
            return changes
        own = call.parties.get(dn)
        if own is not None and own.state is PartyState.DIALING:
            self._set_state(own, PartyState.ESTABLISHED)
            own.other_dn = answering
            changes.append(PartyEstablished(call=call, party=own))
        return changes

    def _on_connection_cleared(self, dn: DeviceId, event: ConnectionClearedEvent) -> list[Change]:
        connection = event.dropped_connection
        call = self._by_call_id.get(connection.call_id)
        device = connection.device_id or event.releasing_device
        party = None if call is None or device is None else call.parties.get(device)
        if call is None or party is None:
            return []
        if device != dn:
            party.present = False
            if device not in self.dns:
                self._remove_party(call, party)
            return []
        change = self._ended(call, party, event.cause)
        self._remove_party(call, party)
        return [change]

    def _on_call_cleared(self, dn: DeviceId, event: CallClearedEvent) -> list[Change]:
        call = self._by_call_id.get(event.cleared_call.call_id)
        party = None if call is None else call.parties.get(dn)
        if call is None or party is None:
            return []
        change = self._ended(call, party, event.cause)
        self._remove_party(call, party)
        return [change]

    def _on_failed(self, dn: DeviceId, event: FailedEvent) -> list[Change]:
        connection = event.failed_connection
        failing = event.failing_device or connection.device_id
        call, changes = self._call(connection.call_id, calling=event.calling_device)
        self._learn_caller(call, event.calling_device, event.called_device, dn)
        own = call.parties.get(dn)
        if own is None or failing == dn:
            return changes
        self._set_state(own, PartyState.FAILED)
        own.other_dn = own.other_dn or failing
        call_state = FAILURE_CALL_STATES.get(event.cause, CallState.GENERAL_ERROR)  # type: ignore[arg-type]
        changes.append(DestinationBusy(call=call, party=own, call_state=call_state))
        return changes

    # --- resynchronisation --------------------------------------------------------------

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        scope: Collection[DeviceId] | None = None,
    ) -> list[Change]:
        """Bring the model to the switch's snapshot of every call at the DNs of *scope*
        (all our DNs when None).

        Calls gone from the switch release their parties; new calls and changed states
        produce the change a client would have seen had the link been up.
        """
        changes: list[Change] = []
        for call in self.calls:
            in_scope = scope is None or any(dn in scope for dn in call.parties)
            if in_scope and call.call_id not in snapshot:
                changes += self._release_all(call)
        for call_id, parties in snapshot.items():
            changes += self._resync_call(call_id, list(parties))
        return changes

    def _release_all(self, call: Call) -> list[Change]:
        changes: list[Change] = []
        for party in list(call.parties.values()):
            if party.dn in self.dns:
                changes.append(PartyReleased(call=call, party=party))
            self._remove_party(call, party)
        return changes

    def _resync_call(self, call_id: CallId, parties: list[SnapshotParty]) -> list[Change]:
        alerting = {p.device for p in parties if p.state is LocalConnectionState.ALERTING}
        existing = self._by_call_id.get(call_id)
        calling = existing.calling if existing else None
        if calling is None and alerting:
            calling = next((p.device for p in parties if p.device not in alerting), None)
        call, changes = self._call(call_id, calling=calling)
        call.calling = call.calling or calling
        if call.called is None and call.calling is not None:
            call.called = next((p.device for p in parties if p.device != call.calling), None)
        for listed in parties:
            changes += self._resync_party(call, listed, has_alerting=bool(alerting))
        listed_devices = {p.device for p in parties}
        for party in list(call.parties.values()):
            if party.dn not in listed_devices:
                if party.dn in self.dns:
                    changes.append(PartyReleased(call=call, party=party))
                self._remove_party(call, party)
        return changes

    def _resync_party(
        self, call: Call, listed: SnapshotParty, *, has_alerting: bool
    ) -> list[Change]:
        state = SNAPSHOT_STATES.get(listed.state or LocalConnectionState.NULL)
        if state is None:
            return []
        if state is PartyState.ESTABLISHED and has_alerting and listed.device == call.calling:
            state = PartyState.DIALING
        party = call.parties.get(listed.device)
        if party is not None and party.state is state:
            return []
        role = DNRole.ORIGINATION if listed.device == call.calling else DNRole.DESTINATION
        if party is None:
            party = self._touch(call, listed.device, listed.device, state, role)
        else:
            party.state = state
        if party.other_dn is None:
            party.other_dn = call.calling if listed.device != call.calling else call.called
        return self._resynced_change(call, party)

    def _resynced_change(self, call: Call, party: Party) -> list[Change]:
        if party.dn not in self.dns:
            return []
        match party.state:
            case PartyState.DIALING:
                return [PartyDialed(call=call, party=party)]
            case PartyState.RINGING:
                return [PartyRang(call=call, party=party)]
            case PartyState.ESTABLISHED:
                return [PartyEstablished(call=call, party=party)]
            case _:
                return []

    # --- helpers --------------------------------------------------------------------------

    def _call(self, call_id: CallId, *, calling: DeviceId | None) -> tuple[Call, list[Change]]:
        call = self._by_call_id.get(call_id)
        if call is not None:
            return call, []
        call = Call(conn_id=self._conn_ids.allocate(), call_id=call_id, calling=calling)
        call.call_type = self._call_type(call)
        self._calls[call.conn_id] = call
        self._by_call_id[call_id] = call
        return call, [CallCreated(call=call, calling=calling)]

    def _learn_caller(
        self,
        call: Call,
        calling: DeviceId | None,
        called: DeviceId | None,
        dn: DeviceId,
    ) -> None:
        """A call first seen at its destination: note who is calling, and from where."""
        call.calling = call.calling or calling
        call.called = call.called or called
        if calling is not None and calling not in call.parties and calling not in self.dns:
            self._touch(call, calling, dn, PartyState.DIALING, DNRole.ORIGINATION)
        call.call_type = self._call_type(call)

    def _touch(
        self,
        call: Call,
        device: DeviceId,
        dn: DeviceId,
        state: PartyState,
        role: DNRole,
    ) -> Party:
        """Record *device* in *call*, in *state*, as reported on *dn*'s monitor (rule 1)."""
        party = call.parties.get(device)
        if party is None:
            party = Party(dn=device, state=state, role=role)
            call.parties[device] = party
            if device in self._calls_at:
                self._calls_at[device][call.conn_id] = call
        elif device == dn or device not in self.dns:
            self._set_state(party, state)
        return party

    def _set_state(self, party: Party, state: PartyState) -> None:
        if not is_legal(party.state, state):
            log.warning("switch reported %s going %s -> %s", party.dn, party.state, state)
        party.state = state

    def _ended(self, call: Call, party: Party, cause: EventCause | None) -> Change:
        """How a party's leaving looks to its DN: abandoned if it was only offered the call."""
        offered = party.state in (PartyState.RINGING, PartyState.QUEUED)
        if offered and (cause is EventCause.CALL_CANCELLED or not call.others(party.dn)):
            return PartyAbandoned(call=call, party=party)
        return PartyReleased(call=call, party=party)

    def _remove_party(self, call: Call, party: Party) -> None:
        call.parties.pop(party.dn, None)
        self._calls_at.get(party.dn, {}).pop(call.conn_id, None)
        if not any(dn in self.dns for dn in call.parties):
            self._forget(call)

    def _forget(self, call: Call) -> None:
        self._calls.pop(call.conn_id, None)
        if self._by_call_id.get(call.call_id) is call:
            del self._by_call_id[call.call_id]
        for dn in call.parties:
            self._calls_at.get(dn, {}).pop(call.conn_id, None)

    def _call_type(self, call: Call) -> CallType:
        if call.calling is not None and call.calling not in self.dns:
            return CallType.INBOUND
        if call.called is not None and call.called not in self.dns:
            return CallType.OUTBOUND
        return CallType.INTERNAL
