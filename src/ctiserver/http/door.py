"""The HTTP listener's door: connection caps and the deadline for a whole request.

aiohttp's request handler is wrapped by a small protocol that asks the door's
Admission on each connection and arms a deadline: a connection must present a complete
request head within `http-request-timeout` seconds of opening, or of its previous
answer (so a keep-alive connection that stays idle is closed too).  The guard
middleware disarms the deadline when a request arrives and arms it again when the
answer is sent; a WebSocket, once upgraded, is left alone.  Half-open requests
(slowloris) therefore hold a connection for one timeout at most.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any, cast

from aiohttp import web

from ctiserver.doors.admission import Admission, remote_host
from ctiserver.doors.lograte import RateLimitedLog

log = logging.getLogger(__name__)


class HttpDoor:
    def __init__(self, admission: Admission, *, request_timeout: float = 10.0) -> None:
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
        guard = self._guards.get(transport) if transport is not None else None
        if guard is not None:
            guard.disarm()

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        guard = self._guards.get(transport) if transport is not None else None
        if guard is not None:
            guard.arm()

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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._address = remote_host(transport.get_extra_info("peername"))
        if not self._door.admission.admit(self._address):
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
        self._door.admission.release(self._address)
        self._transport = None
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return cast(bool | None, self._inner.eof_received())

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def arm(self) -> None:
        self.disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._door.request_timeout, self._expire)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None:
            self._door._expired(self._address)
            self._transport.close()
