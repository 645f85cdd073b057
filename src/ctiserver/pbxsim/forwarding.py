"""Forwarding on no answer (docs/pbxsim.md § 4.14): a call that rings at a station that
forwards unanswered calls for `no_answer_time` seconds goes on to the destination.

The station's connection is diverted (DivertedEvent, cause callForwardNoAnswer) and the
call offered to the destination as forwarded from the station.  A call answered,
cleared or moved on before the time is left alone: the timer then finds nothing.
"""

from __future__ import annotations

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import delivery, features
from ctiserver.pbxsim.state import Context


def unanswered(ctx: Context, key: str) -> None:
    """The no-answer time of a call at a station is over."""
    call_id, _, station = key.partition("@")
    call = ctx.state.calls.get(CallId(call_id))
    connection = call.connections.get(DeviceId(station)) if call is not None else None
    destination = features.no_answer_destination(ctx.state, DeviceId(station))
    if call is None or connection is None or destination is None:
        return
    if connection.state is not LocalConnectionState.ALERTING or connection.calling is None:
        return
    if destination == connection.calling:  # never back to the caller: it rings on
        return
    cause = EventCause.CALL_FORWARD_NO_ANSWER
    calling, called = connection.calling, connection.called or connection.device
    delivery.divert(ctx, call, connection.device, destination, cause)
    delivery.offer(
        ctx,
        call,
        destination,
        calling=calling,
        called=called,
        cause=cause,
        redirected_from=connection.device,
    )
