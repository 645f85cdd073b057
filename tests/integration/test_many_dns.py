"""Bringing the link up with many DNs: a window of outstanding requests, every DN
monitored, and a DN the switch refuses never left so silently (issue: speed and scale)."""

from __future__ import annotations

import aiohttp

from ctiserver.app.config import Address
from ctiserver.csta.system import MonitorStart, SnapshotDevice
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from tests.integration.conftest import SiteFactory, expect, within
from tests.integration.fakes import FakeSwitch


def extensions(first: int, count: int) -> dict[DeviceId, DnKind]:
    return {DeviceId(str(first + n)): DnKind.EXTENSION for n in range(count)}


def lines_only(dns: dict[DeviceId, DnKind]) -> dict[str, object]:
    """A site of nothing but extensions (no agents, queues or routing points)."""
    return {"dns": dns, "agent_logins": (), "routing_points": {}, "acd_queues": {}}


async def test_bring_up_keeps_a_window_of_requests_outstanding(make_site: SiteFactory) -> None:
    switch = FakeSwitch(hold_for=(MonitorStart, SnapshotDevice))
    host, port = await switch.start()
    try:
        dns = extensions(7001, 50)
        site = await make_site(
            switch={"link": Address(host, port), "request_window": 8, "reply_timeout": 30.0},
            site=lines_only(dns),
        )
        for kind in (MonitorStart, SnapshotDevice):
            answered = 0
            while answered < len(dns):
                await within(switch.wait_held(min(8, len(dns) - answered)))
                assert all(isinstance(held[3], kind) for held in switch.held)
                answered += switch.release()
        await within(site.service.runtime.link_ready.wait())
        assert switch.most_held == 8
        link = site.service.runtime.link
        assert link is not None
        assert set(link.monitored) == set(dns)
    finally:
        await switch.stop()


async def test_a_dn_the_switch_refuses_is_reported_and_asked_for_again(
    make_site: SiteFactory,
) -> None:
    switch = FakeSwitch()
    switch.unknown = {"7003", "7004"}
    host, port = await switch.start()
    try:
        site = await make_site(
            switch={"link": Address(host, port), "keepalive_interval": 0.2},
            site=lines_only(extensions(7001, 5)),
        )
        client = await site.client("7001")
        link = site.service.runtime.link
        assert link is not None
        assert set(link.unmonitored) == {"7003", "7004"}
        assert "invalidMonitorObject" in link.unmonitored[DeviceId("7003")]
        host_http, port_http = site.service.http_address  # type: ignore[misc]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{host_http}:{port_http}/healthz") as reply:
                assert (await reply.json())["unmonitored"] == 2
            async with session.get(f"http://{host_http}:{port_http}/metrics") as reply:
                assert "ctiserver_dns_unmonitored 2.0" in await reply.text()

        switch.unknown = set()  # the switch learns the DNs: the next keep-alive asks again
        asks = sum(isinstance(m, MonitorStart) for m in switch.received)
        while sum(isinstance(m, MonitorStart) for m in switch.received) < asks + 2:
            switch.arrived.clear()
            await within(switch.arrived.wait())
        await within(link.round_trip())  # its answers are in
        assert not link.unmonitored
        assert {"7003", "7004"} <= set(link.monitored)
        await client.query_server()
        await expect(client, "EventServerInfo")
    finally:
        await switch.stop()


async def test_twenty_thousand_dns_are_every_one_monitored(make_site: SiteFactory) -> None:
    dns = extensions(100_000, 20_000)
    site = await make_site(switch={"reply_timeout": 30.0}, site=lines_only(dns))
    await within(site.service.runtime.link_ready.wait(), 120)
    link = site.service.runtime.link
    assert link is not None
    assert site.service.embedded is not None
    assert not link.unmonitored
    assert set(link.monitored) == set(dns)
    switch = site.service.embedded.listener.switch.view()
    assert {monitor.device: monitor.cross_ref_id for monitor in switch.monitors} == dict(
        link.monitored
    )
    first, last = "100000", "119999"
    a, b = await site.client(first), await site.client(last)
    await a.make_call(first, last)
    await expect(b, "EventRinging", ThisDN=last, OtherDN=first)
