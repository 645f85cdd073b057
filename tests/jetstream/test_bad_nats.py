"""Bad or missing NATS never crashes or slows the server: with nothing at the NATS
address, with something that is not NATS there, or with a NATS without JetStream, the
server starts, handles calls, holds what it can, counts what it drops, says so in
/healthz and /metrics, and stops when asked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import nats
import orjson
import pytest

from ctiserver.jetstream.events import ExportSettings, message_id, stream_config
from tests.integration.conftest import start_site, stop_site, within
from tests.jetstream.conftest import (
    Desk,
    NatsServer,
    basic_call,
    consumer,
    export_config,
    export_of,
    http_get,
    metric,
    server_name,
)
from tests.nats_process import free_port

A, B = "7001", "7002"


@contextlib.asynccontextmanager
async def nothing() -> AsyncIterator[str]:
    yield f"nats://127.0.0.1:{free_port()}"


@contextlib.asynccontextmanager
async def not_nats() -> AsyncIterator[str]:
    """A server that answers every connection with an HTTP error and hangs up."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    try:
        yield f"nats://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def without_jetstream(store: Path) -> AsyncIterator[str]:
    server = NatsServer(store, jetstream=False)
    server.start()
    try:
        yield server.url
    finally:
        server.kill()


NATS_AWAY: dict[str, Callable[[Path], contextlib.AbstractAsyncContextManager[str]]] = {
    "nothing listens": lambda _: nothing(),
    "not NATS": lambda _: not_nats(),
    "NATS without JetStream": without_jetstream,
}


@pytest.mark.parametrize("away", list(NATS_AWAY))
async def test_the_server_serves_and_counts_what_it_cannot_export(
    away: str, tmp_path: Path
) -> None:
    async with NATS_AWAY[away](tmp_path) as url:
        site, task = await start_site(export_config(url, server_name(), max_buffer=8192))
        try:
            export = export_of(site)
            a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
            try:
                for _ in range(6):
                    await basic_call(a, b, A, B)
            finally:
                await a.close()
                await b.close()
            assert export.published == 0
            assert export.buffered > 0
            assert export.dropped["buffer-full"] > 0
            status, body = await http_get(site, "/healthz")
            assert status == 200
            assert orjson.loads(body)["export"] == {
                "state": "dropping",
                "published": 0,
                "buffered": export.buffered,
                "dropped": export.dropped_total,
            }
            status, text = await http_get(site, "/metrics")
            assert metric(text, "ctiserver_export_up") == 0
            site.service.dashboard.push()  # type: ignore[union-attr]
            status, state = await http_get(site, "/api/state")
            panel = {row["key"]: row for row in orjson.loads(state)["health"]}
            assert (panel["export"]["state"], panel["export"]["ok"]) == ("dropping", False)
            assert panel["export"]["detail"] == (
                f"{export.buffered} buffered, {export.dropped_total} dropped"
            )
            assert metric(text, "ctiserver_export_buffered_bytes") == export.buffered_bytes <= 8192
        finally:
            await within(stop_site(site, task), 10)


async def test_events_the_stream_refuses_are_dropped_and_counted_and_the_rest_go_on(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator's own stream takes no event over 300 bytes: those are refused for
    good (counted, logged once), the others are stored, in order."""
    name = server_name()
    config = export_config(nats_server.url, name)
    stream = stream_config(ExportSettings(events=True), name)
    client = await nats.connect(nats_server.url)
    try:
        await client.jetstream().add_stream(replace(stream, max_msg_size=300, description=None))
    finally:
        await client.close()
    with caplog.at_level(logging.WARNING, logger="ctiserver.jetstream.export"):
        site, task = await start_site(config)
        try:
            export = export_of(site)
            a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
            try:
                for _ in range(3):
                    await basic_call(a, b, A, B)
            finally:
                await a.close()
                await b.close()
            await within(export.drained())
            _, text = await http_get(site, "/metrics")
        finally:
            await stop_site(site, task)
    sizes = {}  # the size JetStream counts: the message id's header and the JSON
    for line in a.lines + b.lines:
        event = orjson.loads(line)
        header = f"NATS/1.0\r\nNats-Msg-Id: {message_id(name, event)}\r\n\r\n"
        sizes[event["EventSequenceNumber"]] = len(header) + len(line)
    large = {number for number, size in sizes.items() if size > 300}
    assert large
    assert export.dropped["refused"] >= len(large)
    assert (
        metric(text, 'ctiserver_export_dropped_total{reason="refused"}')
        == export.dropped["refused"]
    )
    async with consumer(nats_server.url, stream.name or "") as reader:
        stored = await reader.first(export.published)
    assert [m.number for m in stored] == sorted(m.number for m in stored)
    assert not large & {m.number for m in stored}
    assert {m.number for m in stored} >= set(sizes) - large
    messages = [record.getMessage() for record in caplog.records]
    assert sum("exists with settings other than [export]'s" in m for m in messages) == 1
    assert sum("dropped an event JetStream does not take" in m for m in messages) == 1
    assert sum("buffer is full" in m for m in messages) == 0  # no outage: NATS is there
