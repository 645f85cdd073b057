"""GET /trace: follow the running server's trace over a WebSocket (`ctiserver trace`).

    GET /trace                 every T-Library message, CSTA frame and ISCC message
    GET /trace?dn=7001&dn=7002 only those about these DNs

The first frame says what is followed (`{"following": ["7001"]}` or `{"following":
"everything"}`); then one text frame per trace record, a JSON object with `time`,
`trace` (tlib, csta, iscc), `direction`, `peer`, `DN`, `ConnID`, `wire` (the message,
UserData masked) and, for CSTA, `callID` and `invokeID`.  A follower that reads too
slowly loses records rather than slowing the server: it is told how many
(`{"dropped": N}`) when it catches up.  What waits for it counts in the server's one
bound on all client buffers (server.buffers), like a T-Library client's events.

The trace shows call data, so the endpoint is an admin one: the guard (http.guard)
lets through only what may use admin endpoints (docs/security.md).
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
from typing import Final

import orjson
from aiohttp import web

from ctiserver.logs.trace import Tracer, TraceRecord
from ctiserver.server.buffers import BufferBudget

log = logging.getLogger(__name__)

MAX_QUEUED: Final = 10_000


class TraceFollower:
    """One /trace connection: records queued by the tracer, written by run()."""

    def __init__(self, ws: web.WebSocketResponse, name: str, budget: BufferBudget) -> None:
        self.name = name
        self._ws = ws
        self._budget = budget
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0  # bytes
        self._wake = asyncio.Event()
        self._gone = False
        self.dropped = 0

    def deliver(self, record: TraceRecord) -> None:
        if self._gone:
            return
        if len(self._queue) >= MAX_QUEUED:
            self.dropped += 1
            return
        data = orjson.dumps({"time": _now(), **record.fields()})
        self._queue.append(data)
        self._queued += len(data)
        self._wake.set()
        self._budget.charge(self, self._queued)

    def drop(self, reason: str) -> None:
        """BufferOwner: close at once, discarding what waits."""
        log.warning("dropping trace follower %s: %s", self.name, reason)
        self._gone = True
        self._queue.clear()
        self._queued = 0
        self._wake.set()

    async def run(self) -> None:
        try:
            while not self._ws.closed and not self._gone:
                await self._wake.wait()
                self._wake.clear()
                if self.dropped:
                    dropped, self.dropped = self.dropped, 0
                    await self._ws.send_str(orjson.dumps({"dropped": dropped}).decode())
                while self._queue:
                    data = self._queue.popleft()
                    self._queued -= len(data)
                    await self._ws.send_str(data.decode())
                self._budget.charge(self, self._queued)
        finally:
            self._budget.release(self)
            await self._ws.close()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def serve_trace(
    request: web.Request, tracer: Tracer, budget: BufferBudget
) -> web.StreamResponse:
    dns = frozenset(request.query.getall("dn", [])) or None
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    follower = TraceFollower(ws, f"trace:{request.remote or '?'}", budget)
    following: object = sorted(dns) if dns else "everything"
    await ws.send_str(orjson.dumps({"following": following}).decode())
    unfollow = tracer.follow(dns, follower.deliver)
    writer = asyncio.create_task(follower.run(), name="trace-follower")
    try:
        async for _frame in ws:
            pass  # the follower says nothing; this waits for it to leave
    finally:
        unfollow()
        writer.cancel()
    return ws
