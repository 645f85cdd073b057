"""Prometheus metrics of the server, on their own registry (served at /metrics)."""

from __future__ import annotations

from collections.abc import Callable

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
        self._auth_failures = Counter(
            "ctiserver_auth_failures",
            "clients that failed to authenticate (RequestRegisterClient refused)",
            registry=self.registry,
        )
        self._gauges: list[tuple[Gauge, Callable[[], float]]] = []

    def event_sent(self, name: str, copies: int) -> None:
        self._events.labels(name).inc(copies)

    def request_handled(self, name: str) -> None:
        self._requests.labels(name).inc()

    def authentication_failed(self) -> None:
        self._auth_failures.inc()

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at every scrape."""
        gauge = Gauge(name, description, registry=self.registry)
        gauge.set_function(read)
        self._gauges.append((gauge, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
