"""T-Library JSON lines over TCP (or TLS): one asyncio Protocol per client connection.

The protocol is feed, drain, dispatch: bytes go into a TlibConnection, each whole
request goes to the runtime.  Events to the client are queued and written once per loop
iteration.  The door's limits (server.limits) apply:
- a connection beyond the listener's caps is closed at once, unless the listener is
  full of connections that have not registered: then the oldest of those is closed;
- one that does not register within `register-timeout` is closed;
- at most `requests-per-turn` requests are taken from one connection per loop turn:
  the rest wait in its buffer, reading paused, and are taken on the next turns, so a
  flooding client cannot hold up the others; nor are any taken while the client has
  `requests-in-flight` requests unanswered (server.access), until ready() says so;
- a client that stops reading is disconnected, with a log line, once the transport
  holds more than `max-client-buffer` unsent bytes; and what all clients hold together is
  bounded by the shared BufferBudget.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from ctiserver.doors.admission import remote_host
from ctiserver.ids import ClientId
from ctiserver.server.limits import ClientLimits, default_limits
from ctiserver.server.runtime import Runtime
from ctiserver.tlib.codec import NEED_DATA, TlibConnection
from ctiserver.tlib.requests import InvalidRequest

log = logging.getLogger(__name__)

WRITE_HIGH_WATER = 64 << 10


class TlibTcpProtocol(asyncio.Protocol):
    def __init__(self, runtime: Runtime, limits: ClientLimits) -> None:
        self._runtime = runtime
        self._limits = limits
        self._max_buffer = limits.settings.max_client_buffer  # read at every flush
        self._connection = TlibConnection()
        self._transport: asyncio.Transport | None = None
        self._client: ClientId | None = None
        self._outgoing: list[bytes] = []
        self._loop = asyncio.get_running_loop()  # kept: asking at every event costs a syscall
        self._deadline: asyncio.TimerHandle | None = None
        self._paused = False
        self._waiting = False  # for answers: at the in-flight limit
        self.name = "?"
        self.address = "?"

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.address = remote_host(peer)
        self.name = f"tcp:{peer[0]}:{peer[1]}" if peer else "tcp:?"
        admission = self._limits.admission
        verdict = admission.admit(self.address, self)
        if verdict.evicted is not None:
            verdict.evicted.evict(admission.eviction)
        if not verdict.admitted:
            cast(asyncio.Transport, transport).abort()
            return
        self._transport = cast(asyncio.Transport, transport)
        self._transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        client = self._client = self._runtime.attach(self)
        self._deadline = self._limits.registration_deadline(
            lambda: self._runtime.registered(client), self.close, self.address
        )

    def data_received(self, data: bytes) -> None:
        self._connection.receive_data(data)
        self._take()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self._client is not None:
            self._runtime.detach(self._client)
            self._client = None
        if self._transport is not None:
            self._limits.admission.release(self)
            self._limits.budget.release(self)
        self._transport = None

    def resume_writing(self) -> None:
        self._charge()

    # --- requests, a fair share per loop turn -------------------------------------------

    def _take(self) -> None:
        for _ in range(self._limits.settings.requests_per_turn):
            if self._client is None:
                return
            if self._runtime.busy(self._client):
                self._waiting = True  # ready() takes up again
                self._set_paused(True)
                self._charge()
                return
            message = self._connection.next_message()
            if message is NEED_DATA:
                self._set_paused(False)
                self._charge()
                return
            if isinstance(message, InvalidRequest):
                self._runtime.on_invalid(self._client, message)
            else:
                self._runtime.on_request(self._client, message)
        self._set_paused(True)  # more may wait: take them on the next turn
        self._loop.call_soon(self._take)
        self._charge()

    def ready(self) -> None:
        if self._waiting:
            self._waiting = False
            self._loop.call_soon(self._take)

    def on_registered(self) -> None:
        self._limits.admission.proven(self)

    def _set_paused(self, paused: bool) -> None:
        transport = self._transport
        if paused == self._paused or transport is None or transport.is_closing():
            return
        self._paused = paused
        if paused:
            transport.pause_reading()
        else:
            transport.resume_reading()

    # --- ClientPeer, BufferOwner ----------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self._transport is None:
            return
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(data)

    def close(self, reason: str) -> None:
        """Close once what is queued is written.  INFO: the server decided it (a
        shutdown, a failed authentication); a client that misbehaves is dropped."""
        if self._transport is not None and not self._transport.is_closing():
            log.info("closing client %s: %s", self.name, reason)
            self._flush()
            if self._transport is not None:
                self._transport.close()

    def evict(self, reason: str) -> None:
        """Close at once, making room at a full door (the door's log says so, rate
        limited): a client that has not registered has nothing queued to lose."""
        if self._transport is not None:
            log.debug("evicting client %s: %s", self.name, reason)
            self._transport.abort()

    def drop(self, reason: str) -> None:
        if self._transport is not None:
            log.warning("dropping client %s: %s", self.name, reason)
            self._transport.abort()

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        transport = self._transport
        if transport is None or transport.is_closing() or not data:
            return
        transport.write(data)
        unsent = transport.get_write_buffer_size()
        if unsent > self._max_buffer:
            self.drop(f"it stopped reading ({unsent} bytes unsent)")
            return
        self._charge()

    def _charge(self) -> None:
        transport = self._transport
        if transport is None:
            return
        held = transport.get_write_buffer_size() + self._connection.buffered
        self._limits.budget.charge(self, held)


async def serve_clients(
    runtime: Runtime, host: str, port: int, *, limits: ClientLimits | None = None
) -> asyncio.Server:
    """Listen for T-Library clients; returns the started server."""
    loop = asyncio.get_running_loop()
    chosen = limits or default_limits()
    handshake = chosen.settings.register_timeout if chosen.ssl is not None else None
    return await loop.create_server(
        lambda: TlibTcpProtocol(runtime, chosen),
        host,
        port,
        ssl=chosen.ssl,
        ssl_handshake_timeout=handshake,  # the registration deadline starts after it
    )
