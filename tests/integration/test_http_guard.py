"""The HTTP guard through real sockets: the WebSocket Origin allow-list from a real
WebSocket client, cross-site and text/plain POSTs, the admin token, HTTP Basic for
admin applications, and restricted reads; and that every route of the server is declared
with its kind."""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from ctiserver.app.binding import HttpListener, HttpSettings
from ctiserver.app.config import Address
from ctiserver.http.app import build_app
from ctiserver.http.routes import ACCESS, ADMIN, PUBLIC, READ
from ctiserver.security.applications import Application, Permission
from ctiserver.security.passwords import hash_password
from tests.integration.conftest import Site, SiteFactory

TOKEN = "a-long-enough-admin-token-0123"


def base(site: Site) -> str:
    host, port = site.service.http_address or ("", 0)
    return f"http://{host}:{port}"


async def test_a_browser_from_a_foreign_origin_cannot_open_the_tlib_websocket(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                f"{base(site)}/tlib", headers={"Origin": "http://evil.example"}
            )
        assert refused.value.status == 403
        own = base(site)  # the server's own origin: its dashboard
        async with session.ws_connect(f"{own}/tlib", headers={"Origin": own}) as ws:
            await ws.send_str('{"Request":"RequestQueryServer","ReferenceID":1}')
            assert "EventError" in (await ws.receive()).data  # served (must register first)
        async with session.ws_connect(f"{own}/tlib") as ws:  # no Origin: not a browser
            await ws.send_str(
                '{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"x"}'
            )
            assert "EventServerInfo" in (await ws.receive()).data


async def test_allowed_origins_replace_the_own_origin(make_site: SiteFactory) -> None:
    site = await make_site(security={"allowed_origins": ("https://desk.example",)})
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            f"{base(site)}/tlib", headers={"Origin": "https://desk.example"}
        ):
            pass
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(f"{base(site)}/tlib", headers={"Origin": base(site)})


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 403),  # a cross-site "simple" POST
        ({"Content-Type": "application/x-www-form-urlencoded"}, 403),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/json"}, 200),
    ],
)
async def test_phone_posts_from_loopback_need_json_and_no_foreign_origin(
    site: Site, headers: dict[str, str], status: int
) -> None:
    async with aiohttp.ClientSession() as session:
        reply = await session.post(
            f"{base(site)}/phone/7001",
            data=b'{"action": "dial", "number": "7002"}',
            headers=headers,
        )
        assert reply.status == status
    assert site.service.embedded is not None
    calls = site.service.embedded.switch.view().calls
    assert len(calls) == (1 if status == 200 else 0)


async def test_the_admin_token_guards_what_changes_state(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(f"  {TOKEN}\n")
    site = await make_site(security={"admin_token_file": token_file})
    url = f"{base(site)}/reload"
    async with aiohttp.ClientSession() as session:
        assert (await session.post(url, json={})).status == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (await session.post(url, json={}, headers=wrong)).status == 401
        right = {"Authorization": f"Bearer {TOKEN}"}
        reply = await session.post(url, json={}, headers=right)
        assert reply.status == 400  # through the guard: the demo has no file to reload
        assert "no file to reload" in (await reply.json())["error"]
        assert (await session.get(f"{base(site)}/metrics")).status == 200  # reads stay open


async def test_the_trace_is_an_admin_endpoint(make_site: SiteFactory, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN)
    site = await make_site(security={"admin_token_file": token_file})
    url = f"{base(site)}/trace"
    right = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
            await session.ws_connect(url)  # loopback, but a token is configured
        assert anonymous.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as wrong:
            await session.ws_connect(url, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
            await session.ws_connect(url, headers={**right, "Origin": "http://evil.example"})
        assert foreign.value.status == 403
        async with session.ws_connect(url, headers=right) as ws:
            assert orjson.loads((await ws.receive()).data) == {"following": "everything"}


async def test_restrict_read_guards_state_and_metrics_but_not_health(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN)
    site = await make_site(security={"admin_token_file": token_file, "restrict_read": True})
    right = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        for path in ("/metrics", "/api/state"):
            assert (await session.get(f"{base(site)}{path}")).status == 401
            assert (await session.get(f"{base(site)}{path}", headers=right)).status == 200
        assert (await session.get(f"{base(site)}/healthz")).status in (200, 503)


async def test_an_admin_application_may_use_http_basic(make_site: SiteFactory) -> None:
    stored = hash_password("ops-pw", log_n=10)
    apps = {
        "ops": Application("ops", stored, None, frozenset({Permission.ADMIN})),
        "desk": Application("desk", stored),
    }
    site = await make_site(security={"applications": apps})
    url = f"{base(site)}/reload"

    def basic(name: str, password: str) -> dict[str, str]:
        return {
            "Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()
        }

    async with aiohttp.ClientSession() as session:
        assert (await session.post(url, json={}, headers=basic("ops", "ops-pw"))).status == 400
        assert (await session.post(url, json={}, headers=basic("ops", "nope"))).status == 401
        assert (await session.post(url, json={}, headers=basic("desk", "ops-pw"))).status == 401
        assert (await session.post(url, json={})).status == 401


def own_network_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("198.51.100.1", 9))  # no packet is sent: this only picks a route
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


async def test_without_a_token_admin_endpoints_serve_loopback_clients_only(
    make_site: SiteFactory,
) -> None:
    address = own_network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    site = await make_site(server={"http_listen": Address(address, 0)})
    url = f"{base(site)}/phone/7001"
    async with aiohttp.ClientSession() as session:
        reply = await session.post(url, json={"action": "dial", "number": "7002"})
        assert reply.status == 403
        assert "loopback clients only" in (await reply.json())["error"]
        assert (await session.get(f"{base(site)}/metrics")).status == 200  # reads stay open
        with pytest.raises(aiohttp.WSServerHandshakeError) as trace:
            await session.ws_connect(f"{base(site)}/trace")
        assert trace.value.status == 403


async def test_every_route_of_the_server_is_declared_once_with_its_kind(site: Site) -> None:
    """The server's routes, the dashboard's among them, each declared in http.routes: none
    is left to the method's default."""
    service = site.service
    assert service.dashboard is not None

    async def reload() -> dict[str, Any]:
        return {"ok": True}

    app = build_app(
        service.runtime,
        service.metrics,
        reload=reload,
        limits=service.client_limits,
        guard=HttpListener("HTTP", HttpSettings()).guard,
        dashboard=service.dashboard,
    )
    declared = {
        (r.method, r.resource.canonical): kind for r, kind in app[ACCESS].items() if r.resource
    }
    assert len(declared) == len(list(app.router.routes()))
    get = {path: declared[("GET", path)] for method, path in declared if method == "GET"}
    assert get == {
        "/": PUBLIC,
        "/static/{name}": PUBLIC,
        "/tlib": PUBLIC,
        "/healthz": PUBLIC,
        "/api/live": PUBLIC,  # judged on the token of its first message (http.live)
        "/api/state": READ,
        "/metrics": READ,
        "/trace": ADMIN,
    }
    assert all(declared[("HEAD", path)] is kind for path, kind in get.items())
    posts = {path: kind for (method, path), kind in declared.items() if method == "POST"}
    assert posts == {"/reload": ADMIN, "/phone/{station}": ADMIN}
