"""T-Library over WebSocket at /tlib: one JSON object per text frame, both ways.

Same messages and checks as TCP.  Outgoing frames wait in a bounded queue drained by a
writer task; a client that lets more than `max_buffer` bytes pile up is disconnected
with a log line.
"""

from __future__ import annotations

import asyncio
import collections
import logging

from aiohttp import WSMsgType, web

from ctiserver.ids import ClientId
from ctiserver.server.runtime import Runtime
from ctiserver.tlib.codec import MAX_LINE, decode_request
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import InvalidRequest

log = logging.getLogger(__name__)

# Frames up to this size are read and, above MAX_LINE, answered with EventError;
# aiohttp closes the connection (1009) on anything larger.
HARD_FRAME_LIMIT = 4 * MAX_LINE


class WebSocketPeer:
    def __init__(self, ws: web.WebSocketResponse, name: str, *, max_buffer: int) -> None:
        self.name = name
        self._ws = ws
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._max_buffer = max_buffer
        self._wake = asyncio.Event()
        self._closing = False

    def send(self, data: bytes) -> None:
        if self._closing:
            return
        self._queue.append(data)
        self._queued += len(data)
        if self._queued > self._max_buffer:
            log.warning(
                "WebSocket client %s stopped reading (%d bytes unsent); disconnecting it",
                self.name,
                self._queued,
            )
            self.close("it stopped reading")
            return
        self._wake.set()

    def close(self, reason: str) -> None:
        if not self._closing:
            log.info("closing WebSocket client %s: %s", self.name, reason)
            self._closing = True
            self._queue.clear()
            self._wake.set()

    async def run_writer(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and not self._closing:
                data = self._queue.popleft()
                self._queued -= len(data)
                await self._ws.send_str(data.decode().rstrip("\n"))
        await self._ws.close()


async def serve_websocket(
    request: web.Request, runtime: Runtime, max_buffer: int
) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=HARD_FRAME_LIMIT, heartbeat=30.0)
    await ws.prepare(request)
    peer = WebSocketPeer(ws, f"ws:{request.remote}", max_buffer=max_buffer)
    client = runtime.attach(peer)
    writer = asyncio.create_task(peer.run_writer(), name=f"ws-writer-{client}")
    try:
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                _on_text(runtime, client, frame.data)
            elif frame.type is WSMsgType.BINARY:
                problem = InvalidRequest(
                    TError.INVALID_ATTR, "send T-Library messages as text frames"
                )
                runtime.on_invalid(client, problem)
    finally:
        runtime.detach(client)
        peer.close("it disconnected")
        writer.cancel()
    return ws


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
