"""Benchmark: instructions per strategy session, counted by valgrind's callgrind.

The sessions of bench/orchestration_sessions.py (a caller dials routing point 5000, the
orchestration server submits the call to `?sales>5`, the caller hangs up when the chosen
agent's phone rings), made one after another by one caller, so that every run does the
same work in the same order.  The part counted runs in this process under valgrind: the
CTI server (`--count server`, the default; pbxsim in a process of its own, the
orchestration server in its child process as `ctiserver run` runs it), or the
orchestration server (`--count orchestration`; the CTI server, with pbxsim embedded, in a
process of its own); the caller and the agents run natively in a process of their own.
Runs of N and 2N sessions are subtracted, so that start-up cancels out.  It prints
instructions per session, the CSTA frames the CTI server reads and writes per session,
and the T-Library events it sends per session to each client (native run).
bench/call_instructions.py counts a basic call the same way: compare the two.

    ./dev bench session_instructions [--sessions 100] [--agents 200]
                                     [--count server|orchestration]

Needs valgrind.  Each run under valgrind takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestration_sessions import (
    FIRST_AGENT_DN,
    FIRST_CALLER_DN,
    FIRST_LOGIN,
    RP,
    STRATEGY,
    EventTally,
    Q,
    orchestration,
    site,
)
from probe import SwitchProcess, instructions, run_server, running

from ctiserver.app.config import Address, amend
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import Endpoint

CALLER = str(FIRST_CALLER_DN)

# --- the caller and the agents (a process of their own) ----------------------------------------


def run_people(address: tuple[str, int], plan: dict[str, Any], out: Any) -> None:
    import uvloop

    out.send(uvloop.run(_people(address, plan, out)))


async def _people(address: tuple[str, int], plan: dict[str, Any], out: Any) -> int:
    from ctiserver.client.connection import TClient

    agents = await TClient.connect(*address, application_name="agents")
    dns = [str(FIRST_AGENT_DN + n) for n in range(plan["agents"])]
    await asyncio.gather(*(agents.register_address(dn) for dn in dns))
    await asyncio.gather(
        *(
            agents.agent_login(dn, str(FIRST_LOGIN + n), queue=Q, work_mode="AutoIn")
            for n, dn in enumerate(dns)
        )
    )
    callers = await TClient.connect(*address, application_name="callers")
    await callers.register_address(CALLER)
    out.send("set up")
    out.recv()  # the parent counts from here
    for _ in range(plan["sessions"]):
        conn_id = (await callers.make_call(CALLER, RP))["ConnID"]
        while True:
            event = await agents.next_event()
            if event["Event"] == "EventRinging" and event["ConnID"] == conn_id:
                break
        await callers.release_call(CALLER, conn_id)
        await callers.wait_for("EventReleased")
    await agents.close()
    await callers.close()
    return int(plan["sessions"])


async def drive(
    address: tuple[str, int], plan: dict[str, Any], measured: Callable[[], None] = lambda: None
) -> None:
    """Run the people's process; *measured* is called once they are set up, before the
    first session."""
    here, there = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=run_people, args=(address, plan, there)
    )
    child.start()
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, here.recv) == "set up"
    measured()
    here.send("go")
    await loop.run_in_executor(None, here.recv)
    child.join()


def plan_of(sessions: int, agents: int, folder: Path) -> tuple[dict[str, Any], Path]:
    strategy = folder / "route.scxml"
    strategy.write_text(STRATEGY)
    return {"agents": agents, "callers": 1, "sessions": sessions, "context_pool": 16}, strategy


# --- the parts counted (this process) ---------------------------------------------------------


async def count_server(plan: dict[str, Any], strategy: Path) -> dict[str, Any]:
    """Run the sessions against the server in this process; what it sent and read."""
    config = site(plan, strategy, child=True)
    switch = SwitchProcess(config)
    try:
        linked = amend(config, switch={"link": Address(*switch.address)})
        async with running(linked) as service:
            assert service.orchestration is not None
            assert service.client_address is not None
            await service.orchestration.ready.wait()
            tally = EventTally(service)
            link = service.runtime.link
            assert link is not None
            before = [0, 0]

            def measured() -> None:
                tally.counting = True
                before[:] = link.counters.frames_received, link.counters.frames_sent

            await drive(service.client_address, plan, measured)
            tally.counting = False
            return {
                "events": tally.counts,
                "frames_in": link.counters.frames_received - before[0],
                "frames_out": link.counters.frames_sent - before[1],
            }
    finally:
        switch.stop()


async def count_orchestration(plan: dict[str, Any], strategy: Path) -> None:
    """The CTI server in a process of its own; the orchestration server in this one."""
    config = site(plan, strategy, child=False)
    here, there = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=run_server, args=(config, there))
    server.start()
    address = await asyncio.get_running_loop().run_in_executor(None, here.recv)
    settings = orchestration(plan, strategy, tuple(config.site.dns))
    endpoint = Endpoint(*address, config.switch.name)
    in_process = OrchestrationServer(amend(settings, servers=(endpoint,)))
    serving = asyncio.create_task(in_process.run())
    await in_process.ready.wait()
    await drive(address, plan)
    serving.cancel()
    here.send("stop")
    server.join()


def inner(count: str, sessions: int, agents: int) -> None:
    import uvloop

    with tempfile.TemporaryDirectory() as folder:
        plan, strategy = plan_of(sessions, agents, Path(folder))
        if count == "server":
            uvloop.run(count_server(plan, strategy))
        else:
            uvloop.run(count_orchestration(plan, strategy))


# --- the driver ---------------------------------------------------------------------------------


def traffic(sessions: int, agents: int) -> None:
    """A native run: the CSTA frames and T-Library events of a session at the server."""
    with tempfile.TemporaryDirectory() as folder:
        plan, strategy = plan_of(sessions, agents, Path(folder))
        seen = asyncio.run(count_server(plan, strategy))
    print(
        f"CSTA frames per session:   {seen['frames_in'] / sessions:.1f} read by the server, "
        f"{seen['frames_out'] / sessions:.1f} written"
    )
    for kind in ("orchestration", "callers", "agents"):
        counts = {e: n for (k, e), n in seen["events"].items() if k == kind}
        detail = ", ".join(f"{e} {n / sessions:g}" for e, n in sorted(counts.items()))
        total = sum(counts.values()) / sessions
        print(f"T-Library events to {kind + ':':15s}{total:.1f} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--count", choices=["server", "orchestration"], default="server")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    sessions, agents = arguments.sessions, arguments.agents
    if arguments.inner:
        inner(arguments.count, sessions, agents)
        return
    traffic(20, agents)
    counted = ("--inner", "--count", arguments.count, "--agents", str(agents))
    single = instructions(__file__, *counted, "--sessions", str(sessions))
    double = instructions(__file__, *counted, "--sessions", str(2 * sessions))
    print(f"counted:                   {arguments.count} (the other parts run natively)")
    print(f"agents:                    {agents}")
    print(f"instructions per session:  {(double - single) / sessions:,.0f}")


if __name__ == "__main__":
    main()
