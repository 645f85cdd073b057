"""RequestMakePredictiveCall (docs/protocol.md, Predictive calls): the switch calls
OtherDN first and connects the call to ThisDN (an extension, an ACD queue or a routing
point) once it is answered, by ECMA-269 MakePredictiveCall (§ 17.1.14), its Timeout as
the alertTime.

The requester hears EventDialing at ThisDN (or EventDestinationBusy when OtherDN cannot
be reached at once).  What follows, for every party, comes from the switch's events:
EventEstablished at ThisDN when OtherDN answers, then EventRinging, EventQueued or
EventRouteRequest as the call is offered there; EventDestinationBusy and EventReleased
(CallState Busy, NoAnswer, …) when the switch gives up.  The roles (OtherDN the
Destination, ThisDN and the agent its queue or routing point gives the call to the
Origination) and the called party's EventPartyChanged when that agent answers are the
model's (model.connections, PredictiveCallMade).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ctiserver.csta.call_control import MakePredictiveCall
from ctiserver.ids import DeviceId
from ctiserver.tserver.checks import controlled_dn
from ctiserver.tserver.correlation import NEW, BindCall
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.port import Core, RequestContext

MAX_TIMEOUT: Final = 3600  # seconds OtherDN may ring (the switch's alertTime)
_REFUSALS: Final = {
    "invalidCallingDeviceID": "ThisDN cannot make predictive calls",
    "invalidCallingDeviceState": "ThisDN is busy",
    "invalidCalledDeviceID": "OtherDN cannot be called",
    "notDifferentDevices": "OtherDN is ThisDN",
    "invalidAlertTime": "the switch does not take that Timeout",
}


def make_predictive_call(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    timeout = ctx.message.get("Timeout")
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        raise InvalidAttribute(f"Timeout {timeout}: 1 to {MAX_TIMEOUT} seconds")
    request = MakePredictiveCall(
        calling_device=dn,
        called_directory_number=DeviceId(ctx.message["OtherDN"]),
        alert_time=timeout,
    )
    pending = core.pending(
        ctx,
        dn,
        [("EventDialing", NEW), ("EventDestinationBusy", NEW)],
        user_data=ctx.message.get("UserData"),
        on_confirm=BindCall("initiated_call"),
        explain=_REFUSALS,
    )
    core.to_switch(ctx, request, pending)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestMakePredictiveCall": make_predictive_call,
}
