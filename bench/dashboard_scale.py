"""Benchmark: what an open dashboard page costs, at contact-centre scale.

10,000 DNs (20 ACD queues, 20 routing points, 2,000 agents' extensions, 500 callers'
and 7,460 quiet ones) and 2,000 agents logged in.  Callers dial the queues and routing
points at a steady rate (a routing point routes to its queue by default after 1 s);
the queue gives each call to a ready agent, who answers and hangs up after a talk time.
The server runs in this process with its embedded pbxsim; the desktops run in one
child process, the pages in another: each page is a WebSocket on /api/live that says
hello, takes its snapshot and reads every delta, as a browser does (permessage-deflate
offered, as Chromium offers it; --no-deflate to compare).

Windows with no page open and windows with N pages alternate (paired, the same traffic),
and this process's CPU time (server and pbxsim) is read over each.  Prints: the traffic;
bytes per second per page on the wire and decoded; the snapshot; server CPU per page;
and the supervision view's own cost per event.  With --browser, a real page in Debian's
Chromium is opened last: how long it takes to show the centre, and how busy its main
thread is on each view.

    ./dev bench dashboard_scale [--pages 50] [--seconds 10] [--rounds 3] [--rate 20] [--browser]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from probe import running

from ctiserver.app.config import AcdQueueSettings, Address, RoutingPointSettings, amend, demo
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind

ROOT = Path(__file__).resolve().parents[1]
QUEUES = [str(8000 + n) for n in range(20)]
POINTS = [str(5000 + n) for n in range(20)]
AGENTS = [str(100000 + n) for n in range(2000)]
CALLERS = [str(110000 + n) for n in range(500)]
QUIET = [str(120000 + n) for n in range(10_000 - 40 - 2000 - 500)]


def site() -> Any:
    dns = {DeviceId(dn): DnKind.EXTENSION for dn in AGENTS + CALLERS + QUIET}
    dns |= {DeviceId(q): DnKind.ACD_QUEUE for q in QUEUES}
    dns |= {DeviceId(p): DnKind.ROUTING_POINT for p in POINTS}
    return amend(
        demo(),
        site={
            "dns": dns,
            "agent_logins": tuple(str(1000 + n) for n in range(len(AGENTS))),
            "routing_points": {
                DeviceId(p): RoutingPointSettings(1.0, DeviceId(q))
                for p, q in zip(POINTS, QUEUES, strict=True)
            },
            "acd_queues": {DeviceId(q): AcdQueueSettings(0.0) for q in QUEUES},
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": Address("127.0.0.1", 0)},
        switch={"reply_timeout": 30.0},
    )


# --- the desktops (a child process) ---------------------------------------------------------


class Desktops:
    """Every agent and caller on one T-Library connection: agents answer what rings and
    hang up after a talk time; callers dial when told and are free again once released."""

    def __init__(self, client: Any, talk: float) -> None:
        self.client = client
        self.talk = talk
        self.agents, self.free = set(AGENTS), set(CALLERS)
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.rng = random.Random(7)

    def log_in(self) -> None:
        for dn in AGENTS + CALLERS:
            self.client.send("RequestRegisterAddress", ThisDN=dn)
        for n, dn in enumerate(AGENTS):
            self.client.send(
                "RequestAgentLogin",
                ThisDN=dn,
                AgentID=str(1000 + n),
                ThisQueue=QUEUES[n % len(QUEUES)],
                AgentWorkMode="AutoIn",
            )

    def call(self) -> None:
        if self.free:
            caller = self.free.pop()
            target = self.rng.choice(QUEUES + POINTS)
            self.client.send(
                "RequestMakeCall", ThisDN=caller, OtherDN=target, UserData={"case": f"C-{caller}"}
            )

    def release(self, dn: str, conn_id: str) -> None:
        self.client.send("RequestReleaseCall", ThisDN=dn, ConnID=conn_id)

    async def run(self) -> None:
        async for event in self.client.events():
            if event.get("ThisDN") in self.agents:
                self.agent(event)
            elif event["Event"] == "EventDestinationBusy":
                self.release(event["ThisDN"], event["ConnID"])
            elif event["Event"] in ("EventReleased", "EventAbandoned"):
                self.free.add(event["ThisDN"])

    def agent(self, event: Any) -> None:
        name, dn = event["Event"], event["ThisDN"]
        if name == "EventAgentReady":
            self.ready += 1
            if self.ready == len(AGENTS):
                self.all_ready.set()
        elif name == "EventRinging":
            self.client.send("RequestAnswerCall", ThisDN=dn, ConnID=event["ConnID"])
        elif name == "EventEstablished":
            talk = self.rng.uniform(0.5, 1.5) * self.talk
            asyncio.get_running_loop().call_later(talk, self.release, dn, event["ConnID"])


async def desktops(address: tuple[str, int], rate: float, talk: float, ready: Any) -> None:
    """Log the agents in, then place calls at *rate* per second until killed."""
    from ctiserver.client.connection import TClient

    client = await TClient.connect(*address, application_name="bench-desktops")
    people = Desktops(client, talk)
    people.log_in()
    reader = asyncio.create_task(people.run())
    await people.all_ready.wait()
    ready.send("ready")
    loop = asyncio.get_running_loop()
    next_call = loop.time()
    while not reader.done():
        next_call += 1.0 / rate
        await asyncio.sleep(max(0.0, next_call - loop.time()))
        people.call()


def run_desktops(address: tuple[str, int], rate: float, talk: float, ready: Any) -> None:
    asyncio.run(desktops(address, rate, talk, ready))


# --- the pages (a child process) ------------------------------------------------------------


def counting_session(wire: list[int]) -> Any:
    """An aiohttp session whose connections count the bytes they receive."""
    import aiohttp
    from aiohttp.client_proto import ResponseHandler

    class Counting(ResponseHandler):
        def data_received(self, data: bytes) -> None:
            wire[0] += len(data)
            super().data_received(data)

    connector = aiohttp.TCPConnector(limit=0)
    connector._factory = lambda: Counting(loop=asyncio.get_running_loop())  # type: ignore[assignment]
    return aiohttp.ClientSession(connector=connector)


class Viewers:
    """Pages on /api/live that count what they receive: on the wire, and decoded."""

    def __init__(self, session: Any, url: str, deflate: bool, wire: list[int]) -> None:
        self.session, self.url, self.deflate = session, url, deflate
        self.wire = wire
        self.decoded = 0
        self.snapshots: list[int] = []
        self.opened = asyncio.Event()
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []

    async def open(self, count: int) -> tuple[float, float]:
        self.snapshots.clear()
        self.opened.clear()
        self.readers = [asyncio.create_task(self.page(count)) for _ in range(count)]
        await self.opened.wait()
        return statistics.median(self.snapshots), self.wire[0] / count

    async def page(self, count: int) -> None:
        ws = await self.session.ws_connect(self.url, compress=15 if self.deflate else 0)
        self.sockets.append(ws)
        await ws.send_str('{"op": "hello"}')
        first = await ws.receive()
        self.snapshots.append(len(first.data.encode()))
        if len(self.snapshots) == count:
            self.opened.set()
        async for message in ws:
            self.decoded += len(message.data.encode())

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        for reader in self.readers:
            reader.cancel()
        self.sockets.clear()


async def pages(http: tuple[str, int], commands: Any, deflate: bool) -> None:
    """Open, measure and close pages as the parent says."""
    wire = [0]
    loop = asyncio.get_running_loop()
    async with counting_session(wire) as session:
        viewers = Viewers(session, f"http://{http[0]}:{http[1]}/api/live", deflate, wire)
        while True:
            command, argument = await loop.run_in_executor(None, commands.recv)
            if command == "open":
                commands.send(await viewers.open(argument))
            elif command == "measure":
                wire[0] = viewers.decoded = 0
                commands.send("ok")
            elif command == "report":
                commands.send((wire[0], viewers.decoded))
            elif command == "close":
                await viewers.close()
                commands.send("ok")
            else:
                return


def run_pages(http: tuple[str, int], commands: Any, deflate: bool) -> None:
    asyncio.run(pages(http, commands, deflate))


# --- a real page (this process, Chromium's own processes) -----------------------------------


async def real_page(http: tuple[str, int], seconds: float) -> list[tuple[str, str]]:
    """Open the dashboard in Chromium; its load time, then per view its main thread's
    work (ms a second, from the DevTools Performance domain) and its JavaScript heap."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.chromium import chromium, missing

    if (why := missing()) is not None:
        return [("real page", f"not measured: {why}")]
    rows = []
    with tempfile.TemporaryDirectory() as profile:
        async with chromium(Path(profile), viewport={"width": 1280, "height": 900}) as context:
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(f"http://{http[0]}:{http[1]}/")
            await page.wait_for_selector("#connection.live")
            await page.wait_for_selector("#overview-queues tbody tr[data-key]")
            rows.append(("real page, shown in", f"{(time.perf_counter() - started) * 1e3:,.0f} ms"))
            devtools = await context.new_cdp_session(page)
            await devtools.send("Performance.enable")
            for view in ("Overview", "Agents", "Calls", "DNs"):
                await page.get_by_role("tab", name=view).click()
                before = await page_metrics(devtools)
                await asyncio.sleep(seconds)
                after = await page_metrics(devtools)
                busy = (after["TaskDuration"] - before["TaskDuration"]) / seconds * 1e3
                heap = after["JSHeapUsedSize"] / 2**20
                rows.append((f"  on {view}", f"{busy:.0f} ms a second busy, {heap:.0f} MiB heap"))
    return rows


async def page_metrics(devtools: Any) -> dict[str, float]:
    reply = await devtools.send("Performance.getMetrics")
    return {metric["name"]: metric["value"] for metric in reply["metrics"]}


# --- the server (this process) --------------------------------------------------------------


class Timed:
    """Wraps a function to add up the CPU time its thread spends in it."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, *args: Any) -> Any:
        started = time.thread_time()
        try:
            return self.function(*args)
        finally:
            self.seconds += time.thread_time() - started
            self.calls += 1


@dataclasses.dataclass
class Figures:
    idle_cpu: list[float] = dataclasses.field(default_factory=list)  # of a core, no page
    busy_cpu: list[float] = dataclasses.field(default_factory=list)  # of a core, N pages
    wire: list[float] = dataclasses.field(default_factory=list)  # bytes per second per page
    decoded: list[float] = dataclasses.field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    snapshot: tuple[float, float] = (0.0, 0.0)  # bytes decoded, on the wire
    browser: list[tuple[str, str]] = dataclasses.field(default_factory=list)


async def ask(pipe: Any, command: str, argument: Any = None) -> Any:
    pipe.send((command, argument))
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


async def window(seconds: float, events: Timed, figures: Figures) -> float:
    """This process's CPU, as a share of a core, over *seconds* of traffic."""
    cpu, produced = time.process_time(), events.calls
    await asyncio.sleep(seconds)
    figures.events += events.calls - produced
    figures.seconds += seconds
    return (time.process_time() - cpu) / seconds


async def rounds(arguments: argparse.Namespace, pages: Any, apply: Timed) -> Figures:
    """No page, then N pages, alternately: each round is a pair of windows."""
    figures = Figures()
    for _ in range(arguments.rounds):
        figures.idle_cpu.append(await window(arguments.seconds, apply, figures))
        figures.snapshot = await ask(pages, "open", arguments.pages)
        await ask(pages, "measure")
        figures.busy_cpu.append(await window(arguments.seconds, apply, figures))
        wire, decoded = await ask(pages, "report")
        figures.wire.append(wire / arguments.pages / arguments.seconds)
        figures.decoded.append(decoded / arguments.pages / arguments.seconds)
        await ask(pages, "close")
    return figures


async def measure(arguments: argparse.Namespace) -> None:
    spawn = multiprocessing.get_context("spawn")
    async with running(site()) as service:
        view = service.dashboard.view
        apply, push = Timed(view.apply), Timed(service.dashboard.push)
        view.apply = apply  # type: ignore[method-assign]
        service.dashboard.push = push  # type: ignore[method-assign]
        ready, ready_child = multiprocessing.Pipe(duplex=False)
        desks = spawn.Process(
            target=run_desktops,
            args=(service.client_address, arguments.rate, arguments.talk, ready_child),
            daemon=True,
        )
        desks.start()
        await asyncio.get_running_loop().run_in_executor(None, ready.recv)
        scale = (
            f"{len(service.config.site.dns):,} DNs, {len(view.agents.agents):,} agents logged in"
        )
        commands, commands_child = multiprocessing.Pipe()
        viewers = spawn.Process(
            target=run_pages,
            args=(service.http_address, commands_child, arguments.deflate),
            daemon=True,
        )
        viewers.start()
        await asyncio.sleep(arguments.seconds)  # the traffic settles: calls in every state
        figures = await rounds(arguments, commands, apply)
        if arguments.browser:
            figures.browser = await real_page(service.http_address, arguments.seconds / 2)
        commands.send(("stop", None))
        desks.kill()
        viewers.join(5)
    report(arguments, scale, figures, apply, push)


def report(
    arguments: argparse.Namespace, scale: str, f: Figures, apply: Timed, push: Timed
) -> None:
    n = arguments.pages
    per_page = [(busy - idle) / n for idle, busy in zip(f.idle_cpu, f.busy_cpu, strict=True)]
    deflate = "with" if arguments.deflate else "without"
    rows = [
        ("site", scale),
        ("calls offered", f"{arguments.rate:g} a second, talk time ~{arguments.talk:g} s"),
        ("T-Library events", f"{f.events / f.seconds:,.0f} a second"),
        ("pages open", f"{n} ({deflate} permessage-deflate)"),
        (
            "snapshot",
            f"{f.snapshot[0] / 1024:,.0f} KiB decoded, {f.snapshot[1] / 1024:,.0f} KiB on the wire",
        ),
        (
            "per page",
            f"{median(f.wire):,.0f} B/s on the wire, {median(f.decoded):,.0f} B/s decoded",
        ),
        ("server CPU, no page", f"{median(f.idle_cpu) * 100:.1f} % of a core"),
        (f"server CPU, {n} pages", f"{median(f.busy_cpu) * 100:.1f} % of a core"),
        (
            "server CPU per page",
            f"{median(per_page) * 1e3:.2f} ms a second ({median(per_page) * 100:.3f} % of a core)",
        ),
        ("  by round", ", ".join(f"{p * 1e3:.2f}" for p in per_page)),
        (
            "view, per event",
            f"{apply.seconds / max(apply.calls, 1) * 1e6:.1f} µs CPU ({apply.calls:,} events)",
        ),
        (
            "one push",
            f"{push.seconds / max(push.calls, 1) * 1e3:.2f} ms CPU on average ({push.calls:,})",
        ),
    ]
    print(f"medians of {arguments.rounds} paired rounds of {arguments.seconds:g} s")
    for label, text in rows + f.browser:
        print(f"  {label + ':':<24}{text}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="calls offered per second")
    parser.add_argument(
        "--talk", type=float, default=8.0, help="seconds an agent talks, on average"
    )
    parser.add_argument("--no-deflate", dest="deflate", action="store_false")
    parser.add_argument("--browser", action="store_true", help="also open a page in Chromium")
    arguments = parser.parse_args()
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(measure(arguments))


if __name__ == "__main__":
    main()
