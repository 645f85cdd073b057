"""Benchmark: one reporting client that takes every DN's events while desks make basic
calls (MakeCall, AnswerCall, ReleaseCall) through the embedded pbxsim.

The server (with its embedded pbxsim) runs in this process, the desks (one client per
DN, as bench/basic_calls.py) in a child process, and the reporting client in another.
The reporting client takes the events in one of three ways:

    all    RequestRegisterAll
    each   RequestRegisterAddress for every DN, one by one
    mask   RequestRegisterAll and RequestSetInputMask [EventEstablished, EventReleased]

Each round runs every way once, in turn (the order rotates from round to round), each
on a fresh server under the same load.  It prints, per way, the events per second the
reporting client received, the events per call it got, and its lag (the time it read an
event minus the event's `time` stamp, the server's clock when it sent it) as
percentiles, with the median of the rounds; and the ratios of `all` and `mask` to
`each` from the same round (paired).

    ./dev bench reporting_client [--pairs 100] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from datetime import datetime
from typing import Any

from basic_calls import run_clients
from probe import percentiles

from ctiserver.app.config import Address, amend, demo
from ctiserver.app.service import Service
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind

WAYS = ("all", "each", "mask")
MASK = ["EventEstablished", "EventReleased"]

# --- the reporting client (child process) ------------------------------------------------------


def run_reporter(
    address: tuple[str, int], way: str, dns: list[str], seconds: float, out: Any
) -> None:
    out.send(asyncio.run(_report(address, way, dns, seconds, out)))


async def _report(
    address: tuple[str, int], way: str, dns: list[str], seconds: float, out: Any
) -> dict[str, Any]:
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name=f"report-{way}")
    if way == "each":
        for dn in dns:
            await client.register_address(dn)
    else:
        await client.request("RequestRegisterAll")
    if way == "mask":
        await client.request("RequestSetInputMask", InputMask=MASK)
    await asyncio.sleep(0.2)
    while not client._events.empty():  # the answers so far
        client._events.get_nowait()
    out.send("ready")
    seen: list[tuple[float, str]] = []
    deadline = time.time() + seconds
    while True:
        try:
            async with asyncio.timeout(1.0):
                event = await client.next_event()
        except TimeoutError:
            if time.time() > deadline:
                break
            continue
        seen.append((time.time(), event["time"]))
    await client.close()
    lags = [read - datetime.fromisoformat(stamp).timestamp() for read, stamp in seen]
    span = (seen[-1][0] - seen[0][0]) if len(seen) > 1 else 0.0
    return {"events": len(seen), "span": span, "lags": lags}


# --- the server (this process) -----------------------------------------------------------------


async def one_run(way: str, pairs: int, seconds: float) -> dict[str, Any]:
    dns = {DeviceId(str(7001 + n)): DnKind.EXTENSION for n in range(2 * pairs)}
    config = amend(
        demo(),
        site={"dns": dns},
        server={
            "client_listen": Address("127.0.0.1", 0),
            "http_listen": None,
            "clients": {"max_connections_per_address": 2 * pairs + 16},  # desks: 127.0.0.1
        },
        switch={"reply_timeout": 30.0},
    )
    service = Service(config, announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    spawn = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    report_in, report_out = spawn.Pipe(duplex=False)
    reporter = spawn.Process(
        target=run_reporter,
        args=(service.client_address, way, [str(dn) for dn in dns], seconds, report_out),
    )
    reporter.start()
    report_out.close()
    assert await loop.run_in_executor(None, report_in.recv) == "ready"
    desks_in, desks_out = spawn.Pipe(duplex=False)
    desks = spawn.Process(
        target=run_clients, args=(service.client_address, pairs, seconds, desks_out)
    )
    desks.start()
    desks_out.close()
    calls = await loop.run_in_executor(None, desks_in.recv)
    report = await loop.run_in_executor(None, report_in.recv)
    desks.join()
    reporter.join()
    service.stop()
    await task
    report["calls"] = calls["calls"]
    report["elapsed"] = calls["elapsed"]
    return report


def rate(run: dict[str, Any]) -> float:
    return run["events"] / run["elapsed"]


def summary(way: str, runs: list[dict[str, Any]]) -> None:
    rates = [rate(run) for run in runs]
    per_call = [run["events"] / max(run["calls"], 1) for run in runs]
    calls = [run["calls"] / run["elapsed"] for run in runs]
    lags = [lag for run in runs for lag in run["lags"]]
    rounds = ", ".join(f"{r:.0f}" for r in rates)
    print(
        f"{way:5} events/s received: median {statistics.median(rates):.0f} ({rounds}); "
        f"calls/s {statistics.median(calls):.0f}; events per call {statistics.median(per_call):.2f}"
    )
    print(f"      lag (read - sent): {percentiles(lags)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
    for n in range(arguments.rounds):
        order = WAYS[n % 3 :] + WAYS[: n % 3]
        for way in order:
            runs[way].append(asyncio.run(one_run(way, arguments.pairs, arguments.seconds)))
        print(f"round {n + 1}: " + ", ".join(f"{w} {rate(runs[w][-1]):.0f}/s" for w in order))
    print(f"pairs (concurrent calls): {arguments.pairs}, {arguments.seconds:.0f} s a run")
    for way in WAYS:
        summary(way, runs[way])
    for way in ("all", "mask"):
        ratios = [rate(a) / rate(e) for a, e in zip(runs[way], runs["each"], strict=True)]
        lag50 = [
            statistics.median(a["lags"]) / statistics.median(e["lags"])
            for a, e in zip(runs[way], runs["each"], strict=True)
        ]
        print(
            f"{way}/each (paired): events/s {', '.join(f'{r:.2f}' for r in ratios)}; "
            f"median lag {', '.join(f'{r:.2f}' for r in lag50)}"
        )


if __name__ == "__main__":
    main()
