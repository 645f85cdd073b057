"""Switchovers of a hot-standby pair under traffic (docs/ha.md, DESIGN.md § 7).

A nats-server, a standalone pbxsim and two members (`ctiserver run`, each in a process
of its own); desks on HotStandbyClient make calls with UserData, answer them, hold them
and hang up, at a paced rate.  The primary is killed with SIGKILL, again and again; each
time the killed member is started again and waits, as the backup, for the next kill.
It prints:

- the takeover: from the kill to the first event from the new primary (a watcher's
  EventServerInfo with ServerRole Primary), p50 and max;
- the calls alive at each kill (both parties established) whose ConnID and UserData the
  new primary knows (RequestQueryCall at the new primary), as a share;
- the events the desks' SDK clients missed or got twice over the whole run (each call's
  expected events at each party, and EventSequenceNumber ever increasing per session);
- the journal's cost: bench/basic_calls.py's calls per second and p50 latency with and
  without [ha], alternated, each run three times.

    ./dev bench ha_switchover [--switchovers 20] [--pairs 150] [--rate 200] [--hold 0.5]
        [--lease-ttl 1] [--no-journal-cost]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import logging
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.client import (
    ConnectionClosed,
    HotStandbyClient,
    NoPrimary,
    Notice,
    RequestInDoubt,
    TClient,
    TServerError,
)
from ctiserver.tlib.vocabulary import TMessage
from jetstream import nats_server

FIRST_DN = 7001
CALLER = ("EventDialing", "EventEstablished", "EventReleased")
CALLEE = ("EventRinging", "EventEstablished", "EventReleased")


# --- the processes ---------------------------------------------------------------------------


class Process:
    """`ctiserver COMMAND --config FILE` in a process of its own, its output kept."""

    def __init__(self, command: str, config: Path) -> None:
        self.command, self.config = command, config
        self.process: asyncio.subprocess.Process | None = None
        self.listening: dict[str, tuple[str, int]] = {}
        self.lines: list[str] = []

    async def start(self, wanted: str) -> None:
        self.listening.clear()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ctiserver", self.command, "--config", str(self.config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        while wanted not in self.listening:
            line = (await asyncio.wait_for(self.process.stdout.readline(), 60)).decode()
            if not line:
                raise RuntimeError(f"{self.config.name} ended: {self.lines[-20:]}")
            self.lines.append(line.rstrip())
            if line.startswith("listening "):
                kind, _, address = line.removeprefix("listening ").strip().partition("=")
                host, port = address.rsplit(":", 1)
                self.listening[kind] = (host, int(port))
        asyncio.get_running_loop().create_task(self._drain(self.process))

    async def _drain(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        with self.log.open("a") as log:
            while line := await process.stdout.readline():
                self.lines.append(line.decode().rstrip())
                log.write(line.decode())
            log.write(f"(ended with {await process.wait()})\n")

    @property
    def log(self) -> Path:
        """Its output, every run of it, beside its configuration."""
        return self.config.with_suffix(".log")

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def site_toml(pairs: int) -> str:
    last = FIRST_DN + 2 * pairs - 1
    return f'[dn]\nextensions = ["{FIRST_DN}-{last}"]\n'


def pbxsim_toml(directory: Path, pairs: int) -> Path:
    path = directory / "pbxsim.toml"
    path.write_text(f'{site_toml(pairs)}\n[pbxsim]\ncsta-listen = "127.0.0.1:0"\n')
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def member_toml(
    directory: Path, name: str, nats: str, switch: tuple[str, int], pairs: int, ttl: float
) -> Path:
    """A member's configuration; its ports stay the same when it is started again, since
    the desks' clients know the pair by its two addresses."""
    path = directory / f"member-{name}.toml"
    path.write_text(
        f"""
[server]
name = "tserver"
client-listen = "127.0.0.1:{free_port()}"
http-listen = "127.0.0.1:{free_port()}"
max-connections-per-address = {2 * pairs + 64}

[switch]
link = "{switch[0]}:{switch[1]}"
reconnect-min = 0.05
reconnect-max = 0.2

{site_toml(pairs)}
[log]
level = "info"

[nats]
url = "{nats}"

[ha]
pair = "bench"
member = "{name}"
lease-ttl = {ttl}
"""
    )
    return path


async def metric(http: aiohttp.ClientSession, member: Process, name: str) -> float:
    host, port = member.listening["http"]
    async with http.get(f"http://{host}:{port}/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise LookupError(name)


async def healthz_role(http: aiohttp.ClientSession, member: Process) -> str:
    host, port = member.listening["http"]
    async with http.get(f"http://{host}:{port}/healthz") as response:
        body: dict[str, Any] = await response.json(content_type=None)
    return str(body.get("ha", {}).get("role", ""))


# --- the desks -------------------------------------------------------------------------------


@dataclass
class Call:
    conn_id: str
    user_data: dict[str, Any]
    seen: dict[str, list[str]] = field(default_factory=dict)  # DN -> event names

    def established(self, caller: str, callee: str) -> bool:
        return all("EventEstablished" in self.seen.get(dn, ()) for dn in (caller, callee))

    def released(self, caller: str, callee: str) -> bool:
        return all("EventReleased" in self.seen.get(dn, ()) for dn in (caller, callee))


@dataclass
class Figures:
    calls: int = 0
    in_doubt: int = 0
    no_primary: int = 0
    refused: int = 0
    out_of_order: int = 0
    notices: list[Notice] = field(default_factory=list)


class DeskPair:
    """Two desks (a caller and a callee) on one HotStandbyClient, calling each other."""

    def __init__(self, caller: str, callee: str, figures: Figures) -> None:
        self.caller, self.callee = caller, callee
        self.figures = figures
        self.calls: dict[str, Call] = {}
        self.client: HotStandbyClient | None = None
        self._last_sequence = 0
        self._established = asyncio.Event()
        self._released = asyncio.Event()
        self._current: str | None = None
        self._number = 0

    async def connect(self, addresses: list[tuple[str, int]]) -> None:
        self.client = await HotStandbyClient.connect(
            addresses, application_name=f"desk-{self.caller}", failover_timeout=30
        )
        for dn in (self.caller, self.callee):
            await self.client.register_address(dn)

    async def read(self) -> None:
        assert self.client is not None
        async for item in self.client.events():
            if isinstance(item, dict):
                self._on_event(item)
            else:
                self.figures.notices.append(item)

    def _on_event(self, event: TMessage) -> None:
        sequence = int(event.get("EventSequenceNumber", 0))
        if sequence <= self._last_sequence:
            self.figures.out_of_order += 1
        self._last_sequence = sequence
        conn_id, dn, name = event.get("ConnID"), event.get("ThisDN"), str(event.get("Event"))
        if conn_id is None or name not in CALLER + CALLEE:
            return
        call = self.calls.setdefault(str(conn_id), Call(str(conn_id), {}))
        call.seen.setdefault(str(dn), []).append(name)
        if name == "EventRinging" and dn == self.callee:
            self._spawn(self.client.answer_call(self.callee, str(conn_id)))  # type: ignore[union-attr]
        if call.conn_id == self._current:
            if call.established(self.caller, self.callee):
                self._established.set()
            if call.released(self.caller, self.callee):
                self._released.set()

    def _spawn(self, request: Any) -> None:
        asyncio.get_running_loop().create_task(self._guarded(request))

    async def _guarded(self, request: Any) -> TMessage | None:
        try:
            return await request  # type: ignore[no-any-return]
        except RequestInDoubt:
            self.figures.in_doubt += 1
        except NoPrimary:
            self.figures.no_primary += 1
        except TServerError:
            self.figures.refused += 1
        return None

    async def run(
        self, period: float, hold: float, releases: asyncio.Event, stop: asyncio.Event
    ) -> None:
        """Call, hold, hang up, one call every *period* seconds, until *stop*."""
        assert self.client is not None
        next_start = time.monotonic() + random.uniform(0, period)
        while not stop.is_set():
            await asyncio.sleep(max(0.0, next_start - time.monotonic()))
            next_start += period
            self._number += 1
            user_data = {"desk": self.caller, "n": self._number}
            self._established.clear()
            self._released.clear()
            dialing = await self._guarded(
                self.client.make_call(self.caller, self.callee, user_data=user_data)
            )
            if dialing is None or "ConnID" not in dialing:
                continue
            conn_id = str(dialing["ConnID"])
            self._current = conn_id
            call = self.calls.setdefault(conn_id, Call(conn_id, {}))
            call.user_data = user_data
            if not await _within(self._established, 30):
                continue
            await asyncio.sleep(hold * random.uniform(0.5, 1.5))
            await releases.wait()
            await self._guarded(self.client.release_call(self.caller, conn_id))
            if await _within(self._released, 30):
                self.figures.calls += 1

    def alive(self) -> list[Call]:
        return [
            c
            for c in self.calls.values()
            if c.established(self.caller, self.callee) and not c.released(self.caller, self.callee)
        ]

    def missed_and_twice(self) -> tuple[int, int]:
        """Over the calls both desks saw end: expected events not seen, and seen twice."""
        missed = twice = 0
        for call in self.calls.values():
            if not call.released(self.caller, self.callee):
                continue
            for dn, expected in ((self.caller, CALLER), (self.callee, CALLEE)):
                seen = call.seen.get(dn, [])
                missed += sum(1 for name in expected if name not in seen)
                twice += sum(seen.count(name) - 1 for name in expected if seen.count(name) > 1)
        return missed, twice


async def _within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


# --- one switchover --------------------------------------------------------------------------


@dataclass
class Switchover:
    takeover: float
    alive: int
    known: int
    why: str  # why the others are not known


async def first_primary_event(watcher: TClient) -> float:
    """When the watcher (a client of the backup) hears that its server is primary."""
    while True:
        event = await watcher.next_event()
        if event.get("Event") == "EventServerInfo" and event.get("ServerRole") == "Primary":
            return time.monotonic()


async def known(desks: list[DeskPair], calls: list[tuple[DeskPair, Call]]) -> tuple[int, str]:
    """How many of *calls* the new primary knows, with their UserData; why not the
    others."""
    count, why = 0, collections.Counter[str]()
    for desk, call in calls:
        assert desk.client is not None
        try:
            info = await desk.client.query_call(desk.caller, call.conn_id)
        except TServerError as exc:
            why[f"EventError {exc.code} ({exc.message})"] += 1
            continue
        except (RequestInDoubt, NoPrimary) as exc:
            why[type(exc).__name__] += 1
            continue
        data = info.get("UserData") or {}
        if info.get("ConnID") == call.conn_id and all(
            data.get(k) == v for k, v in call.user_data.items()
        ):
            count += 1
        else:
            why["other ConnID or UserData"] += 1
    return count, ", ".join(f"{reason}: {n}" for reason, n in why.items())


async def switch_over(
    members: dict[str, Process],
    primary: str,
    desks: list[DeskPair],
    releases: asyncio.Event,
    demoted: list[int],
) -> Switchover:
    backup = "b" if primary == "a" else "a"
    watcher = await TClient.connect(*members[backup].listening["client"], application_name="watch")
    try:
        releases.clear()  # the calls alive at the kill stay up until they are checked
        await asyncio.sleep(0.2)  # hang-ups already sent land
        killed = time.monotonic()
        members[primary].kill()
        alive = [(desk, call) for desk in desks for call in desk.alive()]
        try:
            served = await asyncio.wait_for(first_primary_event(watcher), 60)
        except TimeoutError:
            raise RuntimeError(f"no new primary within 60 s of the kill of {primary}") from None
        except ConnectionClosed:  # the backup served, then lost the lease (a loaded machine)
            served = time.monotonic()
            demoted[0] += 1
        found, why = await known(desks, alive)
        releases.set()
        return Switchover(served - killed, len(alive), found, why)
    finally:
        releases.set()
        await watcher.close()


async def caught_up(http: aiohttp.ClientSession, backup: Process, primary: Process) -> None:
    """Until the restarted member is the backup and has the primary's journal."""
    deadline = time.monotonic() + 120
    while True:
        for process in (backup, primary):
            if process.process is None or process.process.returncode is not None:
                raise RuntimeError(f"{process.config.stem} ended")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{backup.config.stem} did not catch up within 120 s")
        try:
            role = await healthz_role(http, backup)
            if role == "backup":
                ours = await metric(http, backup, "ctiserver_ha_journal_position")
                theirs = await metric(http, primary, "ctiserver_ha_journal_position")
                if ours >= theirs - 50:
                    return
        except (aiohttp.ClientError, LookupError):
            pass
        await asyncio.sleep(0.2)


async def primary_of(http: aiohttp.ClientSession, members: dict[str, Process]) -> str:
    while True:
        for name, member in members.items():
            with contextlib.suppress(aiohttp.ClientError):
                if await healthz_role(http, member) == "primary":
                    return name
        await asyncio.sleep(0.1)


# --- the run ---------------------------------------------------------------------------------


async def switchovers(arguments: argparse.Namespace, nats: str, directory: Path) -> None:
    pbxsim = Process("pbxsim", pbxsim_toml(directory, arguments.pairs))
    await pbxsim.start("csta")
    switch = pbxsim.listening["csta"]
    members = {
        name: Process(
            "run", member_toml(directory, name, nats, switch, arguments.pairs, arguments.lease_ttl)
        )
        for name in ("a", "b")
    }
    figures = Figures()
    desks: list[DeskPair] = []
    stop, releases = asyncio.Event(), asyncio.Event()
    releases.set()
    try:
        async with aiohttp.ClientSession() as http:
            for member in members.values():
                await member.start("http")
            primary = await primary_of(http, members)
            backup = "b" if primary == "a" else "a"
            await caught_up(http, members[backup], members[primary])
            addresses = [members[n].listening["client"] for n in ("a", "b")]
            desks = [
                DeskPair(str(FIRST_DN + 2 * n), str(FIRST_DN + 2 * n + 1), figures)
                for n in range(arguments.pairs)
            ]
            for desk in desks:
                await desk.connect(addresses)
            period = arguments.pairs / arguments.rate
            tasks = [asyncio.create_task(d.read()) for d in desks]
            tasks += [
                asyncio.create_task(d.run(period, arguments.hold, releases, stop)) for d in desks
            ]
            started, calls_before = time.monotonic(), 0
            results: list[Switchover] = []
            demoted = [0]  # primaries that lost the lease on their own (not killed)
            for n in range(arguments.switchovers):
                await asyncio.sleep(arguments.between)
                primary = await primary_of(http, members)  # it may have changed on its own
                backup = "b" if primary == "a" else "a"
                await caught_up(http, members[backup], members[primary])
                result = await switch_over(members, primary, desks, releases, demoted)
                results.append(result)
                print(
                    f"switchover {n + 1:2}: {primary} killed, takeover {result.takeover:.2f} s, "
                    f"calls alive {result.alive}, known {result.known}"
                    + (f" ({result.why})" if result.why else ""),
                    flush=True,
                )
                await members[primary].start("http")
            elapsed = time.monotonic() - started
            stop.set()
            await asyncio.wait(tasks[len(desks) :], timeout=60)
            report(results, desks, figures, figures.calls - calls_before, elapsed)
            print(f"primaries that lost the lease without a kill: {demoted[0]} seen by the watcher")
            for task in tasks:
                task.cancel()
    except BaseException:
        for process in (*members.values(), pbxsim):
            print(f"the log of {process.config.stem}: {process.log}", file=sys.stderr)
        raise
    finally:
        for desk in desks:
            if desk.client is not None:
                await desk.client.close()
        for member in members.values():
            await member.stop()
        await pbxsim.stop()


def report(
    results: list[Switchover], desks: list[DeskPair], figures: Figures, calls: int, elapsed: float
) -> None:
    takeovers = sorted(r.takeover for r in results)
    alive = sum(r.alive for r in results)
    found = sum(r.known for r in results)
    missed = sum(d.missed_and_twice()[0] for d in desks)
    twice = sum(d.missed_and_twice()[1] for d in desks)
    print()
    print(f"switchovers:               {len(results)}")
    print(
        f"takeover (kill -> first event of the new primary): "
        f"p50 {statistics.median(takeovers):.2f} s, max {takeovers[-1]:.2f} s"
    )
    print(f"calls alive at the kills:  {alive}, known with ConnID and UserData: {found}")
    print(f"  share kept:              {100 * found / max(alive, 1):.1f} %")
    print(f"calls completed:           {calls} ({calls / elapsed:.0f} per second over the run)")
    print(f"SDK events missed:         {missed}")
    print(f"SDK events twice:          {twice}")
    print(f"SDK sequence out of order: {figures.out_of_order}")
    print(
        f"requests in doubt {figures.in_doubt}, without a primary {figures.no_primary}, "
        f"refused {figures.refused}"
    )
    counts: dict[str, int] = {}
    for desk in desks:
        assert desk.client is not None
        for key, value in dataclasses.asdict(desk.client.counts).items():
            counts[key] = counts.get(key, 0) + value
    print(f"SDK counts (all desks):    {counts}")
    kinds: dict[str, int] = {}
    for notice in figures.notices:
        kinds[type(notice).__name__] = kinds.get(type(notice).__name__, 0) + 1
    print(f"SDK notices:               {kinds}")


# --- the journal's cost ----------------------------------------------------------------------


def journal_cost(pairs: int, seconds: float, runs: int) -> None:
    """basic_calls with and without [ha], alternated: the medians and their ratios."""
    import subprocess

    here = Path(__file__).parent
    figures: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(runs):
        for ha in (False, True):
            command = [sys.executable, str(here / "basic_calls.py"), "--pairs", str(pairs)]
            command += ["--seconds", str(seconds)] + (["--ha"] if ha else [])
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            figures[ha].append(basic_calls_figures(output))
    median = {
        ha: {key: statistics.median(run[key] for run in got) for key in got[0]}
        for ha, got in figures.items()
    }
    print()
    print(f"basic_calls ({pairs} pairs, {runs} runs each, medians):")
    for ha, label in ((False, "without [ha]"), (True, "with [ha]   ")):
        m = median[ha]
        cpu = f", server CPU {m['cpu']:.0f} us per call" if "cpu" in m else ""
        print(f"  {label}: {m['rate']:.0f} calls/s, CSTA->TLib p50 {m['p50']:.2f} ms{cpu}")
    off, on = median[False], median[True]
    print(f"  journal cost: {100 * (1 - on['rate'] / off['rate']):.1f} % of the calls per second")
    if "cpu" in on:
        print(
            f"                {100 * (on['cpu'] / off['cpu'] - 1):.1f} % more server CPU per call"
        )


def basic_calls_figures(output: str) -> dict[str, float]:
    """Calls per second, the p50 of CSTA in -> T-Library out (ms) and, when it says
    it, the server's CPU per call (us), from bench/basic_calls.py's output."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("calls per second:"):
            found["rate"] = float(line.split(":")[1])
        elif line.startswith("CSTA in -> T-Lib out:"):
            found["p50"] = float(line.split("p50 ")[1].split(" ms")[0])
        elif line.startswith("server CPU per call:"):
            found["cpu"] = float(line.split(":")[1].split()[0])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switchovers", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=150, help="desk pairs (calls at once)")
    parser.add_argument("--rate", type=float, default=200.0, help="calls per second offered")
    parser.add_argument("--hold", type=float, default=0.5, help="mean seconds a call is held")
    parser.add_argument("--between", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--lease-ttl", type=float, default=1.0)
    parser.add_argument("--no-journal-cost", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    parser.add_argument("--cost-pairs", type=int, default=50)
    parser.add_argument("--cost-seconds", type=float, default=8.0)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the SDK's switchover lines: counted instead
    directory = Path(tempfile.mkdtemp(prefix="ha-switchover-"))
    with nats_server() as nats:
        asyncio.run(switchovers(arguments, nats, directory))
    if arguments.keep_logs:
        print(f"the processes' logs are in {directory}")
    else:
        shutil.rmtree(directory)  # kept, with the logs, when the run fails
    if not arguments.no_journal_cost:
        journal_cost(arguments.cost_pairs, arguments.cost_seconds, 3)


if __name__ == "__main__":
    main()
