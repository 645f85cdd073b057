"""Device monitors (ECMA-269 § 13): who asked to hear about which device.

Each association has its own monitors, named by a monitorCrossRefID that is unique in
the switch and never reused.  A device may be monitored any number of times, by one
association or several; each monitor gets its own copy of every event.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.ids import DeviceId, MonitorCrossRefId
from ctiserver.pbxsim.outcome import AssociationId


@dataclass(frozen=True, slots=True)
class Monitor:
    cross_ref_id: MonitorCrossRefId
    association: AssociationId
    device: DeviceId


class Monitors:
    def __init__(self) -> None:
        self._by_id: dict[MonitorCrossRefId, Monitor] = {}
        self._by_device: dict[DeviceId, list[Monitor]] = {}
        self._counter = 0

    def start(self, association: AssociationId, device: DeviceId) -> Monitor:
        self._counter += 1
        monitor = Monitor(MonitorCrossRefId(str(self._counter)), association, device)
        self._by_id[monitor.cross_ref_id] = monitor
        self._by_device.setdefault(device, []).append(monitor)
        return monitor

    def find(self, association: AssociationId, cross_ref_id: str) -> Monitor | None:
        """The monitor *cross_ref_id* if *association* owns it."""
        monitor = self._by_id.get(MonitorCrossRefId(cross_ref_id))
        if monitor is None or monitor.association != association:
            return None
        return monitor

    def stop(self, monitor: Monitor) -> None:
        del self._by_id[monitor.cross_ref_id]
        self._by_device[monitor.device].remove(monitor)
        if not self._by_device[monitor.device]:
            del self._by_device[monitor.device]

    def drop_association(self, association: AssociationId) -> None:
        for monitor in [m for m in self._by_id.values() if m.association == association]:
            self.stop(monitor)

    def on(self, device: DeviceId) -> tuple[Monitor, ...]:
        return tuple(self._by_device.get(device, ()))

    def all(self) -> tuple[Monitor, ...]:
        return tuple(self._by_id.values())
