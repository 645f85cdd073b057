"""Short constructors for the CSTA events a switch reports, as docs/pbxsim.md has them."""

from __future__ import annotations

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    OriginatedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId, MonitorCrossRefId

X = MonitorCrossRefId("1")


def c(call: str, device: str) -> ConnectionID:
    return ConnectionID(CallId(call), DeviceId(device))


def initiated(call: str, a: str) -> ServiceInitiatedEvent:
    return ServiceInitiatedEvent(monitor_cross_ref_id=X, initiated_connection=c(call, a))


def originated(call: str, a: str, b: str) -> OriginatedEvent:
    return OriginatedEvent(
        monitor_cross_ref_id=X,
        originated_connection=c(call, a),
        calling_device=DeviceId(a),
        called_device=DeviceId(b),
    )


def delivered(call: str, a: str, b: str) -> DeliveredEvent:
    return DeliveredEvent(
        monitor_cross_ref_id=X,
        connection=c(call, b),
        alerting_device=DeviceId(b),
        calling_device=DeviceId(a),
        called_device=DeviceId(b),
    )


def established(call: str, a: str, b: str) -> EstablishedEvent:
    return EstablishedEvent(
        monitor_cross_ref_id=X,
        established_connection=c(call, b),
        answering_device=DeviceId(b),
        calling_device=DeviceId(a),
        called_device=DeviceId(b),
    )


def cleared(
    call: str, device: str, cause: EventCause = EventCause.NORMAL_CLEARING
) -> ConnectionClearedEvent:
    return ConnectionClearedEvent(
        monitor_cross_ref_id=X,
        dropped_connection=c(call, device),
        releasing_device=DeviceId(device),
        cause=cause,
    )


def call_cleared(call: str) -> CallClearedEvent:
    return CallClearedEvent(monitor_cross_ref_id=X, cleared_call=ConnectionID(CallId(call)))


def failed(call: str, a: str, b: str, cause: EventCause) -> FailedEvent:
    return FailedEvent(
        monitor_cross_ref_id=X,
        failed_connection=c(call, b),
        failing_device=DeviceId(b),
        calling_device=DeviceId(a),
        called_device=DeviceId(b),
        cause=cause,
    )
