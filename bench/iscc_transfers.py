"""Benchmark: transfers to another site (ISCC) against the same transfers kept local.

Two sites, each a CTI server with its pbxsim, the switches joined by a trunk and the
servers by ISCC; the desks run in a child process.  Each site's server runs in a process
of its own (`--servers process`, the default; on uvloop, its garbage collector set as
`ctiserver run` sets it), as two sites would, each with its own T-Server on its own
host: the local phase keeps SiteB's server idle, the cross-site phase puts both to work,
and in one process that second server's work would take the same core as the first's.
`--servers shared` runs both servers in this process, as the benchmark did until
7 December 2026 (to compare with the figures taken then); `--loop` chooses this
process's event loop.  The pbxsims run in processes of their own (`--pbxsim embedded`
puts each in its site's server).  The machine's cores bound what a run shows: the
cross-site phase keeps five processes busy (two servers, two pbxsims, the desks), the
local phase three.

Each lane is a caller and an agent at SiteA and a target DN at SiteA and at SiteB.  A
lane loops: the caller dials the agent, the agent answers and single-step transfers the
call to its target, the target answers, the caller hangs up.  The local phase transfers
to the target at SiteA, the cross-site phase to the one at SiteB (with Location, and the
transaction type given).  It prints transfers per second in each phase, the time from
the transfer request to the target's EventRinging (and, across sites, to
EventRemoteConnectionSuccess) as percentiles, and the cross/local ratios.  Per transfer
in each phase it also prints the CPU of the servers (with `--servers process`, of each
site's server and their sum, and the cross/local ratio of SiteA's), the pbxsims and the
desks, and the traffic: CSTA frames the servers read and wrote, T-Library events they
sent, ISCC messages between them.  `--phases cross` runs one phase only (to profile it
alone).

    ./dev bench iscc_transfers [--lanes 20] [--seconds 5] [--xroute DirectUUI]
                               [--pbxsim process|embedded] [--loop uvloop|asyncio]
                               [--phases local,cross] [--servers process|shared]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from typing import Any

from probe import (
    ServerProcess,
    SwitchProcess,
    add_switch_option,
    counters,
    percentiles,
    switch_for,
)

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


# --- the two sites -------------------------------------------------------------


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


class SharedSite:
    """A site's server in this process (`--servers shared`), offering what ServerProcess
    offers; its CPU is this process's, shared with the other site's server."""

    def __init__(self, service: Service, task: asyncio.Task[None]) -> None:
        self.service, self.task = service, task
        assert service.client_address is not None
        self.client_address: tuple[str, int] = service.client_address
        self.iscc_address = service.iscc_address
        embedded = service.embedded
        self.trunk_address = embedded.trunk_address if embedded is not None else None

    @classmethod
    async def start(cls, config: Any) -> SharedSite:
        service = Service(config, announce=lambda line: None)
        task = asyncio.create_task(service.run())
        await service.started.wait()
        await service.runtime.link_ready.wait()
        return cls(service, task)

    def cpu_seconds(self) -> float:
        return float("nan")  # not apart from the other site's: see run_phases

    async def peer_ready(self, location: str) -> None:
        await self.service.runtime.peer_ready(location).wait()

    async def trunk_ready(self, name: str) -> None:
        assert self.service.embedded is not None
        await self.service.embedded.listener.wait_trunk(name)

    async def counters(self) -> dict[str, float]:
        return counters(self.service)

    async def stop(self) -> None:
        self.service.stop()
        await self.task


Site = ServerProcess | SharedSite


async def start_site(config: Any, servers: str) -> Site:
    """A site's server, in a process of its own or in this one."""
    if servers == "process":
        return ServerProcess(config)
    return await SharedSite.start(config)


async def measure(options: dict[str, Any]) -> None:
    where, lanes = options["pbxsim"], options["lanes"]
    shared = options["servers"] == "shared"
    if shared:
        collector.starting()  # the servers' process is set up as `ctiserver run` sets one up
    with switch_for(site_b(lanes), where) as (config_b, switch_b):
        b = await start_site(config_b, options["servers"])
        trunk = switch_b.trunk_address if switch_b is not None else b.trunk_address
        assert trunk is not None
        assert b.iscc_address is not None
        with switch_for(site_a(lanes, trunk, b.iscc_address), where) as (config_a, switch_a):
            a = await start_site(config_a, options["servers"])
            try:
                await sites_ready(a, b, trunked=switch_a is None)
                if shared:
                    collector.started()
                result = await run_phases(a, b, options, [switch_a, switch_b])
            finally:
                for site in (a, b):  # SiteA first: SiteB then sees its peer close
                    await site.stop()
    report(options, result)


async def sites_ready(a: Site, b: Site, *, trunked: bool) -> None:
    """Once the switches' trunk (when SiteA's pbxsim is embedded: *trunked*) and the ISCC
    link are up at both ends."""
    if trunked:
        await a.trunk_ready("AB")
    await a.peer_ready("SiteB")
    await b.peer_ready("SiteA")


async def run_phases(
    a: Site, b: Site, options: dict[str, Any], switches: list[SwitchProcess | None]
) -> dict[str, Any]:
    """Run the desks; each phase's result, with the CPU seconds of the servers and of the
    pbxsims over it, and the servers' traffic."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=run_desks,
        args=({"A": a.client_address, "B": b.client_address}, options, send),
    )
    child.start()
    marks: dict[tuple[str, str], dict[str, float]] = {}
    counts: dict[tuple[str, str], dict[str, float]] = {}
    while True:
        message = await asyncio.get_running_loop().run_in_executor(None, _next, receive, child)
        if not isinstance(message, tuple):
            break
        marks[message] = cpu_mark(a, b, switches, shared=options["servers"] == "shared")
        counts[message] = traffic(*await asyncio.gather(a.counters(), b.counters()))
    child.join()
    result: dict[str, Any] = message
    for phase in options["phases"]:
        began, ended = marks["begin", phase], marks["end", phase]
        result[phase]["cpu"] = {name: ended[name] - began[name] for name in ended}
        result[phase]["cpu"]["desks"] = result[phase]["desks_cpu"]
        before, after = counts["begin", phase], counts["end", phase]
        result[phase]["traffic"] = {name: after[name] - before[name] for name in after}
    return result


def cpu_mark(
    a: Site, b: Site, switches: list[SwitchProcess | None], *, shared: bool
) -> dict[str, float]:
    """CPU seconds so far: each site's server, both (this process's, when *shared*), the
    pbxsims."""
    sites = {"SiteA": a.cpu_seconds(), "SiteB": b.cpu_seconds()}
    servers = time.process_time() if shared else sites["SiteA"] + sites["SiteB"]
    pbxsims = sum(s.cpu_seconds() for s in switches if s is not None)
    return {"servers": servers, **sites, "pbxsims": pbxsims}


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


def traffic(*sites: dict[str, float]) -> dict[str, float]:
    """The servers' counters of what they read and wrote, summed."""
    totals = dict.fromkeys(TRAFFIC.values(), 0.0)
    for site in sites:
        for name, label in TRAFFIC.items():
            totals[label] += site.get(name, 0.0)
    return totals


def report(options: dict[str, Any], result: dict[str, Any]) -> None:
    print(f"servers:                         {options['servers']}")
    print(f"pbxsim:                          {options['pbxsim']}")
    print(f"lanes (concurrent calls):        {options['lanes']}")
    print(f"transaction type:                {options['xroute']}")
    labels = {"A": "local", "B": "cross-site"}
    for phase in options["phases"]:
        _report_phase(labels[phase], result[phase], options)
    if len(options["phases"]) == 2:
        _report_ratios(result["A"], result["B"])
    if len(options["phases"]) == 2 and options["servers"] == "process":
        _report_site_cpu(result["A"], result["B"])


def _report_phase(label: str, phase: dict[str, Any], options: dict[str, Any]) -> None:
    count = max(phase["transfers"], 1)
    rate = phase["transfers"] / phase["elapsed"]
    print(f"{label} transfers per second:".ljust(33) + f"{rate:.0f} ({phase['transfers']})")
    cpu = {name: seconds * 1e6 / count for name, seconds in phase["cpu"].items()}
    print(f"CPU per {label} transfer:".ljust(33) + f"servers {cpu['servers']:.0f} us ", end="")
    if options["servers"] == "process":
        print(f"(SiteA {cpu['SiteA']:.0f}, SiteB {cpu['SiteB']:.0f}), ", end="")
    else:
        print("(both in one process), ", end="")
    print(f"pbxsims {cpu['pbxsims']:.0f} us, " if options["pbxsim"] == "process" else "", end="")
    print(f"desks {cpu['desks']:.0f} us")
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


def _report_site_cpu(local: dict[str, Any], cross: dict[str, Any]) -> None:
    """Server CPU per transfer, cross-site over local: of SiteA's server (the rate a
    site's core would allow, were the servers the bound), and of both servers."""

    def per_transfer(phase: dict[str, Any], name: str) -> float:
        return float(phase["cpu"][name]) / max(phase["transfers"], 1)

    site_a = per_transfer(cross, "SiteA") / per_transfer(local, "SiteA")
    both = per_transfer(cross, "servers") / per_transfer(local, "servers")
    print(f"server CPU cross/local:          SiteA {site_a:.2f}, both servers {both:.2f}")


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
    parser.add_argument(
        "--servers",
        choices=["process", "shared"],
        default="process",
        help="run each site's server in a process of its own (the default) or both in this one",
    )
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
        "servers": arguments.servers,
        "transfers": arguments.transfers,
        "seconds": arguments.seconds if not arguments.transfers else float("inf"),
        "phases": [{"local": "A", "cross": "B"}[name] for name in arguments.phases.split(",")],
    }
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(measure(options))


if __name__ == "__main__":
    main()
