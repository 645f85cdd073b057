"""Prometheus metrics of the server, on their own registry (served at /metrics).

The labelled children of a counter are looked up once per label value and kept:
prometheus_client's labels() validates and locks at every call, which costs more than
the count itself on the per-event path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._events = Counter(
            "ctiserver_events_sent",
            "T-Library events delivered to clients (one per copy)",
            ["event"],
            registry=self.registry,
        )
        self._requests = Counter(
            "ctiserver_requests",
            "T-Library requests received",
            ["request"],
            registry=self.registry,
        )
        self._gauges: list[tuple[Gauge, Callable[[], float]]] = []
        self._event_counts: dict[str, Any] = {}
        self._request_counts: dict[str, Any] = {}

    def event_sent(self, name: str, copies: int) -> None:
        count = self._event_counts.get(name)
        if count is None:
            count = self._event_counts[name] = self._events.labels(name)
        count.inc(copies)

    def request_handled(self, name: str) -> None:
        count = self._request_counts.get(name)
        if count is None:
            count = self._request_counts[name] = self._requests.labels(name)
        count.inc()

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at every scrape."""
        gauge = Gauge(name, description, registry=self.registry)
        gauge.set_function(read)
        self._gauges.append((gauge, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
