"""The orchestration server embedded in `ctiserver run`, as a child process: the parent's
side.  An asyncio shell.

    process = OrchestrationProcess(settings, tls=tls, http=http)   # Rule 3
    await process.run()                          # until cancelled; restarts a dead child
    await process.reload(settings)               # the keys that need a restart
    process.ready, process.http_address          # registered everywhere; the REST port
    process.stopped, process.pid                 # the child died (until the next is ready)

The child (`python -m ctiserver.orchestration.child`, child.py) runs an
OrchestrationServer that speaks T-Library to this server's client listener like any
client; strategies run there, so a script that loops until its time limit holds the
child's loop, never the CTI server's (bench/orchestration_isolation.py measures it).

The two talk over the child's standard input and output, in frames (4-byte big-endian
length, then the body):
    parent → child   pickle: ("start", OrchestrationSettings, log level, ClientTls | None,
                             HttpSettings), ("reload", settings)
    child → parent   JSON:   ["ready", [host, port] | null], ["log", {record}],
                             ["reloaded", [keys that need a restart]],
                             ["figures", {running, ended, errors, strategies}] (for
                             /metrics and the dashboard, about once a second while they
                             change)
The child's log records are handled by the parent's logging, so they go wherever the
server's own lines go, formatted the same.

Rule 1: a child that dies is started again after `reconnect-interval` (doubling up to
30 s while it keeps dying young), and logged as an error; the CTI server carries on.
Rule 2: closing the child's standard input stops it; a child whose parent dies stops.
Rule 3: the child is what the server is at its doors: it connects to the client
listener with `[orchestration] application-password` (under require-auth) and over TLS
when the listener is on TLS (`tls`: the CA, certificate and key files, since a TLS
context cannot cross a pipe), and its REST interface has the server's HTTP protection
(`http`: the guard's policy with the admin token, TLS, caps).  They reach the child on
its standard input, never on its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from ctiserver.app.binding import HttpSettings
from ctiserver.doors.tls import ClientTls
from ctiserver.orchestration.settings import OrchestrationSettings
from ctiserver.scxml.effects import Effect, PlatformError, SessionEnded

log = logging.getLogger(__name__)

HEADER: Final = struct.Struct(">I")
MAX_FRAME: Final = 16 << 20
MAX_BACKOFF: Final = 30.0
STOP_TIMEOUT: Final = 5.0
YOUNG: Final = 10.0  # a child that dies younger than this makes the next wait longer


@dataclass(slots=True)
class SessionFigures:
    """Sessions running, sessions ended by outcome (final or failed), and platform errors
    (error.execution, error.communication): an observer of the orchestration server.
    Also each routing point's strategy: its name and its sessions running."""

    running: int = 0
    ended: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    strategies: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __call__(self, session_id: str, effect: Effect) -> None:
        if isinstance(effect, SessionEnded):
            outcome = "final" if effect.final is not None else "failed"
            self.ended[outcome] = self.ended.get(outcome, 0) + 1
        elif isinstance(effect, PlatformError):
            self.errors += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "ended": self.ended,
            "errors": self.errors,
            "strategies": self.strategies,
        }


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's body, or None at the end of the stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes")
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None


class OrchestrationProcess:
    """See the module docstring."""

    def __init__(
        self,
        settings: OrchestrationSettings,
        *,
        tls: ClientTls | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        self.settings = settings
        self._tls = tls
        self._http = http or HttpSettings()
        self.ready = asyncio.Event()
        self.stopped = asyncio.Event()
        self.http_address: tuple[str, int] | None = None
        self.figures = SessionFigures()
        self._process: asyncio.subprocess.Process | None = None
        self._reloaded: asyncio.Future[list[str]] | None = None

    async def run(self) -> None:
        """Keep a child running until cancelled (Rule 1)."""
        loop = asyncio.get_running_loop()
        delay = self.settings.reconnect_interval
        while True:
            started = loop.time()
            status = await self._child()
            self.ready.clear()
            self.stopped.set()
            self.figures.running, self.figures.strategies = 0, {}  # none runs until the next
            young = loop.time() - started < YOUNG
            delay = min(delay * 2, MAX_BACKOFF) if young else self.settings.reconnect_interval
            log.error(
                "the orchestration process stopped (exit status %s); starting it again in %g s",
                status,
                delay,
            )
            await asyncio.sleep(delay)

    @property
    def pid(self) -> int | None:
        """The child's process id while one runs."""
        return self._process.pid if self._process is not None else None

    async def reload(self, settings: OrchestrationSettings) -> list[str]:
        """Send the child new settings; the keys it could not apply without a restart."""
        process = self._process
        if process is None or process.stdin is None:
            return []
        self._reloaded = asyncio.get_running_loop().create_future()
        process.stdin.write(frame(pickle.dumps(("reload", settings))))
        await process.stdin.drain()
        async with asyncio.timeout(STOP_TIMEOUT):
            return await self._reloaded

    async def _child(self) -> int | None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ctiserver.orchestration.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        level = logging.getLogger().getEffectiveLevel()
        start = ("start", self.settings, level, self._tls, self._http)
        process.stdin.write(frame(pickle.dumps(start)))
        try:
            while (body := await read_frame(process.stdout)) is not None:
                self._take(orjson.loads(body))
            return await process.wait()
        finally:
            self._process = None
            await self._stop(process)

    def _take(self, message: list[Any]) -> None:
        kind, value = message
        if kind == "log":
            record = logging.makeLogRecord(value)
            logging.getLogger(record.name).handle(record)
        elif kind == "ready":
            self.http_address = (value[0], value[1]) if value else None
            self.stopped.clear()
            self.ready.set()
        elif kind == "figures":
            # A restarted child counts from 0 again: Prometheus takes that as a reset.
            self.figures.running = value["running"]
            self.figures.ended = value["ended"]
            self.figures.errors = value["errors"]
            self.figures.strategies = {
                point: (name, sessions) for point, (name, sessions) in value["strategies"].items()
            }
        elif kind == "reloaded" and self._reloaded is not None and not self._reloaded.done():
            self._reloaded.set_result(list(value))

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        """Close the child's input (Rule 2), take what it still says (its last log lines)
        until it goes, and kill it if it has not gone in STOP_TIMEOUT."""
        if process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await asyncio.shield(self._last_words(process))
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def _last_words(self, process: asyncio.subprocess.Process) -> None:
        if process.stdout is not None:
            with contextlib.suppress(ValueError, ConnectionError):
                while (body := await read_frame(process.stdout)) is not None:
                    self._take(orjson.loads(body))
        await process.wait()
