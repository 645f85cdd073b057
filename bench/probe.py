"""What the benchmarks share: the in-server latency probe, percentiles, and a running
server with its embedded pbxsim."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ctiserver.app.config import Config
from ctiserver.app.service import Service
from ctiserver.link.connection import CstaLink
from ctiserver.server.runtime import Runtime
from ctiserver.server.tcp import TlibTcpProtocol
from ctiserver.tserver.port import Deliver, Output, Resend


class Probe:
    """Times from a switch chunk arriving to each client write carrying its events (an
    event held by the hot-standby journal carries its chunk's time until it is sent)."""

    def __init__(self) -> None:
        self.arrived: float | None = None
        self.latencies: list[float] = []
        self.csta_chunks = 0
        self._held: dict[int, float] = {}  # id(Deliver) -> its chunk's arrival

    def install(self) -> None:
        probe = self
        drain, send, flush = CstaLink._drain, TlibTcpProtocol.send, TlibTcpProtocol._flush
        perform, release = Runtime.perform, Runtime.release

        def stamped_perform(runtime: Runtime, outputs: list[Output]) -> None:
            if probe.arrived is not None:
                for output in outputs:
                    if type(output) is Deliver:
                        probe._held[id(output)] = probe.arrived
            perform(runtime, outputs)

        def stamped_release(runtime: Runtime, output: Deliver | Resend) -> None:
            stamp = probe._held.pop(id(output), None)
            if stamp is None or probe.arrived is not None:
                release(runtime, output)
                return
            probe.arrived = stamp
            try:
                release(runtime, output)
            finally:
                probe.arrived = None

        Runtime.perform = stamped_perform  # type: ignore[method-assign]
        Runtime.release = stamped_release  # type: ignore[method-assign]

        def timed_drain(link: CstaLink) -> bool:
            probe.arrived = time.perf_counter()
            probe.csta_chunks += 1
            try:
                return drain(link)
            finally:
                probe.arrived = None

        def tagged_send(protocol: TlibTcpProtocol, data: bytes) -> None:
            if probe.arrived is not None:
                protocol.__dict__.setdefault("bench_stamps", []).append(probe.arrived)
            send(protocol, data)

        def timed_flush(protocol: TlibTcpProtocol) -> None:
            flush(protocol)
            now = time.perf_counter()
            stamps = protocol.__dict__.pop("bench_stamps", [])
            probe.latencies.extend(now - stamp for stamp in stamps)

        CstaLink._drain = timed_drain  # type: ignore[method-assign]
        TlibTcpProtocol.send = tagged_send  # type: ignore[method-assign]
        TlibTcpProtocol._flush = timed_flush  # type: ignore[method-assign]


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49] * 1e3:.3f} ms, p90 {cuts[89] * 1e3:.3f} ms, "
        f"p99 {cuts[98] * 1e3:.3f} ms, max {max(values) * 1e3:.3f} ms"
    )


def events_sent(service: Service) -> float:
    total = 0.0
    for metric in service.metrics.registry.collect():
        if metric.name == "ctiserver_events_sent":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


@asynccontextmanager
async def running(config: Config) -> AsyncIterator[Service]:
    service = Service(config, announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    try:
        yield service
    finally:
        service.stop()
        await task
