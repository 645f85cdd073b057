"""The application's side of HotStandbyClient: one queue of the session's events and of
the client's notices, in order.

Each event is delivered once.  Within a session EventSequenceNumbers only grow, so an
event numbered at or below the last one delivered is not delivered again (it is
logged, and counted as `repeated`): a replay can never show the application an event
twice.  A new session (SessionRestarted) may come from a server that numbers from 1
again: the count starts again with it.  The stream counts what it delivers and the
notices it tells (switchover.Counts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from ctiserver.client.connection import ConnectionClosed
from ctiserver.client.switchover import (
    Counts,
    Notice,
    PrimaryLost,
    SessionRestarted,
    SessionResumed,
)
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)


class EventStream:
    def __init__(self, counts: Counts) -> None:
        self._queue: asyncio.Queue[TMessage | Notice | None] = asyncio.Queue()
        self.last = 0  # the EventSequenceNumber of the last event delivered
        self.counts = counts

    def deliver(self, event: TMessage) -> None:
        sequence = event.get("EventSequenceNumber")
        if sequence is not None:
            if sequence <= self.last:
                name = event.get("Event")
                log.warning(
                    "not delivered again: %s numbered %d (%d was)", name, sequence, self.last
                )
                self.counts.repeated += 1
                return
            self.last = sequence
        self.counts.events += 1
        self._queue.put_nowait(event)

    def tell(self, notice: Notice) -> None:
        counts = self.counts
        if isinstance(notice, PrimaryLost):
            counts.lost += 1
        elif isinstance(notice, SessionResumed):
            counts.resumed += 1
            counts.switchovers += notice.switchover
        elif isinstance(notice, SessionRestarted):
            counts.restarted += 1
        self._queue.put_nowait(notice)

    def start_again(self) -> None:
        """A new session: its numbers are not compared with the last one's."""
        self.last = 0

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[TMessage | Notice]:
        while (event := await self._queue.get()) is not None:
            yield event
        self._queue.put_nowait(None)  # the end, for whoever reads next

    async def next_event(self) -> TMessage | Notice:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)
            raise ConnectionClosed("the client is closed")
        return event

    async def wait_for(self, name: str, **attributes: Any) -> TMessage:
        while True:
            event = await self.next_event()
            if not isinstance(event, dict) or event.get("Event") != name:
                continue
            if all(event.get(k) == v for k, v in attributes.items()):
                return event
