"""Benchmark: the CTI server's event latency while a strategy runs away.

A probe client in another process makes calls between two extensions, one at a time,
and times RequestMakeCall -> EventDialing and the called phone's EventRinging.  It runs
three times:

1. no orchestration server;
2. the orchestration server in its child process (as `ctiserver run` runs it), with a
   strategy on routing point 5000 that loops in a script until `script-time-limit`
   stops it, for every call, and calls to 5000 one after another;
3. the same strategy with the orchestration server on the CTI server's own event loop
   (how it ran before it had a process of its own).

    ./dev bench orchestration_isolation [--seconds 10] [--limit 0.2]
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

from ctiserver.app.config import Address, amend, demo
from ctiserver.app.service import Service
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings

RP, CALLER, CALLED, RUNAWAY_CALLER = "5000", "7001", "7002", "7005"
RUNAWAY = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" initial="waiting">
  <state id="waiting">
    <transition event="interaction.added" target="spinning"/>
  </state>
  <state id="spinning">
    <onentry><script>while (true) {}</script></onentry>
    <transition event="error.execution" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


def probe_calls(address: tuple[str, int], seconds: float, out: Any) -> None:
    out.send(asyncio.run(_probe(address, seconds)))


async def _probe(address: tuple[str, int], seconds: float) -> dict[str, list[float]]:
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name="probe")
    await client.register_address(CALLER)
    await client.register_address(CALLED)
    dialing: list[float] = []
    ringing: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        conn_id = (await client.make_call(CALLER, CALLED))["ConnID"]
        dialing.append(time.perf_counter() - began)
        await client.wait_for("EventRinging", ThisDN=CALLED, ConnID=conn_id)
        ringing.append(time.perf_counter() - began)
        await client.release_call(CALLER, conn_id)
        await asyncio.sleep(0.01)  # a call every 10 ms or so: a light, steady load
    return {"dialing": dialing, "ringing": ringing}


async def keep_it_busy(address: tuple[str, int], stop: asyncio.Event) -> None:
    """Calls to the routing point, one after another: the runaway strategy never rests."""
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name="busy")
    await client.register_address(RUNAWAY_CALLER)
    drain = asyncio.ensure_future(_drain(client))
    while not stop.is_set():
        conn_id = (await client.make_call(RUNAWAY_CALLER, RP))["ConnID"]
        with_timeout = asyncio.ensure_future(stop.wait())
        await asyncio.wait({with_timeout}, timeout=0.05)
        with_timeout.cancel()
        await client.release_call(RUNAWAY_CALLER, conn_id)
    drain.cancel()
    await client.close()


async def _drain(client: Any) -> None:
    async for _ in client.events():
        pass


async def run(mode: str, seconds: float, limit: float) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        strategy = Path(folder) / "runaway.scxml"
        strategy.write_text(RUNAWAY)
        config = amend(
            demo(), server={"client_listen": Address("127.0.0.1", 0), "http_listen": None}
        )
        settings = OrchestrationSettings(
            enabled=True,
            register=(RP, RUNAWAY_CALLER),
            strategies={RP: str(strategy)},
            script_time_limit=limit,
        )
        if mode == "child":
            config = amend(config, orchestration=settings)
        service = Service(config, announce=lambda line: None)
        task = asyncio.create_task(service.run())
        await service.runtime.link_ready.wait()
        assert service.client_address is not None
        in_loop: asyncio.Task[None] | None = None
        if mode == "child":
            assert service.orchestration is not None
            await service.orchestration.ready.wait()
        elif mode == "loop":
            endpoint = Endpoint(*service.client_address, config.switch.name)
            server = OrchestrationServer(amend(settings, servers=(endpoint,)))
            in_loop = asyncio.create_task(server.run())
            await server.ready.wait()
        stop = asyncio.Event()
        busy = asyncio.create_task(keep_it_busy(service.client_address, stop))
        if mode == "none":
            busy.cancel()
        receive, send = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.get_context("spawn").Process(
            target=probe_calls, args=(service.client_address, seconds, send)
        )
        process.start()
        result: dict[str, list[float]] = await asyncio.get_running_loop().run_in_executor(
            None, receive.recv
        )
        process.join()
        stop.set()
        if mode != "none":
            await busy
        if in_loop is not None:
            in_loop.cancel()
        service.stop()
        await task
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--limit", type=float, default=0.2, help="script-time-limit, s")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    titles = {
        "none": "no orchestration server",
        "child": "a runaway strategy, orchestration in its child process",
        "loop": "a runaway strategy, orchestration on the server's event loop",
    }
    for mode, title in titles.items():
        result = asyncio.run(run(mode, arguments.seconds, arguments.limit))
        print(f"{title} ({len(result['dialing'])} calls)")
        print(f"   MakeCall -> EventDialing:   {percentiles(result['dialing'])}")
        print(f"   MakeCall -> EventRinging:   {percentiles(result['ringing'])}", flush=True)


if __name__ == "__main__":
    main()
