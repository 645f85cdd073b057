"""Benchmark: strategy sessions started per second on a routing point.

Each call that reaches the routing point starts a session of a routing strategy (a
`<queue:submit>` to the agents of an ACD queue, the demo's route-to-agent in miniature),
which routes it to the agent Ready the longest.

Two measurements:

1. core: the orchestration core alone, fed T-Library events in memory (no sockets):
   sessions per second and the time from EventRouteRequest in to RequestRouteCall out.
2. end to end: `ctiserver run --orchestrate` in this process (server, embedded pbxsim and
   orchestration server on one event loop), callers and agents in a child process:
   calls routed per second, and the callers' wait from EventDialing to the agent's
   EventRinging.

    ./dev bench orchestration_sessions [--sessions 3000] [--callers 40] [--agents 40] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from probe import percentiles

from ctiserver.app.config import AcdQueueSettings, Address, RoutingPointSettings, amend, demo
from ctiserver.app.service import Service
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.orchestration.core import Orchestrator
from ctiserver.orchestration.links import CoreSettings
from ctiserver.orchestration.settings import OrchestrationSettings
from ctiserver.scxml.parser import parse_document
from ctiserver.tlib.vocabulary import TMessage

RP, Q = "5000", "8001"
STRATEGY = f"""<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:queue="http://www.genesyslab.com/modules/queue" initial="waiting">
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="waiting">
    <transition event="interaction.added" target="routing">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
  <state id="routing">
    <onentry>
      <queue:submit requestid="_data.reqid" interactionid="_data.ixnid" timeout="30">
        <queue:targets type="agentgroup"><queue:target name="'{Q}'"/></queue:targets>
      </queue:submit>
    </onentry>
    <transition event="queue.submit.done error.queue.submit" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


# --- 1. the core alone ------------------------------------------------------------------------


def core_alone(sessions: int, agents: int) -> None:
    agent_dns = [str(7201 + n) for n in range(agents)]
    core = Orchestrator(
        settings=CoreSettings(register=(*agent_dns, RP)),
        strategies={RP: parse_document(STRATEGY.encode())},
        now=time.perf_counter(),
    )
    for send in core.link_up("main", time.perf_counter()):
        dn = send.message["ThisDN"]
        registered: TMessage = {
            "Event": "EventRegistered",
            "ThisDN": dn,
            "InfoStatus": "RouteDN" if dn == RP else "DN",
            "Extensions": {"AgentID": f"a{dn}", "AgentStatus": "Ready"} if dn != RP else {},
            "ReferenceID": send.message["ReferenceID"],
        }
        core.on_event("main", registered, time.perf_counter())
    latencies: list[float] = []
    began = time.perf_counter()
    for n in range(sessions):
        conn_id = f"{n:016x}"
        started = time.perf_counter()
        (route,) = core.on_event("main", _route_request(conn_id), started)
        latencies.append(time.perf_counter() - started)
        agent = route.message["OtherDN"]
        now = time.perf_counter()
        used = {"Event": "EventRouteUsed", "ThisDN": RP, "ConnID": conn_id, "ThirdPartyDN": agent}
        core.on_event("main", {**used, "ReferenceID": route.message["ReferenceID"]}, now)  # type: ignore[typeddict-item]
        core.on_event("main", {"Event": "EventRinging", "ThisDN": agent, "ConnID": conn_id}, now)
        core.on_event("main", {"Event": "EventReleased", "ThisDN": agent, "ConnID": conn_id}, now)
    elapsed = time.perf_counter() - began
    assert not core.interactions.sessions, "every session should have ended"
    print("1. the orchestration core alone (in memory, no sockets)")
    print(f"   sessions:                      {sessions} in {elapsed:.2f} s")
    print(f"   sessions per second:           {sessions / elapsed:.0f} (4 events each)")
    print(f"   RouteRequest in -> RouteCall out: {percentiles(latencies)}")


def _route_request(conn_id: str) -> TMessage:
    return {
        "Event": "EventRouteRequest",
        "ThisDN": RP,
        "ThisQueue": RP,
        "ConnID": conn_id,
        "CallID": conn_id,
        "CallType": "Internal",
        "OtherDN": "7101",
        "OtherDNRole": "Origination",
        "ANI": "7101",
        "DNIS": RP,
        "UserData": {},
    }


# --- 2. end to end ----------------------------------------------------------------------------


def site(callers: int, agents: int, strategy: Path) -> Any:
    dns = {DeviceId(str(7101 + n)): DnKind.EXTENSION for n in range(callers)}
    dns |= {DeviceId(str(7201 + n)): DnKind.EXTENSION for n in range(agents)}
    dns |= {DeviceId(Q): DnKind.ACD_QUEUE, DeviceId(RP): DnKind.ROUTING_POINT}
    return amend(
        demo(),
        orchestration=OrchestrationSettings(
            enabled=True, register=tuple(dns), strategies={RP: str(strategy)}, request_timeout=30
        ),
        site={
            "dns": dns,
            "agent_logins": tuple(str(1001 + n) for n in range(agents)),
            "routing_points": {DeviceId(RP): RoutingPointSettings(30.0, DeviceId(Q))},
            "acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)},
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": None},
        switch={"reply_timeout": 30.0},
    )


class People:
    """Callers who dial the routing point and hang up once answered; agents who answer."""

    def __init__(self, callers: Any, agents: Any) -> None:
        self.callers, self.agents = callers, agents
        self.dialled: dict[str, float] = {}
        self.rang: dict[str, float] = {}
        self.answered: dict[str, asyncio.Future[None]] = {}
        self.calls = 0

    async def agents_answer(self) -> None:
        async for event in self.agents.events():
            if event["Event"] == "EventRinging":
                self.rang[event["ConnID"]] = time.perf_counter()
                self.agents.send(
                    "RequestAnswerCall", ThisDN=event["ThisDN"], ConnID=event["ConnID"]
                )
            elif event["Event"] == "EventEstablished":
                self._answered(event["ConnID"]).set_result(None)

    def _answered(self, conn_id: str) -> asyncio.Future[None]:
        """The call's answer, whichever connection hears of the call first."""
        if conn_id not in self.answered:
            self.answered[conn_id] = asyncio.get_running_loop().create_future()
        return self.answered[conn_id]

    async def caller(self, dn: str, deadline: float) -> None:
        while time.perf_counter() < deadline:
            dialled = time.perf_counter()
            conn_id = (await self.callers.make_call(dn, RP))["ConnID"]
            self.dialled[conn_id] = dialled
            await asyncio.wait_for(self._answered(conn_id), 30)
            del self.answered[conn_id]
            await self.callers.release_call(dn, conn_id)
            self.calls += 1


async def people(address: tuple[str, int], callers: int, agents: int, seconds: float) -> Any:
    from ctiserver.client.connection import TClient

    caller_dns = [str(7101 + n) for n in range(callers)]
    agent_dns = [str(7201 + n) for n in range(agents)]
    calling = await TClient.connect(*address, application_name="callers")
    answering = await TClient.connect(*address, application_name="agents")
    for dn in caller_dns:
        await calling.register_address(dn)
    for n, dn in enumerate(agent_dns):
        await answering.register_address(dn)
        await answering.agent_login(dn, str(1001 + n), queue=Q, work_mode="AutoIn")
    crowd = People(calling, answering)
    reader = asyncio.ensure_future(crowd.agents_answer())
    drain = asyncio.ensure_future(_drain(calling))
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(crowd.caller(dn, deadline) for dn in caller_dns))
    elapsed = time.perf_counter() - began
    reader.cancel()
    drain.cancel()
    waits = [crowd.rang[c] - crowd.dialled[c] for c in crowd.dialled if c in crowd.rang]
    return {"calls": crowd.calls, "elapsed": elapsed, "waits": waits}


async def _drain(client: Any) -> None:
    async for _ in client.events():
        pass


def run_people(
    address: tuple[str, int], callers: int, agents: int, seconds: float, out: Any
) -> None:
    out.send(asyncio.run(people(address, callers, agents, seconds)))


async def end_to_end(callers: int, agents: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        strategy = Path(folder) / "route.scxml"
        strategy.write_text(STRATEGY)
        await _end_to_end(strategy, callers, agents, seconds)


async def _end_to_end(strategy: Path, callers: int, agents: int, seconds: float) -> None:
    service = Service(site(callers, agents, strategy), announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    assert service.orchestration is not None  # made before the link can come up
    await service.orchestration.ready.wait()
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=run_people, args=(service.client_address, callers, agents, seconds, send)
    )
    child.start()
    result = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
    child.join()
    service.stop()
    await task
    elapsed = result["elapsed"]
    print("2. end to end: ctiserver run --orchestrate, callers and agents in another process")
    print(f"   callers, agents:               {callers}, {agents}")
    print(f"   calls routed:                  {result['calls']} in {elapsed:.1f} s")
    print(f"   sessions per second:           {result['calls'] / elapsed:.0f}")
    print(f"   dial -> the agent's phone rings: {percentiles(result['waits'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--callers", type=int, default=40)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    core_alone(arguments.sessions, arguments.agents)
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(end_to_end(arguments.callers, arguments.agents, arguments.seconds))


if __name__ == "__main__":
    main()
