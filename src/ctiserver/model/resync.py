"""Bringing the model back to the switch's state after the link was down.

The link supervisor collects a snapshot of every call at our DNs (SnapshotDevice, then
SnapshotCall).  resync() compares: calls gone from the switch release their parties;
calls that began, and parties whose state changed, produce the change a client would
have seen had the link been up (Dialing, Ringing, Established, Held).  Agents are
compared in the same way (GetAgentState): logged in, logged out, ready or not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.ids import AgentId, CallId, DeviceId
from ctiserver.model.agents import AgentOnDn, AgentStatus
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    Change,
    PartyDialed,
    PartyEstablished,
    PartyHeld,
    PartyRang,
    PartyReleased,
)
from ctiserver.model.states import PartyState
from ctiserver.tlib.vocabulary import AgentWorkMode, DNRole

if TYPE_CHECKING:
    from ctiserver.model.model import Model

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


@dataclass(frozen=True, slots=True)
class SnapshotAgent:
    """The agent logged in on a DN, as GetAgentState reports it."""

    agent_id: AgentId
    queue: DeviceId | None
    status: AgentStatus


def resync_agents(model: Model, agents: Mapping[DeviceId, SnapshotAgent | None]) -> list[Change]:
    """Bring the agents of the DNs in *agents* to the switch's report (None: nobody)."""
    changes: list[Change] = []
    for dn, reported in agents.items():
        known = model.agents.get(dn)
        if known is not None and (reported is None or reported.agent_id != known.agent_id):
            del model.agents[dn]
            changes.append(_agent_change(dn, known, AgentEvent.LOGGED_OUT))
            known = None
        if reported is None:
            continue
        fresh = known is None
        if known is None:
            known = model.agents[dn] = AgentOnDn(reported.agent_id, reported.queue)
            changes.append(_agent_change(dn, known, AgentEvent.LOGGED_IN))
        if fresh or known.status is not reported.status:
            known.status = reported.status
            known.work_mode = _WORK_MODES.get(reported.status, known.ready_mode)
            what = (
                AgentEvent.READY if reported.status is AgentStatus.READY else AgentEvent.NOT_READY
            )
            changes.append(_agent_change(dn, known, what))
    return changes


_WORK_MODES = {
    AgentStatus.NOT_READY: AgentWorkMode.AUX_WORK,
    AgentStatus.AFTER_CALL_WORK: AgentWorkMode.AFTER_CALL_WORK,
}


def _agent_change(dn: DeviceId, agent: AgentOnDn, what: AgentEvent) -> AgentChanged:
    return AgentChanged(
        dn=dn, agent_id=agent.agent_id, queue=agent.queue, what=what, work_mode=agent.work_mode
    )


def resync(
    model: Model,
    snapshot: Mapping[CallId, Iterable[SnapshotParty]],
    scope: Collection[DeviceId] | None,
) -> list[Change]:
    """Bring *model* to *snapshot* for the calls at the DNs of *scope* (None: all)."""
    changes: list[Change] = []
    for call in model.calls:
        in_scope = scope is None or any(dn in scope for dn in call.parties)
        if in_scope and call.call_id not in snapshot:
            changes += _release_all(model, call)
    for call_id, parties in snapshot.items():
        changes += _resync_call(model, call_id, list(parties))
    return changes


def _release_all(model: Model, call: Call) -> list[Change]:
    changes: list[Change] = []
    for party in list(call.parties.values()):
        if model.is_ours(party.dn):
            changes.append(PartyReleased(call=call, party=party))
        model.remove_party(call, party)
    return changes


def _resync_call(model: Model, call_id: CallId, parties: list[SnapshotParty]) -> list[Change]:
    alerting = {p.device for p in parties if p.state is LocalConnectionState.ALERTING}
    existing = model.call_by_call_id(call_id)
    calling = existing.calling if existing else None
    if calling is None and alerting:
        calling = next((p.device for p in parties if p.device not in alerting), None)
    call, changes = model.call_for(call_id, calling=calling)
    call.calling = call.calling or calling
    if call.called is None and call.calling is not None:
        call.called = next((p.device for p in parties if p.device != call.calling), None)
    for listed in parties:
        changes += _resync_party(model, call, listed, has_alerting=bool(alerting))
    listed_devices = {p.device for p in parties}
    for party in list(call.parties.values()):
        if party.dn not in listed_devices:
            if model.is_ours(party.dn):
                changes.append(PartyReleased(call=call, party=party))
            model.remove_party(call, party)
    return changes


def _resync_party(
    model: Model, call: Call, listed: SnapshotParty, *, has_alerting: bool
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
        party = model.touch(call, listed.device, listed.device, state, role)
    else:
        party.state = state
    if party.other_dn is None:
        party.other_dn = call.calling if listed.device != call.calling else call.called
    return _resynced_change(model, call, party)


def _resynced_change(model: Model, call: Call, party: Party) -> list[Change]:
    if not model.is_ours(party.dn):
        return []
    match party.state:
        case PartyState.DIALING:
            return [PartyDialed(call=call, party=party)]
        case PartyState.RINGING:
            return [PartyRang(call=call, party=party)]
        case PartyState.ESTABLISHED:
            return [PartyEstablished(call=call, party=party)]
        case PartyState.HELD:
            return [PartyHeld(call=call, party=party)]
        case _:
            return []
