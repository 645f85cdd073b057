"""The dashboard's WebSocket, GET /api/live: one open page, read-only.

    page -> server   {"op": "hello", "token": "…"}    first, within HELLO_TIMEOUT
                     {"op": "call", "ConnID": "…"}    a call's UserData and event history
    server -> page   {"type": "snapshot", …}, then {"type": "delta", …} each push-interval
                     {"type": "call", …}, {"type": "error", "message": "…"}

The hello carries the page's access token (the page takes it from its URL fragment, so
that it is never sent in a URL or logged); `access` decides (http.guard.Guard.may_read),
and a refused page is closed with code 4401.  The guard has already refused a browser of
a foreign Origin (a page of another site must not read the centre's calls).  Anything
else a page sends is answered with an error message; the connection stays.

A page that falls behind (more than MAX_PAGE_BUFFER bytes waiting) has its deltas
dropped and is sent a fresh snapshot once it reads again: memory stays bounded and the
page stays right.  A page whose own questions pile up that far is closed.  What pages
hold counts in the bound on all client buffers (server.buffers), like any client's.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Any, Final, Protocol

import orjson
from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from ctiserver.http.dashboard import Dashboard
from ctiserver.server.buffers import BufferBudget

log = logging.getLogger(__name__)

HELLO_TIMEOUT: Final = 10.0
MAX_MESSAGE: Final = 64 << 10  # bytes of one message from a page; aiohttp closes (1009) above
MAX_PAGE_BUFFER: Final = 8 << 20
NOT_AUTHORISED: Final = 4401
NO_HELLO: Final = 4400

Access = Callable[[web.Request, str | None], bool]
"""Whether a page (its request, and the token of its hello) may watch the centre."""


def open_access(request: web.Request, token: str | None) -> bool:
    """Every page may watch (a server whose reads are not restricted; tests)."""
    return True


class Socket(Protocol):
    """What a page's writer needs of its WebSocket (aiohttp's WebSocketResponse)."""

    async def send_frame(self, message: bytes, opcode: WSMsgType) -> None: ...

    async def close(self, *, code: int) -> bool: ...


class LivePage:
    """One page's queue of encoded messages, written by its own task."""

    def __init__(
        self,
        ws: Socket,
        name: str,
        *,
        limit: int = MAX_PAGE_BUFFER,
        budget: BufferBudget | None = None,
    ) -> None:
        self.name = name
        self._ws = ws
        self._limit = limit
        self._budget = budget
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._stale = True  # it needs a snapshot before any delta
        self._closing = False
        self._wake = asyncio.Event()
        self._wake.set()

    def send(self, data: bytes) -> None:
        if self._stale or self._closing:
            return
        if self._queued + len(data) > self._limit:
            log.info("dashboard page %s fell behind; it gets a fresh snapshot", self.name)
            self._queue.clear()
            self._queued = 0
            self._stale = True
        else:
            self._queue.append(data)
            self._queued += len(data)
        self._charge()
        self._wake.set()

    def reply(self, data: bytes) -> None:
        """An answer to the page's own question: queued even while it waits to catch up,
        but a page that asks more than it reads is closed."""
        if self._closing:
            return
        if self._queued + len(data) > self._limit:
            log.warning("dashboard page %s asks and does not read; closing it", self.name)
            self.close()
            return
        self._queue.append(data)
        self._queued += len(data)
        self._charge()
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._queue.clear()
        self._queued = 0
        if self._budget is not None:
            self._budget.release(self)
        self._wake.set()

    def drop(self, reason: str) -> None:
        """The bound on all client buffers is passed and this page holds the most."""
        log.warning("closing dashboard page %s: %s", self.name, reason)
        self.close()

    def _charge(self) -> None:
        if self._budget is not None:
            self._budget.charge(self, self._queued)

    async def run_writer(self, snapshot: Callable[[], bytes]) -> None:
        try:
            while not self._closing:
                await self._wake.wait()
                self._wake.clear()
                if self._stale and not self._closing:
                    self._stale = False
                    await self._ws.send_frame(snapshot(), WSMsgType.TEXT)
                while self._queue and not self._closing:
                    data = self._queue.popleft()
                    self._queued -= len(data)
                    self._charge()
                    await self._ws.send_frame(data, WSMsgType.TEXT)
        except ConnectionError:
            pass
        finally:
            await self._ws.close(code=WSCloseCode.GOING_AWAY)


async def serve_live(
    request: web.Request, dashboard: Dashboard, access: Access, budget: BufferBudget | None = None
) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=30.0)
    await ws.prepare(request)
    hello = await _hello(ws)
    if hello is None:
        await ws.close(code=NO_HELLO, message=b'the first message must be {"op": "hello"}')
        return ws
    token = hello.get("token")
    if not access(request, token if isinstance(token, str) else None):
        log.warning("dashboard page from %s refused: not authorised", request.remote)
        await ws.close(code=NOT_AUTHORISED, message=b"not authorised")
        return ws
    page = LivePage(ws, f"dashboard:{request.remote}", budget=budget)
    dashboard.pages.add(page)
    writer = asyncio.create_task(page.run_writer(dashboard.snapshot), name="dashboard-page")
    complained = False
    try:
        async for frame in ws:
            problem = _answer(page, dashboard, frame)
            if problem is not None and not complained:
                log.info("dashboard page %s sent %s", page.name, problem)  # once per page
                complained = True
    finally:
        dashboard.pages.discard(page)
        page.close()
        await writer
    return ws


async def _hello(ws: web.WebSocketResponse) -> dict[str, Any] | None:
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            frame = await ws.receive()
    except TimeoutError:
        return None
    message = _decode(frame)
    return message if isinstance(message, dict) and message.get("op") == "hello" else None


def _decode(frame: WSMessage) -> object:
    if frame.type is not WSMsgType.TEXT:
        return None
    try:
        return orjson.loads(frame.data)
    except orjson.JSONDecodeError:
        return None


def _answer(page: LivePage, dashboard: Dashboard, frame: WSMessage) -> str | None:
    """Answer one message of the page; returns what was wrong with it, if anything."""
    message = _decode(frame)
    if not isinstance(message, dict):
        problem = "a message that is not a JSON object in a text frame"
    elif message.get("op") == "call" and isinstance(message.get("ConnID"), str):
        page.reply(dashboard.call_detail(message["ConnID"]))
        return None
    else:
        problem = f"an unknown request {str(message.get('op'))[:40]!r}"
    page.reply(
        orjson.dumps({"type": "error", "message": f"the server does not understand {problem}"})
    )
    return problem
