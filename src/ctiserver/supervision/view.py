"""The supervision view: the state of the contact centre, kept from the T-Library events
the core produces, as a snapshot and as deltas for the dashboard.

    view = Supervision(server="tserver", settings=SupervisionSettings(), at=now)
    view.load(core_snapshot, now)      # once at start-up, and after a reload
    view.apply(event, now)             # every event, as the runtime produces it
    view.tick(now)                     # now and then: windows, trends, ended calls
    view.snapshot(now)                 # everything, for a page that connects
    view.take_delta(now)               # the rows changed since the last delta, or None

Pure and synchronous: time is an argument (epoch seconds), nothing here waits.  A delta
holds whole rows (a row or null per changed key) so that a page needs no history; rows
say since when, never for how long, so a page counts seconds without being sent any.

What each part knows: calls.py (live calls), agents.py, queues.py, directory.py (DNs),
trends.py; this module routes each event to them and notes what changed.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ctiserver.supervision.agents import AGENT_EVENTS, AGENT_STATES, AgentBoard
from ctiserver.supervision.calls import CallBoard, CallChange, LiveCall, most_telling
from ctiserver.supervision.core_snapshot import CoreSnapshot
from ctiserver.supervision.directory import Directory
from ctiserver.supervision.queues import QueueBoard
from ctiserver.supervision.trends import Trends
from ctiserver.tlib.vocabulary import TMessage

WAITING_EVENTS: Final = frozenset({"EventQueued", "EventRouteRequest"})
LEAVING_QUEUE: Final = frozenset(
    {"EventDiverted", "EventRouteUsed", "EventReleased", "EventAbandoned"}
)
LINK_EVENTS: Final = {"EventLinkConnected": True, "EventLinkDisconnected": False}
QUEUE_KINDS: Final = frozenset({"Queue", "RouteDN"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionSettings:
    service_level_seconds: float = 20.0  # the service level's target answer time
    window: float = 900.0  # seconds over which answers and abandons are counted
    history: int = 50  # events kept per call
    trend_minutes: int = 60
    recent: float = 30.0  # seconds an ended call is remembered (calls.py, rule 2)


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """`[dashboard]`: the service level's target answer time (SupervisionSettings'), and
    how often the pages get deltas (http.dashboard)."""

    service_level_seconds: float = 20.0
    push_interval: float = 0.25
    heartbeat: float = 5.0  # seconds of quiet before a delta with only the time (not in the file)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthItem:
    """One line of the health panel: `ok` is True (good), False (bad) or None (neither:
    a role, say)."""

    key: str
    label: str
    state: str
    ok: bool | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StrategyStatus:
    """The strategy loaded on a routing point, and its sessions running now."""

    name: str
    sessions: int


@dataclass(frozen=True, slots=True)
class QueueFigures:
    waiting: int
    longest_wait: float
    answered_total: int
    abandoned_total: int


@dataclass(frozen=True, slots=True)
class Figures:
    """What /metrics reads: agents per state, and each queue's figures."""

    agents: Mapping[str, int]
    queues: Mapping[str, QueueFigures]


@dataclass(slots=True)
class Dirty:
    dns: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    health: bool = False
    trend: bool = False  # the current bucket changed
    trends: bool = False  # a bucket was opened

    def __bool__(self) -> bool:
        return bool(
            self.dns
            or self.agents
            or self.queues
            or self.calls
            or self.health
            or self.trend
            or self.trends
        )


class Supervision:
    def __init__(self, *, server: str, settings: SupervisionSettings, at: float) -> None:
        self.server = server
        self.settings = settings
        self.directory = Directory()
        self.calls = CallBoard(history=settings.history, recent=settings.recent)
        self.agents = AgentBoard()
        self.queues = QueueBoard(window=settings.window, target=settings.service_level_seconds)
        self.trends = Trends(minutes=settings.trend_minutes, at=at)
        self._health: dict[str, tuple[HealthItem, float]] = {}
        self._strategies: dict[str, StrategyStatus] = {}
        self._dirty = Dirty()

    # --- inputs -----------------------------------------------------------------------

    def apply(self, event: TMessage, at: float) -> None:
        """Take one T-Library event, as the core produced it."""
        self._advance(at)
        name = event.get("Event", "")
        if name in LINK_EVENTS:
            self._set_health(link_item(LINK_EVENTS[name]), at)
        elif name in AGENT_EVENTS:
            self._agent_event(event, at)
        else:
            change = self.calls.apply(event, at)
            if change is not None:
                self._call_changed(change, event, at)

    def _agent_event(self, event: TMessage, at: float) -> None:
        before = self.agents.agents.get(event.get("ThisDN", ""))
        agent = self.agents.apply(event, at)
        if agent is None:
            return
        self._dirty.agents.add(agent.dn)
        self._dirty.dns.add(agent.dn)
        self._queue_changed(agent.queue)
        if before is not None:
            self._queue_changed(before.queue)  # another agent took the DN
        if agent.dn in self.agents.agents:
            self._agent_on_call(agent.dn, self.calls.states_at(agent.dn).values(), at)

    def _call_changed(self, change: CallChange, event: TMessage, at: float) -> None:
        call, dn, name = change.call, change.dn, event.get("Event", "")
        self._dirty.calls.update((call.conn_id, *change.ended))
        if change.moved_from is not None:
            self._dirty.calls.add(change.moved_from)
        if change.created and call.call_type != "Consult":
            self.trends.call_started(at)
            self._dirty.trend = True
        kind = self.directory.kind(dn)
        changed = self._queue_moves(dn, name, call, at) if kind in QUEUE_KINDS else []
        if name == "EventEstablished" and kind == "DN" and event.get("ThisDNRole") == "Destination":
            changed += self.queues.answered(call, at)
            if self.agents.answered(dn) is not None:
                self._dirty.agents.add(dn)
        elif name == "EventAbandoned":
            changed += self.queues.abandoned(call, at)
        if changed:
            self._queues_changed(changed)
            self._waiting_changed(at)
        self._refresh_dn(dn, at)

    def _queue_moves(self, dn: str, name: str, call: LiveCall, at: float) -> list[str]:
        """A call entering or leaving the queue or routing point *dn*."""
        if name in WAITING_EVENTS:
            return [dn] if self.queues.entered(dn, call, at) else []
        if name in LEAVING_QUEUE:
            return [dn] if self.queues.left(dn, call.conn_id) else []
        return []

    def _waiting_changed(self, at: float) -> None:
        if self.trends.waiting(self.queues.total_waiting, at):
            self._dirty.trend = True

    def _refresh_dn(self, dn: str, at: float) -> None:
        states = self.calls.states_at(dn)
        if self.directory.refresh(dn, states, at):
            self._dirty.dns.add(dn)
        self._agent_on_call(dn, states.values(), at)

    def _agent_on_call(self, dn: str, states: Iterable[str], at: float) -> None:
        agent = self.agents.on_call(dn, most_telling(states), at)
        if agent is not None:
            self._dirty.agents.add(dn)
            self._queue_changed(agent.queue)

    def _queue_changed(self, dn: str | None) -> None:
        if dn is not None and dn in self.queues.queues:
            self._dirty.queues.add(dn)

    def _queues_changed(self, dns: Iterable[str]) -> None:
        for dn in dns:
            self._queue_changed(dn)

    def set_health(self, items: Sequence[HealthItem], at: float) -> None:
        """The health panel's lines as the server reports them now (link, peers, role…)."""
        for item in items:
            self._set_health(item, at)
        for key in set(self._health) - {item.key for item in items}:
            del self._health[key]
            self._dirty.health = True

    def _set_health(self, item: HealthItem, at: float) -> None:
        known = self._health.get(item.key)
        if known is not None and known[0] == item:
            return
        since = known[1] if known is not None and known[0].state == item.state else at
        self._health[item.key] = (item, since)
        self._dirty.health = True

    def set_strategies(self, strategies: Mapping[str, StrategyStatus]) -> None:
        for dn in set(strategies) | set(self._strategies):
            if strategies.get(dn) != self._strategies.get(dn):
                self._queue_changed(dn)
        self._strategies = dict(strategies)

    def tick(self, at: float) -> None:
        """Let time pass: the window forgets old answers, a new minute opens."""
        self._queues_changed(self.queues.expire(at))
        self._advance(at)
        self.calls.forget_ended(at)

    def _advance(self, at: float) -> None:
        if self.trends.advance(at):
            self._dirty.trends = True

    # --- the core's snapshot ----------------------------------------------------------

    def load(self, snapshot: CoreSnapshot, at: float) -> None:
        """Agree with what the core knows (at start-up, after a reload, after the link
        came back): the DNs, the agents and the calls.  The core is right: what it does
        not know goes, what the events did not tell comes; what they told stays."""
        self._advance(at)
        self._configure(snapshot.dns, at)
        for dn in [dn for dn in self.agents.agents if dn not in {a.dn for a in snapshot.agents}]:
            self.agents.drop(dn)
            self._dirty.agents.add(dn)
            self._dirty.dns.add(dn)  # its row names the agent
        for agent in snapshot.agents:
            self.agents.load(agent, at)
            self._dirty.agents.add(agent.dn)
            self._dirty.dns.add(agent.dn)
        self._load_calls(snapshot, at)
        self._set_health(link_item(snapshot.link_up), at)
        self._dirty.queues.update(self.queues.queues)
        for dn in self.directory.entries:
            self._refresh_dn(dn, at)

    def _configure(self, dns: Mapping[str, str], at: float) -> None:
        added, removed = self.directory.configure(dns, at)
        for dn in removed:
            self._dirty.calls.update(self.calls.drop_dn(dn, at))
            if self.agents.drop(dn) is not None:
                self._dirty.agents.add(dn)
        self._dirty.dns.update(added + removed)
        self._dirty.queues.update(self.queues.configure(dns))

    def _load_calls(self, snapshot: CoreSnapshot, at: float) -> None:
        known = {call.conn_id for call in snapshot.calls}
        for conn_id, call in list(self.calls.calls.items()):
            if conn_id not in known:
                for dn in list(call.parties):
                    self._dirty.calls.update(self.calls.drop_party(conn_id, dn, at))
        for snapshot_call in snapshot.calls:
            call, changed = self.calls.load(snapshot_call, at)
            self._dirty.calls.add(call.conn_id)
            for dn in changed:
                queued = call.parties.get(dn) == "Queued"
                if (
                    self.queues.entered(dn, call, at)
                    if queued
                    else self.queues.left(dn, call.conn_id)
                ):
                    self._queue_changed(dn)
        self._waiting_changed(at)

    # --- outputs ----------------------------------------------------------------------

    def snapshot(self, at: float) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "now": round(at, 3),
            "server": self.server,
            "settings": {
                "serviceLevelSeconds": self.settings.service_level_seconds,
                "window": self.settings.window,
            },
            "health": self._health_rows(),
            "dns": {dn: self._dn_row(dn) for dn in self.directory.entries},
            "agents": {dn: agent.row() for dn, agent in self.agents.agents.items()},
            "queues": {dn: self._queue_row(dn) for dn in self.queues.queues},
            "calls": {conn_id: call.row() for conn_id, call in self.calls.calls.items()},
            "trends": self.trends.rows(),
        }

    def take_delta(self, at: float) -> dict[str, Any] | None:
        """The rows changed since the last delta (or snapshot), or None if none did."""
        dirty, self._dirty = self._dirty, Dirty()
        if not dirty:
            return None
        delta: dict[str, Any] = {"type": "delta", "now": round(at, 3)}
        sections = (
            ("dns", dirty.dns, self._dn_row),
            ("agents", dirty.agents, self._agent_row),
            ("queues", dirty.queues, self._queue_row),
            ("calls", dirty.calls, self._call_row),
        )
        for name, keys, row in sections:
            if keys:
                delta[name] = {key: row(key) for key in keys}
        if dirty.health:
            delta["health"] = self._health_rows()
        if dirty.trends:
            delta["trends"] = self.trends.rows()
        elif dirty.trend:
            delta["trend"] = list(self.trends.current)
        return delta

    def call_detail(self, conn_id: str) -> dict[str, Any]:
        """A call's UserData and the history of its events (a page asks on a click)."""
        call = self.calls.find(conn_id)
        if call is None:
            return {"type": "call", "ConnID": conn_id, "found": False}
        return {
            "type": "call",
            "ConnID": conn_id,
            "found": True,
            "call": call.row(),
            "UserData": dict(call.user_data),
            "history": list(call.history),
        }

    def figures(self, at: float) -> Figures:
        counts = self.agents.counts()
        queues = {
            dn: QueueFigures(
                waiting=len(queue.waiting),
                longest_wait=0.0 if queue.oldest is None else max(0.0, at - queue.oldest),
                answered_total=queue.answered_total,
                abandoned_total=queue.abandoned_total,
            )
            for dn, queue in self.queues.queues.items()
        }
        return Figures({state: counts.get(state, 0) for state in AGENT_STATES}, queues)

    def _dn_row(self, dn: str) -> dict[str, Any] | None:
        entry = self.directory.entries.get(dn)
        if entry is None:
            return None
        agent = self.agents.agents.get(dn)
        return entry.row(None if agent is None else agent.agent_id)

    def _agent_row(self, dn: str) -> dict[str, Any] | None:
        agent = self.agents.agents.get(dn)
        return None if agent is None else agent.row()

    def _queue_row(self, dn: str) -> dict[str, Any] | None:
        queue = self.queues.queues.get(dn)
        if queue is None:
            return None
        row = queue.row(self.queues.target, self.agents.per_queue.get(dn, collections.Counter()))
        strategy = self._strategies.get(dn)
        row["strategy"] = (
            None if strategy is None else {"name": strategy.name, "sessions": strategy.sessions}
        )
        return row

    def _call_row(self, conn_id: str) -> dict[str, Any] | None:
        call = self.calls.calls.get(conn_id)
        return None if call is None else call.row()

    def _health_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "key": item.key,
                "label": item.label,
                "state": item.state,
                "ok": item.ok,
                "detail": item.detail,
                "since": round(since, 1),
            }
            for item, since in self._health.values()
        ]


def link_item(up: bool) -> HealthItem:
    return HealthItem(key="link", label="Switch link", state="up" if up else "down", ok=up)
