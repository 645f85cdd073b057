"""A hot-standby pair in this process, against a real nats-server and a standalone
pbxsim (DESIGN.md § 7): one primary, one backup that refuses switch requests and
follows the journal, and a takeover that keeps every call's ConnID and UserData."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nats
import pytest

from ctiserver.client.connection import TClient, TServerError
from ctiserver.ha.journal import decode_batch
from ctiserver.ha.member import Role
from tests.ha.conftest import NatsServer, pair_of
from tests.integration.conftest import check, expect, within
from tests.integration.dashboard_page import Page

A, B = "7001", "7002"


async def test_one_member_serves_and_the_other_follows(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        a, b = await primary.client(A), await primary.client(B)
        c1 = (await a.make_call(A, B, user_data={"case": "HA-1"}))["ConnID"]
        await expect(a, "EventDialing", ConnID=c1)
        await expect(b, "EventRinging", ConnID=c1, UserData={"case": "HA-1"})

        watcher = await TClient.connect(*backup.address, application_name="wall")
        try:
            check(watcher.server_info, "EventServerInfo", ServerRole="Backup")
            registered = await watcher.register_address(B)
            check(registered, "EventRegistered", ThisDN=B)
            with pytest.raises(TServerError) as refused:
                await watcher.make_call(B, A)
            assert refused.value.code == 58
        finally:
            await watcher.close()
        follower = pair.member(backup).follower
        assert follower is not None
        await within(follower.caught_up(pair.member(primary).writer.last))  # type: ignore[union-attr]
        known = {c.conn_id: c for c in backup.service.runtime.known_calls()}
        assert set(known) == {c1}


async def test_the_backup_takes_over_the_calls_and_the_sessions(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        a, b = await primary.client(A, name="desk-a"), await primary.client(B, name="desk-b")
        c1 = (await a.make_call(A, B, user_data={"case": "HA-2"}))["ConnID"]
        await expect(a, "EventDialing", ConnID=c1)
        ringing = await expect(b, "EventRinging", ConnID=c1)
        await b.answer_call(B, c1)
        await expect(b, "EventEstablished", ConnID=c1)
        established = await expect(a, "EventEstablished", ConnID=c1)
        await a.attach_user_data(A, c1, {"note": "before"})
        await expect(a, "EventAttachedDataChanged", ConnID=c1)
        last_b = await expect(b, "EventAttachedDataChanged", ConnID=c1)
        watcher = await backup.client(name="wall", link_up=False)

        primary.service.stop()  # a graceful stop gives the lease up
        info = await within(watcher.wait_for("EventServerInfo"), 10)
        check(info, "EventServerInfo", ServerRole="Primary")
        assert info["EventSequenceNumber"] > last_b["EventSequenceNumber"]

        back = await TClient.connect(*backup.address, application_name="desk-a", resume=a.session)
        try:
            check(await within(back.next_event()), "EventServerInfo", ServerRole="Primary")
            await expect(back, "EventLinkConnected")
            released = await back.release_call(A, c1)  # the same ConnID, on the new primary
            check(released, "EventReleased", ConnID=c1, ThisDN=A, UserData={"case": "HA-2", "note": "before"})  # fmt: skip
        finally:
            await back.close()
        assert ringing["EventSequenceNumber"] < established["EventSequenceNumber"]


async def test_healthz_metrics_and_the_dashboard_say_each_member_s_role(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    import aiohttp

    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        async with aiohttp.ClientSession() as http:
            for site, role in ((primary, "primary"), (backup, "backup")):
                host, port = site.service.http_address  # type: ignore[misc]
                async with http.get(f"http://{host}:{port}/healthz") as answer:
                    body = await answer.json()
                assert body["ha"] == {"role": role}
                async with http.get(f"http://{host}:{port}/metrics") as answer:
                    text = await answer.text()
                assert f'ctiserver_ha_role{{role="{role}"}} 1.0' in text
                assert "ctiserver_ha_nats_up 1.0" in text
                page = await Page.open(http, (host, port))  # the dashboard's health panel
                await page.until(shows_role(role), f"the role {role}")
                await page.ws.close()


def shows_role(role: str) -> Callable[[dict[str, Any]], bool]:
    """Whether a dashboard page's health panel has the line of the server's *role*."""

    def holds(state: dict[str, Any]) -> bool:
        lines = [(item["key"], item["label"], item["state"]) for item in state["health"]]
        return ("role", "Role", role) in lines

    return holds


async def test_a_new_primary_stores_a_snapshot_at_once(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    """So that a member starting later replays this term's journal only."""
    async with pair_of(nats_server, switch, ha={"snapshot_interval": 3600.0}) as pair:
        primary, backup = await pair.roles()
        a = await primary.client(A)
        c1 = (await a.make_call(A, B, user_data={"case": "HA-S"}))["ConnID"]
        await expect(a, "EventDialing", ConnID=c1)
        primary.service.stop()  # the backup takes over
        member = pair.member(backup)
        await within(member.became(Role.PRIMARY))
        assert member.first_snapshot is not None
        await within(member.first_snapshot)
        connection = await nats.connect(nats_server.url)
        try:
            store = await connection.jetstream().object_store(member.settings.snapshots)
            data = (await store.get("snapshot")).data or b""
        finally:
            await connection.close()
        stored = decode_batch(data)
        assert stored.snapshot
        assert stored.term == member.figures()["term"]  # this term's, not the old one's
        assert c1.encode() in data  # the call, with its data (records as JSON)
        assert b"HA-S" in data
