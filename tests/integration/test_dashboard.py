"""The dashboard's server side through real sockets: the WebSocket /api/live (snapshot,
deltas, a call's detail, bad input, origins, access), /api/state, /metrics and the page's
files; calls and agents driven through the T-Library port against pbxsim."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from ctiserver.app import config as configuration
from ctiserver.app.config import (
    AcdQueueSettings,
    Address,
    IsccPeer,
    IsccSettings,
    RoutingPointSettings,
    with_orchestration,
)
from ctiserver.http.live import MAX_MESSAGE
from ctiserver.ids import DeviceId
from tests.integration.conftest import Site, SiteFactory, expect, site_config, within
from tests.integration.dashboard_page import Page

A, B, D = "7001", "7002", "7004"
Q = "8001"


def http(site: Site) -> tuple[str, int]:
    assert site.service.http_address is not None
    return site.service.http_address


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def queue_site(make_site: SiteFactory) -> Site:
    return await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})


async def test_a_page_follows_an_agent_and_a_call_waiting_in_a_queue(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    site = await queue_site(make_site)
    page = await Page.open(session, http(site))
    assert page.state["dns"][Q] == {
        "kind": "Queue",
        "status": "Idle",
        "since": page.state["dns"][Q]["since"],
    }
    assert [item["key"] for item in page.state["health"]] == ["link", "role"]
    a, d = await site.client(A), await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    await page.until(lambda s: s["agents"][D]["state"] == "NotReady", "agent 1001 not ready")
    c1 = (await a.make_call(A, Q, user_data={"case": "A-17"}))["ConnID"]
    state = await page.until(lambda s: s["queues"][Q]["waiting"] == 1, "a call waiting at 8001")
    assert state["dns"][Q]["status"] == "Waiting"
    assert state["calls"][c1]["state"] == "Queued"
    assert state["queues"][Q]["oldest"] == state["calls"][c1]["waitingSince"]
    assert state["queues"][Q]["agents"] == {"NotReady": 1}
    await d.agent_ready(D)
    await page.until(lambda s: s["agents"][D]["call"] == "Ringing", "the agent's phone ringing")
    await d.answer_call(D, c1)
    state = await page.until(lambda s: s["queues"][Q]["answered"] == 1, "the call answered")
    assert (state["agents"][D]["state"], state["agents"][D]["handled"]) == ("OnCall", 1)
    assert state["queues"][Q]["waiting"] == 0
    assert state["calls"][c1]["parties"] == {A: "Talking", D: "Talking"}
    detail = await page.ask({"op": "call", "ConnID": c1})
    assert (detail["type"], detail["ConnID"], detail["found"]) == ("call", c1, True)
    assert detail["UserData"] == {"case": "A-17"}
    assert [e["event"] for e in detail["history"]][:4] == [
        "EventDialing", "EventQueued", "EventDiverted", "EventRinging",
    ]  # fmt: skip
    await a.release_call(A, c1)
    await page.until(lambda s: c1 not in s["calls"] and s["agents"][D]["state"] == "Ready")


async def test_the_link_going_down_and_up_shows_in_the_health(
    site: Site, session: aiohttp.ClientSession
) -> None:
    page = await Page.open(session, http(site))
    link = site.service.embedded.listener  # type: ignore[union-attr]
    await link.stop()
    await page.until(
        lambda s: s["health"][0] == s["health"][0] | {"key": "link", "state": "down", "ok": False}
    )
    await link.start()
    await page.until(lambda s: s["health"][0]["state"] == "up", "the link up again")


async def test_after_the_link_comes_back_the_page_agrees_with_the_switch(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    """While the link is down, the switch routes a call waiting at a routing point by
    default, to the queue; no event says so, the core's snapshot does."""
    points = {DeviceId("5000"): RoutingPointSettings(120.0, DeviceId(Q))}
    site = await make_site(
        site={"routing_points": points, "acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}}
    )
    page = await Page.open(session, http(site))
    a = await site.client(A)
    c1 = (await a.make_call(A, "5000"))["ConnID"]
    await page.until(lambda s: s["queues"]["5000"]["waiting"] == 1, "the call at the routing point")
    link = site.service.embedded.listener  # type: ignore[union-attr]
    await link.stop()
    await page.until(lambda s: s["health"][0]["state"] == "down")
    await link.start()
    state = await page.until(
        lambda s: s["queues"][Q]["waiting"] == 1 and s["queues"]["5000"]["waiting"] == 0,
        "the call waiting at the queue",
    )
    assert state["calls"][c1]["parties"][Q] == "Queued"
    assert state["dns"][Q]["status"] == "Waiting"


async def test_bad_input_from_a_page_is_answered_and_the_page_stays(
    site: Site, session: aiohttp.ClientSession
) -> None:
    page = await Page.open(session, http(site))
    for bad in ("not json", "[1, 2]", '{"op": "subscribe"}', '{"op": "call"}', '{"op": "hello"}'):
        await page.ws.send_str(bad)
        await page.until(lambda s: bool(page.replies))
        answer = page.replies.pop()
        assert answer["type"] == "error", answer
        assert "does not understand" in answer["message"], answer
    await page.ws.send_bytes(b'{"op": "call", "ConnID": "x"}')
    await page.until(lambda s: bool(page.replies))
    assert "not a JSON object in a text frame" in page.replies.pop()["message"]
    assert await page.ask({"op": "call", "ConnID": "0000000000000000"}) == {
        "type": "call", "ConnID": "0000000000000000", "found": False,
    }  # fmt: skip
    await page.ws.send_str("x" * (MAX_MESSAGE + 1))
    closed = await within(page.ws.receive())
    assert (closed.type, page.ws.close_code) == (aiohttp.WSMsgType.CLOSE, 1009)
    assert (await Page.open(session, http(site))).state["type"] == "snapshot"  # the server lives


async def test_a_page_must_say_hello_first(site: Site, session: aiohttp.ClientSession) -> None:
    host, port = http(site)
    async with session.ws_connect(f"http://{host}:{port}/api/live") as ws:
        await ws.send_str('{"op": "call", "ConnID": "x"}')
        closed = await within(ws.receive())
        assert (closed.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4400)


async def test_a_page_from_another_origin_is_refused(
    site: Site, session: aiohttp.ClientSession
) -> None:
    host, port = http(site)
    url = f"http://{host}:{port}/api/live"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(url, origin="http://attacker.example")
    assert refused.value.status == 403
    async with session.ws_connect(url, origin=f"http://{host}:{port}") as ws:
        await ws.send_str('{"op": "hello"}')
        assert orjson.loads((await within(ws.receive())).data)["type"] == "snapshot"


TOKEN = "s3cret-token-for-the-dashboard"


async def test_restricted_reads_need_the_admin_token_in_the_hello_or_the_header(
    make_site: SiteFactory, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """[security] restrict-read: the page gives the admin token in its hello (a browser
    sets no header on a WebSocket); a program reading /api/state sends it as a bearer."""
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    site = await make_site(security={"admin_token_file": token_file, "restrict_read": True})
    host, port = http(site)
    for hello in ('{"op": "hello"}', '{"op": "hello", "token": "wrong"}'):
        async with session.ws_connect(f"http://{host}:{port}/api/live") as ws:
            await ws.send_str(hello)
            closed = await within(ws.receive())
            assert (closed.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4401)
    page = await Page.open(session, (host, port), token=TOKEN)
    assert page.state["type"] == "snapshot"
    url = f"http://{host}:{port}/api/state"
    async with session.get(url) as reply:
        assert reply.status == 401
    async with session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as reply:
        assert (reply.status, (await reply.json())["type"]) == (200, "snapshot")
    async with session.get(f"http://{host}:{port}/") as reply:
        assert reply.status == 200  # the page itself is public: its data is not


async def test_restricted_reads_without_a_token_serve_loopback_pages(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    site = await make_site(security={"restrict_read": True})
    assert (await Page.open(session, http(site))).state["type"] == "snapshot"


async def test_api_state_and_the_metrics_of_agents_and_queues(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    site = await queue_site(make_site)
    a, d = await site.client(A), await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentNotReady")
    await a.make_call(A, Q)
    await expect(a, "EventDialing")
    host, port = http(site)
    page = await Page.open(session, (host, port))
    await page.until(lambda s: s["queues"][Q]["waiting"] == 1)
    async with session.get(f"http://{host}:{port}/api/state") as reply:
        state = await reply.json()
    assert state["agents"][D]["state"] == "NotReady"
    assert state["queues"][Q]["waiting"] == 1
    async with session.get(f"http://{host}:{port}/metrics") as reply:
        text = await reply.text()
    assert 'ctiserver_agents{state="NotReady"} 1.0' in text
    assert 'ctiserver_agents{state="Ready"} 0.0' in text
    assert 'ctiserver_queue_calls_waiting{queue="8001"} 1.0' in text
    assert 'ctiserver_queue_calls_answered_total{queue="8001"} 0.0' in text
    longest = next(
        line
        for line in text.splitlines()
        if line.startswith('ctiserver_queue_longest_wait_seconds{queue="8001"}')
    )
    assert float(longest.split()[-1]) >= 0.0


async def test_a_reload_adds_and_removes_dns_on_the_page(
    make_site: SiteFactory, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[dn]\nextensions = ["7001", "7002"]\n')
    site = await make_site(source=path, site={"dns": configuration.load(path).site.dns})
    page = await Page.open(session, http(site))
    assert set(page.state["dns"]) == {A, B}
    path.write_text('[dn]\nextensions = ["7001", "7003"]\nacd-queues = ["8001"]\n')
    assert (await site.service.reload())["ok"] is True
    state = await page.until(lambda s: set(s["dns"]) == {A, "7003", Q}, "the new DNs")
    assert set(state["queues"]) == {Q}


async def test_pages_are_closed_going_away_when_the_server_stops(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    site = await make_site()
    page = await Page.open(session, http(site))
    site.service.stop()
    closed = await within(page.ws.receive())
    assert (closed.type, page.ws.close_code) == (aiohttp.WSMsgType.CLOSE, 1001)


async def test_the_page_and_its_files(site: Site, session: aiohttp.ClientSession) -> None:
    host, port = http(site)
    async with session.get(f"http://{host}:{port}/") as reply:
        assert reply.status == 200
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
        assert '<script type="module" src="/static/app.js">' in await reply.text()
    for name in ("app.js", "dashboard.css", "store.js", "favicon.svg"):
        async with session.get(f"http://{host}:{port}/static/{name}") as reply:
            assert reply.status == 200, name
    for missing in ("nope.js", "index.html", "..%2Fapp.py"):
        async with session.get(f"http://{host}:{port}/static/{missing}") as reply:
            assert reply.status == 404, missing


async def test_many_pages_get_the_same_deltas(site: Site, session: aiohttp.ClientSession) -> None:
    pages = await asyncio.gather(*(Page.open(session, http(site)) for _ in range(20)))
    a = await site.client(A, B)
    c1 = (await a.make_call(A, B))["ConnID"]
    for page in pages:
        state = await page.until(lambda s: c1 in s["calls"] and s["dns"][B]["status"] == "Ringing")
        assert state["calls"][c1]["parties"] == {A: "Dialing", B: "Ringing"}


class RecordingPage:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def send(self, data: bytes) -> None:
        self.sent.append(orjson.loads(data))

    def close(self) -> None:
        pass


async def test_a_quiet_centre_still_sends_a_heartbeat(site: Site) -> None:
    dashboard = site.service.dashboard
    assert dashboard is not None
    a = await site.client(A)  # the link is up: nothing more will change by itself
    page = RecordingPage()
    dashboard.pages.add(page)
    try:
        dashboard.push()
        sent = len(page.sent)
        dashboard.push()
        assert len(page.sent) == sent  # nothing changed, and the last message is recent
        dashboard.settings = dataclasses.replace(dashboard.settings, heartbeat=0.0)
        dashboard.push()
        assert set(page.sent[-1]) == {"type", "now"}
        c1 = (await a.make_call(A, B))["ConnID"]
        dashboard.push()
        assert set(page.sent[-1]["calls"]) == {c1}  # type: ignore[arg-type]
    finally:
        dashboard.pages.discard(page)


async def test_the_strategy_on_a_routing_point_and_its_sessions(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    """The demo's strategy (skills-routing) waits for a skilled agent: a session runs
    while the call waits at the routing point, and ends with the call.  The orchestration
    server runs in a child process, which reports its sessions about once a second."""
    site = await make_site(orchestration=with_orchestration(site_config()).orchestration)
    assert site.service.orchestration is not None
    await within(site.service.orchestration.ready.wait())
    page = await Page.open(session, http(site))
    strategy = {"name": "skills-routing", "sessions": 0}
    await page.until(lambda s: s["queues"]["5000"]["strategy"] == strategy, "the strategy")
    a = await site.client(A)
    c1 = (await a.make_call(A, "5000"))["ConnID"]
    await page.until(lambda s: s["queues"]["5000"]["strategy"]["sessions"] == 1, "a session")
    await a.release_call(A, c1)
    await page.until(lambda s: s["queues"]["5000"]["strategy"]["sessions"] == 0, "no session")
    assert page.state["queues"][Q]["strategy"] is None


async def test_the_health_has_a_line_per_iscc_peer(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    peers = {"SiteB": IsccPeer(Address("127.0.0.1", 9))}  # nobody answers there
    site = await make_site(iscc=IsccSettings(peers=peers))
    page = await Page.open(session, http(site))
    state = await page.until(lambda s: len(s["health"]) == 3, "the ISCC peer's line")
    lines = {item["key"]: (item["label"], item["state"], item["ok"]) for item in state["health"]}
    assert lines == {
        "link": ("Switch link", "up", True),
        "iscc:SiteB": ("ISCC SiteB", "down", False),
        "role": ("Role", "standalone", None),
    }
