"""The HTTP side of the server (aiohttp): WebSocket /tlib, /healthz, /metrics, POST
/reload, POST /phone/{station} (the embedded pbxsim's phones), WebSocket /trace (the
trace, followed by `ctiserver trace`), and the supervisor's dashboard (its routes are all
in dashboard_routes: the page and its files, the WebSocket /api/live, and /api/state).

Every route goes through the guard (http.guard), and is declared once, with whether it
is public, read-only or admin, through http.routes (the orchestration server's REST
interface is declared there the same way)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.http.dashboard import Dashboard
from ctiserver.http.guard import Guard
from ctiserver.http.live import Access, serve_live
from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.phone import Act, phone_handler
from ctiserver.http.routes import ADMIN, PUBLIC, READ, add_route, new_app
from ctiserver.http.trace import serve_trace
from ctiserver.http.websocket import serve_websocket
from ctiserver.server.buffers import BufferBudget
from ctiserver.server.limits import ClientLimits
from ctiserver.server.runtime import Runtime

STATIC = Path(__file__).with_name("static")
# The dashboard's page runs only its own files and talks only to its own server.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def build_app(
    runtime: Runtime,
    metrics: ServerMetrics,
    *,
    reload: Callable[[], Awaitable[dict[str, Any]]],
    limits: ClientLimits,
    guard: Guard,
    dashboard: Dashboard,
    phone: Act | None = None,
) -> web.Application:
    async def tlib(request: web.Request) -> web.StreamResponse:
        return await serve_websocket(request, runtime, limits, guard.door)

    async def healthz(request: web.Request) -> web.Response:
        link = runtime.link is not None and runtime.link.up
        body: dict[str, object] = {
            "status": "ok" if link else "degraded",
            "link": "up" if link else "down",
            "clients": runtime.client_count,
            "calls": runtime.view.call_count(),
            "unmonitored": len(runtime.link.unmonitored) if runtime.link is not None else 0,
        }
        if runtime.peering is not None:
            up = set(runtime.peering.connected)
            peers = runtime.peering.settings.peers
            body["iscc"] = {location: "up" if location in up else "down" for location in peers}
        if runtime.role != "standalone":
            body["ha"] = {"role": runtime.role}
        if (export := runtime.export) is not None:
            body["export"] = {
                "state": export.state,
                "published": export.published,
                "buffered": export.buffered,
                "dropped": export.dropped_total,
            }
        return web.json_response(body, status=200 if link else 503)

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    async def do_reload(request: web.Request) -> web.Response:
        result = await reload()
        return web.json_response(result, status=200 if result.get("ok") else 400)

    async def trace(request: web.Request) -> web.StreamResponse:
        return await serve_trace(request, runtime.tracer, limits.budget)

    app = new_app(guard.middleware)
    # T-Library clients authenticate with RequestRegisterClient, as on TCP
    add_route(app, PUBLIC, "GET", "/tlib", tlib)
    add_route(app, PUBLIC, "GET", "/healthz", healthz)
    add_route(app, READ, "GET", "/metrics", prometheus)
    add_route(app, ADMIN, "POST", "/reload", do_reload)
    add_route(app, ADMIN, "POST", "/phone/{station}", phone_handler(phone))
    add_route(app, ADMIN, "GET", "/trace", trace)  # it shows call data (http.trace)
    dashboard_routes(app, dashboard, guard.may_read, limits.budget)
    return app


def dashboard_routes(
    app: web.Application, dashboard: Dashboard, access: Access, budget: BufferBudget | None = None
) -> None:
    """Every route of the dashboard, all read-only.  The page and its files are public;
    its data is READ: /api/state for the guard's middleware, and the WebSocket /api/live
    (which a browser opens without headers) by the token of its hello, judged by
    *access* (Guard.may_read).  The guard refuses a WebSocket from a foreign Origin.
    Open pages count in *budget*, the bound on all client buffers."""

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def static(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers=PAGE_HEADERS)

    async def live(request: web.Request) -> web.StreamResponse:
        return await serve_live(request, dashboard, access, budget)

    async def state(request: web.Request) -> web.Response:
        return web.Response(body=dashboard.snapshot(), content_type="application/json")

    async def close_pages(app: web.Application) -> None:
        dashboard.close_pages()

    add_route(app, PUBLIC, "GET", "/", index)
    add_route(app, PUBLIC, "GET", "/static/{name}", static)
    # READ, but judged on its hello's token by *access*: a browser sets no header on a
    # WebSocket, so the guard's middleware lets it through to serve_live
    add_route(app, PUBLIC, "GET", "/api/live", live)
    add_route(app, READ, "GET", "/api/state", state)
    app.on_shutdown.append(close_pages)


# The page's own files; nothing else under static/ is served.
STATIC_FILES = frozenset(path.name for path in STATIC.iterdir() if path.name != "index.html")
