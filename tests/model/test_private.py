"""The model's side of the private features (model.private): private data of another
namespace is not read, hot-desking associations, recordings that outlive their call,
and account codes counted once."""

from __future__ import annotations

import dataclasses

from ctiserver.csta.call_information import CallInformationEvent, account_code_hex
from ctiserver.csta.escape import PrivateEvent
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.csta.voice import RecordEvent, StopEvent, SuspendRecordEvent
from ctiserver.ids import ConnIdAllocator, DeviceId
from ctiserver.model.changes import (
    AccountCodeEntered,
    GuestAssociation,
    RecordingChanged,
    RecordingEvent,
)
from ctiserver.model.model import PRIVATE_NAMESPACE, Model
from ctiserver.model.states import DnKind
from ctiserver.model.values import Recording
from tests.model.events import X, c, call_cleared, delivered, established, initiated, originated

A, B, G, H = DeviceId("7001"), DeviceId("7002"), DeviceId("7005"), DeviceId("7006")


def model() -> Model:
    dns = {dn: DnKind.EXTENSION for dn in (A, B, G, H)}
    return Model(dns=dns, conn_ids=ConnIdAllocator(0x1234))


def private(*elements: PrivateElement, namespace: str = PRIVATE_NAMESPACE) -> PrivateData:
    return PrivateData(namespace, elements)


def talk(model: Model, call: str = "1") -> None:
    model.apply(A, initiated(call, A))
    model.apply(A, originated(call, A, B))
    model.apply(B, delivered(call, A, B))
    model.apply(B, established(call, A, B))
    model.apply(A, established(call, A, B))


def test_private_data_of_another_namespace_is_not_read() -> None:
    m = model()
    m.apply(A, initiated("1", A))
    m.apply(A, originated("1", A, B))
    foreign = private(PrivateElement("uui", "x"), namespace="urn:someone:else")
    m.apply(B, dataclasses.replace(delivered("1", A, B), private_data=foreign))
    [call] = m.calls
    assert call.uui == ""
    ours = private(PrivateElement("uui", "y"))
    m.apply(B, dataclasses.replace(established("1", A, B), private_data=ours))
    [call] = m.calls
    assert call.uui == "y"


def association(guest: str, host: str, associated: bool) -> PrivateEvent:
    children = (
        PrivateElement("guest", guest),
        PrivateElement("host", host),
        PrivateElement("associated", "true" if associated else "false"),
    )
    data = private(PrivateElement("guestAssociatedEvent", children=children))
    return PrivateEvent(monitor_cross_ref_id=X, private_data=data)


def test_an_association_is_told_once_by_the_guest_copy() -> None:
    m = model()
    assert m.apply(H, association(G, H, True)) == []  # the host's copy
    assert m.apply(G, association(G, H, True)) == [
        GuestAssociation(guest=G, host=H, associated=True)
    ]
    assert m.host_of(G) == H
    assert m.apply(G, association(G, "", False)) == [
        GuestAssociation(guest=G, host=H, associated=False)
    ]
    assert m.host_of(G) is None


def test_a_guest_is_learnt_from_the_host_device_on_its_events() -> None:
    m = model()
    m.apply(A, initiated("1", A))
    m.apply(A, originated("1", A, G))
    host = private(PrivateElement("hostDevice", H))
    m.apply(G, dataclasses.replace(delivered("1", A, G), private_data=host))
    assert m.host_of(G) == H
    assert m.guests_of(H) == [G]


def test_a_recording_stopped_after_its_call_ended_keeps_its_conn_id() -> None:
    m = model()
    talk(m)
    [call] = m.calls
    assert m.apply(B, RecordEvent(monitor_cross_ref_id=X, connection=c("1", A), message="7")) == []
    started = m.apply(A, RecordEvent(monitor_cross_ref_id=X, connection=c("1", A), message="7"))
    recording = Recording(key="7", message="7", dn=A, conn_id=call.conn_id)
    assert started == [RecordingChanged(recording=recording, what=RecordingEvent.STARTED)]
    suspended = m.apply(A, SuspendRecordEvent(monitor_cross_ref_id=X, connection=c("1", A)))
    assert suspended == []  # no message id: not this recording's key
    m.apply(A, SuspendRecordEvent(monitor_cross_ref_id=X, connection=c("1", A), message="7"))
    resumed = m.apply(A, RecordEvent(monitor_cross_ref_id=X, connection=c("1", A), message="7"))
    assert [change.what for change in resumed] == [RecordingEvent.RESUMED]  # type: ignore[union-attr]
    for dn in (A, B):
        m.apply(dn, call_cleared("1"))
    assert m.calls == []
    stopped = m.apply(A, StopEvent(monitor_cross_ref_id=X, connection=c("1", A), message="7"))
    assert stopped == [RecordingChanged(recording=recording, what=RecordingEvent.STOPPED)]
    assert m.recording("7") is None


def test_an_account_code_counts_once() -> None:
    m = model()
    talk(m)
    [call] = m.calls
    event = CallInformationEvent(
        monitor_cross_ref_id=X, connection=c("1", B), device=B, account_info=account_code_hex("42")
    )
    assert m.apply(A, event) == []  # the copy on A's monitor: B entered it
    coded = dataclasses.replace(call, account_code="42")
    assert m.apply(B, event) == [AccountCodeEntered(call=coded, dn=B, code="42")]
    assert m.call(call.conn_id) == coded
    garbage = dataclasses.replace(event, account_info="zz")
    assert m.apply(B, garbage) == []
