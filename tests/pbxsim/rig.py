"""A test rig for the pure switch: one application monitoring devices, time told, not read."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from ctiserver.csta.escape import Escape
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import Event, Message
from ctiserver.csta.system import MonitorStart, MonitorStartResponse
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.ids import CallId, DeviceId, MonitorCrossRefId
from ctiserver.pbxsim.config import (
    DEFAULT_PRIVATE_NAMESPACE,
    AcdGroup,
    PbxConfig,
    RoutingPoint,
    expand_numbers,
)
from ctiserver.pbxsim.outcome import AssociationId, Outcome, Send
from ctiserver.pbxsim.phone import PhoneAction
from ctiserver.pbxsim.switch import Switch

E = TypeVar("E", bound=Event)
NO_XREF = MonitorCrossRefId("")

CONFIG = PbxConfig(
    stations=expand_numbers(["7001-7008"]),
    acd_groups=(AcdGroup(number="8001", wrap_up_time=5.0), AcdGroup(number="8002")),
    routing_points=(
        RoutingPoint(number="5000", route_timeout=10.0, default_destination="7001"),
        RoutingPoint(number="5001", route_timeout=4.0),
    ),
    agents=expand_numbers(["1001-1003"]),
    agent_passwords={"1003": "secret"},
)
MONITORED = ("7001", "7002", "7003", "7004", "7005", "8001", "8002", "5000", "5001")


def C(call: str | int, device: str) -> ConnectionID:
    """ConnectionID(call, device)."""
    return ConnectionID(call_id=CallId(str(call)), device_id=DeviceId(device))


def ev(cls: type[E], **fields: Any) -> E:
    """An event as a monitor sees it, without its monitorCrossRefID."""
    return cls(monitor_cross_ref_id=NO_XREF, **fields)


def error(category: ErrorCategory, value: str) -> CSTAErrorCode:
    return CSTAErrorCode(category=category, value=value)


NS = DEFAULT_PRIVATE_NAMESPACE


def private(*elements: PrivateElement, namespace: str = NS) -> PrivateData:
    return PrivateData(namespace, elements)


def leaf(name: str, text: str) -> PrivateElement:
    return PrivateElement(name, text)


def escape(guest: str, host: str, action: str = "associate", namespace: str = NS) -> Escape:
    """The hot-desking Escape of docs/pbxsim.md § 8.1."""
    children = (leaf("guest", guest), leaf("host", host), leaf("action", action))
    content = PrivateElement("guestAssociatedExtension", children=children)
    return Escape(private_data=private(content, namespace=namespace))


class Rig:
    """A Switch with one application association that monitors MONITORED."""

    def __init__(self, config: PbxConfig = CONFIG, monitored: tuple[str, ...] = MONITORED):
        self.switch = Switch(config)
        self.now = 1000.0
        self.app, self.greeting = self.switch.connect(now=self.now)
        self.devices: dict[str, str] = {}  # monitorCrossRefID -> device
        for device in monitored:
            self.monitor(device)

    def monitor(self, device: str, association: AssociationId | None = None) -> str:
        outcome = self.send(MonitorStart(device_object=DeviceId(device)), association)
        response = outcome.response
        assert isinstance(response, MonitorStartResponse), response
        self.devices[response.monitor_cross_ref_id] = device
        return response.monitor_cross_ref_id

    def connect(self) -> AssociationId:
        association, _ = self.switch.connect(now=self.now)
        return association

    def send(self, message: Message, association: AssociationId | None = None) -> Outcome:
        return self.switch.handle(association or self.app, message, now=self.now)

    def act(self, action: PhoneAction) -> Outcome:
        return self.switch.act(action, now=self.now)

    def advance(self, seconds: float) -> Outcome:
        self.now += seconds
        return self.switch.fire_due(now=self.now)

    def events(
        self, outcome: Outcome, association: AssociationId | None = None
    ) -> dict[str, list[Event]]:
        """The events *association* got, by monitored device, without their cross-ref ids."""
        seen: dict[str, list[Event]] = {}
        for message in outcome.sent_to(association or self.app):
            if isinstance(message, Event):
                device = self.devices[message.monitor_cross_ref_id]
                stripped = dataclasses.replace(message, monitor_cross_ref_id=NO_XREF)
                seen.setdefault(device, []).append(stripped)
        return seen

    def kinds(self, outcome: Outcome) -> dict[str, list[str]]:
        """Event class names by device: a quick look at the sequence."""
        return {
            device: [type(event).__name__ for event in events]
            for device, events in self.events(outcome).items()
        }

    def others(self, outcome: Outcome, association: AssociationId) -> list[Message]:
        """Non-event messages sent to *association* (routeing invocations, …)."""
        return [
            effect.message
            for effect in outcome.effects
            if isinstance(effect, Send)
            and effect.association == association
            and not isinstance(effect.message, Event)
        ]
