"""What a station has set at the switch (docs/pbxsim.md § 4.14), as data: do not disturb,
forwarding by forwarding type, the message waiting lamp, and being out of service.
pbxsim.features sets them and says what calls meet."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctiserver.csta.logical_device import ForwardingType
from ctiserver.ids import DeviceId


@dataclass(slots=True, eq=False)
class StationFeatures:
    dnd: bool = False
    forwarding: dict[ForwardingType, DeviceId] = field(default_factory=dict)
    message_waiting: bool = False
    out_of_service: bool = False
