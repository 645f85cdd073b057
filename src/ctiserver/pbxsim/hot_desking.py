"""Hot desking (docs/pbxsim.md § 8.1): a guest number associated with a host's phone.

The Escape service carries it: `guestAssociatedExtension{guest, host, action}` in the
private namespace associates the guest G with the host H, or cancels that.  While
associated, G and H are one line (SwitchState.line): calls to G ring on H's phone but
stay G's connections, so G's monitors hear of them and H's do not, and every copy for a
monitor of G carries `hostDevice` (Context.publish_device).  Calls G already has when
the association is cancelled go on as G's.

Escape carries nothing else here: any other private request is refused.
"""

from __future__ import annotations

from typing import Final

from ctiserver.csta.escape import Escape, EscapeResponse, PrivateEvent
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import private
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context, SwitchState

_OPERATION = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
_REQUEST: Final = "guestAssociatedExtension"
_EVENT: Final = "guestAssociatedEvent"


def escape(ctx: Context, request: Escape) -> None:
    namespace = ctx.state.config.private_namespace
    found = private.element(request.private_data, namespace, _REQUEST)
    if found is None:
        raise Refused(_OPERATION, "privateDataNotSupported")
    guest = DeviceId(found.child_text("guest") or "")
    host = DeviceId(found.child_text("host") or "")
    match found.child_text("action"):
        case "associate":
            _check_association(ctx.state, guest, host)
            ctx.reply(EscapeResponse())
            ctx.state.hosts[guest] = host
            _announce(ctx, guest, host, associated=True)
        case "cancel":
            if not ctx.state.directory.is_station(guest):
                raise Refused(_OPERATION, "invalidDeviceID")
            if guest not in ctx.state.hosts:
                raise Refused(_STATE, "invalidObjectState")
            ctx.reply(EscapeResponse())
            _announce(ctx, guest, ctx.state.hosts.pop(guest), associated=False)
        case _:
            raise Refused(_OPERATION, "invalidParameterValue")


def _check_association(state: SwitchState, guest: DeviceId, host: DeviceId) -> None:
    if not state.directory.is_station(guest) or not state.directory.is_station(host):
        raise Refused(_OPERATION, "invalidDeviceID")
    if guest == host:
        raise Refused(_OPERATION, "notDifferentDevices")
    # One guest per host, one host per guest, no chains; and the guest has no calls.
    hosts = state.hosts
    if {guest, host} & (hosts.keys() | set(hosts.values())) or state.connections_at(guest):
        raise Refused(_STATE, "invalidDeviceState")


def _announce(ctx: Context, guest: DeviceId, host: DeviceId, *, associated: bool) -> None:
    """guestAssociatedEvent to the monitors of the guest, then of the host."""
    content = PrivateElement(
        _EVENT,
        children=(
            private.leaf("guest", guest),
            private.leaf("host", host),
            private.leaf("associated", "true" if associated else "false"),
        ),
    )
    data = PrivateData(ctx.state.config.private_namespace, (content,))
    event = PrivateEvent(monitor_cross_ref_id=UNADDRESSED, private_data=data)
    ctx.publish_device(guest, event, hosted=False)
    ctx.publish_device(host, event, hosted=False)
