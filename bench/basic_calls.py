"""Benchmark: many concurrent basic calls (MakeCall, AnswerCall, ReleaseCall) through
pbxsim, one registered client per DN.

The server runs in this process, pbxsim in a process of its own (`--pbxsim embedded`
puts it in the server's), and the clients in a child process, so that they share the
machine's cores rather than one event loop.  It prints calls per second, events per
second, the CPU time of the server (and of pbxsim) per call, and the server's latency
from a CSTA event arriving (the chunk read from the switch) to the T-Library event
leaving (the write to the client's socket), as percentiles; and the clients'
request-to-answer times.  `--rate` paces the calls (calls per second in all) to measure
latency at a given load; without it every pair calls as fast as it can.

    ./dev bench basic_calls [--pairs 100] [--seconds 10] [--rate CALLS_PER_S]
                            [--pbxsim process|embedded] [--loop uvloop|asyncio] [--ha]

With --ha the server is the primary of a hot-standby pair (a nats-server is started for
it; no backup runs, so that only the journal's cost is measured): compare with a run
without it for the journal's cost on throughput and latency. bench/event_export.py runs
it with and without the event stream (`[export]`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import multiprocessing
import time
from typing import Any

import uvloop
from probe import Probe, add_switch_option, events_sent, percentiles, running, switch_for

from ctiserver.app.config import Address, Config, amend, demo
from ctiserver.app.service import Service
from ctiserver.ha.member import Role
from ctiserver.ha.settings import HaSettings
from ctiserver.ids import DeviceId
from ctiserver.jetstream.link import NatsSettings
from ctiserver.model.states import DnKind
from jetstream import nats_server

# --- the clients (child process) ------------------------------------------------------------


def run_clients(address: tuple[str, int], options: dict[str, Any], out: Any) -> None:
    out.send(uvloop.run(_clients(address, options)))


async def _clients(address: tuple[str, int], options: dict[str, Any]) -> dict[str, Any]:
    from ctiserver.client.connection import TClient

    pairs, rate = options["pairs"], options["rate"]

    async def desk(dn: str) -> TClient:
        client = await TClient.connect(*address, application_name=f"bench-{dn}")
        await client.register_address(dn)
        return client

    callers = [await desk(str(7000 + 2 * i + 1)) for i in range(pairs)]
    callees = [await desk(str(7000 + 2 * i + 2)) for i in range(pairs)]
    for client in callers + callees:
        while (await client.next_event())["Event"] != "EventRegistered":
            pass
    round_trips: list[float] = []
    calls = 0
    cpu = time.process_time()
    began = time.perf_counter()
    deadline = began + options["seconds"]

    async def pair(n: int, a: TClient, b: TClient) -> None:
        nonlocal calls
        a_dn, b_dn = str(7000 + 2 * n + 1), str(7000 + 2 * n + 2)
        period = pairs / rate if rate else 0.0
        next_call = began + period * n / pairs
        while (now := time.perf_counter()) < deadline:
            if next_call > now:
                await asyncio.sleep(next_call - now)
            next_call += period
            started = time.perf_counter()
            dialing = await a.make_call(a_dn, b_dn)
            round_trips.append(time.perf_counter() - started)
            ringing = await b.wait_for("EventRinging")
            started = time.perf_counter()
            await b.answer_call(b_dn, ringing["ConnID"])
            round_trips.append(time.perf_counter() - started)
            await a.wait_for("EventEstablished")
            started = time.perf_counter()
            await a.release_call(a_dn, dialing["ConnID"])
            round_trips.append(time.perf_counter() - started)
            await b.wait_for("EventReleased")
            calls += 1

    lanes = enumerate(zip(callers, callees, strict=True))
    await asyncio.gather(*(pair(n, a, b) for n, (a, b) in lanes))
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    for client in callers + callees:
        await client.close()
    return {"calls": calls, "elapsed": elapsed, "round_trips": round_trips, "cpu": cpu}


# --- the server (this process) --------------------------------------------------------------


def bench_config(pairs: int, **sections: Any) -> Config:
    """The demo site with *pairs* pairs of extensions, on port 0, with *sections* changed."""
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
    return amend(config, sections)


def pair_sections(nats: str | None, lease_ttl: float) -> dict[str, Any]:
    """The [nats] and [ha] of a pair's primary at *nats* (none without it)."""
    if nats is None:
        return {}
    return {
        "nats": NatsSettings(urls=(nats,)),
        "ha": HaSettings(pair="bench", member="a", lease_ttl=lease_ttl),
    }


async def measure(
    config: Config, pairs: int, seconds: float, rate: float = 0.0, switch: Any = None
) -> tuple[dict[str, Any], float, Service]:
    """Run the clients against a server of *config*: their result, the events the server
    sent meanwhile, and the service (stopped) for what else the caller wants to read.
    The result's "cpu" is the clients' process time over the run, "server_cpu" the
    server's, "switch_cpu" that of *switch* (pbxsim in its own process), if given."""
    options = {"pairs": pairs, "seconds": seconds, "rate": rate}
    async with running(config) as service:
        if service.member is not None:
            await service.member.became(Role.PRIMARY)
        receive, send = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=run_clients, args=(service.client_address, options, send)
        )
        events_before = events_sent(service)
        cpu = time.process_time(), switch.cpu_seconds() if switch else 0.0
        child.start()
        send.close()  # the child's copy remains: if the child dies, recv() ends with EOFError
        result = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
        result["server_cpu"] = time.process_time() - cpu[0]
        result["switch_cpu"] = switch.cpu_seconds() - cpu[1] if switch else None
        child.join()
        events = events_sent(service) - events_before
    return result, events, service


async def serve_and_measure(options: dict[str, Any], nats: str | None) -> None:
    sections = pair_sections(nats, options["lease_ttl"])
    config = bench_config(options["pairs"], **sections)
    with switch_for(config, options["pbxsim"]) as (linked, switch):
        probe = Probe()
        probe.install()
        pairs, seconds, rate = options["pairs"], options["seconds"], options["rate"]
        result, events, _ = await measure(linked, pairs, seconds, rate, switch)
    report(options, result, events, probe, result["server_cpu"], result["switch_cpu"])


def report(
    options: dict[str, Any],
    result: dict[str, Any],
    events: float,
    probe: Probe,
    server_cpu: float,
    switch_cpu: float | None,
) -> None:
    calls, elapsed = result["calls"], result["elapsed"]
    per_call = 1e6 / max(calls, 1)
    print(f"pbxsim:                    {options['pbxsim']}")
    print(f"pairs (concurrent calls):  {options['pairs']}")
    print(f"pace:                      {options['rate'] or 'as fast as possible'}")
    print(f"calls completed:           {calls} in {elapsed:.1f} s")
    print(f"calls per second:          {calls / elapsed:.0f}")
    print(f"T-Library events per sec:  {events / elapsed:.0f}")
    print(f"events per call (ratio):   {events / max(calls, 1):.1f}")
    print(f"events per switch chunk:   {len(probe.latencies) / max(probe.csta_chunks, 1):.2f}")
    label = "server CPU per call:" if switch_cpu is not None else "server+pbxsim CPU per call:"
    print(f"{label:27s}{server_cpu * per_call:.0f} us")
    if switch_cpu is not None:
        print(f"pbxsim CPU per call:       {switch_cpu * per_call:.0f} us")
    print(f"clients' CPU per call:     {result['cpu'] * per_call:.0f} us")
    print(f"CSTA in -> T-Lib out:      {percentiles(probe.latencies)}")
    print(f"client request -> answer:  {percentiles(result['round_trips'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0, help="calls per second in all")
    add_switch_option(parser)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the server here")
    parser.add_argument("--ha", action="store_true", help="as the primary of a pair (journal)")
    parser.add_argument("--lease-ttl", type=float, default=1.0, help="of the pair (with --ha)")
    arguments = parser.parse_args()
    factory = None
    if arguments.loop == "uvloop":
        factory = uvloop.new_event_loop
    print(f"event loop:                {arguments.loop}")
    options = {
        "pairs": arguments.pairs,
        "seconds": arguments.seconds,
        "rate": arguments.rate,
        "pbxsim": arguments.pbxsim,
        "lease_ttl": arguments.lease_ttl,
    }
    profiler = cProfile.Profile() if arguments.profile else None
    print(f"hot-standby journal:       {'on' if arguments.ha else 'off'}")
    with contextlib.ExitStack() as stack, asyncio.Runner(loop_factory=factory) as runner:
        nats = stack.enter_context(nats_server()) if arguments.ha else None
        if profiler is not None:
            profiler.enable()
        runner.run(serve_and_measure(options, nats))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile)


if __name__ == "__main__":
    main()
