"""Snapshot services (ECMA-269 § 16): the calls at a device, the parties of a call.

The data is always returned inline (snapshotData), never through a cross-reference id
and later events.  docs/pbxsim.md § 5.
"""

from __future__ import annotations

from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.system import (
    SnapshotCall,
    SnapshotCallResponse,
    SnapshotDevice,
    SnapshotDeviceResponse,
)
from ctiserver.csta.types import SnapshotCallResponseInfo, SnapshotDeviceResponseInfo
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import Context


def snapshot_device(ctx: Context, request: SnapshotDevice) -> None:
    device = request.snapshot_object
    if not ctx.state.directory.knows(device):
        raise Refused(ErrorCategory.OPERATION, "invalidDeviceID")
    data = tuple(
        SnapshotDeviceResponseInfo(
            connection_identifier=call.id_of(device), local_call_state=connection.state
        )
        for call, connection in ctx.state.connections_at(device)
    )
    ctx.reply(SnapshotDeviceResponse(snapshot_data=data))


def snapshot_call(ctx: Context, request: SnapshotCall) -> None:
    call = ctx.state.call(request.snapshot_object.call_id)
    data = tuple(
        SnapshotCallResponseInfo(
            device_on_call=connection.device,
            call_identifier=call.id_of(connection.device),
            local_connection_state=connection.state,
        )
        for connection in call.connections.values()
    )
    ctx.reply(SnapshotCallResponse(snapshot_data=data))
