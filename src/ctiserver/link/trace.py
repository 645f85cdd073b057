"""The CSTA side of the trace (logs.trace): every frame to and from the switch, with the
DNs and calls it concerns.

A frame's DNs are the monitored DN its event is reported on and every device the
message names; its calls are the callIDs of the connections it names, each shown with
the ConnID the server gave that call when the server knows it (`conn_id_of`, which the
runtime answers from the core).  The frame itself is shown as the XML document that
crossed the wire, on one line.

`identities(message)` walks a decoded message once per field; the walk of each message
class is planned once and cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import cache

from ctiserver.csta.schema import Event, Message
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import InvokeId
from ctiserver.logs.trace import Tracer, TraceRecord

ConnIdOf = Callable[[str], str | None]
MonitoredDn = Callable[[str], str | None]


@cache
def _plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """The fields of a message class worth walking, and whether each names a device."""
    plan = []
    for spec in dataclasses.fields(cls):
        annotation = str(spec.type)
        device = "Device" in annotation and "ConnectionID" not in annotation
        if device or not annotation.startswith(("str", "int", "bool", "float")):
            plan.append((spec.name, device))
    return tuple(plan)


def _walk(value: object) -> Iterator[tuple[str, str]]:
    """("call", callID) and ("device", deviceID) pairs found in *value*."""
    if isinstance(value, ConnectionID):
        if value.call_id:
            yield "call", value.call_id
        if value.device_id:
            yield "device", value.device_id
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _walk(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name, device in _plan(type(value)):
            field = getattr(value, name)
            if device:
                yield from _devices(field)
            elif field is not None:
                yield from _walk(field)


def _devices(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value:
            yield "device", value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _devices(item)


def identities(message: Message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The devices and the callIDs *message* names, each once, in order of appearance."""
    devices: dict[str, None] = {}
    calls: dict[str, None] = {}
    for kind, value in _walk(message):
        (calls if kind == "call" else devices)[value] = None
    return tuple(devices), tuple(calls)


def first_call_id(message: Message) -> str | None:
    """The callID of the first connection *message* names."""
    return next((value for kind, value in _walk(message) if kind == "call"), None)


class CstaTrace:
    """What a CstaLink calls for each frame; it decides whether anybody wants it."""

    def __init__(
        self,
        tracer: Tracer,
        *,
        peer: str,
        conn_id_of: ConnIdOf,
        monitored_dn: MonitoredDn,
    ) -> None:
        self.tracer = tracer
        self.peer = peer
        self._conn_id_of = conn_id_of
        self._monitored_dn = monitored_dn

    def frame(self, direction: str, invoke_id: InvokeId, message: Message, document: bytes) -> None:
        devices, calls = identities(message)
        if isinstance(message, Event):
            dn = self._monitored_dn(message.monitor_cross_ref_id)
            if dn is not None:
                devices = (dn, *(d for d in devices if d != dn))
        if not self.tracer.wants(devices):
            return
        conn_ids = tuple(c for c in map(self._conn_id_of, calls) if c)
        wire = document.decode("utf-8", "replace").replace("\r", "").replace("\n", " ")
        if wire.startswith("<?xml"):  # the same declaration on every frame: noise in a trace
            wire = wire.partition("?>")[2].lstrip()
        self.tracer.emit(
            TraceRecord(
                "csta", direction, self.peer, wire, devices, conn_ids, calls, int(invoke_id)
            )
        )
