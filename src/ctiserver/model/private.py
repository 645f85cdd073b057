"""The switch's private features as the model sees them (docs/private-services.md,
docs/pbxsim.md § 8): hot-desking associations, call recordings and account codes.

    PrivateEvent guestAssociatedEvent     a guest DN associated with a host device, or not
    `hostDevice` in any event's private data on a guest's monitor: the same, learnt late
    RecordEvent / SuspendRecordEvent / StopEvent   a recording started (or resumed),
                                          was suspended, stopped
    CallInformationEvent (accountInfo)    an account code was set on a call

A recording is known by its message id and keeps the ConnID of its call, so that its
end is reported with it even when the switch stops it after the call has gone.  The
standard has no resume event: a RecordEvent for a suspended recording is its resumption.
Only the copy of an event on the recording device's own monitor counts (model rule 1);
an account code counts once, on the monitor of the DN that entered it (or, when that
device is not ours, of the first of our DNs in the call).
"""

from __future__ import annotations

import logging
from typing import Protocol

from ctiserver.csta.call_information import CallInformationEvent, account_code_text
from ctiserver.csta.escape import PrivateEvent
from ctiserver.csta.types import ConnectionID, PrivateData
from ctiserver.csta.voice import RecordEvent, StopEvent, SuspendRecordEvent
from ctiserver.ids import ConnId, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    AccountCodeEntered,
    GuestAssociation,
    RecordingChanged,
    RecordingEvent,
)
from ctiserver.model.state import State
from ctiserver.model.values import Recording

log = logging.getLogger(__name__)


class RecordingReport(Protocol):
    """What the switch's recording events have in common."""

    @property
    def connection(self) -> ConnectionID: ...

    @property
    def message(self) -> str | None: ...


# --- hot desking -------------------------------------------------------------------------


def on_private_event(state: State, dn: DeviceId, event: PrivateEvent) -> None:
    element = event.private_data.find("guestAssociatedEvent") if event.private_data else None
    if element is None:
        log.info("a private event on %s that the server does not use", dn)
        return
    guest = DeviceId(element.child_text("guest") or "")
    if guest != dn:  # the copy on the host's monitor: the guest's copy tells
        return
    host = DeviceId(element.child_text("host") or "")
    if element.child_text("associated") == "true":
        state.emit(GuestAssociation(guest=guest, host=host, associated=True))
        return
    host = state.host_of(guest) or host
    state.emit(GuestAssociation(guest=guest, host=host, associated=False))


def learn_host(state: State, dn: DeviceId, private: PrivateData) -> None:
    """Every event on a guest's monitor names its host: the association, if missed."""
    host = private.find("hostDevice")
    if host is not None and host.text and state.host_of(dn) != host.text:
        host_dn = DeviceId(host.text)
        state.emit(GuestAssociation(guest=dn, host=host_dn, associated=True, learnt=True))


# --- call recording ----------------------------------------------------------------------


def _recorded(
    state: State, dn: DeviceId, event: RecordingReport
) -> tuple[Recording | None, ConnId | None]:
    """The recording an event names (following its call, which a transfer may have
    changed), and the ConnID of its call now, if the server knows it."""
    call = state.call_by_call_id(event.connection.call_id)
    conn_id = call.conn_id if call is not None else None
    recording = state.recording(_key(dn, event))
    if recording is not None and conn_id is not None and recording.conn_id != conn_id:
        recording = replace(recording, conn_id=conn_id)
    return recording, conn_id


def _key(dn: DeviceId, event: RecordingReport) -> str:
    """The recording's key: the switch's message id, or the connection when it gives none."""
    return str(event.message or f"{dn}@{event.connection.call_id}")


def _new(dn: DeviceId, event: RecordingReport, conn_id: ConnId) -> Recording:
    return Recording(_key(dn, event), str(event.message or ""), dn, conn_id)


def _ours(dn: DeviceId, event: RecordingReport) -> bool:
    return bool(event.connection.device_id == dn)


def on_record(state: State, dn: DeviceId, event: RecordEvent) -> None:
    if not _ours(dn, event):
        return
    recording, conn_id = _recorded(state, dn, event)
    if recording is not None:
        if recording.suspended:
            resumed = replace(recording, suspended=False)
            state.emit(RecordingChanged(recording=resumed, what=RecordingEvent.RESUMED))
        return
    if conn_id is None:
        log.info("a recording at %s of call %s, which is not known", dn, event.connection.call_id)
        return
    state.emit(RecordingChanged(recording=_new(dn, event, conn_id), what=RecordingEvent.STARTED))


def on_suspend(state: State, dn: DeviceId, event: SuspendRecordEvent) -> None:
    if not _ours(dn, event):
        return
    recording, _conn_id = _recorded(state, dn, event)
    if recording is None or recording.suspended:
        return
    suspended = replace(recording, suspended=True)
    state.emit(RecordingChanged(recording=suspended, what=RecordingEvent.SUSPENDED))


def on_stop(state: State, dn: DeviceId, event: StopEvent) -> None:
    if not _ours(dn, event):
        return
    recording, conn_id = _recorded(state, dn, event)
    if recording is None:
        if conn_id is None:
            return
        recording = _new(dn, event, conn_id)  # begun before we looked
    state.emit(RecordingChanged(recording=recording, what=RecordingEvent.STOPPED))


# --- account codes -----------------------------------------------------------------------


def on_call_information(state: State, dn: DeviceId, event: CallInformationEvent) -> None:
    code = account_code_text(event.account_info) if event.account_info else None
    call = state.call_by_call_id(event.connection.call_id)
    if not code or call is None:
        return
    device = DeviceId(event.device or event.connection.device_id)
    ours = [d for d in state.parties(call.conn_id) if state.is_ours(d)]
    teller = device if device in ours else (ours[0] if ours else None)
    if dn != teller:
        return
    call = replace(call, account_code=code)
    state.emit(AccountCodeEntered(call=call, dn=device, code=code))
