"""The one place where the product's HTTP applications are made and where every route is
declared, once, with who may use it: the CTI server's (http/app.py) and the
orchestration server's REST interface (orchestration/rest.py).

    app = new_app(guard.middleware)
    add_route(app, ADMIN, "POST", "/reload", handler)     # changes state
    add_route(app, READ, "GET", "/metrics", handler)      # shows state
    add_route(app, PUBLIC, "GET", "/healthz", handler)    # open to anyone

The guard (http/guard.py, DESIGN.md § 8) reads the kind with `route_access(request)`.
A route added without a kind (or a request that matches none) is READ when its method is
safe (GET, HEAD, OPTIONS) and ADMIN otherwise, so what nobody declared is protected.
A GET route is declared with its HEAD twin, which gets the same kind.
"""

from __future__ import annotations

import enum
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware


class RouteAccess(enum.Enum):
    PUBLIC = "public"
    READ = "read"
    ADMIN = "admin"


PUBLIC: Final = RouteAccess.PUBLIC
READ: Final = RouteAccess.READ
ADMIN: Final = RouteAccess.ADMIN
SAFE_METHODS: Final = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})
MAX_BODY: Final = 1 << 20  # a larger body is answered 413 before any handler runs
ACCESS = web.AppKey("route_access", dict[web.AbstractRoute, RouteAccess])


def new_app(guard: Middleware) -> web.Application:
    """An aiohttp application for one of the product's HTTP listeners, behind *guard*."""
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[ACCESS] = {}
    return app


def add_route(
    app: web.Application, access: RouteAccess, method: str, path: str, handler: Handler
) -> None:
    """Add the route *method* *path*, used as *access* says."""
    methods = [method, hdrs.METH_HEAD] if method == hdrs.METH_GET else [method]
    for each in methods:
        app[ACCESS][app.router.add_route(each, path, handler)] = access


def route_access(request: web.Request) -> RouteAccess:
    """How the route *request* matched was declared (the method's default otherwise)."""
    declared = request.app.get(ACCESS, {}).get(request.match_info.route)
    if declared is not None:
        return declared
    return READ if request.method in SAFE_METHODS else ADMIN
