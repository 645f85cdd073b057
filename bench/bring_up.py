"""Benchmark: bringing the link up with many DNs.

The server runs in this process with `--dns` extensions configured; pbxsim serves the
same lines from a process of its own (`--pbxsim embedded` puts it in the server's).
It prints the time from building the server to the link being up (every DN monitored,
snapshotted and its agent state asked for), how many DNs the switch monitors for the
server then, and the server's resident memory (now and at its peak).

    ./dev bench bring_up [--dns 100000] [--window 500] [--pbxsim process|embedded]
                         [--loop uvloop|asyncio]

With --instructions, it runs the server under valgrind's callgrind instead, with --dns
and twice as many, and prints the server's instructions per DN brought up (the
difference of the two runs over the difference of DNs: start-up cancels out).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from probe import add_switch_option, instructions, switch_for

from ctiserver.app import collector
from ctiserver.app.config import Address, Config, amend, demo
from ctiserver.app.service import Service
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind

FIRST = 1_000_000


def site(count: int, window: int | None) -> Config:
    windowed = {} if window is None else {"request_window": window}
    return amend(
        demo(),
        site={
            "dns": {DeviceId(str(FIRST + n)): DnKind.EXTENSION for n in range(count)},
            "agent_logins": (),
            "routing_points": {},
            "acd_queues": {},
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": None},
        switch=windowed,
    )


def memory() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in MiB (Linux)."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) // 1024
    return found


async def measure(options: dict[str, Any]) -> None:
    with switch_for(site(options["dns"], options["window"]), options["pbxsim"]) as (config, switch):
        switch_cpu = switch.cpu_seconds() if switch else 0.0
        began = time.perf_counter()
        cpu = time.process_time()
        collector.starting()  # as `ctiserver run` does
        service = Service(config, announce=lambda line: None)
        collector.freeze()
        built = time.perf_counter() - began
        task = asyncio.create_task(service.run())
        await service.runtime.link_ready.wait()
        up = time.perf_counter() - began
        cpu = time.process_time() - cpu
        switch_cpu = switch.cpu_seconds() - switch_cpu if switch else float("nan")
        link = service.runtime.link
        assert link is not None
        monitored = len(link.monitored)
        rss = memory()
        service.stop()
        await task
    print(f"pbxsim:                  {options['pbxsim']}")
    print(f"DNs configured:          {options['dns']}")
    print(f"request window:          {options['window'] or 'as configured by default'}")
    print(f"DNs monitored:           {monitored}")
    print(f"server built in:         {built:.2f} s")
    print(f"link up after:           {up:.2f} s")
    print(f"CPU meanwhile:           server {cpu:.2f} s, pbxsim {switch_cpu:.2f} s")
    print(f"server RSS:              {rss['VmRSS']} MiB now, {rss['VmHWM']} MiB at its peak")


def count_instructions(dns: int, window: int | None) -> None:
    windowed = () if window is None else ("--window", str(window))
    single = instructions(__file__, "--dns", str(dns), *windowed)
    double = instructions(__file__, "--dns", str(2 * dns), *windowed)
    print(f"DNs:                     {dns} and {2 * dns} (pbxsim in its own process)")
    print(f"server instructions per DN brought up: {(double - single) / dns:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dns", type=int, default=100_000)
    parser.add_argument("--window", type=int, help="[switch] request-window (default 500)")
    add_switch_option(parser)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    arguments = parser.parse_args()
    if arguments.instructions:
        count_instructions(arguments.dns, arguments.window)
        return
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    options = {"dns": arguments.dns, "pbxsim": arguments.pbxsim, "window": arguments.window}
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(measure(options))


if __name__ == "__main__":
    main()
