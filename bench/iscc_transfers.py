"""Benchmark: transfers to another site (ISCC) against the same transfers kept local.

Two sites run in this process, each a CTI server, with their pbxsims in processes of
their own (`--pbxsim embedded` puts them in the servers'), the switches joined by a
trunk and the servers by ISCC; the desks run in a child process.  Each lane
is a caller and an agent at SiteA and a target DN at SiteA and at SiteB.  A lane loops:
the caller dials the agent, the agent answers and single-step transfers the call to its
target, the target answers, the caller hangs up.  The local phase transfers to the
target at SiteA, the cross-site phase to the one at SiteB (with Location, and the
transaction type given).  It prints transfers per second in each phase, the time from
the transfer request to the target's EventRinging (and, across sites, to
EventRemoteConnectionSuccess) as percentiles, and the cross/local ratios.  Per transfer
in each phase it also prints the CPU of the servers, the pbxsims and the desks, and the
traffic: CSTA frames the servers read and wrote, T-Library events they sent, ISCC
messages between them.  `--phases cross` runs one phase only (to profile it alone).

    ./dev bench iscc_transfers [--lanes 20] [--seconds 5] [--xroute DirectUUI]
                               [--pbxsim process|embedded] [--loop uvloop|asyncio]
                               [--phases local,cross]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from typing import Any

from probe import SwitchProcess, add_switch_option, percentiles, switch_for

from ctiserver.app import collector
from ctiserver.app.config import Address, IsccPeer, IsccSettings, amend, demo
from ctiserver.app.service import Service
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import Trunk

FREE = Address("127.0.0.1", 0)
CALLERS, AGENTS, TARGETS, ROUTING_POINTS = 2001, 3001, 4001, 5001


def numbers(first: int, count: int) -> list[str]:
    return [str(first + n) for n in range(count)]


# --- the desks (child process) ----------------------------------------------------------------


def run_desks(sites: dict[str, tuple[str, int]], options: dict[str, Any], out: Any) -> None:
    import uvloop

    out.send(uvloop.run(_desks(sites, options, out)))


async def _desks(
    sites: dict[str, tuple[str, int]], options: dict[str, Any], out: Any
) -> dict[str, Any]:
    from ctiserver.client.connection import TClient

    lanes = options["lanes"]

    async def desk(site: str, dn: str) -> TClient:
        client = await TClient.connect(*sites[site], application_name=f"bench-{dn}")
        await client.register_address(dn)
        await client.wait_for("EventRegistered")
        return client

    lane_desks = [
        (
            await desk("A", caller),
            await desk("A", agent),
            {"A": await desk("A", target), "B": await desk("B", target)},
        )
        for caller, agent, target in zip(
            numbers(CALLERS, lanes), numbers(AGENTS, lanes), numbers(TARGETS, lanes), strict=True
        )
    ]
    results = {}
    for phase in options["phases"]:
        out.send(("begin", phase))  # the sites' processes note their CPU time
        began = time.process_time()
        results[phase] = await _phase(phase, lane_desks, options)
        results[phase]["desks_cpu"] = time.process_time() - began
        out.send(("end", phase))
    for caller, agent, targets in lane_desks:
        for client in (caller, agent, *targets.values()):
            await client.close()
    return results


async def _phase(phase: str, lane_desks: list[Any], options: dict[str, Any]) -> dict[str, Any]:
    ringing_after: list[float] = []
    matched_after: list[float] = []
    transfers = 0
    deadline = time.perf_counter() + options["seconds"]
    lanes = len(lane_desks)
    counted = options["transfers"]  # each lane's share of a fixed count, if given
    quota = [counted // lanes + (n < counted % lanes) for n in range(lanes)]
    if not counted:
        quota = [sys.maxsize] * lanes
    cross = {"Location": "SiteB", "XRouteType": options["xroute"]} if phase == "B" else {}

    async def lane(n: int) -> None:
        nonlocal transfers
        caller, agent, targets = lane_desks[n]
        target = targets[phase]
        caller_dn, agent_dn, target_dn = str(CALLERS + n), str(AGENTS + n), str(TARGETS + n)
        while time.perf_counter() < deadline and quota[n] > 0:
            quota[n] -= 1
            dialing = await caller.make_call(caller_dn, agent_dn)
            ringing = await agent.wait_for("EventRinging")
            await agent.answer_call(agent_dn, ringing["ConnID"])
            await caller.wait_for("EventEstablished")
            started = time.perf_counter()
            await agent.single_step_transfer(agent_dn, dialing["ConnID"], target_dn, **cross)
            arrived = await target.wait_for("EventRinging")
            ringing_after.append(time.perf_counter() - started)
            if cross:
                await agent.wait_for("EventRemoteConnectionSuccess")
                matched_after.append(time.perf_counter() - started)
            await target.answer_call(target_dn, arrived["ConnID"])
            await target.wait_for("EventEstablished")
            await caller.release_call(caller_dn, dialing["ConnID"])
            await target.wait_for("EventReleased")
            transfers += 1

    began = time.perf_counter()
    await asyncio.gather(*(lane(n) for n in range(len(lane_desks))))
    elapsed = time.perf_counter() - began
    return {
        "transfers": transfers,
        "elapsed": elapsed,
        "ringing": ringing_after,
        "matched": matched_after,
    }


# --- the two sites (this process) -------------------------------------------------------------


def door(lanes: int) -> dict[str, Any]:
    """Room for every desk: three per lane at SiteA, all from one address."""
    room = 3 * lanes + 10
    return {"clients": {"max_connections": room, "max_connections_per_address": room}}


def site_b(lanes: int) -> Any:
    dns = {DeviceId(n): DnKind.EXTENSION for n in numbers(TARGETS, lanes)}
    points = tuple(DeviceId(n) for n in numbers(ROUTING_POINTS, lanes))
    dns |= {point: DnKind.ROUTING_POINT for point in points}
    return amend(
        demo(),
        iscc=IsccSettings(
            listen=FREE,
            peers={"SiteA": IsccPeer(Address("127.0.0.1", 1), "8")},
            external_routing_points=points,
            dnis_pool=(),
        ),
        switch={"name": "SiteB", "reply_timeout": 30.0},
        server={"name": "tserver-b", "client_listen": FREE, "http_listen": None, **door(lanes)},
        site={"dns": dns, "routing_points": {}, "acd_queues": {}},
        pbxsim={"trunk_listen": FREE, "trunks": (Trunk(name="AB", prefix="8"),)},
    )


def site_a(lanes: int, trunk: tuple[str, int], iscc: tuple[str, int]) -> Any:
    extensions = numbers(CALLERS, lanes) + numbers(AGENTS, lanes) + numbers(TARGETS, lanes)
    return amend(
        demo(),
        iscc=IsccSettings(listen=FREE, peers={"SiteB": IsccPeer(Address(*iscc), "9")}),
        switch={"name": "SiteA", "reply_timeout": 30.0},
        server={"name": "tserver-a", "client_listen": FREE, "http_listen": None, **door(lanes)},
        site={
            "dns": {DeviceId(n): DnKind.EXTENSION for n in extensions},
            "routing_points": {},
            "acd_queues": {},
        },
        pbxsim={"trunks": (Trunk(name="AB", prefix="9", peer=str(Address(*trunk))),)},
    )


async def start(config: Any) -> tuple[Service, asyncio.Task[None]]:
    service = Service(config, announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.started.wait()
    await service.runtime.link_ready.wait()
    return service, task


async def measure(options: dict[str, Any]) -> None:
    where = options["pbxsim"]
    collector.starting()  # the servers' process is set up as `ctiserver run` sets one up
    with switch_for(site_b(options["lanes"]), where) as (config_b, switch_b):
        b, b_task = await start(config_b)
        if switch_b is not None:
            trunk = switch_b.trunk_address
        else:
            assert b.embedded is not None
            trunk = b.embedded.trunk_address
        assert trunk is not None
        assert b.iscc_address is not None
        with switch_for(site_a(options["lanes"], trunk, b.iscc_address), where) as (
            config_a,
            switch_a,
        ):
            a, a_task = await start(config_a)
            if a.embedded is not None:
                await a.embedded.listener.wait_trunk("AB")
            await a.runtime.peer_ready("SiteB").wait()
            await b.runtime.peer_ready("SiteA").wait()
            collector.started()
            result = await run_phases(a, b, options, [switch_a, switch_b])
            for service, task in ((a, a_task), (b, b_task)):
                service.stop()
                await task
    report(options, result)


async def run_phases(
    a: Service, b: Service, options: dict[str, Any], switches: list[SwitchProcess | None]
) -> dict[str, Any]:
    """Run the desks; each phase's result, with the CPU seconds of this process (both
    servers) and of the pbxsims over it."""
    assert a.client_address is not None
    assert b.client_address is not None
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=run_desks,
        args=({"A": a.client_address, "B": b.client_address}, options, send),
    )
    child.start()
    marks: dict[tuple[str, str], tuple[float, float]] = {}
    counts: dict[tuple[str, str], dict[str, float]] = {}
    while True:
        message = await asyncio.get_running_loop().run_in_executor(None, _next, receive, child)
        if not isinstance(message, tuple):
            break
        switch_cpu = sum(s.cpu_seconds() for s in switches if s is not None)
        marks[message] = (time.process_time(), switch_cpu)
        counts[message] = traffic(a, b)
    child.join()
    result: dict[str, Any] = message
    for phase in options["phases"]:
        began, ended = marks["begin", phase], marks["end", phase]
        desks = result[phase]["desks_cpu"]
        result[phase]["cpu"] = (ended[0] - began[0], ended[1] - began[1], desks)
        before, after = counts["begin", phase], counts["end", phase]
        result[phase]["traffic"] = {name: after[name] - before[name] for name in after}
    return result


def _next(receive: Any, child: Any) -> Any:
    """The desks' next message; SystemExit if they died without one."""
    while not receive.poll(1.0):
        if not child.is_alive():
            raise SystemExit(f"the desks' process ended (exit code {child.exitcode})")
    return receive.recv()


TRAFFIC = {
    "ctiserver_csta_frames_received": "CSTA in",
    "ctiserver_csta_frames_sent": "CSTA out",
    "ctiserver_events_sent": "events",
    "ctiserver_iscc_messages": "ISCC",
}


def traffic(*services: Service) -> dict[str, float]:
    """The servers' counters of what they read and wrote, summed."""
    totals = dict.fromkeys(TRAFFIC.values(), 0.0)
    for service in services:
        for metric in service.metrics.registry.collect():
            label = TRAFFIC.get(metric.name)
            if label is not None:
                totals[label] += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return totals


def report(options: dict[str, Any], result: dict[str, Any]) -> None:
    print(f"pbxsim:                          {options['pbxsim']}")
    print(f"lanes (concurrent calls):        {options['lanes']}")
    print(f"transaction type:                {options['xroute']}")
    labels = {"A": "local", "B": "cross-site"}
    for phase in options["phases"]:
        _report_phase(labels[phase], result[phase], options)
    if len(options["phases"]) == 2:
        _report_ratios(result["A"], result["B"])


def _report_phase(label: str, phase: dict[str, Any], options: dict[str, Any]) -> None:
    count = max(phase["transfers"], 1)
    rate = phase["transfers"] / phase["elapsed"]
    print(f"{label} transfers per second:".ljust(33) + f"{rate:.0f} ({phase['transfers']})")
    servers, switches, desks = (cpu * 1e6 / count for cpu in phase["cpu"])
    print(f"CPU per {label} transfer:".ljust(33) + f"servers {servers:.0f} us, ", end="")
    print(f"pbxsims {switches:.0f} us, " if options["pbxsim"] == "process" else "", end="")
    print(f"desks {desks:.0f} us")
    print(f"  per {label} transfer:".ljust(33), end="")
    print(", ".join(f"{name} {n / count:.1f}" for name, n in phase["traffic"].items()))
    print(f"{label}: request -> target rings:".ljust(33) + percentiles(phase["ringing"]))
    if phase["matched"]:
        print(f"{label}: request -> success event:".ljust(33) + percentiles(phase["matched"]))


def _report_ratios(local: dict[str, Any], cross: dict[str, Any]) -> None:
    local_rate = local["transfers"] / local["elapsed"]
    cross_rate = cross["transfers"] / cross["elapsed"]
    print(f"ratio cross/local:               {cross_rate / local_rate:.2f}", end="")
    print(f" (local {local_rate:.0f}/s, cross-site {cross_rate:.0f}/s)")
    for label, cut in (("p50", 49), ("p99", 98)):
        ratio = _cut(cross["ringing"], cut) / _cut(local["ringing"], cut)
        added = (_cut(cross["ringing"], cut) - _cut(local["ringing"], cut)) * 1e3
        print(f"  {label} rings cross/local:         {ratio:.2f} (+{added:.3f} ms)")


def _cut(values: list[float], cut: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[cut]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--xroute",
        default="DirectUUI",
        choices=["Route", "RouteUUI", "DirectUUI", "DirectANI", "DirectNoToken", "DirectDigits"],
    )
    parser.add_argument(
        "--transfers",
        type=int,
        default=0,
        help="make this many transfers in each phase (not timed: for instruction counts)",
    )
    parser.add_argument(
        "--phases",
        choices=["local,cross", "local", "cross"],
        default="local,cross",
        help="the phases to run (one alone, to profile it)",
    )
    add_switch_option(parser)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    arguments = parser.parse_args()
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    print(f"event loop:                      {arguments.loop}")
    options = {
        "lanes": arguments.lanes,
        "xroute": arguments.xroute,
        "pbxsim": arguments.pbxsim,
        "transfers": arguments.transfers,
        "seconds": arguments.seconds if not arguments.transfers else float("inf"),
        "phases": [{"local": "A", "cross": "B"}[name] for name in arguments.phases.split(",")],
    }
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(measure(options))


if __name__ == "__main__":
    main()
