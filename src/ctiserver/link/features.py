"""What the link asks the switch of its stations' features when it resynchronises
(docs/protocol.md, DN features): GetDoNotDisturb, GetForwarding and
GetMessageWaitingIndicator per station, read into the model's DnFeatures.

A station whose three answers did not all come (the switch does not offer the services,
or one failed) is left out, not taken as having nothing set.  Being out of service has
no Get service: the model keeps what the switch last reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ctiserver.csta.logical_device import (
    GetDoNotDisturb,
    GetDoNotDisturbResponse,
    GetForwarding,
    GetForwardingResponse,
    GetMessageWaitingIndicator,
    GetMessageWaitingIndicatorResponse,
)
from ctiserver.csta.schema import Request, Response
from ctiserver.ids import DeviceId
from ctiserver.model.values import DnFeatures

FeatureSnapshot = Mapping[DeviceId, DnFeatures]


def requests_for(stations: Sequence[DeviceId]) -> list[Request]:
    """The three Get services of each station, station after station."""
    return [
        request
        for dn in stations
        for request in (
            GetDoNotDisturb(device=dn),
            GetForwarding(device=dn),
            GetMessageWaitingIndicator(device=dn),
        )
    ]


def features_of(
    stations: Sequence[DeviceId], replies: Sequence[Response | BaseException]
) -> dict[DeviceId, DnFeatures]:
    """The features the replies to requests_for(*stations*) tell, by station."""
    found: dict[DeviceId, DnFeatures] = {}
    for index, dn in enumerate(stations):
        dnd, forwarding, waiting = replies[3 * index : 3 * index + 3]
        if (
            isinstance(dnd, GetDoNotDisturbResponse)
            and isinstance(forwarding, GetForwardingResponse)
            and isinstance(waiting, GetMessageWaitingIndicatorResponse)
        ):
            forwards = {
                item.forwarding_type.value: item.forward_dn
                for item in forwarding.forwarding_list
                if item.forward_status and item.forwarding_type and item.forward_dn
            }
            found[dn] = DnFeatures(
                dnd=dnd.do_not_disturb_on,
                forwarding=forwards,
                message_waiting=waiting.message_waiting_on,
            )
    return found
