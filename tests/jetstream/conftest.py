"""A server that exports its events to a real nats-server (tests.nats_process), desks that keep
every line the server wrote them, and a consumer that reads the event stream as any
reporting program would (an ordered consumer, from the stream's start)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
import orjson
import pytest
from aiohttp import ClientSession
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.export import EventExport
from ctiserver.jetstream.link import NatsSettings
from ctiserver.tlib.vocabulary import TMessage
from tests.integration.conftest import Site, site_config, start_site, stop_site, within
from tests.nats_process import NatsServer, nats_server, own_nats_server

__all__ = ["NatsServer", "nats_server", "own_nats_server"]

NAMES = itertools.count(1)


def server_name() -> str:
    """A server name of the test's own: its subjects and stream are its own."""
    return f"t{os.getpid()}-{next(NAMES)}"


def export_config(nats_url: str, name: str, **export: Any) -> Any:
    return site_config(
        server={"name": name},
        nats=NatsSettings(urls=(nats_url,), connect_timeout=1.0, request_timeout=1.0),
        export=ExportSettings(events=True, **export),
    )


def export_of(site: Site) -> EventExport:
    export = site.service.export
    assert export is not None
    return export


@pytest.fixture
async def exporting() -> AsyncIterator[Callable[..., Awaitable[Site]]]:
    """Start a site that exports to *nats_url*: `await exporting(url, name, **export)`."""
    started: list[tuple[Site, asyncio.Task[None]]] = []

    async def start(nats_url: str, name: str, **export: Any) -> Site:
        site, task = await start_site(export_config(nats_url, name, **export))
        started.append((site, task))
        return site

    yield start
    for site, task in started:
        with contextlib.suppress(Exception):
            await stop_site(site, task)


# --- desks that keep the lines -------------------------------------------------------------


class Desk:
    """A T-Library client over TCP that keeps every line the server wrote it, as bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.lines: list[bytes] = []  # each without its newline
        self._unread: asyncio.Queue[TMessage] = asyncio.Queue()
        self._references = itertools.count(1)
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, address: tuple[str, int], *dns: str) -> Desk:
        desk = cls(*await asyncio.open_connection(*address))
        desk.send("RequestRegisterClient", ApplicationName="desk")
        await desk.wait_for("EventLinkConnected")
        for dn in dns:
            desk.send("RequestRegisterAddress", ThisDN=dn, RegisterMode="ModeShare")
            await desk.wait_for("EventRegistered", ThisDN=dn)
        return desk

    def send(self, request: str, **attributes: Any) -> int:
        reference = next(self._references)
        message = {"Request": request, "ReferenceID": reference, **attributes}
        self._writer.write(orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE))
        return reference

    async def wait_for(self, name: str, **attributes: Any) -> TMessage:
        while True:
            event = await within(self._unread.get())
            if event["Event"] == name and all(event.get(k) == v for k, v in attributes.items()):
                return event

    async def _read(self) -> None:
        while line := await self._reader.readline():
            self.lines.append(line.rstrip(b"\n"))
            self._unread.put_nowait(orjson.loads(line))

    async def close(self) -> None:
        self._writer.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self._task
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


async def basic_call(caller: Desk, callee: Desk, a: str, b: str) -> str:
    """A calls B, B answers, A hangs up; returns the ConnID once both heard the release."""
    caller.send("RequestMakeCall", ThisDN=a, OtherDN=b)
    conn_id = str((await caller.wait_for("EventDialing", ThisDN=a))["ConnID"])
    await callee.wait_for("EventRinging", ThisDN=b, ConnID=conn_id)
    callee.send("RequestAnswerCall", ThisDN=b, ConnID=conn_id)
    await caller.wait_for("EventEstablished", ThisDN=a, ConnID=conn_id)
    caller.send("RequestReleaseCall", ThisDN=a, ConnID=conn_id)
    await caller.wait_for("EventReleased", ThisDN=a, ConnID=conn_id)
    await callee.wait_for("EventReleased", ThisDN=b, ConnID=conn_id)
    return conn_id


# --- the consumer ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exported:
    subject: str
    data: bytes
    headers: dict[str, str]
    stream_sequence: int

    @property
    def event(self) -> TMessage:
        return orjson.loads(self.data)  # type: ignore[no-any-return]

    @property
    def number(self) -> int:
        return int(self.event["EventSequenceNumber"])


class Consumer:
    """Reads a stream from its start (or from *start* sequence), in order, as a
    reporting program would, through an ordered consumer of its own."""

    def __init__(self, client: Client, stream: str, subject: str, start: int | None) -> None:
        self._client = client
        self._stream, self._subject, self._start = stream, subject, start
        self.received: list[Exported] = []
        self._sub: Any = None

    async def open(self) -> Consumer:
        js = self._client.jetstream()
        if self._start is None:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        else:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self._start
            )
        self._sub = await js.subscribe(
            self._subject, stream=self._stream, ordered_consumer=True, config=config
        )
        return self

    async def upto(self, number: int) -> list[Exported]:
        """Every event read so far, once one numbered *number* or above has come."""
        while not self.received or self.received[-1].number < number:
            await self._next()
        return self.received

    async def first(self, count: int) -> list[Exported]:
        """The first *count* messages of the stream (or of the subject)."""
        while len(self.received) < count:
            await self._next()
        return self.received

    async def _next(self) -> None:
        msg: Msg = await self._sub.next_msg(timeout=10)
        assert msg.metadata.sequence is not None
        stream_sequence = msg.metadata.sequence.stream
        self.received.append(
            Exported(msg.subject, msg.data, dict(msg.headers or {}), stream_sequence)
        )


@contextlib.asynccontextmanager
async def consumer(
    url: str, stream: str, subject: str = ">", start: int | None = None
) -> AsyncIterator[Consumer]:
    client = await nats.connect(url, allow_reconnect=False)
    try:
        yield await Consumer(client, stream, subject, start).open()
    finally:
        await client.close()


async def stream_messages(url: str, stream: str) -> int:
    client = await nats.connect(url, allow_reconnect=False)
    try:
        return int((await client.jetstream().stream_info(stream)).state.messages)
    finally:
        await client.close()


# --- HTTP ------------------------------------------------------------------------------------


async def http_get(site: Site, path: str) -> tuple[int, str]:
    assert site.service.http_address is not None
    host, port = site.service.http_address
    async with ClientSession() as session, session.get(f"http://{host}:{port}{path}") as answer:
        return answer.status, await answer.text()


def metric(text: str, name: str) -> float:
    """The value of the sample *name* (with its labels, as written) in /metrics."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} is not in /metrics")
