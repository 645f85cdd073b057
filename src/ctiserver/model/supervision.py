"""Supervision as the model sees it: supervisors' subscriptions to agents' calls, the
observers of a call, and what the switch reports of mute and listening.

- A subscription (Monitoring) and a call's observers (Call.observers: supervisor ->
  MonitorMode) are set by the T-Server's commands (`monitor`, `observe`); the model
  reads the observers when the supervisor's device joins the call (model.connections:
  role Observer, CallState Bridged).
- MicrophoneMuteEvent and SpeakerMuteEvent (ECMA-269 physical device events) are about a
  device, not a call: they apply to each call the device is talking in.
- A PrivateEvent `participationChanged` (docs/pbxsim.md § 4.15) is an observer taking
  part otherwise: its MonitorMode changes (mute: silent; connect: active; coach).
"""

from __future__ import annotations

from typing import Final

from ctiserver.csta.audio import MicrophoneMuteEvent, SpeakerMuteEvent
from ctiserver.csta.escape import PrivateEvent
from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model import private
from ctiserver.model.changes import ListenChanged, MonitoringChanged, MuteChanged
from ctiserver.model.moves import commit
from ctiserver.model.state import State
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call, Monitoring, Observation

PARTICIPATION_CHANGED: Final = "participationChanged"
# MonitorMode as a participation at the switch, and back.
PARTICIPATION: Final = {"mute": "silent", "connect": "active", "coach": "coach"}
MODE_OF: Final = {participation: mode for mode, participation in PARTICIPATION.items()}
_TALKING = (PartyState.ESTABLISHED, PartyState.DIALING, PartyState.HELD)


def monitor(state: State, monitoring: Monitoring, *, active: bool) -> None:
    """A supervisor's subscription starts (or, not *active*, ends)."""
    known = state.monitorings.get(monitoring.supervisor)
    if active or known is not None:
        state.emit(MonitoringChanged(monitoring=known or monitoring, active=active))


def observe(
    state: State, conn_id: ConnId, supervisor: DeviceId, observation: Observation | None
) -> None:
    """*supervisor* joins call *conn_id* as an observer (None: no longer)."""
    call = state.call(conn_id)
    if call is None:
        return
    observers = {dn: o for dn, o in call.observers.items() if dn != supervisor}
    if observation is not None:
        observers[supervisor] = observation
    if observers != call.observers:
        commit(state, call, replace(call, observers=observers))


def _talking_calls(state: State, dn: DeviceId) -> list[Call]:
    calls = []
    for call in state.calls_at(dn):
        party = state.party(dn, call.conn_id)
        if party is not None and party.present and party.state in _TALKING:
            calls.append(call)
    return calls


def on_microphone_mute(state: State, dn: DeviceId, event: MicrophoneMuteEvent) -> None:
    if event.invoking_device != dn:
        return
    for call in _talking_calls(state, dn):
        state.emit(MuteChanged(call=call, dn=dn, muted=event.microphone_mute_on))


def on_speaker_mute(state: State, dn: DeviceId, event: SpeakerMuteEvent) -> None:
    if event.invoking_device != dn:
        return
    for call in _talking_calls(state, dn):
        state.emit(ListenChanged(call=call, dn=dn, listening=not event.speaker_mute_on))


def on_private_event(state: State, dn: DeviceId, event: PrivateEvent) -> None:
    """An observer's participation changed; other private events are model.private's."""
    data = event.private_data
    found = data.find(PARTICIPATION_CHANGED) if data is not None else None
    if found is None:
        private.on_private_event(state, dn, event)
        return
    device = DeviceId(found.child_text("device") or "")
    call = state.call_by_call_id(CallId(found.child_text("call") or ""))
    mode = MODE_OF.get(found.child_text("type") or "")
    if device != dn or call is None or mode is None or device not in call.observers:
        return
    was = call.observers[device]
    if was.mode != mode:
        observers = {**call.observers, device: replace(was, mode=mode)}
        call = commit(state, call, replace(call, observers=observers))
    # Genesys: MuteOn goes to mute, or from connect to coach; MuteOff to connect, or
    # from mute to coach.
    muted = mode == "mute" or (mode == "coach" and was.mode == "connect")
    state.emit(MuteChanged(call=call, dn=dn, muted=muted, mode=mode))
