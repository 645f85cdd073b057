"""Benchmark: how much one flooding client raises another client's event latency.

The server (the demo site, embedded pbxsim) runs as a child process, as `ctiserver run`
does.  A victim client, in this process, makes and releases calls between two DNs it
has registered, one at a time, and times each request to its answering event.  A
flooding client (another child process) writes requests as fast as the socket takes
them and reads the answers.  The victim measures in blocks, alone and beside the flood
in turn (the flood paused, and its backlog drained, for the blocks alone), so that a
machine whose speed drifts affects both alike.  It prints the victim's percentiles both
ways and the ratio of the p50s (the issue's bound: 3x at most), and how fast the
flooder was served.

    ./dev bench flooding [--rounds 100] [--blocks 4] [--flood query|makecall]
                         [--server "KEY = V; …"]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SITE = """
[server]
client-listen = "127.0.0.1:0"
http-listen = ""

[dn]
extensions = ["7001-7010"]
"""


async def start_server(
    folder: Path, extra: str
) -> tuple[asyncio.subprocess.Process, tuple[str, int]]:
    config = folder / "site.toml"
    config.write_text(SITE.replace("[dn]", extra + "\n[dn]"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "--log-level", "error", "run",
        "--config", str(config), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if line.startswith("listening client="):
            host, port = line.split("=", 1)[1].strip().rsplit(":", 1)
            return process, (host, int(port))


def flood(address: tuple[str, int], kind: str, answered: Any, go: Any) -> None:
    asyncio.run(_flood(address, kind, answered, go))


async def _flood(address: tuple[str, int], kind: str, answered: Any, go: Any) -> None:
    reader, writer = await asyncio.open_connection(*address, limit=1 << 24)
    writer.write(b'{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"f"}\n')
    writer.write(b'{"Request":"RequestRegisterAddress","ReferenceID":1,"ThisDN":"7005"}\n')
    line = {
        "query": b'{"Request":"RequestQueryAddress","ReferenceID":2,"ThisDN":"7005"}\n',
        "makecall": b'{"Request":"RequestMakeCall","ReferenceID":2,"ThisDN":"7005",'
        b'"OtherDN":"7006"}\n',
    }[kind]

    async def drain() -> None:
        while data := await reader.read(1 << 20):
            answered.value += data.count(b"\n")

    reading = asyncio.create_task(drain())
    batch = line * 200
    while not reading.done():
        if not go.is_set():
            await asyncio.sleep(0.01)  # paused: the bench measures the victim alone
            continue
        writer.write(batch)
        await writer.drain()


async def victim_latencies(client: Any, rounds: int) -> list[float]:
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        dialing = await client.make_call("7001", "7002")
        latencies.append(time.perf_counter() - started)
        await client.release_call("7001", dialing["ConnID"])
    return latencies


async def drained(answered: Any) -> None:
    """Wait until the paused flooder's backlog is answered (no answer for 0.3 s)."""
    last = -1
    while answered.value != last:
        last = answered.value
        await asyncio.sleep(0.3)


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p = {
        q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000 for q in (50, 90, 99)
    }
    return f"p50 {p[50]:.2f} ms, p90 {p[90]:.2f} ms, p99 {p[99]:.2f} ms"


async def measure(
    address: tuple[str, int], kind: str, rounds: int, blocks: int
) -> tuple[list[float], list[float], float]:
    """The victim's latencies alone and flooded, and the flood's answers per second."""
    from ctiserver.client.connection import TClient

    victim = await TClient.connect(*address, application_name="victim")
    await victim.wait_for("EventLinkConnected")
    for dn in ("7001", "7002"):
        await victim.register_address(dn)
    answered, go = multiprocessing.Value("q", 0), multiprocessing.Event()
    flooder = multiprocessing.Process(target=flood, args=(address, kind, answered, go))
    flooder.start()
    alone: list[float] = []
    flooded: list[float] = []
    flooding, served = 0.0, 0
    try:
        for _ in range(blocks):
            alone += await victim_latencies(victim, rounds)
            go.set()
            started, before = time.perf_counter(), answered.value
            await asyncio.sleep(0.5)  # let the flood build up
            flooded += await victim_latencies(victim, rounds)
            go.clear()
            flooding += time.perf_counter() - started
            served += answered.value - before
            await drained(answered)
    finally:
        flooder.terminate()
        flooder.join()
        await victim.close()
    return alone, flooded, served / flooding


async def main(rounds: int, kind: str, extra: str, blocks: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, address = await start_server(Path(folder), extra)
        try:
            alone, flooded, served = await measure(address, kind, rounds, blocks)
        finally:
            server.terminate()
            with contextlib.suppress(ProcessLookupError):
                await server.wait()
    print(f"victim alone:        {summary(alone)}")
    print(f"victim with a flood: {summary(flooded)}  ({kind})")
    print(f"the flooder was answered {served:.0f} times a second")
    ratio = statistics.median(flooded) / statistics.median(alone)
    print(f"p50 ratio flooded/alone: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="calls per block")
    parser.add_argument("--blocks", type=int, default=4, help="blocks alone, and flooded")
    parser.add_argument("--flood", choices=["query", "makecall"], default="query")
    parser.add_argument(
        "--server", default="", help='more [server] keys, e.g. "requests-per-turn = 1"'
    )
    arguments = parser.parse_args()
    extra = arguments.server.replace(";", "\n")
    asyncio.run(main(arguments.rounds, arguments.flood, extra, arguments.blocks))
