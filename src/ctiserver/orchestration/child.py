"""The child process of `ctiserver run` that runs the orchestration server (process.py
says why and how the two talk).  An asyncio shell.

    python -m ctiserver.orchestration.child     # started by OrchestrationProcess only

Rule 1: standard output carries frames to the parent and nothing else: anything printed
goes to standard error instead.
Rule 2: the end of standard input (the parent closed it, or died) stops the child.
Ctrl-C reaches the whole process group; the child leaves it to the parent.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import signal
import sys
import traceback
from pathlib import PurePosixPath
from typing import IO, Any

import orjson

from ctiserver.orchestration.process import SessionFigures, frame, read_frame
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import OrchestrationSettings

log = logging.getLogger(__name__)

FIGURES_INTERVAL = 1.0


class Channel:
    """Frames to the parent, written at once (they are small; the parent always reads)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def send(self, kind: str, value: Any) -> None:
        self._stream.write(frame(orjson.dumps([kind, value])))
        self._stream.flush()


class ToParent(logging.Handler):
    """Hands every log record to the parent's logging."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {
                "name": record.name,
                "levelno": record.levelno,
                "levelname": record.levelname,
                "msg": record.getMessage(),
                "created": record.created,
                "msecs": record.msecs,
                "pathname": record.pathname,
                "lineno": record.lineno,
                "funcName": record.funcName,
                "process": record.process,
                "exc_text": _exception(record),
            }
            self._channel.send("log", fields)
        except Exception:
            self.handleError(record)


def _exception(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[0] is not None:
        return "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return record.exc_text


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = Channel(os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)  # Rule 1
    sys.stdout = sys.stderr
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(channel))


async def _serve(channel: Channel) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    body = await read_frame(reader)
    if body is None:
        return
    _, settings, level, tls, http = pickle.loads(body)
    root = logging.getLogger()
    root.handlers[:] = [ToParent(channel)]
    root.setLevel(level)
    figures = SessionFigures()
    context = tls.context() if tls is not None else None  # process.py, Rule 3
    server = OrchestrationServer(settings, observer=figures, tls=context, http=http)
    running = asyncio.create_task(server.run(), name="orchestration")
    announcing = asyncio.create_task(_announce(server, channel))
    reporting = asyncio.create_task(_report(server, figures, channel))
    try:
        await _commands(reader, server, channel, running)
    finally:
        announcing.cancel()
        reporting.cancel()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def _announce(server: OrchestrationServer, channel: Channel) -> None:
    await server.ready.wait()
    channel.send("ready", list(server.http_address) if server.http_address else None)


async def _report(server: OrchestrationServer, figures: SessionFigures, channel: Channel) -> None:
    """The session figures, for the server's /metrics, each second they have changed."""
    last: dict[str, Any] = {}
    while True:
        await asyncio.sleep(FIGURES_INTERVAL)
        if server.core is not None:
            figures.running = len(server.core.interactions.sessions)
            figures.strategies = strategy_sessions(server)
        now = orjson.loads(orjson.dumps(figures.as_json()))  # a copy, as the parent reads it
        if now != last:
            channel.send("figures", now)
            last = now


def strategy_sessions(server: OrchestrationServer) -> dict[str, tuple[str, int]]:
    """Each routing point's strategy: its name (the file's, without .scxml) and its
    sessions running now."""
    core = server.core
    if core is None:
        return {}
    sessions = collections.Counter(
        record.routing_point for record in core.interactions.sessions.values()
    )
    return {
        point: (PurePosixPath(server.settings.strategies.get(point, point)).stem, sessions[point])
        for point in core.strategies
    }


async def _commands(
    reader: asyncio.StreamReader,
    server: OrchestrationServer,
    channel: Channel,
    running: asyncio.Task[None],
) -> None:
    """Take the parent's commands until its end of the pipe closes (Rule 2)."""
    ended = asyncio.ensure_future(read_frame(reader))
    while True:
        await asyncio.wait({ended, running}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            ended.cancel()
            if not running.cancelled() and running.exception() is not None:
                log.error("the orchestration server failed", exc_info=running.exception())
                raise SystemExit(1)
            return
        body = ended.result()
        if body is None:
            return
        kind, settings = pickle.loads(body)
        if kind == "reload":
            await _reload(server, settings, channel)
        ended = asyncio.ensure_future(read_frame(reader))


async def _reload(
    server: OrchestrationServer, settings: OrchestrationSettings, channel: Channel
) -> None:
    """Apply *settings*; the parent names what needs a restart (as the file spells it)."""
    channel.send("reloaded", await server.reload(settings))


if __name__ == "__main__":
    main()
