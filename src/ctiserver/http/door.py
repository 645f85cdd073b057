"""The HTTP listener's door: connection caps, the deadline for a whole request, and
which connection gives way when the listener is full.  HttpDoorSettings are `[server]`'s
keys of it, read whole from the configuration.

aiohttp's request handler is wrapped by a small protocol that asks the door's
Admission on each connection and arms a deadline: a connection must present a complete
request head within `http-request-timeout` seconds of opening, or of its previous
answer (so a keep-alive connection that stays idle is closed too).  The guard
middleware disarms the deadline when a request arrives and arms it again when the
answer is sent; a WebSocket, once upgraded, is left alone.  Half-open requests
(slowloris) therefore hold a connection for one timeout at most.

While its deadline is armed, a connection is *pending* at the Admission: when the
listener is full, a newcomer evicts the connection that has waited longest for a
request instead of being refused.  One serving a request, or upgraded to a WebSocket,
is proven; a T-Library WebSocket (/tlib) stays pending until its client registers.  An
evicted connection that had sent part of a request is answered 503 with the reason; an
idle one is closed, as any server may close an idle keep-alive connection.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web

from ctiserver.doors.admission import Admission, Evictable, remote_host
from ctiserver.doors.lograte import RateLimitedLog

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpDoorSettings:
    """`[server]`'s keys of the HTTP door (docs/configuration.md): `http-max-connections`,
    `http-max-connections-per-address` and `http-request-timeout` (seconds a connection
    has to send a whole request head)."""

    max_connections: int = 256
    max_connections_per_address: int = 64
    request_timeout: float = 10.0


class HttpDoor:
    def __init__(self, admission: Admission[Evictable], *, request_timeout: float = 10.0) -> None:
        self.admission = admission
        self.request_timeout = request_timeout
        self.timed_out = 0
        self._guards: dict[asyncio.BaseTransport, _Guarded] = {}
        self._log = RateLimitedLog(log)

    async def serve(
        self, runner: web.AppRunner, host: str, port: int, *, tls: ssl.SSLContext | None
    ) -> asyncio.Server:
        """Listen with *runner*'s application behind this door."""
        handlers = runner.server
        assert handlers is not None, "set the runner up first"
        loop = asyncio.get_running_loop()
        handshake = self.request_timeout if tls is not None else None
        return await loop.create_server(
            lambda: _Guarded(self, handlers()),
            host,
            port,
            ssl=tls,
            ssl_handshake_timeout=handshake,
        )

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        guard = self._guard(transport)
        if guard is not None:
            guard.disarm()
            self.admission.proven(guard)

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        guard = self._guard(transport)
        if guard is not None:
            guard.arm()
            self.admission.waiting(guard)

    def awaiting_registration(self, transport: asyncio.BaseTransport | None) -> None:
        """A T-Library WebSocket: pending until its client registers (no deadline of
        the door's: the registration deadline applies)."""
        guard = self._guard(transport)
        if guard is not None:
            self.admission.waiting(guard)

    def registered(self, transport: asyncio.BaseTransport | None) -> None:
        guard = self._guard(transport)
        if guard is not None:
            self.admission.proven(guard)

    def _guard(self, transport: asyncio.BaseTransport | None) -> _Guarded | None:
        return self._guards.get(transport) if transport is not None else None

    def _expired(self, address: str) -> None:
        self.timed_out += 1
        self._log.log(
            logging.INFO,
            address,
            "closing an HTTP connection from %s: no complete request within %g s",
            address,
            self.request_timeout,
        )


class _Guarded(asyncio.Protocol):
    """aiohttp's RequestHandler behind the door: every call passes through."""

    def __init__(self, door: HttpDoor, inner: Any) -> None:
        self._door = door
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._address = "?"
        self._heard = False  # bytes of a request since the last answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._address = remote_host(transport.get_extra_info("peername"))
        admission = self._door.admission
        verdict = admission.admit(self._address, self)
        if verdict.evicted is not None:
            verdict.evicted.evict(admission.eviction)
        if not verdict.admitted:
            cast(asyncio.Transport, transport).abort()
            return
        self._transport = cast(asyncio.Transport, transport)
        self._door._guards[transport] = self
        self.arm()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return
        self.disarm()
        self._door._guards.pop(self._transport, None)
        self._door.admission.release(self)
        self._transport = None
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._heard = True
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return cast(bool | None, self._inner.eof_received())

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def arm(self) -> None:
        self.disarm()
        self._heard = False
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._door.request_timeout, self._expire)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def evict(self, reason: str) -> None:
        """Make room at a full door: a request begun gets 503 and the reason."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._heard and self._timer is not None:
            transport.write(_unavailable(reason))
        self.disarm()
        transport.close()

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None:
            self._door._expired(self._address)
            self._transport.close()


def _unavailable(reason: str) -> bytes:
    body = f"503 Service Unavailable: {reason}; send the whole request at once\n".encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body
