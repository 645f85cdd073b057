"""Prometheus metrics of the server, on their own registry (served at /metrics; every
metric is listed, with example queries, in docs/http.md).

Counted on the hot path without locks (the event loop is the only writer): the
latency histograms, the events and requests by name and the link counters are plain
numbers that a collector turns into metric families when /metrics is scraped
(prometheus_client's counters lock at every increment, which costs more than the count
itself on the per-event path).
Values that are states (calls by state, clients, link up) are read at scrape time.
Process metrics (CPU, memory, open files) and the Python runtime's come from
prometheus-client's own collectors.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# Seconds: from a quarter of a millisecond to ten seconds (the switch's reply timeout).
LATENCY_BUCKETS: Final = (
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

Families = Callable[[], Iterable[Metric]]


class Latencies:
    """A histogram per label value, kept as plain counts until a scrape."""

    def __init__(self, bounds: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(bounds)
        self._counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def observe(self, label: str, seconds: float) -> None:
        counts = self._counts.get(label)
        if counts is None:
            counts = self._counts[label] = [0] * (len(self.bounds) + 1)
            self._sums[label] = 0.0
        counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self._sums[label] += seconds

    def family(self, name: str, documentation: str, label: str | None) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, documentation, labels=[label] if label else None)
        for value, counts in self._counts.items():
            cumulative, buckets = 0, []
            for bound, count in zip((*self.bounds, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((_bound(bound), float(cumulative)))
            family.add_metric([value] if label else [], buckets, self._sums[value])
        return family


class Counts:
    """A counter per label value, kept as plain numbers until a scrape."""

    def __init__(self) -> None:
        self._counts: dict[str, float] = {}

    def add(self, label: str, amount: float) -> None:
        counts = self._counts
        counts[label] = counts.get(label, 0) + amount

    def family(self, name: str, documentation: str, label: str) -> CounterMetricFamily:
        family = CounterMetricFamily(name, documentation, labels=[label])
        for value, count in self._counts.items():
            family.add_metric([value], float(count))
        return family


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class _Collector:
    """Adapts a function that yields metric families to the registry's interface."""

    def __init__(self, families: Families) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families()

    def describe(self) -> Iterable[Metric]:
        return self._families()


class ServerMetrics:
    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._events_sent = Counts()
        self._requests = Counts()
        self._auth_failures = Counter(
            "ctiserver_auth_failures",
            "clients that failed to authenticate (RequestRegisterClient refused)",
            registry=self.registry,
        )
        self.request_latency = Latencies()
        self.csta_latency = Latencies()
        self.collect(self._latencies)
        self.collect(self._counts)
        if process:
            _register_runtime_collectors(self.registry)

    def event_sent(self, name: str, copies: int) -> None:
        self._events_sent.add(name, copies)

    def request_handled(self, name: str) -> None:
        self._requests.add(name, 1)

    def _counts(self) -> Iterable[Metric]:
        sent = "T-Library events delivered to clients (one per copy)"
        yield self._events_sent.family("ctiserver_events_sent", sent, "event")
        yield self._requests.family("ctiserver_requests", "T-Library requests received", "request")

    def authentication_failed(self) -> None:
        self._auth_failures.inc()

    def request_answered(self, name: str, seconds: float) -> None:
        self.request_latency.observe(name, seconds)

    def csta_event_handled(self, seconds: float) -> None:
        self.csta_latency.observe("", seconds)

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at every scrape."""
        gauge = Gauge(name, description, registry=self.registry)
        gauge.set_function(read)

    def collect(self, families: Families) -> None:
        """Metric families made at every scrape by *families* (counters kept elsewhere)."""
        self.registry.register(_Collector(families))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _latencies(self) -> Iterable[Metric]:
        yield self.request_latency.family(
            "ctiserver_request_seconds",
            "T-Library request received to its first answering event queued for the client",
            "request",
        )
        yield self.csta_latency.family(
            "ctiserver_csta_event_seconds",
            "CSTA event read from the switch to the T-Library events it causes queued for "
            "the clients",
            None,
        )


def _register_runtime_collectors(registry: CollectorRegistry) -> None:
    """process_* (CPU, memory, open files, start time) and python_* (GC, version)."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
