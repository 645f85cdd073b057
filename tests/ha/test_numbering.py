"""EventSequenceNumber across a switchover (DESIGN.md § 7, "One server to clients"): the
new primary numbers above every number either member sent, so a client that resumes
with the last number it got misses nothing.  A number leaves the primary only once the
journal carries it: a stopping or fenced primary closes its clients before it could
number anything more, and an event to a client without a session (nothing for the
journal but its number) waits for the journal like any other."""

from __future__ import annotations

import asyncio

import orjson

from ctiserver.client import TClient
from ctiserver.tlib.vocabulary import TMessage
from tests.ha.conftest import NatsServer, pair_of
from tests.integration.conftest import check, within

B = "7002"


async def test_a_stopping_primary_sends_nothing_the_new_primary_numbers_again(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        watcher = await backup.client(name="wall", link_up=False)
        desk = await primary.client(B, name="desk")
        seen = await desk.query_server()  # the last event the desk gets from it
        assert await within(desk.next_event()) == seen  # its stream is empty

        primary.service.stop()  # gives the lease up: the backup takes over at once
        said = await within(_until_closed(desk), 10)
        info = await within(watcher.wait_for("EventServerInfo"), 10)
        check(info, "EventServerInfo", ServerRole="Primary")
        assert said == []  # not even an EventLinkDisconnected the journal never carried
        assert info["EventSequenceNumber"] > seen["EventSequenceNumber"]


async def test_an_event_to_a_client_without_a_session_is_numbered_in_the_journal(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        reader, writer = await asyncio.open_connection(*primary.address)
        try:
            writer.write(b'{"Request": "RequestQueryServer", "ReferenceID": 1}\n')
            refused = orjson.loads(await within(reader.readline()))  # not registered yet
            check(refused, "EventError", ReferenceID=1)
            journal = pair.member(primary).writer
            follower = pair.member(backup).follower
            assert journal is not None
            assert follower is not None
            await within(follower.caught_up(journal.last))  # what was written when it left
            assert backup.service.runtime.core.sequence >= refused["EventSequenceNumber"]
        finally:
            writer.close()


async def _until_closed(client: TClient) -> list[TMessage]:
    return [event async for event in client.events()]
