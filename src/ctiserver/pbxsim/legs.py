"""Trunk legs as calls see them (docs/pbxsim.md § 9): a call leaving on a trunk, and the
far end's connection leaving a call.

A trunk leg is the far end of a call, across a trunk link.  In the call it is a
connection whose deviceID is "NUMBER@ID" (ID is the leg's network call id) and whose
number is what this end knows the far end by: the digits dialled here for a leg that
went out, the caller's ANI for a leg that came in.  The far end's progress comes back
as trunk messages (ctiserver.pbxsim.trunk_links).

Rule: a leg is in SwitchState.legs until it ends; a message about a leg that is not
there any more is stale and ignored, so removing the leg first is how one end avoids
echoing a release back to the end that sent it.
"""

from __future__ import annotations

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import NetworkReachedEvent
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import private
from ctiserver.pbxsim.calls import Call, Connection, Leg
from ctiserver.pbxsim.config import Trunk
from ctiserver.pbxsim.outcome import TrunkLinkId
from ctiserver.pbxsim.state import UNADDRESSED, Context, SwitchState
from ctiserver.pbxsim.trunk_protocol import Release, Setup


def link_for(state: SwitchState, trunk: str) -> TrunkLinkId | None:
    """The link a call on *trunk* goes out on: the oldest that is up, if any."""
    return next((link.link_id for link in state.trunk_links.values() if link.trunk == trunk), None)


def reachable(state: SwitchState, number: DeviceId) -> bool | None:
    """Whether *number* can be dialled on a trunk now; None if it is no trunk's number."""
    route = state.directory.trunk_route(number)
    if route is None:
        return None
    return link_for(state, route[0].name) is not None


def far_end_id(number: str, network_call_id: str) -> DeviceId:
    """The deviceID of a trunk leg's far end: never a number of this switch."""
    return DeviceId(f"{number}@{network_call_id}")


def dial_out(
    ctx: Context,
    call: Call,
    arrival: Connection,
    trunk: Trunk,
    link: TrunkLinkId,
    far_number: DeviceId,
    cause: EventCause,
) -> None:
    """Send *call* out on *trunk* to *far_number*: the far end joins in `initiated`.

    *arrival* says how the call came to the dialled number (calling, called, …).
    """
    assert arrival.calling is not None
    network_call_id = f"{ctx.state.config.name}-{ctx.state.new_id('network-call')}"
    if not call.network_call_id:
        call.network_call_id = network_call_id
    dialled = arrival.device
    far_end = far_end_id(dialled, network_call_id)
    leg = Leg(link, network_call_id, call.call_id, far_end, outbound=True, cause=cause)
    ctx.state.legs[network_call_id] = leg
    arrival.device, arrival.number, arrival.leg = far_end, dialled, leg
    arrival.state = LocalConnectionState.INITIATED
    call.add(arrival)
    elements = [private.leaf("networkCallID", network_call_id)]
    if call.uui:
        elements.append(private.leaf("uui", call.uui))
    event = NetworkReachedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        outbound_connection=call.id_of(far_end),
        network_interface_used=DeviceId(trunk.name),
        calling_device=arrival.calling,
        called_device=dialled,
        cause=cause,
    )
    ctx.publish(call, private.with_elements(event, ctx.state.config.private_namespace, elements))
    setup = Setup(
        call=network_call_id,
        ani=trunk.ani_prefix + arrival.calling,
        dnis=far_number,
        dialled=dialled,
        uui=call.uui,
    )
    ctx.trunk_send(link, setup)


def left(ctx: Context, connection: Connection) -> None:
    """*connection* left its call: if it is a leg's far end, the far end is released."""
    leg = connection.leg
    if leg is not None and ctx.state.legs.get(leg.network_call_id) is leg:
        del ctx.state.legs[leg.network_call_id]
        ctx.trunk_send(
            leg.link, Release(call=leg.network_call_id, cause=EventCause.NORMAL_CLEARING)
        )
