"""The one place where HTTP applications are made and where the routes that change state
are declared, for every HTTP listener of the product: the CTI server's (`POST /reload`,
`POST /phone/…`) and the orchestration server's REST interface (sessions, directory).

The HTTP protection of DESIGN.md § 8 (a bearer token, or loopback clients only) applies
to exactly the routes declared here with `add_state_changing`; `changes_state(request)`
tells a middleware whether a request is one of them.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

STATE_CHANGING = web.AppKey("state_changing", set[web.AbstractResource])


def new_app() -> web.Application:
    """An aiohttp application for one of the product's HTTP listeners."""
    app = web.Application()
    app[STATE_CHANGING] = set()
    return app


def add_state_changing(app: web.Application, method: str, path: str, handler: Handler) -> None:
    """Add a route that changes state (so protected as DESIGN.md § 8 says)."""
    route = app.router.add_route(method, path, handler)
    app[STATE_CHANGING].add(route.resource)  # type: ignore[arg-type]


def changes_state(request: web.Request) -> bool:
    """True when *request* matched a route declared with add_state_changing."""
    resource = request.match_info.route.resource
    return resource is not None and resource in request.app[STATE_CHANGING]
