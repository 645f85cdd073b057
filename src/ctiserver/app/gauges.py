"""The metrics that a running server's parts hold as plain numbers or states, turned into
Prometheus metric families each time /metrics is scraped (docs/http.md lists them):
calls by state, the connections at each listener's door, the link to the switch, the
ISCC links, the orchestration server, the
client buffers, the event export, and the dashboard's figures (agents by state, each
queue's waiting calls and answers).

Nothing here runs between scrapes, so none of it costs anything on the call path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ctiserver.doors.admission import Admission
from ctiserver.ha.member import Member, Role
from ctiserver.http.dashboard import Dashboard
from ctiserver.http.metrics import ServerMetrics
from ctiserver.jetstream.export import BUFFER_FULL, REFUSED, EventExport, ExportState
from ctiserver.orchestration.process import OrchestrationProcess
from ctiserver.server.buffers import BufferBudget
from ctiserver.server.runtime import Runtime

CALL_STATES = ("held", "established", "ringing", "queued", "dialing", "initiated", "failed")


def register(
    metrics: ServerMetrics,
    runtime: Runtime,
    orchestration: Callable[[], OrchestrationProcess | None],
    budget: BufferBudget,
    dashboard: Dashboard | None = None,
    member: Member | None = None,
    export: EventExport | None = None,
    doors: Callable[[], Iterable[Admission[Any]]] = tuple,
) -> None:
    """Register every scrape-time metric of a server made of these parts (*doors*: the
    admissions of its listeners, as they are at the scrape)."""
    metrics.gauge("ctiserver_clients", "connected clients", lambda: runtime.client_count)
    metrics.gauge(
        "ctiserver_client_buffers_bytes",
        "bytes held in all client buffers together (bounded by max-client-buffers)",
        lambda: budget.total,
    )
    metrics.gauge(
        "ctiserver_link_up",
        "1 when the link to the switch is up",
        lambda: 1.0 if runtime.link is not None and runtime.link.up else 0.0,
    )
    metrics.gauge(
        "ctiserver_dns_unmonitored",
        "configured DNs the switch would not monitor (asked for again at each keep-alive)",
        lambda: len(runtime.link.unmonitored) if runtime.link is not None else 0,
    )
    metrics.gauge(
        "ctiserver_iscc_peers_up",
        "ISCC peer sites connected",
        lambda: len(runtime.peering.connected) if runtime.peering is not None else 0,
    )
    metrics.gauge(
        "ctiserver_trace_followers",
        "ctiserver trace sessions following",
        lambda: runtime.tracer.followers,
    )
    metrics.collect(lambda: _calls(runtime))
    metrics.collect(lambda: _doors(doors()))
    metrics.collect(lambda: _link(runtime))
    metrics.collect(lambda: _iscc(runtime))
    metrics.collect(lambda: _orchestration(orchestration()))
    if dashboard is not None:
        metrics.collect(lambda: _supervision(dashboard))
    if member is not None:
        metrics.collect(lambda: _pair(member))
    if export is not None:
        metrics.collect(lambda: _export(export))


def _calls(runtime: Runtime) -> Iterable[Metric]:
    states = Counter(call.state for call in runtime.known_calls())
    total = GaugeMetricFamily("ctiserver_calls", "calls in progress")
    total.add_metric([], sum(states.values()))
    yield total
    by_state = GaugeMetricFamily(
        "ctiserver_calls_by_state",
        "calls in progress by the state of their most telling party "
        "(held > established > ringing > queued > dialing > initiated > failed)",
        labels=["state"],
    )
    for state in CALL_STATES:
        by_state.add_metric([state], states.get(state, 0))
    yield by_state


def _doors(admissions: Iterable[Admission[Any]]) -> Iterable[Metric]:
    """Each listener's connections: held, refused, and evicted to make room."""
    held = GaugeMetricFamily(
        "ctiserver_connections", "connections held, by listener", labels=["listener"]
    )
    refused = CounterMetricFamily(
        "ctiserver_connections_refused",
        "connections refused at the door (max-connections with every connection proven, "
        "or max-connections-per-address), by listener",
        labels=["listener"],
    )
    evicted = CounterMetricFamily(
        "ctiserver_connections_evicted",
        "connections closed to make room at a full door: the oldest that had not proved "
        "itself (registered, sent a whole request, authenticated), by listener",
        labels=["listener"],
    )
    for admission in admissions:
        held.add_metric([admission.listener], admission.count)
        refused.add_metric([admission.listener], admission.refused)
        evicted.add_metric([admission.listener], admission.evicted)
    yield from (held, refused, evicted)


def _link(runtime: Runtime) -> Iterable[Metric]:
    link = runtime.link
    if link is None:
        return
    counters = link.counters
    for name, help_text, value in (
        ("ctiserver_link_connects", "connections made to the switch", link.connects),
        (
            "ctiserver_link_connect_failures",
            "attempts to reach the switch that failed",
            link.connect_failures,
        ),
        ("ctiserver_link_resyncs", "resynchronisations with the switch (snapshots)", link.resyncs),
        (
            "ctiserver_csta_frames_received",
            "CSTA frames read from the switch",
            counters.frames_received,
        ),
        ("ctiserver_csta_frames_sent", "CSTA frames written to the switch", counters.frames_sent),
        (
            "ctiserver_csta_protocol_errors",
            "malformed frames from the switch, skipped",
            counters.protocol_errors,
        ),
        (
            "ctiserver_csta_request_timeouts",
            "requests the switch did not answer in time",
            counters.request_timeouts,
        ),
        (
            "ctiserver_csta_error_responses",
            "requests the switch refused (CSTAErrorCode)",
            counters.error_responses,
        ),
    ):
        family = CounterMetricFamily(name, help_text)
        family.add_metric([], value)
        yield family
    drops = CounterMetricFamily(
        "ctiserver_link_drops", "links to the switch lost, by reason", labels=["reason"]
    )
    for reason, count in sorted(link.drops.items()):
        drops.add_metric([reason], count)
    yield drops


def _pair(member: Member) -> Iterable[Metric]:
    """The hot-standby pair (docs/ha.md)."""
    role = GaugeMetricFamily("ctiserver_ha_role", "1 for this member's role", labels=["role"])
    for each in Role:
        role.add_metric([each.value], 1.0 if member.role is each else 0.0)
    yield role
    figures = member.figures()
    for name, help_text, kind in (
        ("term", "the lease revision this member took over with (0: not primary)", "gauge"),
        ("journal_position", "the journal message written (primary) or applied (backup)", "gauge"),
        ("nats_up", "1 while NATS is reachable", "gauge"),
        ("journal_messages", "journal messages written in this term", "counter"),
        ("journal_bytes", "journal bytes written in this term", "counter"),
        ("takeovers", "times this member became primary", "counter"),
        ("demotions", "times this member stopped being primary", "counter"),
    ):
        family: GaugeMetricFamily | CounterMetricFamily
        if kind == "gauge":
            family = GaugeMetricFamily(f"ctiserver_ha_{name}", help_text)
        else:
            family = CounterMetricFamily(f"ctiserver_ha_{name}", help_text)
        family.add_metric([], figures[name])
        yield family


def _iscc(runtime: Runtime) -> Iterable[Metric]:
    peering = runtime.peering
    if peering is None:
        return
    counters = peering.counters
    messages = CounterMetricFamily(
        "ctiserver_iscc_messages",
        "ISCC messages exchanged with other sites",
        labels=["site", "direction", "type"],
    )
    for (site, direction, kind), count in sorted(counters.messages.items()):
        messages.add_metric([site, direction, kind], count)
    yield messages
    for name, help_text, table in (
        ("ctiserver_iscc_connects", "ISCC links established, by site", counters.connects),
        ("ctiserver_iscc_drops", "ISCC links lost, by site", counters.drops),
        (
            "ctiserver_iscc_protocol_errors",
            "malformed ISCC messages, by site",
            counters.protocol_errors,
        ),
        ("ctiserver_iscc_unsent", "ISCC messages not sent: the site was down", counters.unsent),
    ):
        family = CounterMetricFamily(name, help_text, labels=["site"])
        for site, count in sorted(table.items()):
            family.add_metric([site], count)
        yield family


def _export(export: EventExport) -> Iterable[Metric]:
    """The event stream (docs/events.md): what JetStream took, what waits, what was lost."""
    published = CounterMetricFamily(
        "ctiserver_export_published",
        "T-Library events stored in the event stream (acknowledged by JetStream)",
    )
    published.add_metric([], export.published)
    dropped = CounterMetricFamily(
        "ctiserver_export_dropped",
        "T-Library events never exported: the buffer was full (NATS away), or JetStream "
        "refused them",
        labels=["reason"],
    )
    for reason in (BUFFER_FULL, REFUSED):
        dropped.add_metric([reason], export.dropped[reason])
    buffered = GaugeMetricFamily(
        "ctiserver_export_buffered", "T-Library events waiting to be stored in the event stream"
    )
    buffered.add_metric([], export.buffered)
    size = GaugeMetricFamily(
        "ctiserver_export_buffered_bytes",
        "bytes of the events waiting (bounded by [export] max-buffer)",
    )
    size.add_metric([], export.buffered_bytes)
    up = GaugeMetricFamily(
        "ctiserver_export_up",
        "1 while NATS takes the events (0 while they are held or dropped; "
        "1 on the backup of a pair, which has none to export)",
    )
    up.add_metric([], 0.0 if export.state in (ExportState.BUFFERING, ExportState.DROPPING) else 1.0)
    yield from (published, dropped, buffered, size, up)


def _orchestration(server: OrchestrationProcess | None) -> Iterable[Metric]:
    """As the orchestration process last reported them (about once a second)."""
    if server is None:
        return
    counts = server.figures
    active = GaugeMetricFamily("ctiserver_orchestration_sessions", "strategy sessions running")
    active.add_metric([], counts.running)
    yield active
    ready = GaugeMetricFamily(
        "ctiserver_orchestration_ready",
        "1 when the orchestration server is connected and registered on its DNs",
    )
    ready.add_metric([], 1.0 if server.ready.is_set() else 0.0)
    yield ready
    ended = CounterMetricFamily(
        "ctiserver_orchestration_sessions_ended",
        "strategy sessions ended: in a final state, or failed (an error or a limit)",
        labels=["outcome"],
    )
    for outcome in ("final", "failed"):
        ended.add_metric([outcome], counts.ended.get(outcome, 0))
    yield ended
    errors = CounterMetricFamily(
        "ctiserver_orchestration_platform_errors",
        "error.execution and error.communication events raised in strategy sessions",
    )
    errors.add_metric([], counts.errors)
    yield errors


def _supervision(dashboard: Dashboard) -> Iterable[Metric]:
    """The supervision view's figures (docs/dashboard.md): agents per state; calls waiting,
    the longest wait, answers and abandons at each ACD queue and routing point."""
    figures = dashboard.figures()
    agents = GaugeMetricFamily("ctiserver_agents", "agents logged in, by state", labels=["state"])
    for state, count in figures.agents.items():
        agents.add_metric([state], count)
    yield agents
    queue = ["queue"]
    waiting = GaugeMetricFamily(
        "ctiserver_queue_calls_waiting",
        "calls waiting at an ACD queue or routing point",
        labels=queue,
    )
    longest = GaugeMetricFamily(
        "ctiserver_queue_longest_wait_seconds",
        "how long the oldest call waiting has waited",
        labels=queue,
    )
    answered = CounterMetricFamily(
        "ctiserver_queue_calls_answered", "calls answered after waiting there", labels=queue
    )
    abandoned = CounterMetricFamily(
        "ctiserver_queue_calls_abandoned", "calls abandoned while offered there", labels=queue
    )
    for dn, numbers in figures.queues.items():
        waiting.add_metric([dn], numbers.waiting)
        longest.add_metric([dn], numbers.longest_wait)
        answered.add_metric([dn], numbers.answered_total)
        abandoned.add_metric([dn], numbers.abandoned_total)
    yield from (waiting, longest, answered, abandoned)
