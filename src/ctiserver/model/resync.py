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

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.ids import AgentId, CallId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    PartyChange,
    PartyDialed,
    PartyEstablished,
    PartyHeld,
    PartyNoted,
    PartyRang,
    PartyReleased,
)
from ctiserver.model.moves import arrived, call_for, commit, described, leave, remove
from ctiserver.model.state import State
from ctiserver.model.states import AgentStatus, PartyState
from ctiserver.model.values import Agent, Call, Party
from ctiserver.tlib.vocabulary import AgentWorkMode, DNRole

# What a snapshot's LocalConnectionState means for a party.
SNAPSHOT_STATES: Mapping[LocalConnectionState, PartyState] = {
    LocalConnectionState.INITIATED: PartyState.INITIATED,
    LocalConnectionState.ALERTING: PartyState.RINGING,
    LocalConnectionState.CONNECTED: PartyState.ESTABLISHED,
    LocalConnectionState.HOLD: PartyState.HELD,
    LocalConnectionState.QUEUED: PartyState.QUEUED,
    LocalConnectionState.FAIL: PartyState.FAILED,
}
# The change a client sees for one of our parties found in a state after an outage.
_RESYNCED: Mapping[PartyState, type[PartyChange]] = {
    PartyState.DIALING: PartyDialed,
    PartyState.RINGING: PartyRang,
    PartyState.ESTABLISHED: PartyEstablished,
    PartyState.HELD: PartyHeld,
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


_WORK_MODES = {
    AgentStatus.NOT_READY: AgentWorkMode.AUX_WORK,
    AgentStatus.AFTER_CALL_WORK: AgentWorkMode.AFTER_CALL_WORK,
}


def resync_agents(state: State, agents: Mapping[DeviceId, SnapshotAgent | None]) -> None:
    """Bring the agents of the DNs in *agents* to the switch's report (None: nobody)."""
    for dn, reported in agents.items():
        known = state.agent(dn)
        if known is not None and (reported is None or reported.agent_id != known.agent_id):
            state.emit(AgentChanged(dn=dn, agent=known, what=AgentEvent.LOGGED_OUT))
            known = None
        if reported is None:
            continue
        if known is None:  # logged in as ManualIn (as on_logged_on has it): not ready yet
            known = Agent(reported.agent_id, reported.queue, work_mode=AgentWorkMode.MANUAL_IN)
            state.emit(AgentChanged(dn=dn, agent=known, what=AgentEvent.LOGGED_IN))
        elif known.status is reported.status:
            continue
        work_mode = _WORK_MODES.get(reported.status, known.ready_mode)
        agent = replace(known, status=reported.status, work_mode=work_mode)
        what = AgentEvent.READY if reported.status is AgentStatus.READY else AgentEvent.NOT_READY
        state.emit(AgentChanged(dn=dn, agent=agent, what=what))


def resync(
    state: State,
    snapshot: Mapping[CallId, Iterable[SnapshotParty]],
    scope: Collection[DeviceId] | None,
) -> None:
    """Bring *state* to *snapshot* for the calls at the DNs of *scope* (None: all)."""
    for call in state.calls:
        parties = state.parties(call.conn_id)
        in_scope = scope is None or any(dn in scope for dn in parties)
        if in_scope and call.call_id not in snapshot:
            _release_all(state, call)
    for call_id, listed in snapshot.items():
        _resync_call(state, call_id, list(listed))


def _release_all(state: State, call: Call) -> None:
    for party in list(state.parties(call.conn_id).values()):
        if state.is_ours(party.dn):
            leave(state, PartyReleased(call=call, party=party))
        else:
            remove(state, call, party)


def _resync_call(state: State, call_id: CallId, listed: list[SnapshotParty]) -> None:
    alerting = {p.device for p in listed if p.state is LocalConnectionState.ALERTING}
    existing = state.call_by_call_id(call_id)
    calling = existing.calling if existing else None
    if calling is None and alerting:
        calling = next((p.device for p in listed if p.device not in alerting), None)
    call = call_for(state, call_id, calling=calling)
    called = call.called
    if called is None and (call.calling or calling) is not None:
        caller = call.calling or calling
        called = next((p.device for p in listed if p.device != caller), None)
    call = commit(state, call, described(call, calling, called))
    for item in listed:
        _resync_party(state, call, item, has_alerting=bool(alerting))
    listed_devices = {p.device for p in listed}
    for party in list(state.parties(call.conn_id).values()):
        if party.dn not in listed_devices:
            if state.is_ours(party.dn):
                leave(state, PartyReleased(call=call, party=party))
            else:
                remove(state, call, party)


def _resync_party(state: State, call: Call, listed: SnapshotParty, *, has_alerting: bool) -> None:
    now = SNAPSHOT_STATES.get(listed.state or LocalConnectionState.NULL)
    if now is None:
        return
    if now is PartyState.ESTABLISHED and has_alerting and listed.device == call.calling:
        now = PartyState.DIALING
    party = state.party(listed.device, call.conn_id)
    if party is not None and party.state is now:
        return
    call = arrived(state, call, listed.device)
    role = DNRole.ORIGINATION if listed.device == call.calling else DNRole.DESTINATION
    party = Party(listed.device, now, role) if party is None else party.changed(state=now)
    if party.other_dn is None:
        other = call.calling if listed.device != call.calling else call.called
        party = party.changed(other_dn=other)
    change = _RESYNCED.get(now) if state.is_ours(party.dn) else None
    state.emit((change or PartyNoted)(call=call, party=party))
