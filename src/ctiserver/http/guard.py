"""Who may use which HTTP endpoint: one aiohttp middleware for every route (DESIGN.md § 8).

Each route is PUBLIC, READ or ADMIN, as http/routes.py declares it (once, where the
route is added); a route that says nothing is READ when its method is safe (GET, HEAD,
OPTIONS) and ADMIN otherwise, so an endpoint added later is protected by default.  The
same guard stands before the CTI server's HTTP listener and the orchestration server's
REST interface (app/binding.py makes both).

- ADMIN (anything that changes state) needs a credential when one is configured: the
  bearer token of `[security] admin-token-file`, or HTTP Basic with the name and
  password of an application that `may` "admin".  With no credential configured, only
  loopback clients are served.  A browser request from a foreign Origin is refused, and
  so is a CORS "simple" body (text/plain, form, multipart) without a valid token:
  a web page cannot change anything by a cross-site POST.
- READ is open, unless `restrict-read` is set: then it needs what ADMIN needs.
- Every WebSocket upgrade, whatever the route, is refused to a browser whose Origin is
  not allowed (`allowed-origins`; when unset, the server's own origin only).  A client
  that sends no Origin is not a browser, and is served.
The middleware also tells the door (http.door) when a request begins and ends, and
reads the body of an ADMIN request within the request timeout.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import hmac
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from ctiserver.doors.admission import is_loopback
from ctiserver.http.door import HttpDoor
from ctiserver.http.routes import RouteAccess, route_access
from ctiserver.security.applications import Application, Permission
from ctiserver.security.authentication import FailureThrottle
from ctiserver.security.passwords import verify_password

SIMPLE_TYPES: Final = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Args:
    token: the admin bearer token (None: no token file).
    admins: applications that may "admin", for HTTP Basic.
    allowed_origins: exact origins; empty: the server's own only.
    restrict_read: READ routes need what ADMIN routes need.
    """

    token: str | None = None
    admins: Mapping[str, Application] = field(default_factory=dict)
    allowed_origins: frozenset[str] = frozenset()
    restrict_read: bool = False

    @property
    def has_credentials(self) -> bool:
        return self.token is not None or bool(self.admins)


def admins_of(applications: Mapping[str, Application]) -> dict[str, Application]:
    return {n: a for n, a in applications.items() if Permission.ADMIN in a.may}


class Guard:
    def __init__(self, policy: HttpPolicy, door: HttpDoor, *, scheme: str = "http") -> None:
        self.policy = policy
        self.door = door
        self.scheme = scheme
        self.own_names = _own_names()
        self._throttle = FailureThrottle()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.door.request_started(request.transport)
        try:
            refusal = await self._refusal(request)
            if refusal is not None:
                return refusal
            if route_access(request) is RouteAccess.ADMIN:
                async with asyncio.timeout(self.door.request_timeout):
                    await request.read()  # the whole body, or a 413 past client_max_size
            return await handler(request)
        finally:
            self.door.request_finished(request.transport)

    async def _refusal(self, request: web.Request) -> web.Response | None:
        origin = request.headers.get(hdrs.ORIGIN)
        access = route_access(request)
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        checked = origin is not None and (upgrade or access is RouteAccess.ADMIN)
        if checked and not self.origin_allowed(str(origin), request.host):
            return _refuse(403, f"requests from the origin {origin} are not allowed here")
        if access is RouteAccess.PUBLIC or (
            access is RouteAccess.READ and not self.policy.restrict_read
        ):
            return None
        return await self._credential_refusal(request, access)

    async def _credential_refusal(
        self, request: web.Request, access: RouteAccess
    ) -> web.Response | None:
        tokened = self._bearer_matches(request)
        if access is RouteAccess.ADMIN and not tokened and _simple_body(request):
            return _refuse(403, "send application/json: a form or text/plain body changes nothing")
        if not self.policy.has_credentials:
            if is_loopback(request.remote or ""):
                return None
            return _refuse(403, "this endpoint serves loopback clients only (no admin-token-file)")
        if tokened or await self._basic_matches(request):
            return None
        response = _refuse(401, "this endpoint needs Authorization: Bearer <admin token>")
        response.headers[hdrs.WWW_AUTHENTICATE] = 'Bearer realm="ctiserver"'
        return response

    def may_read(self, request: web.Request, token: str | None) -> bool:
        """Whether a READ route may serve *request* whose credential comes in its own
        first message rather than its headers (the dashboard's WebSocket: a browser sets
        no header on one): as the middleware judges READ, the admin token standing for
        the bearer header."""
        if not self.policy.restrict_read:
            return True
        if not self.policy.has_credentials:
            return is_loopback(request.remote or "")
        expected = self.policy.token
        if token is None or expected is None:
            return False
        return hmac.compare_digest(token.encode(), expected.encode())

    def origin_allowed(self, origin: str, host: str) -> bool:
        if self.policy.allowed_origins:
            return origin in self.policy.allowed_origins
        if origin != f"{self.scheme}://{host}":
            return False
        name = urlsplit(origin).hostname or ""
        return name in self.own_names or _is_ip(name)

    def _bearer_matches(self, request: web.Request) -> bool:
        token = self.policy.token
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        if token is None or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())

    async def _basic_matches(self, request: web.Request) -> bool:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        if not self.policy.admins or not header.startswith("Basic "):
            return False
        try:
            name, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        application = self.policy.admins.get(name)
        address = request.remote or "?"
        loop = asyncio.get_running_loop()
        if (delay := self._throttle.delay(address, loop.time())) > 0:
            await asyncio.sleep(delay)
        ok = application is not None and await self._check(password, application)
        if not ok:
            self._throttle.failed(address, loop.time())
        return ok

    async def _check(self, password: str, application: Application) -> bool:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, "http-password-check")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, verify_password, password, application.password_hash
        )


def _simple_body(request: web.Request) -> bool:
    """A body a web page may send cross-site without asking first (CORS-safelisted)."""
    declared = request.headers.get(hdrs.CONTENT_TYPE) is not None
    return declared and request.content_type in SIMPLE_TYPES


def _refuse(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def _is_ip(name: str) -> bool:
    return is_loopback(name) or all(part.isdigit() for part in name.split(".")) or ":" in name


def _own_names() -> frozenset[str]:
    """Names this machine answers to, for its own origin (never a name from a request:
    a DNS-rebinding page sends its own name in Host and in Origin alike)."""
    names = {"localhost", socket.gethostname()}
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn())
    return frozenset(name.lower() for name in names if name)
