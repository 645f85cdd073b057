"""Benchmark: a contact-centre mix through pbxsim.

Callers dial a routing point; a router routes each call to an ACD queue; the queue
gives it to the longest-idle ready agent, who answers; a fifth of the calls are then
consult-transferred to a supervisor, who answers and later releases; the others the
agent releases.  The server runs in this process, pbxsim in a process of its own
(`--pbxsim embedded` puts it in the server's), the desktops in a child process.

Prints calls per second, T-Library events per second, the server's latency from a CSTA
event arriving to the T-Library event leaving, and the desktops' request-to-answer
times, as percentiles.

    ./dev bench contact_centre [--callers 40] [--agents 40] [--seconds 10]
                               [--pbxsim process|embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from probe import Probe, add_switch_option, events_sent, percentiles, running, switch_for

from ctiserver.app.config import AcdQueueSettings, Address, RoutingPointSettings, amend, demo
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.tlib.vocabulary import TMessage

RP, Q = "5000", "8001"
SUPERVISORS = [str(7301 + n) for n in range(20)]


def site(callers: int, agents: int) -> Any:
    dns = {DeviceId(str(7101 + n)): DnKind.EXTENSION for n in range(callers)}
    dns |= {DeviceId(str(7201 + n)): DnKind.EXTENSION for n in range(agents)}
    dns |= {DeviceId(s): DnKind.EXTENSION for s in SUPERVISORS}
    dns |= {DeviceId(Q): DnKind.ACD_QUEUE, DeviceId(RP): DnKind.ROUTING_POINT}
    return amend(
        demo(),
        site={
            "dns": dns,
            "agent_logins": tuple(str(1001 + n) for n in range(agents)),
            "routing_points": {DeviceId(RP): RoutingPointSettings(30.0, DeviceId(Q))},
            "acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)},
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": None},
        switch={"reply_timeout": 30.0},
    )


# --- the desktops (child process) -----------------------------------------------------------


class Desk:
    """One T-Library connection serving several DNs, dispatching events by name."""

    def __init__(self, client: Any, timings: list[float]) -> None:
        self.client = client
        self.timings = timings
        self.handlers: dict[str, Callable[[TMessage], Awaitable[None] | None]] = {}
        self.tasks: set[asyncio.Future[None]] = set()

    async def ask(self, request: str, **attributes: Any) -> TMessage | None:
        started = time.perf_counter()
        try:
            answer: TMessage = await self.client.request(request, **attributes)
        except Exception:
            return None
        self.timings.append(time.perf_counter() - started)
        return answer

    async def run(self) -> None:
        async for event in self.client.events():
            handler = self.handlers.get(event["Event"])
            if handler is not None:
                result = handler(event)
                if result is not None:
                    task = asyncio.ensure_future(result)
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)


async def desk(address: tuple[str, int], dns: list[str], timings: list[float]) -> Desk:
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name="bench")
    for dn in dns:
        await client.register_address(dn)
    return Desk(client, timings)


class Mix:
    """The contact centre's people: callers, a router, agents and supervisors."""

    def __init__(self, desks: dict[str, Desk], callers: list[str], agents: list[str]) -> None:
        self.desks = desks
        self.callers, self.agents = callers, agents
        self.rng = random.Random(7)
        self.free_supervisors = list(SUPERVISORS)
        self.released: dict[str, asyncio.Future[None]] = {}
        self.counts = {"calls": 0, "transfers": 0}
        desks["router"].handlers["EventRouteRequest"] = self.route
        desks["agents"].handlers["EventRinging"] = self.agent_rings
        desks["agents"].handlers["EventEstablished"] = self.agent_talks
        desks["supervisors"].handlers["EventRinging"] = self.supervisor_rings
        desks["supervisors"].handlers["EventPartyChanged"] = self.supervisor_takes_over
        desks["supervisors"].handlers["EventReleased"] = self.supervisor_free
        desks["callers"].handlers["EventReleased"] = self.caller_released

    async def route(self, event: TMessage) -> None:
        await self.desks["router"].ask(
            "RequestRouteCall", ThisDN=RP, ConnID=event["ConnID"], OtherDN=Q
        )

    async def agent_rings(self, event: TMessage) -> None:
        if event["ThisDN"] in self.agents:
            await self.desks["agents"].ask(
                "RequestAnswerCall", ThisDN=event["ThisDN"], ConnID=event["ConnID"]
            )

    async def agent_talks(self, event: TMessage) -> None:
        desk, dn, conn_id = self.desks["agents"], event["ThisDN"], event["ConnID"]
        if event.get("CallType") == "Consult":
            await desk.ask(
                "RequestCompleteTransfer",
                ThisDN=dn,
                ConnID=event["PreviousConnID"],
                TransferConnID=conn_id,
            )
        elif self.rng.random() < 0.2 and self.free_supervisors:
            supervisor = self.free_supervisors.pop(0)
            self.counts["transfers"] += 1
            if (
                await desk.ask(
                    "RequestInitiateTransfer", ThisDN=dn, ConnID=conn_id, OtherDN=supervisor
                )
                is None
            ):
                self.free_supervisors.append(supervisor)
                await desk.ask("RequestReleaseCall", ThisDN=dn, ConnID=conn_id)
        else:
            await desk.ask("RequestReleaseCall", ThisDN=dn, ConnID=conn_id)

    async def supervisor_rings(self, event: TMessage) -> None:
        await self.desks["supervisors"].ask(
            "RequestAnswerCall", ThisDN=event["ThisDN"], ConnID=event["ConnID"]
        )

    async def supervisor_takes_over(self, event: TMessage) -> None:
        await self.desks["supervisors"].ask(
            "RequestReleaseCall", ThisDN=event["ThisDN"], ConnID=event["ConnID"]
        )

    def supervisor_free(self, event: TMessage) -> None:
        if event.get("CallState") != "Transferred" and event["ThisDN"] not in self.free_supervisors:
            self.free_supervisors.append(event["ThisDN"])

    def caller_released(self, event: TMessage) -> None:
        waiting = self.released.get(event["ConnID"])
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def caller(self, dn: str, deadline: float) -> None:
        while time.perf_counter() < deadline:
            dialing = await self.desks["callers"].ask("RequestMakeCall", ThisDN=dn, OtherDN=RP)
            if dialing is None:
                continue
            done = self.released[dialing["ConnID"]] = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(done, 30)
            del self.released[dialing["ConnID"]]
            self.counts["calls"] += 1


async def desktops(
    address: tuple[str, int], callers: int, agents: int, seconds: float
) -> dict[str, Any]:
    timings: list[float] = []
    caller_dns = [str(7101 + n) for n in range(callers)]
    agent_dns = [str(7201 + n) for n in range(agents)]
    desks = {
        "router": await desk(address, [RP], timings),
        "agents": await desk(address, agent_dns, timings),
        "supervisors": await desk(address, SUPERVISORS, timings),
        "callers": await desk(address, caller_dns, timings),
    }
    for n, dn in enumerate(agent_dns):
        await desks["agents"].ask(
            "RequestAgentLogin",
            ThisDN=dn,
            AgentID=str(1001 + n),
            ThisQueue=Q,
            AgentWorkMode="AutoIn",
        )
    mix = Mix(desks, caller_dns, agent_dns)
    readers = [asyncio.ensure_future(d.run()) for d in desks.values()]
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    await asyncio.gather(*(mix.caller(dn, deadline) for dn in caller_dns))
    elapsed = time.perf_counter() - began
    for reader in readers:
        reader.cancel()
    return {**mix.counts, "elapsed": elapsed, "timings": timings}


def run_desktops(
    address: tuple[str, int], callers: int, agents: int, seconds: float, out: Any
) -> None:
    import uvloop

    out.send(uvloop.run(desktops(address, callers, agents, seconds)))


async def measure(callers: int, agents: int, seconds: float, where: str) -> None:
    probe = Probe()
    probe.install()
    with switch_for(site(callers, agents), where) as (config, _):
        async with running(config) as service:
            receive, send = multiprocessing.Pipe(duplex=False)
            child = multiprocessing.get_context("spawn").Process(
                target=run_desktops, args=(service.client_address, callers, agents, seconds, send)
            )
            before = events_sent(service)
            child.start()
            result = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
            child.join()
            events = events_sent(service) - before
    elapsed = result["elapsed"]
    print(f"pbxsim:                    {where}")
    print(f"callers, agents:           {callers}, {agents} (+{len(SUPERVISORS)} supervisors)")
    calls, transfers = result["calls"], result["transfers"]
    print(f"calls completed:           {calls} in {elapsed:.1f} s ({transfers} transferred)")
    print(f"calls per second:          {result['calls'] / elapsed:.0f}")
    print(f"T-Library events per sec:  {events / elapsed:.0f}")
    print(f"events per call (ratio):   {events / max(result['calls'], 1):.1f}")
    print(f"CSTA in -> T-Lib out:      {percentiles(probe.latencies)}")
    print(f"desktop request -> answer: {percentiles(result['timings'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=40)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    add_switch_option(parser)
    arguments = parser.parse_args()
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(
            measure(arguments.callers, arguments.agents, arguments.seconds, arguments.pbxsim)
        )


if __name__ == "__main__":
    main()
