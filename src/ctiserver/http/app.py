"""The HTTP side of the server (aiohttp): WebSocket /tlib, /healthz, /metrics, POST
/reload, POST /phone/{station} (the embedded pbxsim's phones), WebSocket /trace (the
trace, followed by `ctiserver trace`), and a small dashboard at / fed by /api/state.

Every route goes through the guard (http.guard), and is declared once, with whether it
is public, read-only or admin, through http.routes (the orchestration server's REST
interface is declared there the same way)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.http.guard import Guard
from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.phone import Act, phone_handler
from ctiserver.http.routes import ADMIN, PUBLIC, READ, add_route, new_app
from ctiserver.http.trace import serve_trace
from ctiserver.http.websocket import serve_websocket
from ctiserver.server.limits import ClientLimits
from ctiserver.server.runtime import Runtime

STATIC = Path(__file__).with_name("static")


def build_app(
    runtime: Runtime,
    metrics: ServerMetrics,
    *,
    reload: Callable[[], Awaitable[dict[str, Any]]],
    limits: ClientLimits,
    guard: Guard,
    phone: Act | None = None,
) -> web.Application:
    async def tlib(request: web.Request) -> web.StreamResponse:
        return await serve_websocket(request, runtime, limits)

    async def healthz(request: web.Request) -> web.Response:
        link = runtime.link is not None and runtime.link.up
        body: dict[str, object] = {
            "status": "ok" if link else "degraded",
            "link": "up" if link else "down",
            "clients": runtime.client_count,
            "calls": runtime.view.call_count(),
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

    async def trace(request: web.Request) -> web.StreamResponse:
        return await serve_trace(request, runtime.tracer, limits.budget)

    app = new_app(guard.middleware)
    add_route(app, PUBLIC, "GET", "/", index)
    # T-Library clients authenticate with RequestRegisterClient, as on TCP
    add_route(app, PUBLIC, "GET", "/tlib", tlib)
    add_route(app, PUBLIC, "GET", "/healthz", healthz)
    add_route(app, READ, "GET", "/metrics", prometheus)
    add_route(app, READ, "GET", "/api/state", state)
    add_route(app, ADMIN, "POST", "/reload", do_reload)
    add_route(app, ADMIN, "POST", "/phone/{station}", phone_handler(phone))
    add_route(app, ADMIN, "GET", "/trace", trace)  # it shows call data (http.trace)
    return app


def dashboard_state(runtime: Runtime) -> dict[str, Any]:
    """What the dashboard shows: the link, the DNs with their calls, the client count."""
    view = runtime.view
    dns = [
        {
            "dn": dn.dn,
            "type": dn.kind,
            "status": dn.status,
            "registrations": dn.registrations,
            "calls": [{"ConnID": c.conn_id, "state": c.state, "other": c.other} for c in dn.calls],
        }
        for dn in view.dns()
    ]
    return {
        "server": view.server_name,
        "link": "up" if runtime.link is not None and runtime.link.up else "down",
        "clients": runtime.client_count,
        "dns": dns,
    }
