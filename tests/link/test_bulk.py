"""request_all: a window of outstanding requests, answers in order, failures kept."""

from __future__ import annotations

import asyncio

from ctiserver.csta.schema import Request
from ctiserver.csta.system import MonitorStart, MonitorStartResponse
from ctiserver.errors import LinkDown
from ctiserver.ids import DeviceId, MonitorCrossRefId
from ctiserver.link.bulk import request_all
from ctiserver.link.connection import ReplyCallback


class Switch:
    """Takes requests and answers them at the next turn of the loop, newest first (or at
    once, with LinkDown, when down)."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.waiting: list[tuple[Request, ReplyCallback]] = []
        self.most_waiting = 0
        self.timeouts: set[float] = set()

    def submit(self, request: Request, callback: ReplyCallback, *, timeout: float) -> None:
        self.timeouts.add(timeout)
        if self.down:
            callback(LinkDown("down"))
            return
        if not self.waiting:
            asyncio.get_running_loop().call_soon(self.answer_newest_first)
        self.waiting.append((request, callback))
        self.most_waiting = max(self.most_waiting, len(self.waiting))

    def answer_newest_first(self) -> None:
        waiting, self.waiting = self.waiting, []
        for request, callback in reversed(waiting):
            assert isinstance(request, MonitorStart)
            callback(
                MonitorStartResponse(monitor_cross_ref_id=MonitorCrossRefId(request.device_object))
            )


def monitors(count: int) -> list[Request]:
    return [MonitorStart(device_object=DeviceId(str(n))) for n in range(count)]


async def test_answers_come_back_in_the_order_asked_with_the_window_kept() -> None:
    switch = Switch()
    replies = await request_all(switch, monitors(25), window=4, within=3.0)
    assert [r.monitor_cross_ref_id for r in replies] == [str(n) for n in range(25)]  # type: ignore[union-attr]
    assert switch.most_waiting == 4
    assert switch.timeouts == {3.0}


async def test_a_link_that_is_down_fails_every_request_without_recursion() -> None:
    replies = await request_all(Switch(down=True), monitors(20_000), window=500, within=1.0)
    assert len(replies) == 20_000
    assert all(isinstance(reply, LinkDown) for reply in replies)


async def test_nothing_to_ask_is_answered_at_once() -> None:
    assert await request_all(Switch(), [], window=10, within=1.0) == []
