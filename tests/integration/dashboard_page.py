"""A dashboard page as a test sees it: the WebSocket /api/live, a snapshot, and the
deltas applied to it as a browser applies them (static/store.js)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from tests.integration.conftest import EVENT_TIMEOUT

State = dict[str, Any]


def apply_delta(state: State, delta: State) -> None:
    for section in ("dns", "agents", "queues", "calls"):
        for key, row in delta.get(section, {}).items():
            if row is None:
                state[section].pop(key, None)
            else:
                state[section][key] = row
    for whole in ("health", "trends"):
        if whole in delta:
            state[whole] = delta[whole]
    if "trend" in delta:
        if state["trends"] and state["trends"][-1][0] == delta["trend"][0]:
            state["trends"][-1] = delta["trend"]
        else:
            state["trends"].append(delta["trend"])
    state["now"] = delta["now"]


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.state: State = {}
        self.replies: list[State] = []

    @classmethod
    async def open(
        cls, session: aiohttp.ClientSession, address: tuple[str, int], token: str | None = None
    ) -> Page:
        ws = await session.ws_connect(f"http://{address[0]}:{address[1]}/api/live")
        page = cls(ws)
        await ws.send_str(orjson.dumps({"op": "hello", "token": token}).decode())
        snapshot = await page.receive()
        assert snapshot["type"] == "snapshot", snapshot
        page.state = snapshot
        return page

    async def receive(self) -> State:
        async with asyncio.timeout(EVENT_TIMEOUT):
            frame = await self.ws.receive()
        assert frame.type is aiohttp.WSMsgType.TEXT, frame
        message: State = orjson.loads(frame.data)
        return message

    async def until(self, condition: Callable[[State], bool], what: str = "") -> State:
        """Apply deltas until *condition* holds of the page's state; answers are kept."""
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                while not _holds(condition, self.state):
                    message = await self.receive()
                    if message["type"] == "delta":
                        apply_delta(self.state, message)
                    else:
                        self.replies.append(message)
        except TimeoutError:
            raise AssertionError(
                f"the page never showed {what or condition}: {self.state}"
            ) from None
        return self.state

    async def ask(self, request: State) -> State:
        """Send *request*; the page's next answer (deltas meanwhile are applied)."""
        await self.ws.send_str(orjson.dumps(request).decode())
        await self.until(lambda state: bool(self.replies), f"an answer to {request}")
        return self.replies.pop(0)


def _holds(condition: Callable[[State], bool], state: State) -> bool:
    try:
        return bool(condition(state))
    except (KeyError, TypeError, IndexError):
        return False
