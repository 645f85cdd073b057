"""docs/pbxsim.md § 5: SnapshotDevice and SnapshotCall."""

from __future__ import annotations

from ctiserver.csta.call_control import ConsultationCall
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.system import (
    SnapshotCall,
    SnapshotCallResponse,
    SnapshotDevice,
    SnapshotDeviceResponse,
)
from ctiserver.csta.types import (
    ConnectionID,
    SnapshotCallResponseInfo,
    SnapshotDeviceResponseInfo,
)
from ctiserver.ids import CallId, DeviceId

from .rig import C, Rig, error
from .test_call_control import established


def test_snapshot_device_lists_every_call_at_the_device(rig: Rig) -> None:
    established(rig)
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7003"))
    outcome = rig.send(SnapshotDevice(snapshot_object=DeviceId("7002")))
    assert outcome.response == SnapshotDeviceResponse(
        snapshot_data=(
            SnapshotDeviceResponseInfo(connection_identifier=C(1, "7002"), local_call_state=S.HOLD),
            SnapshotDeviceResponseInfo(
                connection_identifier=C(2, "7002"), local_call_state=S.CONNECTED
            ),
        )
    )
    idle = rig.send(SnapshotDevice(snapshot_object=DeviceId("7005")))
    assert idle.response == SnapshotDeviceResponse()
    unknown = rig.send(SnapshotDevice(snapshot_object=DeviceId("6000")))
    assert unknown.response == error(Cat.OPERATION, "invalidDeviceID")


def test_snapshot_call_lists_every_party(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(SnapshotCall(snapshot_object=ConnectionID(call_id=CallId("1"))))
    assert outcome.response == SnapshotCallResponse(
        snapshot_data=tuple(
            SnapshotCallResponseInfo(
                device_on_call=DeviceId(device),
                call_identifier=C(1, device),
                local_connection_state=S.CONNECTED,
            )
            for device in ("7001", "7002")
        )
    )
    unknown = rig.send(SnapshotCall(snapshot_object=ConnectionID(call_id=CallId("2"))))
    assert unknown.response == error(Cat.OPERATION, "invalidCallID")
