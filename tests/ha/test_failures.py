"""The pair's failure cases (DESIGN.md § 7), with a real nats-server: a primary cut off
from NATS stops acting before the backup takes over (never two primaries); with NATS
down the pair stops acting until NATS returns; a backup restarted mid-way rebuilds the
state from the snapshot and the journal and takes over with every call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.ha.member import Role
from tests.ha.conftest import NatsServer, Pair, pair_of
from tests.ha.proxy import Proxy
from tests.integration.conftest import check, expect, within

A, B = "7001", "7002"


@pytest.fixture
async def proxies(nats_server: NatsServer) -> AsyncIterator[tuple[Proxy, Proxy]]:
    made = (Proxy(("127.0.0.1", nats_server.port)), Proxy(("127.0.0.1", nats_server.port)))
    for proxy in made:
        await proxy.start()
    yield made
    for proxy in made:
        await proxy.close()


async def call_with_data(pair: Pair) -> tuple[TClient, str]:
    primary, _ = await pair.roles()
    a, b = await primary.client(A, name="desk-a"), await primary.client(B, name="desk-b")
    c1 = (await a.make_call(A, B, user_data={"case": "F-1"}))["ConnID"]
    await expect(b, "EventRinging", ConnID=c1)
    return a, c1


async def test_a_primary_cut_off_from_nats_stops_before_the_backup_serves(
    nats_server: NatsServer, switch: tuple[str, int], proxies: tuple[Proxy, Proxy]
) -> None:
    urls = (proxies[0].url, proxies[1].url)
    async with pair_of(nats_server, switch, urls=urls) as pair:
        primary, backup = await pair.roles()
        a, c1 = await call_with_data(pair)
        await proxies[0 if primary is pair.a else 1].cut()

        with pytest.raises(ConnectionClosed):  # the fenced primary closes its clients
            await within(a.wait_for("never"), 10)
        await within(pair.member(backup).became(Role.PRIMARY), 10)
        fenced, took = pair.member(primary).stopped_at, pair.member(backup).primary_since
        assert fenced is not None
        assert took is not None
        assert fenced < took  # never two primaries at once

        desk = await backup.client(A, name="desk-a2")
        released = await desk.release_call(A, c1)
        check(released, "EventReleased", ConnID=c1, UserData={"case": "F-1"})
        await proxies[0 if primary is pair.a else 1].heal()
        await within(pair.member(primary).became(Role.BACKUP), 10)


async def test_with_nats_down_the_pair_stops_acting_until_it_returns(
    own_nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(own_nats_server, switch) as pair:
        a, c1 = await call_with_data(pair)
        own_nats_server.kill()
        with pytest.raises(ConnectionClosed):
            await within(a.wait_for("never"), 10)
        for site in (pair.a, pair.b):
            refused = await TClient.connect(*site.address, application_name="late")
            try:
                check(refused.server_info, "EventServerInfo", ServerRole="Backup")
                with pytest.raises(TServerError) as error:
                    await refused.make_call(A, B)
                assert error.value.code == 58
            finally:
                await refused.close()

        own_nats_server.start()
        await within(
            asyncio.wait(
                [
                    asyncio.create_task(pair.member(s).became(Role.PRIMARY))
                    for s in (pair.a, pair.b)
                ],
                return_when=asyncio.FIRST_COMPLETED,
            ),
            20,
        )
        serving = pair.a if pair.member(pair.a).role is Role.PRIMARY else pair.b
        desk = await serving.client(A, name="desk-a2")
        released = await desk.release_call(A, c1)
        check(released, "EventReleased", ConnID=c1, UserData={"case": "F-1"})


async def test_a_restarted_backup_rebuilds_from_the_snapshot_and_takes_over(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    from tests.integration.conftest import start_site, stop_site

    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        a, c1 = await call_with_data(pair)
        writer = pair.member(primary).writer
        assert writer is not None
        await within(writer.snapshot())
        config = backup.service.config
        await stop_site(backup, pair.tasks[1 if backup is pair.b else 0])
        await a.attach_user_data(A, c1, {"after": "the backup left"})
        await within(a.wait_for("EventAttachedDataChanged"))

        again, task = await start_site(config)
        try:
            member = again.service.member
            assert member is not None
            await within(member.became(Role.BACKUP), 10)
            assert member.follower is not None
            await within(member.follower.caught_up(writer.last), 10)
            assert member.follower.loaded == 1  # it started from the snapshot
            primary.service.stop()
            await within(member.became(Role.PRIMARY), 10)
            desk = await again.client(A, name="desk-a2")
            released = await desk.release_call(A, c1)
            check(released, "EventReleased", ConnID=c1,
                  UserData={"case": "F-1", "after": "the backup left"})  # fmt: skip
        finally:
            await stop_site(again, task)


async def test_a_primary_whose_loop_is_held_keeps_its_lease(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    """Its renewals come from a thread of their own: a loop held longer than the lease's
    margin (0.8 s of a 1 s ttl), but not as long as a stuck one's (2 ttls), costs
    nothing."""
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        a, c1 = await call_with_data(pair)
        time.sleep(1.4)  # noqa: ASYNC251 (the loop held on purpose: busy, not stuck)
        released = await a.release_call(A, c1)  # the primary still serves
        check(released, "EventReleased", ConnID=c1)
        assert pair.member(primary).role is Role.PRIMARY
        assert pair.member(primary).demotions == 0
        assert pair.member(backup).role is Role.BACKUP


async def test_a_primary_whose_loop_is_stuck_loses_its_lease(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    """A loop that does not run for longer than 2 ttls is taken as stuck: the renewals
    stop, the lease runs out, the stuck primary fences itself when it runs again, and a
    new term begins (either member may win the lease: both were held)."""
    async with pair_of(nats_server, switch) as pair:
        primary, _ = await pair.roles()
        stuck = pair.member(primary)
        term = stuck.figures()["term"]
        await call_with_data(pair)
        time.sleep(3.5)  # noqa: ASYNC251 (the loop of both members held on purpose)
        await within(
            asyncio.wait(
                [asyncio.create_task(pair.member(s).primary_after(term)) for s in (pair.a, pair.b)],
                return_when=asyncio.FIRST_COMPLETED,
            ),
            10,
        )
        await pair.roles()  # one primary (of the new term) and one backup
        assert stuck.stopped_at is not None  # the stuck primary fenced itself
