"""T-Library JSON lines over TCP: one asyncio Protocol per client connection.

The protocol is feed, drain, dispatch: bytes go into a TlibConnection, each whole
request goes to the runtime.  Events to the client are queued and written once per loop
iteration.  A client that stops reading is disconnected, with a log line, once the
transport holds more than `max_buffer` unsent bytes; nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from ctiserver.ids import ClientId
from ctiserver.server.runtime import Runtime
from ctiserver.tlib.codec import NEED_DATA, TlibConnection
from ctiserver.tlib.requests import InvalidRequest

log = logging.getLogger(__name__)

DEFAULT_MAX_BUFFER = 16 << 20


class TlibTcpProtocol(asyncio.Protocol):
    def __init__(self, runtime: Runtime, *, max_buffer: int = DEFAULT_MAX_BUFFER) -> None:
        self._runtime = runtime
        self._max_buffer = max_buffer
        self._connection = TlibConnection()
        self._transport: asyncio.Transport | None = None
        self._client: ClientId | None = None
        self._outgoing: list[bytes] = []
        self._loop = asyncio.get_running_loop()  # kept: asking at every event costs a syscall
        self.name = "?"

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.name = f"tcp:{peer[0]}:{peer[1]}" if peer else "tcp:?"
        self._client = self._runtime.attach(self)

    def data_received(self, data: bytes) -> None:
        self._connection.receive_data(data)
        while self._client is not None:
            message = self._connection.next_message()
            if message is NEED_DATA:
                return
            if isinstance(message, InvalidRequest):
                self._runtime.on_invalid(self._client, message)
            else:
                self._runtime.on_request(self._client, message)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._client is not None:
            self._runtime.detach(self._client)
            self._client = None
        self._transport = None

    # --- ClientPeer ---------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self._transport is None:
            return
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(data)

    def close(self, reason: str) -> None:
        if self._transport is not None:
            log.warning("closing client %s: %s", self.name, reason)
            self._transport.close()

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self._max_buffer:
            log.warning(
                "client %s stopped reading (%d bytes unsent); disconnecting it",
                self.name,
                transport.get_write_buffer_size(),
            )
            transport.abort()


async def serve_clients(
    runtime: Runtime, host: str, port: int, *, max_buffer: int = DEFAULT_MAX_BUFFER
) -> asyncio.Server:
    """Listen for T-Library clients; returns the started server."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: TlibTcpProtocol(runtime, max_buffer=max_buffer), host, port
    )
