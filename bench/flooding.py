"""Benchmark: how much one flooding client raises another client's event latency.

The server (the demo site, embedded pbxsim) runs as a child process, as `ctiserver run`
does.  A victim client, in this process, makes and releases calls between two DNs it
has registered, one at a time, and times each request to its answering event.  First
alone, then while a flooding client (another child process) writes requests as fast as
the socket takes them and reads the answers.  It prints the victim's percentiles both
ways and the ratio of the p50s (the issue's bound: 3x at most).

    ./dev bench flooding [--rounds 300] [--flood query|makecall] [--server "KEY = V; …"]
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


def flood(address: tuple[str, int], kind: str, answered: Any) -> None:
    asyncio.run(_flood(address, kind, answered))


async def _flood(address: tuple[str, int], kind: str, answered: Any) -> None:
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
        writer.write(batch)
        await writer.drain()


async def victim_latencies(address: tuple[str, int], rounds: int) -> list[float]:
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name="victim")
    await client.wait_for("EventLinkConnected")
    for dn in ("7001", "7002"):
        await client.register_address(dn)
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        dialing = await client.make_call("7001", "7002")
        latencies.append(time.perf_counter() - started)
        await client.release_call("7001", dialing["ConnID"])
    await client.close()
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p = {
        q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000 for q in (50, 90, 99)
    }
    return f"p50 {p[50]:.2f} ms, p90 {p[90]:.2f} ms, p99 {p[99]:.2f} ms"


async def main(rounds: int, kind: str, extra: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, address = await start_server(Path(folder), extra)
        try:
            alone = await victim_latencies(address, rounds)
            answered = multiprocessing.Value("q", 0)
            flooder = multiprocessing.Process(
                target=flood, args=(address, kind, answered), daemon=True
            )
            flooder.start()
            try:
                await asyncio.sleep(1.0)  # let the flood build up
                flooded = await victim_latencies(address, rounds)
            finally:
                flooder.terminate()
                flooder.join()
        finally:
            server.terminate()
            with contextlib.suppress(ProcessLookupError):
                await server.wait()
    print(f"victim alone:        {summary(alone)}")
    print(f"victim with a flood: {summary(flooded)}  ({kind})")
    print(f"events the flooder received: {answered.value}")
    ratio = statistics.median(flooded) / statistics.median(alone)
    print(f"p50 ratio flooded/alone: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--flood", choices=["query", "makecall"], default="query")
    parser.add_argument(
        "--server", default="", help='more [server] keys, e.g. "requests-per-turn = 1"'
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.flood, arguments.server.replace(";", "\n")))
