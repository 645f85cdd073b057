"""Benchmark: many concurrent basic calls (MakeCall, AnswerCall, ReleaseCall) through the
embedded pbxsim, one registered client per DN.

The server (with its embedded pbxsim) runs in this process; the clients run in a child
process, so that the two share the machine's cores rather than one event loop.  It
prints calls per second, events per second, and the server's latency from a CSTA event
arriving (the chunk read from the switch) to the T-Library event leaving (the write to
the client's socket), as percentiles; and the clients' request-to-answer times.

    ./dev bench basic_calls [--pairs 100] [--seconds 10] [--loop uvloop|asyncio] [--ha]

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

from probe import Probe, events_sent, percentiles

from ctiserver.app.config import Address, Config, amend, demo
from ctiserver.app.service import Service
from ctiserver.ha.member import Role
from ctiserver.ha.settings import HaSettings
from ctiserver.ids import DeviceId
from ctiserver.jetstream.link import NatsSettings
from ctiserver.model.states import DnKind
from jetstream import nats_server

# --- the clients (child process) ------------------------------------------------------------


def run_clients(address: tuple[str, int], pairs: int, seconds: float, out: Any) -> None:
    out.send(asyncio.run(_clients(address, pairs, seconds)))


async def _clients(address: tuple[str, int], pairs: int, seconds: float) -> dict[str, Any]:
    from ctiserver.client.connection import TClient

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
    deadline = time.perf_counter() + seconds

    async def pair(a: TClient, b: TClient) -> None:
        nonlocal calls
        a_dn, b_dn = a_dn_of[id(a)], a_dn_of[id(b)]
        while time.perf_counter() < deadline:
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

    a_dn_of = {id(c): str(7000 + 2 * i + 1) for i, c in enumerate(callers)}
    a_dn_of.update({id(c): str(7000 + 2 * i + 2) for i, c in enumerate(callees)})
    began = time.perf_counter()
    await asyncio.gather(*(pair(a, b) for a, b in zip(callers, callees, strict=True)))
    elapsed = time.perf_counter() - began
    for client in callers + callees:
        await client.close()
    return {"calls": calls, "elapsed": elapsed, "round_trips": round_trips}


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
            "max_connections_per_address": 2 * pairs + 16,  # every desk is on 127.0.0.1
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


async def serve_and_measure(
    pairs: int, seconds: float, nats: str | None = None, lease_ttl: float = 1.0
) -> None:
    probe = Probe()
    probe.install()
    config = bench_config(pairs, **pair_sections(nats, lease_ttl))
    result, events, _ = await measure(config, pairs, seconds)
    report(pairs, result, events, probe)


async def measure(
    config: Config, pairs: int, seconds: float
) -> tuple[dict[str, Any], float, Service]:
    """Run the clients against a server of *config*: their result, the events the server
    sent meanwhile, and the service (stopped) for what else the caller wants to read.
    The result's "cpu" is the server's process time over the run."""
    service = Service(config, announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    if service.member is not None:
        await service.member.became(Role.PRIMARY)
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=run_clients, args=(service.client_address, pairs, seconds, send)
    )
    events_before = events_sent(service)
    cpu = time.process_time()
    child.start()
    send.close()  # the child's copy remains: if the child dies, recv() ends with EOFError
    result = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
    result["cpu"] = time.process_time() - cpu
    child.join()
    events = events_sent(service) - events_before
    service.stop()
    await task
    return result, events, service


def report(pairs: int, result: dict[str, Any], events: float, probe: Probe) -> None:
    calls, elapsed = result["calls"], result["elapsed"]
    print(f"pairs (concurrent calls):  {pairs}")
    print(f"calls completed:           {calls} in {elapsed:.1f} s")
    print(f"calls per second:          {calls / elapsed:.0f}")
    print(f"T-Library events per sec:  {events / elapsed:.0f}")
    print(f"events per call (ratio):   {events / max(calls, 1):.1f}")
    print(f"events per switch chunk:   {len(probe.latencies) / max(probe.csta_chunks, 1):.2f}")
    print(f"CSTA in -> T-Lib out:      {percentiles(probe.latencies)}")
    print(f"client request -> answer:  {percentiles(result['round_trips'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the server here")
    parser.add_argument("--ha", action="store_true", help="as the primary of a pair (journal)")
    parser.add_argument("--lease-ttl", type=float, default=1.0, help="of the pair (with --ha)")
    arguments = parser.parse_args()
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    print(f"event loop:                {arguments.loop}")
    profiler = cProfile.Profile() if arguments.profile else None
    print(f"hot-standby journal:       {'on' if arguments.ha else 'off'}")
    with contextlib.ExitStack() as stack, asyncio.Runner(loop_factory=factory) as runner:
        nats = stack.enter_context(nats_server()) if arguments.ha else None
        if profiler is not None:
            profiler.enable()
        runner.run(serve_and_measure(arguments.pairs, arguments.seconds, nats, arguments.lease_ttl))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile)


if __name__ == "__main__":
    main()
