"""Bad or missing NATS never crashes or slows the server: with nothing at the NATS
address, with something that is not NATS there, or with a NATS without JetStream, the
server starts, handles calls, holds what it can, counts what it drops, says so in
/healthz and /metrics, and stops when asked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import start_site, stop_site, within
from tests.jetstream.conftest import (
    Desk,
    NatsServer,
    basic_call,
    export_config,
    export_of,
    http_get,
    metric,
    server_name,
)
from tests.nats import free_port

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
