"""The supervisor's dashboard, server side: one supervision view of this server, fed with
every event the core produces, pushed to the open pages as a snapshot and then deltas.

Every `push-interval` the dashboard lets time pass in the view, takes the rows changed
since the last push as one delta, encodes it once, and queues the same bytes on every
open page: a page costs one write per interval, whatever the traffic.  When nothing
changed for `heartbeat` seconds, a delta holding only the time goes out, so that a page
can tell a quiet centre from a lost server.

The snapshot a page starts from is encoded once per push, however many pages ask:
rows are whole, so a snapshot taken at any moment between two pushes, followed by the
next delta, is the view at that delta.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Protocol

import orjson

from ctiserver.http.supervision_feed import health_items, read_core
from ctiserver.server.runtime import Runtime
from ctiserver.supervision.view import (
    DashboardSettings,
    Figures,
    StrategyStatus,
    Supervision,
    SupervisionSettings,
)
from ctiserver.tserver.port import Deliver

log = logging.getLogger(__name__)


class Page(Protocol):
    """An open dashboard page, as the dashboard pushes to it (http/live.py)."""

    def send(self, data: bytes) -> None:
        """Queue one encoded message; never blocks."""

    def close(self) -> None:
        """Close the page's connection (the server is going away)."""


class Dashboard:
    def __init__(
        self,
        runtime: Runtime,
        settings: DashboardSettings,
        *,
        server: str,
        strategies: Callable[[], Mapping[str, StrategyStatus]] = dict,
    ) -> None:
        self.settings = settings
        self._runtime = runtime
        self._strategies = strategies
        self.view = Supervision(
            server=server,
            settings=SupervisionSettings(service_level_seconds=settings.service_level_seconds),
            at=self._now(),
        )
        self.pages: set[Page] = set()
        self._pushes = 0
        self._snapshot: tuple[int, bytes] | None = None
        self._last_sent = 0.0
        runtime.add_event_listener(self._on_event)

    def _now(self) -> float:
        return self._runtime.clock.now().wall

    def _on_event(self, delivery: Deliver) -> None:
        self.view.apply(delivery.event, self._now())
        if delivery.event.get("Event") == "EventLinkConnected":
            # The switch's snapshot after a reconnection may hold what no event told
            # (a call routed by default while the link was down): agree with the core.
            self.load()

    def load(self) -> None:
        """Take what the core knows now: at start-up, and after a configuration reload."""
        now = self._now()
        self.view.load(read_core(self._runtime), now)
        self.view.set_health(health_items(self._runtime), now)

    async def run(self) -> None:
        """Push to the open pages every push-interval; until cancelled."""
        while True:
            await asyncio.sleep(self.settings.push_interval)
            self.push()

    def push(self) -> None:
        now = self._now()
        self.view.set_health(health_items(self._runtime), now)
        self.view.set_strategies(self._strategies())
        self.view.tick(now)
        delta = self.view.take_delta(now)
        self._pushes += 1
        if not self.pages or (delta is None and now - self._last_sent < self.settings.heartbeat):
            return
        data = orjson.dumps(delta or {"type": "delta", "now": round(now, 3)})
        self._last_sent = now
        for page in self.pages:
            page.send(data)

    def close_pages(self) -> None:
        for page in list(self.pages):
            page.close()

    def snapshot(self) -> bytes:
        """The whole view, encoded; the same bytes for every page until the next push."""
        if self._snapshot is None or self._snapshot[0] != self._pushes:
            self._snapshot = (self._pushes, orjson.dumps(self.view.snapshot(self._now())))
        return self._snapshot[1]

    def call_detail(self, conn_id: str) -> bytes:
        return orjson.dumps(self.view.call_detail(conn_id))

    def figures(self) -> Figures:
        return self.view.figures(self._now())
