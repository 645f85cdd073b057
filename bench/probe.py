"""What the benchmarks share: the in-server latency probe, percentiles, a running server,
a server in a process of its own, and pbxsim in a process of its own.

The benchmarks run pbxsim in its own process by default (`--pbxsim process`), as a real
switch would be: the server's figures are then the server's alone.  `--pbxsim embedded`
runs it inside the server's process instead, as `ctiserver run` does with no `[switch]
link`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from ctiserver.app import collector
from ctiserver.app.config import Address, Config, amend
from ctiserver.app.parts import pbx_config
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
    """The server up, with the garbage collector set as `ctiserver run` sets it."""
    collector.starting()
    service = Service(config, announce=lambda line: None)
    collector.freeze()
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    collector.started()
    try:
        yield service
    finally:
        service.stop()
        await task


def counters(service: Service) -> dict[str, float]:
    """Every counter of *service*'s metrics: its name -> its samples' total."""
    totals: dict[str, float] = {}
    for metric in service.metrics.registry.collect():
        samples = [s.value for s in metric.samples if s.name.endswith("_total")]
        if samples:
            totals[metric.name] = sum(samples)
    return totals


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU of process *pid* so far (Linux: /proc), or NaN."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- a server in a process of its own ---------------------------------------------------------


class ServerProcess:
    """A CTI server serving a configuration from a child process (with uvloop), its
    garbage collector set as `ctiserver run` sets it.

    Built, its link to the switch is up; `client_address`, `iscc_address` (when it has
    `[iscc] listen`) and `trunk_address` (its embedded pbxsim's trunks, if any) are where
    it listens.  The parent asks it over a pipe, one request at a time: `peer_ready`,
    `trunk_ready`, `counters` (its metrics' counters); `cpu_seconds()` reads its CPU time.
    """

    def __init__(self, config: Config) -> None:
        self.pipe, child_end = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_server_main, args=(config, child_end), daemon=True)
        self.process.start()
        self.client_address: tuple[str, int]
        self.iscc_address: tuple[str, int] | None
        self.trunk_address: tuple[str, int] | None
        self.client_address, self.iscc_address, self.trunk_address = self._reply()

    def cpu_seconds(self) -> float:
        """User and system CPU of the child so far (Linux: /proc), or NaN."""
        return cpu_seconds(self.process.pid)

    async def peer_ready(self, location: str) -> None:
        """Once its ISCC link to *location* is up."""
        await self._ask("peer", location)

    async def trunk_ready(self, name: str) -> None:
        """Once its embedded pbxsim's trunk *name* is up."""
        await self._ask("trunk", name)

    async def counters(self) -> dict[str, float]:
        result: dict[str, float] = await self._ask("counters")
        return result

    async def stop(self) -> None:
        """Stop the server (it closes its clients and links), then wait for the child."""
        self.pipe.send(("stop",))
        await asyncio.get_running_loop().run_in_executor(None, self.process.join, 30)
        if self.process.exitcode is None:
            self.process.terminate()

    async def _ask(self, *request: str) -> Any:
        self.pipe.send(request)
        return await asyncio.get_running_loop().run_in_executor(None, self._reply)

    def _reply(self, within: float = 120.0) -> Any:
        """The child's next message; SystemExit if it ended without one, or gave none
        in *within* seconds (a server whose link never comes up waits for ever)."""
        deadline = time.monotonic() + within
        while not self.pipe.poll(1.0):
            if not self.process.is_alive():
                raise SystemExit(f"the server's process ended (exit code {self.process.exitcode})")
            if time.monotonic() > deadline:
                self.process.terminate()
                raise SystemExit(f"the server's process gave no answer in {within:.0f} s")
        return self.pipe.recv()


def _server_main(config: Config, pipe: Any) -> None:
    import uvloop

    uvloop.run(_serve(config, pipe))


async def _serve(config: Config, pipe: Any) -> None:
    """Run the server as `running()` does; answer the parent until it says stop."""
    async with running(config) as service:
        await service.started.wait()
        embedded = service.embedded
        trunks = embedded.trunk_address if embedded is not None else None
        pipe.send((service.client_address, service.iscc_address, trunks))
        async for request in _requests(pipe):
            if request[0] == "stop":
                break
            pipe.send(await _answer(service, request))


async def _requests(pipe: Any) -> AsyncIterator[tuple[str, ...]]:
    """The parent's requests, read when the pipe is readable (no thread)."""
    readable = asyncio.Event()
    asyncio.get_running_loop().add_reader(pipe.fileno(), readable.set)
    while True:
        await readable.wait()
        readable.clear()
        while pipe.poll():
            yield pipe.recv()


async def _answer(service: Service, request: tuple[str, ...]) -> Any:
    kind, *arguments = request
    if kind == "peer":
        await service.runtime.peer_ready(arguments[0]).wait()
    elif kind == "trunk":
        assert service.embedded is not None
        await service.embedded.listener.wait_trunk(arguments[0])
    elif kind == "counters":
        return counters(service)
    else:
        raise ValueError(f"unknown request {kind!r}")
    return None


def run_server(config: Config, out: Any) -> None:
    """A child process's main: the server up (as `running` has it), its client address
    sent on *out*; it serves until *out* gives it anything."""
    import uvloop

    async def serve() -> None:
        async with running(config) as service:
            out.send(service.client_address)
            await asyncio.get_running_loop().run_in_executor(None, out.recv)

    uvloop.run(serve())


# --- pbxsim in a process of its own ---------------------------------------------------------


def add_switch_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pbxsim",
        choices=["process", "embedded"],
        default="process",
        help="run pbxsim in a process of its own (the default) or inside the server's",
    )


class SwitchProcess:
    """pbxsim serving a configuration's lines from a child process (with uvloop).

    `address` is where it accepts CSTA links, `trunk_address` where it accepts trunks
    (when the configuration has `trunk_listen`); `cpu_seconds()` is its CPU time so far.
    Once built, every trunk that dials a peer is up.
    """

    def __init__(self, config: Config) -> None:
        receive, send = multiprocessing.Pipe(duplex=False)
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(
            target=_switch_main, args=(pbx_config(config), send), daemon=True
        )
        self.process.start()
        self.address: tuple[str, int]
        self.trunk_address: tuple[str, int] | None
        self.address, self.trunk_address = receive.recv()

    def cpu_seconds(self) -> float:
        """User and system CPU of the child so far (Linux: /proc), or NaN."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _switch_main(config: Any, out: Any) -> None:
    import uvloop

    from ctiserver.pbxsim.listener import PbxListener
    from ctiserver.pbxsim.switch import Switch

    async def serve() -> None:
        collector.starting()  # as `ctiserver pbxsim` does
        listener = PbxListener(Switch(config), "127.0.0.1", 0)
        address = await listener.start()
        collector.started()
        for trunk in config.settings.trunks:
            if trunk.peer is not None:
                await listener.wait_trunk(trunk.name)
        out.send((address, listener.trunk_address))
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        await stopping.wait()
        await listener.stop()

    uvloop.run(serve())


@contextmanager
def switch_for(config: Config, where: str) -> Iterator[tuple[Config, SwitchProcess | None]]:
    """*config* as the server should run it: linked to pbxsim in its own process
    (*where* = "process"), or unchanged (embedded)."""
    if where == "embedded":
        yield config, None
        return
    switch = SwitchProcess(config)
    try:
        yield amend(config, switch={"link": Address(*switch.address)}), switch
    finally:
        switch.stop()


def instructions(script: str, *arguments: str) -> int:
    """The instructions valgrind's callgrind counts in `python script arguments...`
    (this process's interpreter; the processes it spawns run natively).  The string
    hash seed is fixed: with a random one the count moves by about 1% from run to run
    (dictionaries and sets of strings probe differently)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, script, *arguments]
    seeded = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=seeded)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1))
