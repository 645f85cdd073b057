"""Many requests to the switch, paced by a window of outstanding ones.

Bringing a link up asks the switch about every DN (MonitorStart, SnapshotDevice,
GetAgentState): with 100,000 DNs, sending them all at once would outrun the 9,998
invoke ids of ECMA-323 and swamp the switch.  request_all() keeps at most `window` of
them outstanding, sends the next as each answer comes back, and collects the answers
in order.  It costs one callback per request, no task or future each.

A client's request does not wait behind these: it goes straight to the link, beside
the window (CstaLink.submit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from ctiserver.csta.schema import Request
from ctiserver.link.connection import Reply, ReplyCallback


class Submit(Protocol):
    def submit(self, request: Request, callback: ReplyCallback, *, timeout: float) -> None: ...


class _Batch:
    def __init__(
        self, link: Submit, requests: Sequence[Request], *, window: int, timeout: float
    ) -> None:
        self._link = link
        self._requests = requests
        self._timeout = timeout
        self.replies: list[Reply | None] = [None] * len(requests)
        self._next = 0
        self._waiting = 0
        self._window = max(1, window)
        self._sending = False
        self.done = asyncio.get_running_loop().create_future()
        if not requests:
            self.done.set_result(None)

    def send(self) -> None:
        """Fill the window.  A reply given synchronously (the link is down) only counts
        here; the loop, not recursion, sends the next."""
        if self._sending:
            return
        self._sending = True
        try:
            while self._waiting < self._window and self._next < len(self._requests):
                index = self._next
                self._next += 1
                self._waiting += 1
                self._link.submit(self._requests[index], self._answer(index), timeout=self._timeout)
        finally:
            self._sending = False

    def _answer(self, index: int) -> ReplyCallback:
        def answered(reply: Reply) -> None:
            self.replies[index] = reply
            self._waiting -= 1
            if self._next < len(self._requests):
                self.send()
            elif self._waiting == 0 and not self.done.done():
                self.done.set_result(None)

        return answered


async def request_all(
    link: Submit, requests: Sequence[Request], *, window: int, within: float
) -> list[Reply]:
    """Send *requests*, at most *window* outstanding at once; each one's Response or
    failure (ServiceError, TimeoutError, LinkDown), in the order of *requests*.

    *within* bounds each request from when it is sent, not from the call.
    """
    batch = _Batch(link, requests, window=window, timeout=within)
    batch.send()
    await batch.done
    replies = [reply for reply in batch.replies if reply is not None]
    assert len(replies) == len(requests), "every request is answered, if only by a failure"
    return replies
