"""Benchmark: the T-Server core alone, fed the CSTA events of basic calls, no sockets.

Each call is what a switch reports for A calling B, B answering and A hanging up, one
copy per monitor (the copies on A's and B's monitors), with a registered client on each
DN.  It prints the core's CPU time per CSTA event and per call (process time, so other
work on the machine does not count), as the median of several rounds.

    ./dev bench core_events [--calls 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from ctiserver.clock import Instant
from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    OriginatedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.schema import Event
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, ClientId, DeviceId, MonitorCrossRefId
from ctiserver.model.states import DnKind
from ctiserver.tlib.requests import check
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import CoreSettings

A, B = DeviceId("7001"), DeviceId("7002")
X = MonitorCrossRefId("1")


def call_events(call: str) -> list[tuple[DeviceId, Event]]:
    """(monitor DN, event) in the order a switch reports a basic call."""
    ca, cb = ConnectionID(CallId(call), A), ConnectionID(CallId(call), B)
    initiated = ServiceInitiatedEvent(monitor_cross_ref_id=X, initiated_connection=ca)
    originated = OriginatedEvent(
        monitor_cross_ref_id=X, originated_connection=ca, calling_device=A, called_device=B
    )
    delivered = DeliveredEvent(
        monitor_cross_ref_id=X, connection=cb, alerting_device=B, calling_device=A, called_device=B
    )
    established = EstablishedEvent(
        monitor_cross_ref_id=X,
        established_connection=cb,
        answering_device=B,
        calling_device=A,
        called_device=B,
    )
    cleared_a = ConnectionClearedEvent(
        monitor_cross_ref_id=X,
        dropped_connection=ca,
        releasing_device=A,
        cause=EventCause.NORMAL_CLEARING,
    )
    cleared_b = ConnectionClearedEvent(
        monitor_cross_ref_id=X,
        dropped_connection=cb,
        releasing_device=B,
        cause=EventCause.NORMAL_CLEARING,
    )
    cleared = CallClearedEvent(monitor_cross_ref_id=X, cleared_call=ConnectionID(CallId(call)))
    return [
        (A, initiated),
        (A, originated),
        (A, delivered),
        (B, delivered),
        (A, established),
        (B, established),
        (A, cleared_a),
        (B, cleared_a),
        (B, cleared_b),
        (B, cleared),
    ]


def core() -> TServerCore:
    at = Instant(0.0, 1_795_000_000.0)
    server = TServerCore(
        settings=CoreSettings(name="bench"),
        dns={A: DnKind.EXTENSION, B: DnKind.EXTENSION},
        started=at,
    )
    for number, dn in ((1, A), (2, B)):
        client = ClientId(number)
        server.client_connected(client)
        hello = {"Request": "RequestRegisterClient", "ReferenceID": 1, "ApplicationName": "b"}
        server.request(client, check(hello), at)
        register = {"Request": "RequestRegisterAddress", "ReferenceID": 2, "ThisDN": dn}
        server.request(client, check(register), at)
    return server


def round_(calls: int) -> tuple[float, int]:
    server = core()
    feed = [item for n in range(calls) for item in call_events(str(n))]
    at = Instant(1.0, 1_795_000_001.0)
    started = time.process_time()
    for dn, event in feed:
        server.csta_event(dn, event, at)
    return time.process_time() - started, len(feed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    seconds, events = [], 0
    for _ in range(args.rounds):
        spent, events = round_(args.calls)
        seconds.append(spent)
    median = statistics.median(seconds)
    print(f"calls per round:           {args.calls} ({events} CSTA events)")
    print(f"core CPU per CSTA event:   {median / events * 1e6:.2f} us (median of {args.rounds})")
    print(f"core CPU per call:         {median / args.calls * 1e6:.1f} us")
    print(
        f"spread (min-max per event): {min(seconds) / events * 1e6:.2f}-"
        f"{max(seconds) / events * 1e6:.2f} us"
    )


if __name__ == "__main__":
    main()
