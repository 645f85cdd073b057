"""The journal follower (ha.follower) against a real nats-server: cancelled as its
connection closes (a member that stops), it ends, though the end of its subscription
fails then."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client
from nats.js.api import ObjectStoreConfig, StorageType, StreamConfig

from ctiserver.ha.follower import JournalFollower
from ctiserver.ha.journal import Batch, encode_batch
from ctiserver.jetstream import connection
from tests.ha.conftest import NatsServer, pair_settings
from tests.integration.conftest import within
from tests.wire import Wire


async def test_cancelled_as_its_connection_closes_it_ends(nats_server: NatsServer) -> None:
    settings = pair_settings("b")
    client = Client()
    await connection.connect(client, servers=[nats_server.url])
    js = client.jetstream()
    await js.add_stream(
        StreamConfig(name=settings.stream, subjects=[settings.subject], storage=StorageType.FILE)
    )
    await js.create_object_store(settings.snapshots, ObjectStoreConfig(bucket=settings.snapshots))
    backup = Wire().core
    backup.serve_as_backup()
    connected = asyncio.Event()
    connected.set()
    follower = JournalFollower(js, settings, lambda: backup, connected)
    following = asyncio.create_task(follower.run())
    try:
        await js.publish(settings.subject, encode_batch(Batch(term=1, sequence=0)))
        await within(follower.caught_up(1), 10)  # it reads the journal's subscription
        connected.clear()  # the link is down from now on (it would wait for its return)
        following.cancel()
        await connection.close(client)  # before the follower ends its subscription
        await within(asyncio.wait({following}), 10)
        assert following.cancelled()
    finally:
        await connection.end(following)
        await connection.close(client)
