"""Prometheus metrics of the server, on their own registry (served at /metrics)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ctiserver.supervision.view import Figures


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

    def event_sent(self, name: str, copies: int) -> None:
        self._events.labels(name).inc(copies)

    def request_handled(self, name: str) -> None:
        self._requests.labels(name).inc()

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at every scrape."""
        gauge = Gauge(name, description, registry=self.registry)
        gauge.set_function(read)
        self._gauges.append((gauge, read))

    def supervise(self, read: Callable[[], Figures]) -> None:
        """Export the supervision view's figures, read at every scrape."""
        self.registry.register(SupervisionCollector(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class SupervisionCollector:
    """Agents per state, and each queue's (and routing point's) calls waiting, longest
    wait, and calls answered and abandoned since the server started."""

    def __init__(self, read: Callable[[], Figures]) -> None:
        self._read = read

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        figures = self._read()
        agents, waiting, longest, answered, abandoned = self._families()
        for state, count in figures.agents.items():
            agents.add_metric([state], count)
        for queue, numbers in figures.queues.items():
            waiting.add_metric([queue], numbers.waiting)
            longest.add_metric([queue], numbers.longest_wait)
            answered.add_metric([queue], numbers.answered_total)
            abandoned.add_metric([queue], numbers.abandoned_total)
        return iter((agents, waiting, longest, answered, abandoned))

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        CounterMetricFamily,
        CounterMetricFamily,
    ]:
        queue = ["queue"]
        return (
            GaugeMetricFamily("ctiserver_agents", "agents logged in, by state", labels=["state"]),
            GaugeMetricFamily("ctiserver_queue_calls_waiting", "calls waiting", labels=queue),
            GaugeMetricFamily(
                "ctiserver_queue_longest_wait_seconds",
                "wait of the oldest call waiting",
                labels=queue,
            ),
            CounterMetricFamily(
                "ctiserver_queue_calls_answered", "calls answered after waiting", labels=queue
            ),
            CounterMetricFamily(
                "ctiserver_queue_calls_abandoned", "calls abandoned while offered", labels=queue
            ),
        )
