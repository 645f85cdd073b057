"""The lease renewer's thread (ha.renewer) against a real nats-server, stopped at each
stage of its life: before its loop ran, while NATS cannot be reached, while renewing,
once the other member took the lease, after NATS was lost, and after it gave up at the
lease's deadline.  Each time stop() returns, the thread has ended, and its loop closed
with no task pending (a task destroyed pending on a closed loop is reported, when
collected, as an exception nothing could catch)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from ctiserver.ha.lease import Lease
from ctiserver.ha.renewer import LEASE_KEY, LeaseRenewer
from ctiserver.ha.settings import HaSettings
from ctiserver.jetstream import connection
from ctiserver.jetstream.link import NatsSettings
from tests.ha.conftest import NatsServer, pair_settings
from tests.integration.conftest import within

TTL = 1.0


def renewer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "ha-lease"]


@pytest.fixture(autouse=True)
def nothing_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After the test: no renewer thread runs, and collecting what the renewer's loop
    left raises nothing (a pending task's coroutine, finalized, would)."""
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(f"{u.object!r}"))
    yield
    assert renewer_threads() == []
    gc.collect()
    assert unraisable == []


@contextlib.asynccontextmanager
async def lease_in(url: str, settings: HaSettings) -> AsyncIterator[tuple[Lease, KeyValue]]:
    """The pair's lease, taken now (as the member does before it starts its renewer),
    and its bucket, through a connection of the test's own."""
    client = Client()
    await connection.connect(client, servers=[url])
    try:
        kv = await client.jetstream().create_key_value(
            KeyValueConfig(bucket=settings.bucket, history=1, ttl=TTL)
        )
        lease = Lease(TTL)
        sent = time.monotonic()
        lease.written(await kv.create(LEASE_KEY, settings.member.encode()), sent)
        yield lease, kv
    finally:
        await connection.close(client)


def renewer(url: str, settings: HaSettings, lease: Lease, taken: asyncio.Event) -> LeaseRenewer:
    return LeaseRenewer(
        settings, NatsSettings(urls=(url,), connect_timeout=1.0), lease, taken=taken.set
    )


async def renewed(kv: KeyValue, revision: int) -> int:
    """Until the lease's entry has a revision after *revision* (a renewal landed)."""
    watcher = await kv.watch(LEASE_KEY)
    try:
        while True:
            entry = await watcher.updates(timeout=10)
            if entry is not None and entry.revision is not None and entry.revision > revision:
                return entry.revision
    finally:
        await watcher.stop()


async def stop(renewing: LeaseRenewer) -> None:
    await within(renewing.stop(), 10)
    assert renewer_threads() == []


async def test_stopped_before_its_loop_ran(nats_server: NatsServer) -> None:
    settings = pair_settings("a", lease_ttl=TTL)
    async with lease_in(nats_server.url, settings) as (lease, _):
        renewing = renewer(nats_server.url, settings, lease, asyncio.Event())
        renewing.start()
        await stop(renewing)


async def test_stopped_while_renewing_no_renewal_follows(nats_server: NatsServer) -> None:
    settings = pair_settings("a", lease_ttl=TTL)
    async with lease_in(nats_server.url, settings) as (lease, kv):
        renewing = renewer(nats_server.url, settings, lease, asyncio.Event())
        renewing.start()
        await within(renewed(kv, lease.revision), 10)
        await stop(renewing)
        entry = await kv.get(LEASE_KEY)
        assert entry.revision == lease.revision  # the last renewal written was the lease's


@contextlib.asynccontextmanager
async def not_nats() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """Something at the NATS address that hangs up on every connection: its URL, and an
    event set once a connection came (the renewer is trying)."""
    tried = asyncio.Event()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tried.set()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        yield f"nats://127.0.0.1:{server.sockets[0].getsockname()[1]}", tried
    finally:
        server.close()
        await server.wait_closed()


async def test_stopped_while_nats_cannot_be_reached() -> None:
    """nats-py tries to connect forever: the renewer stops trying when asked."""
    settings = pair_settings("a", lease_ttl=60.0)  # its deadline far away
    lease = Lease(60.0)
    lease.written(1, time.monotonic())
    async with not_nats() as (url, tried):
        renewing = renewer(url, settings, lease, asyncio.Event())
        renewing.start()
        await within(tried.wait(), 10)
        await stop(renewing)


async def test_without_nats_it_gives_up_at_the_lease_deadline() -> None:
    settings = pair_settings("a", lease_ttl=TTL)
    lease = Lease(TTL)
    lease.written(1, time.monotonic())
    async with not_nats() as (url, tried):
        renewing = renewer(url, settings, lease, asyncio.Event())
        renewing.start()
        (thread,) = renewer_threads()
        await within(tried.wait(), 10)
        await within(asyncio.to_thread(thread.join), 10)  # it ended by itself
        await stop(renewing)


async def test_the_lease_taken_it_tells_and_ends(nats_server: NatsServer) -> None:
    settings = pair_settings("a", lease_ttl=TTL)
    async with lease_in(nats_server.url, settings) as (lease, kv):
        taken = asyncio.Event()
        renewing = renewer(nats_server.url, settings, lease, taken)
        renewing.start()
        await kv.put(LEASE_KEY, b"b")  # the other member's write: the next renewal is refused
        await within(taken.wait(), 10)
        await stop(renewing)


async def test_stopped_after_nats_was_lost(own_nats_server: NatsServer) -> None:
    settings = pair_settings("a", lease_ttl=TTL)
    async with lease_in(own_nats_server.url, settings) as (lease, kv):
        renewing = renewer(own_nats_server.url, settings, lease, asyncio.Event())
        renewing.start()
        await within(renewed(kv, lease.revision), 10)
        own_nats_server.kill()  # its connection reconnects, in vain
        await stop(renewing)
