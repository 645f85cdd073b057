"""Starting a listener, with the one line an operator reads when its port cannot be had:
the address, the reason, what to do, and the configuration key that sets it.

Also the product's HTTP listeners, the CTI server's and the orchestration server's REST
interface alike: each behind the guard (http.guard: who may use which route) and the
door (http.door: connection caps, request deadlines), on TLS when the server's
listeners are.  `HttpSettings` says all of that in plain values, so the orchestration
server's child process is given the server's own and protects its REST interface the
same way (DESIGN.md § 8, docs/security.md).

    listener = HttpListener("HTTP", settings)
    stack.push_async_callback(listener.close)
    address = await listener.start(build_app(..., guard=listener.guard), listen, HTTP)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from aiohttp import web

from ctiserver.doors.address import Address
from ctiserver.doors.admission import Admission, Evictable
from ctiserver.doors.tls import ListenerTls
from ctiserver.errors import StartupError
from ctiserver.http.door import HttpDoor, HttpDoorSettings
from ctiserver.http.guard import Guard, HttpPolicy
from ctiserver.orchestration.settings import Endpoint

T = TypeVar("T")

PBXSIM: Final = ("[pbxsim] csta-listen, trunk-listen", "the simulated PBX's links and trunks")
CLIENTS: Final = ("[server] client-listen", "T-Library clients")
HTTP: Final = ("[server] http-listen", "HTTP")
ISCC: Final = ("[iscc] listen", "ISCC peers")
ORCHESTRATION_HTTP: Final = ("[orchestration] http-listen", "the orchestration REST interface")
CLOSE_TIMEOUT: Final = 2.0


async def bind(
    starting: Awaitable[T], where: tuple[str, str], listen: Address | Endpoint | None
) -> T:
    """Await a listener's start.  Raises StartupError when its port cannot be had."""
    try:
        return await starting
    except OSError as exc:
        key, what = where
        problem = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
        hint = (
            "stop the program that uses it, or choose another port"
            if exc.errno == errno.EADDRINUSE
            else "check the address"
        )
        raise StartupError(
            f"cannot listen for {what} on {listen}: {problem}; {hint} ({key})"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    """An HTTP listener's protection: the guard's policy (admin token, applications that
    may "admin", allowed origins, restrict-read), TLS, and the door's settings whole
    (connection caps, the deadline of a request), with `[server] log-repeat-interval`,
    which every door shares.  The defaults: no credential (so only loopback clients may
    change anything), no TLS."""

    policy: HttpPolicy = field(default_factory=HttpPolicy)
    tls: ListenerTls | None = None
    door: HttpDoorSettings = field(default_factory=HttpDoorSettings)
    log_repeat_interval: float = 10.0


class HttpListener:
    """One HTTP listener of the product: its TLS context, door and guard, and once
    started its runner and server (close() ends both)."""

    def __init__(self, name: str, settings: HttpSettings) -> None:
        self.tls = settings.tls.context() if settings.tls is not None else None
        door = settings.door
        admission: Admission[Evictable] = Admission(
            name,
            total=door.max_connections,
            per_address=door.max_connections_per_address,
            proof="sent a whole request",
            interval=settings.log_repeat_interval,
        )
        self.door = HttpDoor(admission, request_timeout=door.request_timeout)
        self.guard = Guard(settings.policy, self.door, scheme="https" if self.tls else "http")
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None

    async def start(
        self, app: web.Application, listen: Address | Endpoint, where: tuple[str, str]
    ) -> tuple[str, int]:
        """Serve *app* (made with this listener's guard) on *listen*: the address bound.
        Raises StartupError when the port cannot be had."""
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        serving = self.door.serve(self._runner, listen.host, listen.port, tls=self.tls)
        self._server = await bind(serving, where, listen)
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._server.wait_closed()
        if self._runner is not None:
            await self._runner.cleanup()
