"""A NATS connection opened and closed through jetstream.connection, against a real
nats-server, leaves nothing behind at any moment of its life: closed while it
reconnects (each turn of the loop after the reconnection began), it is closed and none
of its tasks runs; a connect cancelled while its attempts fail stops them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from nats.aio.client import Client

from ctiserver.jetstream import connection
from tests.integration.conftest import within
from tests.jetstream.conftest import NatsServer
from tests.nats_process import free_port

TURNS = 40  # of the loop, after a reconnection began, at which the client is closed


async def quiet(exc: Exception) -> None:
    """nats-py's errors (the failed attempts, expected here)."""


def left_since(before: set[asyncio.Task[object]]) -> list[str]:
    """The tasks started since *before* that still run (this one aside)."""
    current = asyncio.current_task()
    return [
        repr(task)
        for task in asyncio.all_tasks() - before
        if task is not current and not task.done()
    ]


async def test_a_client_closed_while_it_reconnects_is_closed_for_good(
    nats_server: NatsServer,
) -> None:
    """Closed at each turn of the loop after a reconnection began (nats-py alone, at some
    of them, raises CancelledError or stays connected with its flusher running)."""
    for turns in range(TURNS):
        before = asyncio.all_tasks()
        client = Client()
        await connection.connect(
            client, servers=[nats_server.url], reconnect_time_wait=0, error_cb=quiet
        )
        await client.force_reconnect()
        for _ in range(turns):
            await asyncio.sleep(0)  # one turn of the loop: the reconnection goes a step on
        await within(connection.close(client), 10)
        assert client.is_closed, f"closed after {turns} turns"
        assert left_since(before) == [], f"closed after {turns} turns"


def noting(failed: asyncio.Queue[Exception]) -> Callable[[Exception], Awaitable[None]]:
    """An error callback that puts each failed attempt in *failed*."""

    async def note(exc: Exception) -> None:
        failed.put_nowait(exc)

    return note


@contextlib.asynccontextmanager
async def not_nats() -> AsyncIterator[str]:
    """Something that accepts connections and hangs up at once: every attempt fails
    as soon as it began."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        yield f"nats://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("away", ["refused", "not NATS"])
async def test_a_connect_cancelled_while_its_attempts_fail_stops_them(away: str) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if away == "refused":
            url = f"nats://127.0.0.1:{free_port()}"
        else:
            url = await stack.enter_async_context(not_nats())
        for attempts in (1, 2, 5):
            before = asyncio.all_tasks()
            failed = asyncio.Queue[Exception]()
            client = Client()
            connecting = asyncio.create_task(
                connection.connect(
                    client,
                    servers=[url],
                    reconnect_time_wait=0,
                    max_reconnect_attempts=-1,
                    error_cb=noting(failed),
                )
            )
            for _ in range(attempts):
                await within(failed.get(), 10)
            connecting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await within(connecting, 10)
            assert not connection.opened(client)
            assert left_since(before) == [], f"cancelled after {attempts} attempts"
