"""The switch's numbering plan: what kind of device each number is, what may be dialled,
and which numbers leave on a trunk.

A station is one line: it is busy while it has a connection that is not held (see
SwitchState.busy).  ACD groups and routing devices hold any number of calls.  A number
that is not a device of this switch and begins with a trunk's prefix (the longest
that matches) is dialled on that trunk: the rest of it is the far switch's number.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from ctiserver.ids import DeviceId
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, RoutingPoint, Trunk

_DIALABLE: Final = re.compile(r"[0-9*#]+")


class DeviceKind(enum.Enum):
    STATION = "station"
    ACD_GROUP = "acdGroup"
    ROUTING_DEVICE = "routingDevice"


def dialable(number: str) -> bool:
    """Digits, `*` and `#` only, and at least one of them."""
    return _DIALABLE.fullmatch(number) is not None


class Directory:
    """Read-only view of the configured devices."""

    def __init__(self, config: PbxConfig) -> None:
        self._kinds: dict[DeviceId, DeviceKind] = {}
        for number in config.stations:
            self._kinds[DeviceId(number)] = DeviceKind.STATION
        for group in config.acd_groups:
            self._kinds[DeviceId(group.number)] = DeviceKind.ACD_GROUP
        for point in config.routing_points:
            self._kinds[DeviceId(point.number)] = DeviceKind.ROUTING_DEVICE
        self.acd_groups: dict[DeviceId, AcdGroup] = {
            DeviceId(group.number): group for group in config.acd_groups
        }
        self.routing_points: dict[DeviceId, RoutingPoint] = {
            DeviceId(point.number): point for point in config.routing_points
        }
        self.trunks: dict[str, Trunk] = {trunk.name: trunk for trunk in config.settings.trunks}
        self._by_prefix = sorted(config.settings.trunks, key=lambda trunk: -len(trunk.prefix))

    def kind(self, device: DeviceId) -> DeviceKind | None:
        return self._kinds.get(device)

    def is_station(self, device: DeviceId) -> bool:
        return self._kinds.get(device) is DeviceKind.STATION

    def knows(self, device: DeviceId) -> bool:
        return device in self._kinds

    def trunk_route(self, number: DeviceId) -> tuple[Trunk, DeviceId] | None:
        """The trunk *number* leaves on, and the far switch's number; None if it does not."""
        if number in self._kinds:
            return None
        for trunk in self._by_prefix:
            if number.startswith(trunk.prefix) and len(number) > len(trunk.prefix):
                return trunk, DeviceId(number[len(trunk.prefix) :])
        return None
