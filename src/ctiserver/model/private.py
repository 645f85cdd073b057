"""The switch's private features as the model sees them (call-models.md § 13,
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctiserver.csta.call_information import CallInformationEvent, account_code_text
from ctiserver.csta.escape import PrivateEvent
from ctiserver.csta.types import PrivateData
from ctiserver.csta.voice import RecordEvent, StopEvent, SuspendRecordEvent
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.changes import (
    AccountCodeEntered,
    Change,
    GuestAssociation,
    RecordingChanged,
    RecordingEvent,
)

if TYPE_CHECKING:
    from ctiserver.model.model import Model

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Recording:
    key: str  # in model.recordings: the message id, or dn@callID when the switch gives none
    message: str  # the switch's message id ("" when it gives none)
    dn: DeviceId
    conn_id: ConnId
    suspended: bool = False


# --- hot desking -------------------------------------------------------------------------


def on_private_event(model: Model, dn: DeviceId, event: PrivateEvent) -> list[Change]:
    element = event.private_data.find("guestAssociatedEvent") if event.private_data else None
    if element is None:
        log.info("a private event on %s that the server does not use", dn)
        return []
    guest = DeviceId(element.child_text("guest") or "")
    if guest != dn:  # the copy on the host's monitor: the guest's copy tells
        return []
    host = DeviceId(element.child_text("host") or "")
    if element.child_text("associated") == "true":
        model.hosts[guest] = host
        return [GuestAssociation(guest=guest, host=host, associated=True)]
    host = model.hosts.pop(guest, host)
    return [GuestAssociation(guest=guest, host=host, associated=False)]


def learn_host(model: Model, dn: DeviceId, private: PrivateData) -> None:
    """Every event on a guest's monitor names its host: the association, if missed."""
    host = private.find("hostDevice")
    if host is not None and host.text and model.hosts.get(dn) != host.text:
        model.hosts[dn] = DeviceId(host.text)


# --- call recording ----------------------------------------------------------------------


def _recorded(model: Model, dn: DeviceId, event: Any) -> tuple[Recording | None, ConnId | None]:
    """The recording an event names, and the ConnID of its call now (if we know it)."""
    call = model.call_by_call_id(event.connection.call_id)
    conn_id = call.conn_id if call is not None else None
    recording = model.recordings.get(_key(dn, event))
    if recording is not None and conn_id is not None:
        recording.conn_id = conn_id  # a transfer may have moved it to another call
    return recording, conn_id


def _key(dn: DeviceId, event: Any) -> str:
    """The recording's key: the switch's message id, or the connection when it gives none."""
    return str(event.message or f"{dn}@{event.connection.call_id}")


def _new(dn: DeviceId, event: Any, conn_id: ConnId) -> Recording:
    return Recording(_key(dn, event), str(event.message), dn, conn_id)


def _ours(dn: DeviceId, event: Any) -> bool:
    return bool(event.connection.device_id == dn)


def _changed(recording: Recording, what: RecordingEvent) -> list[Change]:
    return [
        RecordingChanged(
            dn=recording.dn, conn_id=recording.conn_id, message=recording.message, what=what
        )
    ]


def on_record(model: Model, dn: DeviceId, event: RecordEvent) -> list[Change]:
    if not _ours(dn, event):
        return []
    recording, conn_id = _recorded(model, dn, event)
    if recording is not None:
        if not recording.suspended:
            return []
        recording.suspended = False
        return _changed(recording, RecordingEvent.RESUMED)
    if conn_id is None:
        log.info("a recording at %s of call %s, which is not known", dn, event.connection.call_id)
        return []
    recording = _new(dn, event, conn_id)
    model.recordings[recording.key] = recording
    return _changed(recording, RecordingEvent.STARTED)


def on_suspend(model: Model, dn: DeviceId, event: SuspendRecordEvent) -> list[Change]:
    if not _ours(dn, event):
        return []
    recording, _conn_id = _recorded(model, dn, event)
    if recording is None or recording.suspended:
        return []
    recording.suspended = True
    return _changed(recording, RecordingEvent.SUSPENDED)


def on_stop(model: Model, dn: DeviceId, event: StopEvent) -> list[Change]:
    if not _ours(dn, event):
        return []
    recording, conn_id = _recorded(model, dn, event)
    if recording is None:
        if conn_id is None:
            return []
        recording = _new(dn, event, conn_id)  # begun before we looked
    model.recordings.pop(recording.key, None)
    return _changed(recording, RecordingEvent.STOPPED)


# --- account codes -----------------------------------------------------------------------


def on_call_information(model: Model, dn: DeviceId, event: CallInformationEvent) -> list[Change]:
    code = account_code_text(event.account_info) if event.account_info else None
    call = model.call_by_call_id(event.connection.call_id)
    if not code or call is None:
        return []
    device = DeviceId(event.device or event.connection.device_id)
    ours = [d for d in call.parties if model.is_ours(d)]
    teller = device if device in ours else (ours[0] if ours else None)
    if dn != teller:
        return []
    call.account_code = code
    return [AccountCodeEntered(call=call, dn=device, code=code)]


HANDLERS: dict[type, Any] = {
    PrivateEvent: on_private_event,
    RecordEvent: on_record,
    SuspendRecordEvent: on_suspend,
    StopEvent: on_stop,
    CallInformationEvent: on_call_information,
}
