"""Benchmark: how long a real client waits to get in while idle connections fill the doors.

The server (the demo site, embedded pbxsim, the default caps: 1000 T-Library
connections, 100 per address; 256 HTTP, 64 per address) runs as a child process, as
`ctiserver run` does.  An attacker (another child process) holds 1,100 idle T-Library
connections from 11 loopback addresses (127.0.0.2 …) and 300 half-open HTTP requests
from 5 more, and opens each again as soon as the server closes it, so the doors stay
full and the attacker churns as fast as it can.  The real client, in this process,
measures in turns, alone and beside the flood: the time from connecting to the answer
of a RequestQueryAddress on a DN it registered (connect, RequestRegisterClient,
RequestRegisterAddress, the query), starting again when it is closed before it got in;
and the time to a /healthz answer on a fresh connection.  It prints the percentiles
both ways, how often it had to start again, and how many connections the attacker made.

    ./dev bench door_flood [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SITE = """
[server]
client-listen = "127.0.0.1:0"
http-listen = "127.0.0.1:0"

[dn]
extensions = ["7001-7010"]
"""
HALF_OPEN = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "


async def start_server(folder: Path) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    config = folder / "site.toml"
    config.write_text(SITE)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "--log-level", "error", "run",
        "--config", str(config), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    listening: dict[str, Any] = {}
    while len(listening) < 2:
        line = (await process.stdout.readline()).decode().strip()
        for door in ("client", "http"):
            if line.startswith(f"listening {door}="):
                host, port = line.split("=", 1)[1].rsplit(":", 1)
                listening[door] = (host, int(port))
    return process, listening


def attack(listening: dict[str, Any], opened: Any, go: Any) -> None:
    asyncio.run(_attack(listening, opened, go))


async def _attack(listening: dict[str, Any], opened: Any, go: Any) -> None:
    slots = [(listening["client"], f"127.0.0.{2 + n % 11}", b"") for n in range(1100)]
    slots += [(listening["http"], f"127.0.0.{13 + n % 5}", HALF_OPEN) for n in range(300)]
    await asyncio.gather(
        *(_hold(address, local, payload, opened, go) for address, local, payload in slots)
    )


async def _hold(address: tuple[str, int], local: str, payload: bytes, opened: Any, go: Any) -> None:
    """One idle connection, opened again whenever it is closed, while *go* is set."""
    while True:
        if not go.is_set():
            await asyncio.sleep(0.05)
            continue
        try:
            reader, writer = await asyncio.open_connection(*address, local_addr=(local, 0))
        except OSError:
            await asyncio.sleep(0.01)
            continue
        opened.value += 1
        writer.write(payload)
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()


async def get_in(address: tuple[str, int]) -> tuple[float, int]:
    """Seconds from the first connect to the query's answer, and the fresh starts."""
    from ctiserver.client.connection import ConnectionClosed, TClient

    started, again = time.perf_counter(), 0
    while True:
        client = None
        try:
            client = await TClient.connect(*address, application_name="real")
            await client.register_address("7001")
            await client.request("RequestQueryAddress", ThisDN="7001")
            return time.perf_counter() - started, again
        except (OSError, ConnectionClosed) as exc:  # closed before it got in
            again += 1
            if again > 50:
                raise RuntimeError(f"the client never got in: {exc}") from exc
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()


async def healthz(address: tuple[str, int]) -> float:
    import aiohttp

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        reply = await session.get(f"http://{address[0]}:{address[1]}/healthz")
        await reply.read()
    return time.perf_counter() - started


async def doors(address: tuple[str, int]) -> str:
    """What /metrics says of the doors: connections held, refused, evicted."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        reply = await session.get(f"http://{address[0]}:{address[1]}/metrics")
        text = await reply.text()
    lines = [line for line in text.splitlines() if line.startswith("ctiserver_connections")]
    return "\n".join(lines)


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p = {q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000 for q in (50, 90)}
    return f"p50 {p[50]:.1f} ms, p90 {p[90]:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


async def measure(listening: dict[str, Any], rounds: int) -> None:
    opened, go = multiprocessing.Value("q", 0), multiprocessing.Event()
    attacker = multiprocessing.Process(target=attack, args=(listening, opened, go))
    attacker.start()
    results: dict[bool, tuple[list[float], list[float], int]] = {}
    try:
        for flooding in (False, True):
            if flooding:
                go.set()
                while opened.value < 1400:  # noqa: ASYNC110 (a count in another process)
                    await asyncio.sleep(0.1)
            before = opened.value
            started = time.perf_counter()
            inside, health, again = [], [], 0
            for _ in range(rounds):
                took, restarts = await get_in(listening["client"])
                inside.append(took)
                again += restarts
                health.append(await healthz(listening["http"]))
            churn = (opened.value - before) / (time.perf_counter() - started)
            results[flooding] = (inside, health, again)
            label = "beside the flood" if flooding else "alone"
            print(f"client in, {label}: {summary(inside)}; started again {again} times")
            print(f"/healthz,  {label}: {summary(health)}")
            if flooding:
                print(f"the attacker opened {churn:.0f} connections a second")
                print(await doors(listening["http"]))
    finally:
        attacker.terminate()
        attacker.join()


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, listening = await start_server(Path(folder))
        try:
            await measure(listening, rounds)
        finally:
            server.terminate()
            with contextlib.suppress(ProcessLookupError):
                await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="clients let in, each way")
    asyncio.run(main(parser.parse_args().rounds))
