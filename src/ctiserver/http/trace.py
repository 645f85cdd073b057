"""GET /trace: follow the running server's trace over a WebSocket (`ctiserver trace`).

    GET /trace                 every T-Library message, CSTA frame and ISCC message
    GET /trace?dn=7001&dn=7002 only those about these DNs

The first frame says what is followed (`{"following": ["7001"]}` or `{"following":
"everything"}`); then one text frame per trace record, a JSON object with `time`,
`trace` (tlib, csta, iscc), `direction`, `peer`, `DN`, `ConnID`, `wire` (the message,
UserData masked) and, for CSTA, `callID` and `invokeID`.  A follower that reads too
slowly loses records rather than slowing the server: it is told how many
(`{"dropped": N}`) when it catches up.

The trace shows call data, so the endpoint is an admin one (docs/http.md): it serves
loopback clients only, until the server's HTTP access control declares it.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import ipaddress
from typing import Final

import orjson
from aiohttp import web

from ctiserver.logs.trace import Tracer, TraceRecord

MAX_QUEUED: Final = 10_000


class TraceFollower:
    """One /trace connection: records queued by the tracer, written by run()."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._queue: collections.deque[bytes] = collections.deque()
        self._wake = asyncio.Event()
        self.dropped = 0

    def deliver(self, record: TraceRecord) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self.dropped += 1
            return
        body = {"time": _now(), **record.fields()}
        self._queue.append(orjson.dumps(body))
        self._wake.set()

    async def run(self) -> None:
        while not self._ws.closed:
            await self._wake.wait()
            self._wake.clear()
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                await self._ws.send_str(orjson.dumps({"dropped": dropped}).decode())
            while self._queue:
                await self._ws.send_str(self._queue.popleft().decode())


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def serve_trace(request: web.Request, tracer: Tracer) -> web.StreamResponse:
    if not _loopback(request):
        raise web.HTTPForbidden(text="the trace is served to loopback clients only\n")
    dns = frozenset(request.query.getall("dn", [])) or None
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    follower = TraceFollower(ws)
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
