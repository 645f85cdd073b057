"""The server's model of the switch: DNs, calls, parties and agents, driven by CSTA.

The model is pure: `apply(dn, event)` takes one CSTA event as reported on the monitor of
our DN `dn`, `apply_invocation(message)` one routeing invocation, and each returns what
changed as past-tense facts (model.changes).  It never sends anything and never reads a
clock.  The handlers live in model.connections, model.transfers, model.queues and
model.agents; this module holds the state and the moves they share.

Rules:
1. A switch copies an event about a call to the monitor of every device in the call.
   Only the copy on a DN's *own* monitor changes that DN's party state and produces a
   change for it; the other copies only teach the model about devices that are not ours.
2. A call is keyed by ConnID.  The switch's callID indexes it until the call ends, after
   which a callID the switch reuses names a new call with a new ConnID.
3. A call is forgotten when the last of our DNs leaves it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.schema import Event, Unconfirmed
from ctiserver.ids import AgentId, CallId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.model import agents, connections, private, queues, resync, transfers
from ctiserver.model.agents import AgentOnDn
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import CallCreated, Change, PartyAbandoned, PartyReleased
from ctiserver.model.queues import RouteDialogue
from ctiserver.model.resync import SnapshotParty
from ctiserver.model.states import DnKind, PartyState, is_legal
from ctiserver.tlib.vocabulary import AgentWorkMode, CallType, DNRole, KVList

log = logging.getLogger(__name__)

Handler = Callable[["Model", DeviceId, Any], list[Change]]
HANDLERS: dict[type[Event], Handler] = {
    **connections.HANDLERS,
    **transfers.HANDLERS,
    **queues.HANDLERS,
    **agents.HANDLERS,
    **private.HANDLERS,
}
PRIVATE_NAMESPACE = "urn:ctiserver:csta:private"


class Model:
    def __init__(
        self,
        *,
        dns: Mapping[DeviceId, DnKind],
        conn_ids: ConnIdAllocator,
        consult_user_data: str = "separate",
        private_namespace: str = PRIVATE_NAMESPACE,
    ) -> None:
        self.dns: dict[DeviceId, DnKind] = dict(dns)
        self.consult_user_data = consult_user_data
        self.private_namespace = private_namespace
        self.hosts: dict[DeviceId, DeviceId] = {}  # hot desking: guest DN -> host device
        self.recordings: dict[str, private.Recording] = {}  # by the switch's message id
        self.agents: dict[DeviceId, AgentOnDn] = {}
        self.agent_intents: dict[DeviceId, AgentWorkMode] = {}
        self.routes: dict[str, RouteDialogue] = {}
        self._conn_ids = conn_ids
        self._calls: dict[ConnId, Call] = {}
        self._by_call_id: dict[CallId, Call] = {}
        self._calls_at: dict[DeviceId, dict[ConnId, Call]] = {dn: {} for dn in self.dns}

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

    def is_ours(self, dn: DeviceId | None) -> bool:
        return dn is not None and dn in self.dns

    def kind(self, dn: DeviceId | None) -> DnKind | None:
        return None if dn is None else self.dns.get(dn)

    def agent_id_at(self, dn: DeviceId) -> AgentId | None:
        agent = self.agents.get(dn)
        return None if agent is None else agent.agent_id

    def sharing(self, call: Call) -> list[Call]:
        """*call* and the calls that share its user data (consult-user-data = joint)."""
        shared = [self._calls[c] for c in call.shares_data_with if c in self._calls]
        return [call, *shared]

    # --- configuration and intent --------------------------------------------------------

    def reconfigure(self, dns: Mapping[DeviceId, DnKind]) -> None:
        """Take a new DN table; removed DNs leave their calls without a trace."""
        for dn in set(self.dns) - set(dns):
            for call in self.calls_at(dn):
                self.remove_party(call, call.parties[dn])
            del self._calls_at[dn]
            self.agents.pop(dn, None)
        for dn in set(dns) - set(self.dns):
            self._calls_at[dn] = {}
        self.dns = dict(dns)

    def expect_deletion(self, call: Call, dropped: DeviceId, by: DeviceId) -> None:
        """A client asked *by* to drop *dropped* from a conference: say so when it goes."""
        call.deleted_by[dropped] = by

    def attach(self, call: Call, data: KVList, *, replace_all: bool = False) -> None:
        if replace_all:
            call.user_data.clear()
        call.user_data.update(data)

    # --- switch events ------------------------------------------------------------------

    def apply(self, dn: DeviceId, event: Event) -> list[Change]:
        """Apply *event* as reported on the monitor of our DN *dn*."""
        handler = HANDLERS.get(type(event))
        if handler is None:
            log.info("%s on %s: not used by the call model", type(event).__name__, dn)
            return []
        event = self._readable(event)
        if getattr(event, "private_data", None) is not None:
            private.learn_host(self, dn, event.private_data)  # type: ignore[attr-defined]
        return handler(self, dn, event)

    def apply_invocation(self, message: Unconfirmed) -> list[Change]:
        """Apply a routeing invocation from the switch (RouteRequest, RouteUsed, …)."""
        return queues.apply_invocation(self, self._readable(message))

    def _readable(self, message: Any) -> Any:
        """*message* without private data in a namespace other than ours (unread)."""
        data = getattr(message, "private_data", None)
        if data is None or data.namespace == self.private_namespace:
            return message
        log.debug("private data in namespace %r ignored", data.namespace)
        return dataclasses.replace(message, private_data=None)

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        scope: Collection[DeviceId] | None = None,
    ) -> list[Change]:
        """Bring the model to the switch's snapshot; see model.resync."""
        return resync.resync(self, snapshot, scope)

    # --- moves shared by the handlers ----------------------------------------------------

    def call_for(self, call_id: CallId, *, calling: DeviceId | None) -> tuple[Call, list[Change]]:
        """The call the switch names *call_id*, created (with a new ConnID) if unknown."""
        call = self._by_call_id.get(call_id)
        if call is not None:
            return call, []
        call = Call(conn_id=self._conn_ids.allocate(), call_id=call_id, calling=calling)
        call.call_type = self.call_type(call)
        self._calls[call.conn_id] = call
        self._by_call_id[call_id] = call
        return call, [CallCreated(call=call, calling=calling)]

    def rekey(self, call: Call, call_id: CallId) -> None:
        """The switch now names *call* by *call_id* (a transfer or conference result)."""
        if call.call_id == call_id or not call_id:
            return
        if self._by_call_id.get(call.call_id) is call:
            del self._by_call_id[call.call_id]
        call.call_id = call_id
        self._by_call_id[call_id] = call

    def learn_caller(
        self, call: Call, calling: DeviceId | None, called: DeviceId | None, dn: DeviceId
    ) -> None:
        """A call first seen at its destination: note who is calling, and from where."""
        call.calling = call.calling or calling
        call.called = call.called or called
        if calling is not None and calling not in call.parties and not self.is_ours(calling):
            self.touch(call, calling, dn, PartyState.DIALING, DNRole.ORIGINATION)
        call.call_type = self.call_type(call)

    def touch(
        self,
        call: Call,
        device: DeviceId,
        dn: DeviceId,
        state: PartyState,
        role: DNRole,
    ) -> Party:
        """Record *device* in *call*, in *state*, as reported on *dn*'s monitor (rule 1)."""
        party = call.parties.get(device)
        call.expected.discard(device)
        if party is None:
            party = Party(dn=device, state=state, role=role)
            call.parties[device] = party
            if device in self._calls_at:
                self._calls_at[device][call.conn_id] = call
        elif device == dn or not self.is_ours(device):
            self.set_state(party, state)
            party.present = True
        return party

    def set_state(self, party: Party, state: PartyState) -> None:
        if not is_legal(party.state, state):
            log.info("switch reported %s going %s -> %s", party.dn, party.state, state)
        party.state = state

    def move_party(self, party: Party, source: Call, target: Call) -> None:
        """A transfer or conference moved *party*'s connection from *source* to *target*."""
        if source.parties.get(party.dn) is party:
            del source.parties[party.dn]
            self._calls_at.get(party.dn, {}).pop(source.conn_id, None)
        target.parties[party.dn] = party
        if party.dn in self._calls_at:
            self._calls_at[party.dn][target.conn_id] = target
        self.forget_if_unused(source)

    def ended(self, call: Call, party: Party, cause: EventCause | None) -> Change:
        """How a party's leaving looks to its DN: abandoned if it was only offered the call."""
        offered = party.state in (PartyState.RINGING, PartyState.QUEUED)
        if offered and (cause is EventCause.CALL_CANCELLED or not call.others(party.dn)):
            return PartyAbandoned(call=call, party=party)
        return PartyReleased(call=call, party=party)

    def remove_party(self, call: Call, party: Party) -> None:
        if call.parties.get(party.dn) is party:
            del call.parties[party.dn]
        self._calls_at.get(party.dn, {}).pop(call.conn_id, None)
        self.forget_if_unused(call)

    def forget_if_unused(self, call: Call) -> None:
        """Rule 3, except while the call is on its way to one of our DNs (diverted,
        routed or transferred there): the switch will report it there next."""
        if not any(self.is_ours(dn) for dn in call.parties) and not call.expected:
            self._forget(call)

    def expect(self, call: Call, destination: DeviceId | None) -> None:
        """*call* was sent on to *destination*; if that is ours, it stays known meanwhile."""
        if self.is_ours(destination):
            assert destination is not None
            call.expected.add(destination)

    def _forget(self, call: Call) -> None:
        self._calls.pop(call.conn_id, None)
        if self._by_call_id.get(call.call_id) is call:
            del self._by_call_id[call.call_id]
        for dn in call.parties:
            self._calls_at.get(dn, {}).pop(call.conn_id, None)
        for other in call.shares_data_with:
            shared = self._calls.get(other)
            if shared is not None:
                shared.shares_data_with.discard(call.conn_id)
        for cross_ref in [r for r, d in self.routes.items() if d.conn_id == call.conn_id]:
            del self.routes[cross_ref]

    def call_type(self, call: Call) -> CallType:
        if call.previous_conn_id is not None:
            return CallType.CONSULT
        if call.calling is not None and not self.is_ours(call.calling):
            return CallType.INBOUND
        if call.called is not None and not self.is_ours(call.called):
            return CallType.OUTBOUND
        return CallType.INTERNAL
