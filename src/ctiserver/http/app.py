"""The HTTP side of the server (aiohttp): WebSocket /tlib, /healthz, /metrics, POST
/reload, POST /phone/{station} (the embedded pbxsim's phones), and a small dashboard at
/ fed by /api/state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.phone import Act, phone_handler
from ctiserver.http.websocket import serve_websocket
from ctiserver.server.runtime import Runtime
from ctiserver.tserver.addresses import address_status

STATIC = Path(__file__).with_name("static")


def build_app(
    runtime: Runtime,
    metrics: ServerMetrics,
    *,
    reload: Callable[[], Awaitable[dict[str, Any]]],
    max_buffer: int,
    phone: Act | None = None,
) -> web.Application:
    async def tlib(request: web.Request) -> web.StreamResponse:
        return await serve_websocket(request, runtime, max_buffer)

    async def healthz(request: web.Request) -> web.Response:
        link = runtime.link is not None and runtime.link.up
        body: dict[str, object] = {
            "status": "ok" if link else "degraded",
            "link": "up" if link else "down",
            "clients": runtime.client_count,
            "calls": len(runtime.core.model.calls),
            "unmonitored": len(runtime.link.unmonitored) if runtime.link is not None else 0,
        }
        if runtime.peering is not None:
            up = set(runtime.peering.connected)
            peers = runtime.peering.settings.peers
            body["iscc"] = {location: "up" if location in up else "down" for location in peers}
        return web.json_response(body, status=200 if link else 503)

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    async def do_reload(request: web.Request) -> web.Response:
        result = await reload()
        return web.json_response(result, status=200 if result.get("ok") else 400)

    async def state(request: web.Request) -> web.Response:
        return web.json_response(dashboard_state(runtime))

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/tlib", tlib)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/state", state)
    app.router.add_post("/reload", do_reload)
    app.router.add_post("/phone/{station}", phone_handler(phone))
    return app


def dashboard_state(runtime: Runtime) -> dict[str, Any]:
    """What the dashboard shows: the link, the DNs with their calls, the client count."""
    core = runtime.core
    dns = []
    for dn, kind in core.model.dns.items():
        status, _extensions = address_status(core, dn)
        calls = [
            {
                "ConnID": call.conn_id,
                "state": call.parties[dn].state.value,
                "other": call.parties[dn].other_dn,
            }
            for call in core.model.calls_at(dn)
        ]
        dns.append(
            {
                "dn": dn,
                "type": kind.value,
                "status": status,
                "registrations": len(core.registry.clients_of(dn)),
                "calls": calls,
            }
        )
    return {
        "server": core.settings.name,
        "link": "up" if runtime.link is not None and runtime.link.up else "down",
        "clients": runtime.client_count,
        "dns": dns,
    }
