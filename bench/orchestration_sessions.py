"""Benchmark: strategy sessions per second, and RouteRequest -> RouteCall, with
skill-based selection over many agents.

Each call that reaches routing point 5000 starts a session of a routing strategy that
submits it to `?sales>5` (a skill expression; half the agents have the skill) and ends
once the call is routed.  The caller hangs up as soon as the chosen agent's phone rings.

1. core: the orchestration core alone, fed T-Library events in memory (no sockets):
   sessions per second, and EventRouteRequest in -> RequestRouteCall out.
2. end to end, as many sessions as the machine takes: the server in this process (its
   garbage collector set as `ctiserver run` sets it), pbxsim in a process of its own
   (`--pbxsim embedded`: in the server's, as `ctiserver run` runs it without a `[switch]
   link`), the orchestration server in its child process (as `ctiserver run` runs it),
   the callers and agents in another process; then the same with the orchestration
   server on the CTI server's own event loop, for comparison.  Every caller makes one
   call, all at once, before the measured part (a warm-up that fills the context pool).
3. end to end at a fixed rate (--rate sessions/s, open loop): the server's time from
   sending EventRouteRequest to receiving the RequestRouteCall that answers it, measured
   inside the server process, as percentiles.

Each end-to-end run prints the CPU each process spent per session, and the T-Library
events the server sent per session to each kind of client (the orchestration server, the
callers, the agents).

The core alone runs twice: with a new ECMAScript context per session, and with a pool of
contexts (`[orchestration] context-pool`); the end-to-end runs use --context-pool, by
default as many contexts as callers, so that every session in flight finds an idle one
(0: a context per session).  A session that finds none makes a context (with the
built-ins frozen: about 15 times a fresh one), which is closed at its end when the pool
already holds its N idle ones.

    ./dev bench orchestration_sessions [--agents 2000] [--callers 60] [--seconds 10] [--rate 500]
                                       [--context-pool N] [--pbxsim process|embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from probe import SwitchProcess, add_switch_option, percentiles, running, switch_for

from ctiserver.app.config import AcdQueueSettings, Address, RoutingPointSettings, amend, demo
from ctiserver.app.service import Service
from ctiserver.ids import ClientId, DeviceId
from ctiserver.model.states import DnKind
from ctiserver.orchestration.core import Orchestrator
from ctiserver.orchestration.links import CoreSettings
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import (
    AgentProfile,
    DirectorySettings,
    Endpoint,
    OrchestrationSettings,
)
from ctiserver.scxml.parser import parse_document
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.core import Deliver

RP, Q = "5000", "8001"
FIRST_AGENT_DN, FIRST_CALLER_DN, FIRST_LOGIN = 20001, 30001, 40001
STRATEGY = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:queue="http://www.genesyslab.com/modules/queue" initial="waiting">
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="waiting">
    <transition event="interaction.added" target="routing">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
  <state id="routing">
    <onentry>
      <queue:submit requestid="_data.reqid" interactionid="_data.ixnid" timeout="30"
                    queue="'VQ_sales'" targets="'?sales>5'"/>
    </onentry>
    <transition event="queue.submit.done error.queue.submit" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


def directory(agents: int) -> DirectorySettings:
    """Agent n has sales 8 when n is even, else 3: half of them match `?sales>5`."""
    profiles = {
        str(FIRST_LOGIN + n): AgentProfile({"sales": 8 if n % 2 == 0 else 3, "lang": "en"})
        for n in range(agents)
    }
    return DirectorySettings(agents=profiles)


# --- 1. the core alone ------------------------------------------------------------------------


def core_alone(sessions: int, agents: int, pool: int) -> None:
    agent_dns = [str(FIRST_AGENT_DN + n) for n in range(agents)]
    core = Orchestrator(
        settings=CoreSettings(
            register=(*agent_dns, RP), directory=directory(agents), context_pool=pool
        ),
        strategies={RP: parse_document(STRATEGY.encode())},
        now=time.perf_counter(),
    )
    for send in core.link_up("main", time.perf_counter()):
        dn = send.message["ThisDN"]  # type: ignore[union-attr]
        login = str(FIRST_LOGIN + int(dn) - FIRST_AGENT_DN)
        registered: TMessage = {
            "Event": "EventRegistered",
            "ThisDN": dn,
            "InfoStatus": "RouteDN" if dn == RP else "DN",
            "Extensions": {"AgentID": login, "AgentStatus": "Ready"} if dn != RP else {},
            "ReferenceID": send.message["ReferenceID"],  # type: ignore[union-attr]
        }
        core.on_event("main", registered, time.perf_counter())
    latencies: list[float] = []
    began = time.perf_counter()
    for n in range(sessions):
        conn_id = f"{n:016x}"
        started = time.perf_counter()
        (route,) = core.on_event("main", _route_request(conn_id), started)
        latencies.append(time.perf_counter() - started)
        agent = route.message["OtherDN"]  # type: ignore[union-attr]
        now = time.perf_counter()
        used = {"Event": "EventRouteUsed", "ThisDN": RP, "ConnID": conn_id, "ThirdPartyDN": agent}
        reference = route.message["ReferenceID"]  # type: ignore[union-attr]
        core.on_event("main", {**used, "ReferenceID": reference}, now)  # type: ignore[typeddict-item]
        core.on_event("main", {"Event": "EventRinging", "ThisDN": agent, "ConnID": conn_id}, now)
        core.on_event("main", {"Event": "EventReleased", "ThisDN": agent, "ConnID": conn_id}, now)
    elapsed = time.perf_counter() - began
    assert not core.interactions.sessions, "every session should have ended"
    contexts = f"a pool of {pool} ECMAScript contexts" if pool else "a new context per session"
    print(
        f"1. the orchestration core alone (in memory), {agents} agents, target ?sales>5, {contexts}"
    )
    print(f"   sessions per second:              {sessions / elapsed:.0f} ({sessions} sessions)")
    print(f"   RouteRequest in -> RouteCall out: {percentiles(latencies)}")


def _route_request(conn_id: str) -> TMessage:
    return {
        "Event": "EventRouteRequest",
        "ThisDN": RP,
        "ThisQueue": RP,
        "ConnID": conn_id,
        "CallID": conn_id,
        "CallType": "Internal",
        "OtherDN": str(FIRST_CALLER_DN),
        "OtherDNRole": "Origination",
        "ANI": str(FIRST_CALLER_DN),
        "DNIS": RP,
        "UserData": {},
    }


# --- the callers and agents (a child process) -------------------------------------------------


class People:
    """Callers who dial the routing point and hang up when the agent's phone rings."""

    def __init__(self, callers: Any) -> None:
        self.callers = callers
        self.rang: dict[str, asyncio.Future[None]] = {}
        self.free: asyncio.Queue[str] = asyncio.Queue()
        self.calls = 0

    def ringing(self, conn_id: str) -> asyncio.Future[None]:
        if conn_id not in self.rang:
            self.rang[conn_id] = asyncio.get_running_loop().create_future()
        return self.rang[conn_id]

    async def watch_agents(self, agents: Any) -> None:
        async for event in agents.events():
            if event["Event"] == "EventRinging":
                future = self.ringing(event["ConnID"])
                if not future.done():
                    future.set_result(None)

    async def call(self, dn: str) -> None:
        conn_id = (await self.callers.make_call(dn, RP))["ConnID"]
        await asyncio.wait_for(self.ringing(conn_id), 30)
        del self.rang[conn_id]
        await self.callers.release_call(dn, conn_id)
        self.calls += 1

    async def closed_loop(self, dn: str, deadline: float) -> None:
        while time.perf_counter() < deadline:
            await self.call(dn)

    async def open_loop(self, rate: float, deadline: float) -> None:
        """A new call every 1/rate s, from a caller that has none going."""
        tasks: set[asyncio.Task[None]] = set()
        interval, next_start = 1.0 / rate, time.perf_counter()
        while next_start < deadline:
            await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
            dn = await self.free.get()
            task = asyncio.create_task(self.call(dn))
            task.add_done_callback(lambda _t, dn=dn: self.free.put_nowait(dn))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_start += interval
        await asyncio.gather(*tasks)


async def people(address: tuple[str, int], plan: dict[str, Any], out: Any) -> dict[str, Any]:
    from ctiserver.client.connection import TClient

    callers_dns = [str(FIRST_CALLER_DN + n) for n in range(plan["callers"])]
    agents = await TClient.connect(*address, application_name="agents")
    await asyncio.gather(
        *(agents.register_address(str(FIRST_AGENT_DN + n)) for n in range(plan["agents"]))
    )
    await asyncio.gather(
        *(
            agents.agent_login(
                str(FIRST_AGENT_DN + n), str(FIRST_LOGIN + n), queue=Q, work_mode="AutoIn"
            )
            for n in range(plan["agents"])
        )
    )
    callers = await TClient.connect(*address, application_name="callers")
    await asyncio.gather(*(callers.register_address(dn) for dn in callers_dns))
    crowd = People(callers)
    for dn in callers_dns:
        crowd.free.put_nowait(dn)
    watcher = asyncio.ensure_future(crowd.watch_agents(agents))
    drain = asyncio.ensure_future(_drain(callers))
    # warm-up: every caller at once, so that the pool holds a context for each
    await asyncio.gather(*(crowd.call(dn) for dn in callers_dns))
    crowd.calls = 0
    out.send("set up")  # the measured part begins
    began, cpu = time.perf_counter(), time.process_time()
    deadline = began + plan["seconds"]
    if plan["rate"]:
        await crowd.open_loop(plan["rate"], deadline)
    else:
        await asyncio.gather(*(crowd.closed_loop(dn, deadline) for dn in callers_dns))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    watcher.cancel()
    drain.cancel()
    return {"calls": crowd.calls, "elapsed": elapsed, "people_cpu": cpu}


async def _drain(client: Any) -> None:
    async for _ in client.events():
        pass


def run_people(address: tuple[str, int], plan: dict[str, Any], out: Any) -> None:
    import uvloop

    out.send(uvloop.run(people(address, plan, out)))


# --- 2. and 3. end to end -------------------------------------------------------------------


def site(plan: dict[str, Any], strategy: Path, *, child: bool) -> Any:
    dns = {DeviceId(str(FIRST_CALLER_DN + n)): DnKind.EXTENSION for n in range(plan["callers"])}
    dns |= {DeviceId(str(FIRST_AGENT_DN + n)): DnKind.EXTENSION for n in range(plan["agents"])}
    dns |= {DeviceId(Q): DnKind.ACD_QUEUE, DeviceId(RP): DnKind.ROUTING_POINT}
    settings = orchestration(plan, strategy, tuple(dns))
    return amend(
        demo(),
        orchestration=settings if child else None,
        site={
            "dns": dns,
            "agent_logins": tuple(str(FIRST_LOGIN + n) for n in range(plan["agents"])),
            "routing_points": {DeviceId(RP): RoutingPointSettings(30.0, DeviceId(Q))},
            "acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)},
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": None},
        switch={"reply_timeout": 30.0},
    )


def orchestration(
    plan: dict[str, Any], strategy: Path, dns: tuple[str, ...]
) -> OrchestrationSettings:
    return OrchestrationSettings(
        enabled=True,
        register=dns,
        strategies={RP: str(strategy)},
        request_timeout=30,
        directory=directory(plan["agents"]),
        max_sessions=100_000,
        context_pool=plan["context_pool"],
    )


class RouteTimer:
    """Inside the server: EventRouteRequest sent -> the RequestRouteCall for that call."""

    def __init__(self, service: Service) -> None:
        self.asked: dict[str, float] = {}
        self.latencies: list[float] = []
        service.runtime.add_event_listener(self._event)
        on_request = service.runtime.on_request

        def timed(client: ClientId, message: TMessage) -> None:
            if message.get("Request") == "RequestRouteCall":
                asked = self.asked.pop(message.get("ConnID", ""), None)
                if asked is not None:
                    self.latencies.append(time.perf_counter() - asked)
            on_request(client, message)

        service.runtime.on_request = timed  # type: ignore[method-assign]

    def _event(self, delivery: Deliver) -> None:
        if delivery.event["Event"] == "EventRouteRequest":
            self.asked[delivery.event["ConnID"]] = time.perf_counter()


class EventTally:
    """Inside the server: the T-Library events each kind of client receives, counted from
    the moment the measured part begins."""

    def __init__(self, service: Service) -> None:
        self.runtime = service.runtime
        self.counting = False
        self.counts: dict[tuple[str, str], int] = {}
        service.runtime.add_event_listener(self._event)

    def _event(self, delivery: Deliver) -> None:
        if not self.counting:
            return
        for clients, event in delivery.copies():
            for client in clients:
                key = (_kind(self.runtime.client_name(client)), event["Event"])
                self.counts[key] = self.counts.get(key, 0) + 1


def _kind(name: str) -> str:
    for kind in ("callers", "agents"):
        if kind in name:
            return kind
    return "orchestration"


async def end_to_end(plan: dict[str, Any], *, child: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        strategy = Path(folder) / "route.scxml"
        strategy.write_text(STRATEGY)
        config = site(plan, strategy, child=child)
        with switch_for(config, plan["pbxsim"]) as (linked, switch):
            async with running(linked) as service:
                timer, tally = RouteTimer(service), EventTally(service)
                if child:
                    assert service.orchestration is not None
                    await service.orchestration.ready.wait()
                    return await measure(service, plan, switch, timer, tally)
                assert service.client_address is not None
                settings = orchestration(plan, strategy, tuple(config.site.dns))
                endpoint = Endpoint(*service.client_address, config.switch.name)
                in_loop = OrchestrationServer(amend(settings, servers=(endpoint,)))
                serving = asyncio.create_task(in_loop.run())
                await in_loop.ready.wait()
                try:
                    return await measure(service, plan, switch, timer, tally)
                finally:
                    serving.cancel()


async def measure(
    service: Service,
    plan: dict[str, Any],
    switch: SwitchProcess | None,
    timer: RouteTimer,
    tally: EventTally,
) -> dict[str, Any]:
    """Run the people's process; its result with the CPU each process spent meanwhile,
    the latencies the timer took and the events the tally counted."""
    receive, send = multiprocessing.Pipe(duplex=False)
    people_process = multiprocessing.get_context("spawn").Process(
        target=run_people, args=(service.client_address, plan, send)
    )
    child_pid = service.orchestration.pid if service.orchestration else None
    switch_pid = switch.process.pid if switch else None
    people_process.start()
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, receive.recv) == "set up"
    cpu = time.process_time(), _cpu_of(child_pid), _cpu_of(switch_pid)
    tally.counting = True
    timer.latencies.clear()  # those of the warm-up
    result: dict[str, Any] = await loop.run_in_executor(None, receive.recv)
    result["server_cpu"] = time.process_time() - cpu[0]
    result["child_cpu"] = _cpu_of(child_pid) - cpu[1]
    result["switch_cpu"] = _cpu_of(switch_pid) - cpu[2] if switch else None
    tally.counting = False
    people_process.join()
    result["latencies"] = timer.latencies
    result["events"] = tally.counts
    return result


def _cpu_of(pid: int | None) -> float:
    """Seconds of CPU (user + system) process *pid* has used (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(result: dict[str, Any]) -> None:
    calls = result["calls"]
    print(f"   sessions per second:              {calls / result['elapsed']:.0f}")
    print(f"   RouteRequest -> RouteCall:        {percentiles(result['latencies'])}")
    server = "server" if result["switch_cpu"] is not None else "server (and pbxsim)"
    pbxsim = result["switch_cpu"]
    print(
        "   CPU per session:                  "
        f"{server} {result['server_cpu'] / calls * 1e3:.2f} ms, "
        + (f"pbxsim {pbxsim / calls * 1e3:.2f} ms, " if pbxsim is not None else "")
        + f"orchestration process {result['child_cpu'] / calls * 1e3:.2f} ms, "
        f"callers and agents {result['people_cpu'] / calls * 1e3:.2f} ms"
    )
    for kind in ("orchestration", "callers", "agents"):
        counts = {e: n for (k, e), n in result["events"].items() if k == kind}
        print(
            f"   T-Library events per session to {kind}: {sum(counts.values()) / calls:.1f} "
            f"({', '.join(f'{e} {n / calls:.1f}' for e, n in sorted(counts.items()))})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3000, help="for the core alone")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--callers", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument(
        "--context-pool",
        type=int,
        default=None,
        help="[orchestration] context-pool of the end-to-end runs (default: --callers; "
        "0: a context per session)",
    )
    add_switch_option(parser)
    parser.add_argument("--only", choices=["core", "child", "loop", "rate"], action="append")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    pool = arguments.callers if arguments.context_pool is None else arguments.context_pool
    only = set(arguments.only or ["core", "child", "loop", "rate"])
    if "core" in only:
        core_alone(arguments.sessions, arguments.agents, 0)
        core_alone(arguments.sessions, arguments.agents, pool or 16)
    plan = {
        "agents": arguments.agents,
        "callers": arguments.callers,
        "seconds": arguments.seconds,
        "rate": 0.0,
        "context_pool": pool,
        "pbxsim": arguments.pbxsim,
    }
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    for mode in ("child", "loop"):
        if mode not in only:
            continue
        with asyncio.Runner(loop_factory=factory) as runner:
            result = runner.run(end_to_end(plan, child=mode == "child"))
        where = "its child process" if mode == "child" else "the CTI server's event loop"
        switch = "embedded" if arguments.pbxsim == "embedded" else "in its own process"
        print(
            f"2. end to end, orchestration in {where}: {arguments.callers} callers in a loop "
            f"(context-pool {pool}, pbxsim {switch})"
        )
        report(result)
    if "rate" in only:
        paced = {**plan, "rate": arguments.rate}
        with asyncio.Runner(loop_factory=factory) as runner:
            result = runner.run(end_to_end(paced, child=True))
        print(
            f"3. end to end at {arguments.rate:g} sessions/s offered, orchestration in its child "
            f"(context-pool {pool})"
        )
        report(result)


if __name__ == "__main__":
    main()
