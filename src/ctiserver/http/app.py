"""The HTTP side of the server (aiohttp): WebSocket /tlib, /healthz, /metrics, POST
/reload, POST /phone/{station} (the embedded pbxsim's phones), WebSocket /trace (the
trace, followed by `ctiserver trace`), and a small dashboard at / fed by /api/state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.phone import Act, phone_handler
from ctiserver.http.routes import add_state_changing, new_app
from ctiserver.http.trace import serve_trace
from ctiserver.http.websocket import serve_websocket
from ctiserver.server.runtime import Runtime

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
        # An admin endpoint: it shows call data (http.trace).
        return await serve_trace(request, runtime.tracer)

    app = new_app()
    app.router.add_get("/", index)
    app.router.add_get("/tlib", tlib)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/state", state)
    add_state_changing(app, "POST", "/reload", do_reload)
    add_state_changing(app, "POST", "/phone/{station}", phone_handler(phone))
    app.router.add_get("/trace", trace)
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
