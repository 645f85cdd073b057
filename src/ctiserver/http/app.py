"""The HTTP side of the server (aiohttp): WebSocket /tlib, /healthz, /metrics, POST
/reload, POST /phone/{station} (the embedded pbxsim's phones), WebSocket /trace (the
trace, followed by `ctiserver trace`), and the supervisor's dashboard (its routes are all
in dashboard_routes: the page and its files, the WebSocket /api/live, and /api/state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.http.dashboard import Dashboard
from ctiserver.http.live import Access, open_access, serve_live
from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.phone import Act, phone_handler
from ctiserver.http.trace import serve_trace
from ctiserver.http.websocket import serve_websocket
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
    max_buffer: int,
    dashboard: Dashboard,
    dashboard_access: Access = open_access,
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

    async def trace(request: web.Request) -> web.StreamResponse:
        # An admin endpoint: it shows call data (http.trace).
        return await serve_trace(request, runtime.tracer)

    app = web.Application()
    app.router.add_get("/tlib", tlib)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/reload", do_reload)
    app.router.add_post("/phone/{station}", phone_handler(phone))
    app.router.add_get("/trace", trace)
    dashboard_routes(app, dashboard, dashboard_access)
    return app


def dashboard_routes(app: web.Application, dashboard: Dashboard, access: Access) -> None:
    """Every route of the dashboard, all read-only: the page and its files, and its data
    (the WebSocket /api/live and /api/state), which *access* guards."""

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def static(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers=PAGE_HEADERS)

    async def live(request: web.Request) -> web.StreamResponse:
        return await serve_live(request, dashboard, access)

    async def state(request: web.Request) -> web.Response:
        if not access(request, bearer_token(request)):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        return web.Response(body=dashboard.snapshot(), content_type="application/json")

    async def close_pages(app: web.Application) -> None:
        dashboard.close_pages()

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/live", live)
    app.router.add_get("/api/state", state)
    app.on_shutdown.append(close_pages)


# The page's own files; nothing else under static/ is served.
STATIC_FILES = frozenset(path.name for path in STATIC.iterdir() if path.name != "index.html")


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
