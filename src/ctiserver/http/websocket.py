"""T-Library over WebSocket at /tlib: one JSON object per text frame, both ways.

Same messages, checks, access control and limits as TCP (server.limits): the
registration deadline, a fair share of requests per loop turn, the per-client bound on
unsent data and the shared bound on all buffers.  Outgoing frames wait in a queue
drained by a writer task; close() lets the queue drain first (an EventError before a
refusal's close arrives), a drop does not.  Which browsers may open it is the HTTP
guard's job (http.guard: the Origin allow-list).  Until its client registers, its
connection is pending at the HTTP door (http.door): the first to give way when the
listener is full.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable

from aiohttp import WSMsgType, web

from ctiserver.http.door import HttpDoor
from ctiserver.ids import ClientId
from ctiserver.server.limits import ClientLimits
from ctiserver.server.runtime import Runtime
from ctiserver.tlib.codec import MAX_LINE, decode_request
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import InvalidRequest

log = logging.getLogger(__name__)

# Frames up to this size are read and, above MAX_LINE, answered with EventError;
# aiohttp closes the connection (1009) on anything larger.
HARD_FRAME_LIMIT = 4 * MAX_LINE


class WebSocketPeer:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        name: str,
        address: str,
        *,
        limits: ClientLimits,
        registered: Callable[[], None],
    ) -> None:
        self.name = name
        self.on_registered = registered
        self.address = address
        self._ws = ws
        self._limits = limits
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._closing = False
        self.answered = asyncio.Event()  # set by ready(): below the in-flight limit

    def send(self, data: bytes) -> None:
        if self._closing:
            return
        self._queue.append(data)
        self._queued += len(data)
        if self._queued > self._limits.settings.max_client_buffer:
            self.drop(f"it stopped reading ({self._queued} bytes unsent)")
            return
        self._limits.budget.charge(self, self._queued)
        self._wake.set()

    def ready(self) -> None:
        self.answered.set()

    def close(self, reason: str) -> None:
        """Close once what is queued is written."""
        if not self._closing:
            log.info("closing WebSocket client %s: %s", self.name, reason)
            self._closing = True
            self._wake.set()

    def drop(self, reason: str) -> None:
        if not self._closing:
            log.warning("dropping WebSocket client %s: %s", self.name, reason)
        self.ended()

    def ended(self) -> None:
        """The connection is gone: discard what is queued, quietly."""
        self._closing = True
        self._queue.clear()
        self._queued = 0
        self._limits.budget.release(self)
        self._wake.set()

    async def run_writer(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    data = self._queue.popleft()
                    self._queued -= len(data)
                    await self._ws.send_str(data.decode().rstrip("\n"))
                self._limits.budget.charge(self, self._queued)
                if self._closing:
                    break
        finally:
            self._limits.budget.release(self)
            await self._ws.close()


async def serve_websocket(
    request: web.Request, runtime: Runtime, limits: ClientLimits, door: HttpDoor
) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=HARD_FRAME_LIMIT, heartbeat=30.0)
    await ws.prepare(request)
    address = request.remote or "?"
    transport = request.transport
    door.awaiting_registration(transport)
    peer = WebSocketPeer(
        ws,
        f"ws:{address}",
        address,
        limits=limits,
        registered=lambda: door.registered(transport),
    )
    client = runtime.attach(peer)
    writer = asyncio.create_task(peer.run_writer(), name=f"ws-writer-{client}")
    deadline = limits.registration_deadline(lambda: runtime.registered(client), peer.close, address)
    try:
        await _read(ws, runtime, client, peer, limits.settings.requests_per_turn)
    finally:
        deadline.cancel()
        runtime.detach(client)
        peer.ended()
        writer.cancel()
    return ws


async def _read(
    ws: web.WebSocketResponse,
    runtime: Runtime,
    client: ClientId,
    peer: WebSocketPeer,
    per_turn: int,
) -> None:
    taken = 0
    async for frame in ws:
        while runtime.busy(client):  # at the in-flight limit: wait for an answer
            peer.answered.clear()
            await peer.answered.wait()
        if frame.type is WSMsgType.TEXT:
            _on_text(runtime, client, frame.data)
        elif frame.type is WSMsgType.BINARY:
            problem = InvalidRequest(TError.INVALID_ATTR, "send T-Library messages as text frames")
            runtime.on_invalid(client, problem)
        taken += 1
        if taken >= per_turn:  # frames already buffered come without a pause: make one
            taken = 0
            await asyncio.sleep(0)


def _on_text(runtime: Runtime, client: ClientId, text: str) -> None:
    if len(text) > MAX_LINE // 4 and len(text.encode()) > MAX_LINE:
        problem = InvalidRequest(
            TError.INVALID_ATTR, f"a frame over {MAX_LINE} bytes was discarded"
        )
        runtime.on_invalid(client, problem)
        return
    try:
        message = decode_request(text)
    except InvalidRequest as problem:
        runtime.on_invalid(client, problem)
    else:
        runtime.on_request(client, message)
