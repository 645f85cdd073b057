"""How a device that joined a call takes part in it (docs/pbxsim.md § 4.15): joining
with SingleStepConferenceCall's participationType (ECMA-269: active or silent), and
changing it while in the call.

A silent party hears the call and is heard by nobody (a supervisor's silent monitoring);
a coach is heard by one device of the call alone (whisper coaching), which ECMA-269 has
no value for: SingleStepConferenceCall carries `<coach>true</coach>` in its private data,
and the party coaches the device whose connection the request named.  ECMA-269 has no
service to change a connection's participation either: the Escape service carries
`<participation><device>D</device><call>C</call><type>active|silent|coach</type>
<coached>E</coached></participation>`, answered by EscapeResponse and a PrivateEvent
`<participationChanged>` (same children) to D's monitors.  Escape carries hot desking
too (pbxsim.hot_desking); anything else is refused.
"""

from __future__ import annotations

from typing import Final

from ctiserver.csta.call_control import ParticipationType, SingleStepConferenceCall
from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.escape import Escape, EscapeResponse, PrivateEvent
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import hot_desking, private
from ctiserver.pbxsim.calls import Call, Connection
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context

_OPERATION = ErrorCategory.OPERATION
_REQUEST: Final = "participation"
_EVENT: Final = "participationChanged"
COACH: Final = "coach"
PARTICIPATIONS: Final = ("active", "silent", COACH)


def joining(ctx: Context, request: SingleStepConferenceCall) -> tuple[str, EventCause]:
    """How the device of *request* will take part, and the cause of its events: a
    party that is not heard by all joins as silentParticipation."""
    namespace = ctx.state.config.private_namespace
    if private.text(request.private_data, namespace, COACH) == "true":
        return COACH, EventCause.SILENT_PARTICIPATION
    if request.participation_type is ParticipationType.SILENT:
        return "silent", EventCause.SILENT_PARTICIPATION
    return "active", EventCause.SINGLE_STEP_CONFERENCE


def joined(call: Call, device: DeviceId, participation: str, coached: DeviceId) -> None:
    """The device that joined *call* takes part as *participation* says."""
    connection = call.connections.get(device)
    if connection is not None:
        connection.participation = participation
        connection.coached = coached if participation == COACH else None


def escape(ctx: Context, request: Escape) -> None:
    namespace = ctx.state.config.private_namespace
    found = private.element(request.private_data, namespace, _REQUEST)
    if found is None:
        hot_desking.escape(ctx, request)
        return
    device = DeviceId(found.child_text("device") or "")
    target = ConnectionID(CallId(found.child_text("call") or ""), device)
    call, connection = ctx.state.connection(target)
    participation = found.child_text("type") or ""
    if participation not in PARTICIPATIONS:
        raise Refused(_OPERATION, "invalidParticipationType")
    coached = DeviceId(found.child_text("coached") or "")
    if participation == COACH and coached not in call.connections:
        raise Refused(_OPERATION, "invalidDeviceID")
    ctx.reply(EscapeResponse())
    connection.participation = participation
    connection.coached = coached if participation == COACH else None
    _announce(ctx, call, connection)


def _announce(ctx: Context, call: Call, connection: Connection) -> None:
    children = [
        PrivateElement("device", connection.device),
        PrivateElement("call", call.call_id),
        PrivateElement("type", connection.participation),
    ]
    if connection.coached is not None:
        children.append(PrivateElement("coached", connection.coached))
    namespace = ctx.state.config.private_namespace
    data = PrivateData(namespace, (PrivateElement(_EVENT, children=tuple(children)),))
    event = PrivateEvent(monitor_cross_ref_id=UNADDRESSED, private_data=data)
    ctx.publish_device(connection.device, event, hosted=False)
