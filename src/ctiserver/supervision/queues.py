"""ACD queues and routing points as a supervisor measures them: the calls waiting and
since when, the calls answered and abandoned in the last `window` seconds, and the
service level.

A call waits at a queue from its EventQueued (at a routing point, from its
EventRouteRequest) until the queue sends it on (EventDiverted, EventRouteUsed), or it is
abandoned or released there.  Each queue or routing point a call passed through stays
open on the call (`LiveCall.visits`) until the call is settled:

- answered: a DN that is neither a queue nor a routing point answers it (EventEstablished
  with ThisDNRole Destination); every open visit counts an answer, with the time from
  entering that queue to the answer;
- abandoned: the caller leaves while the call is offered (EventAbandoned, at the queue,
  at the routing point, or ringing at the agent it was sent to).

A call that leaves our DNs without either (routed to another site) counts as neither.
Service level = answers within `target` seconds / (answers + abandons), over the window;
none when the window holds neither.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctiserver.supervision.calls import LiveCall

Settled = collections.deque[tuple[float, float]]  # (when, seconds waited), oldest first


@dataclass(slots=True)
class QueueStats:
    dn: str
    kind: str  # Queue or RouteDN
    waiting: dict[str, float] = field(default_factory=dict)  # ConnID -> since
    answered: Settled = field(default_factory=collections.deque)
    abandoned: Settled = field(default_factory=collections.deque)
    answered_total: int = 0
    abandoned_total: int = 0

    @property
    def oldest(self) -> float | None:
        return min(self.waiting.values()) if self.waiting else None

    def row(self, target: float, agents: Mapping[str, int]) -> dict[str, Any]:
        within = sum(1 for _, waited in self.answered if waited <= target)
        settled = len(self.answered) + len(self.abandoned)
        speed = (
            sum(waited for _, waited in self.answered) / len(self.answered)
            if self.answered
            else None
        )
        return {
            "kind": self.kind,
            "waiting": len(self.waiting),
            "oldest": None if self.oldest is None else round(self.oldest, 1),
            "answered": len(self.answered),
            "abandoned": len(self.abandoned),
            "withinTarget": within,
            "serviceLevel": round(within / settled, 4) if settled else None,
            "averageAnswer": None if speed is None else round(speed, 1),
            "agents": dict(agents),
        }


class QueueBoard:
    def __init__(self, *, window: float, target: float) -> None:
        self.queues: dict[str, QueueStats] = {}
        self.window = window
        self.target = target
        self.total_waiting = 0  # calls waiting at every queue and routing point

    def configure(self, dns: Mapping[str, str]) -> list[str]:
        """Follow the configured queues and routing points; returns those that changed."""
        wanted = {dn: kind for dn, kind in dns.items() if kind in ("Queue", "RouteDN")}
        gone = [dn for dn in self.queues if dn not in wanted]
        for dn in gone:
            self.total_waiting -= len(self.queues.pop(dn).waiting)
        new = [dn for dn in wanted if dn not in self.queues]
        for dn in new:
            self.queues[dn] = QueueStats(dn, wanted[dn])
        return gone + new

    def entered(self, dn: str, call: LiveCall, at: float) -> bool:
        queue = self.queues.get(dn)
        if queue is None:
            return False
        if call.conn_id not in queue.waiting:
            queue.waiting[call.conn_id] = at
            self.total_waiting += 1
        call.visits.setdefault(dn, at)
        return True

    def left(self, dn: str, conn_id: str) -> bool:
        queue = self.queues.get(dn)
        if queue is None or queue.waiting.pop(conn_id, None) is None:
            return False
        self.total_waiting -= 1
        return True

    def answered(self, call: LiveCall, at: float) -> list[str]:
        return list(self._settle(call, at, answered=True))

    def abandoned(self, call: LiveCall, at: float) -> list[str]:
        return list(self._settle(call, at, answered=False))

    def _settle(self, call: LiveCall, at: float, *, answered: bool) -> Iterator[str]:
        visits, call.visits = call.visits, {}
        for dn, entered in visits.items():
            queue = self.queues.get(dn)
            if queue is None:
                continue
            if queue.waiting.pop(call.conn_id, None) is not None:
                self.total_waiting -= 1
            if answered:
                queue.answered.append((at, at - entered))
                queue.answered_total += 1
            else:
                queue.abandoned.append((at, at - entered))
                queue.abandoned_total += 1
            yield dn

    def expire(self, now: float) -> list[str]:
        """Forget what was settled before the window; returns the queues that changed."""
        horizon = now - self.window
        changed = []
        for queue in self.queues.values():
            before = len(queue.answered) + len(queue.abandoned)
            for settled in (queue.answered, queue.abandoned):
                while settled and settled[0][0] < horizon:
                    settled.popleft()
            if len(queue.answered) + len(queue.abandoned) != before:
                changed.append(queue.dn)
        return changed
