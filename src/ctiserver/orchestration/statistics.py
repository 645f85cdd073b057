"""Statistics, by their Genesys names, computed from what the orchestration server sees
through the T-Library: of one agent, of a group of agents, of a virtual queue.  Pure.

    agent           StatTimeInReadyState   seconds available (Ready, no call): longest available
                    StatCallsAnswered      calls answered (also CallsHandled, CallsAnswered)
                    StatCallsCompleted     calls answered and then released
                    <skill name>           the agent's level of that skill (0 without it)
    agent group     StatAgentsAvailable    agents available
                    StatAgentsTotal        agents logged in
                    StatAgentsBusy         agents on a call
                    StatAgentsInQueueLogin, StatAgentsInQueueReady   (ACD queues) logged in, Ready
    virtual queue   CallsWaiting           calls waiting in <queue:submit> (also
                                           StatCallsInQueue, CurrNumberWaitingCalls)
                    ExpectedWaitTime       seconds a call joining now may wait (also
                                           StatExpectedWaitingTime)
                    CallsDistributed       calls routed from it (also StatCallsDistributed)

Rule 1: a statistic is a number, or None when it does not apply to the object.
Rule 2: ExpectedWaitTime is 0 while no call waits; otherwise the calls waiting times the
mean interval between the last ten calls the virtual queue routed (measured up to now),
and, before it has routed any, the longest wait so far.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.orchestration.agents import READY, Seat
from ctiserver.orchestration.directory import Directory
from ctiserver.scxml.values import Value


class Stat(enum.StrEnum):
    TIME_IN_READY_STATE = "StatTimeInReadyState"
    CALLS_ANSWERED = "StatCallsAnswered"
    CALLS_COMPLETED = "StatCallsCompleted"
    AGENTS_AVAILABLE = "StatAgentsAvailable"
    AGENTS_TOTAL = "StatAgentsTotal"
    AGENTS_BUSY = "StatAgentsBusy"
    AGENTS_IN_QUEUE_LOGIN = "StatAgentsInQueueLogin"
    AGENTS_IN_QUEUE_READY = "StatAgentsInQueueReady"
    CALLS_WAITING = "CallsWaiting"
    EXPECTED_WAIT_TIME = "ExpectedWaitTime"
    CALLS_DISTRIBUTED = "CallsDistributed"


ALIASES: Final[Mapping[str, Stat]] = {
    **{stat.value: stat for stat in Stat},
    "CallsHandled": Stat.CALLS_ANSWERED,
    "CallsAnswered": Stat.CALLS_ANSWERED,
    "StatCallsInQueue": Stat.CALLS_WAITING,
    "CurrNumberWaitingCalls": Stat.CALLS_WAITING,
    "StatExpectedWaitingTime": Stat.EXPECTED_WAIT_TIME,
    "StatCallsDistributed": Stat.CALLS_DISTRIBUTED,
}
GROUP_STATS: Final = frozenset(
    {
        Stat.AGENTS_AVAILABLE,
        Stat.AGENTS_TOTAL,
        Stat.AGENTS_BUSY,
        Stat.AGENTS_IN_QUEUE_LOGIN,
        Stat.AGENTS_IN_QUEUE_READY,
    }
)
QUEUE_STATS: Final = (Stat.CALLS_WAITING, Stat.EXPECTED_WAIT_TIME, Stat.CALLS_DISTRIBUTED)
EWT_WINDOW: Final = 10


def known(name: str, directory: Directory) -> bool:
    """True when *name* is a statistic or a skill (a skill's level orders agents)."""
    return name in ALIASES or name in directory.skill_names()


def agent_stat(seat: Seat, name: str, directory: Directory, now: float) -> float | None:
    """A statistic of one agent (Rule 1)."""
    stat = ALIASES.get(name)
    if stat is Stat.TIME_IN_READY_STATE:
        return now - seat.available_since if seat.available else 0.0
    if stat is Stat.CALLS_ANSWERED:
        return float(seat.calls_answered)
    if stat is Stat.CALLS_COMPLETED:
        return float(seat.calls_completed)
    if stat is None and name in directory.skill_names():
        level = directory.skills(seat.agent_id).get(name, 0)
        return float(level) if isinstance(level, int | float) else 0.0
    return None


def group_stat(seats: Iterable[Seat], name: str) -> float | None:
    """A statistic of a group of agents (Rule 1)."""
    stat = ALIASES.get(name)
    if stat not in GROUP_STATS:
        return None
    members = list(seats)
    if stat is Stat.AGENTS_AVAILABLE:
        return float(sum(seat.available for seat in members))
    if stat is Stat.AGENTS_BUSY:
        return float(sum(seat.busy for seat in members))
    if stat is Stat.AGENTS_IN_QUEUE_READY:
        return float(sum(seat.status == READY for seat in members))
    return float(len(members))  # StatAgentsTotal, StatAgentsInQueueLogin


class Figures(Mapping[str, float]):
    """Statistics by name, computed when read: what a threshold (`{StatAgentsAvailable>2}`)
    is evaluated against; the agent's own first, then its group's."""

    def __init__(
        self, seat: Seat | None, group: list[Seat], directory: Directory, now: float
    ) -> None:
        self._seat, self._group, self._directory, self._now = seat, group, directory, now

    def __getitem__(self, name: str) -> float:
        value = None
        if self._seat is not None:
            value = agent_stat(self._seat, name, self._directory, self._now)
        if value is None:
            value = group_stat(self._group, name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(ALIASES)

    def __len__(self) -> int:
        return len(ALIASES)


@dataclass(slots=True)
class _Queue:
    waiting: dict[str, float] = field(default_factory=dict)  # request id → since
    routed: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=EWT_WINDOW)
    )
    distributed: int = 0


class VirtualQueues:
    """The calls waiting in each virtual queue (`<queue:submit queue=…>`), and when the
    last ones were routed from it."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}

    def names(self) -> list[str]:
        return list(self._queues)

    def entered(self, name: str, request_id: str, now: float) -> None:
        self._queues.setdefault(name, _Queue()).waiting[request_id] = now

    def left(self, name: str, request_id: str, now: float, *, routed: bool) -> None:
        queue = self._queues.get(name)
        if queue is None or queue.waiting.pop(request_id, None) is None:
            return
        if routed:
            queue.routed.append(now)
            queue.distributed += 1

    def stat(self, name: str, statistic: str, now: float) -> float | None:
        stat = ALIASES.get(statistic)
        queue = self._queues.get(name, _Queue())
        if stat is Stat.CALLS_WAITING:
            return float(len(queue.waiting))
        if stat is Stat.CALLS_DISTRIBUTED:
            return float(queue.distributed)
        if stat is Stat.EXPECTED_WAIT_TIME:
            return _expected_wait(queue, now)
        return None


def _expected_wait(queue: _Queue, now: float) -> float:
    """Rule 2."""
    waiting = len(queue.waiting)
    if waiting == 0:
        return 0.0
    if not queue.routed:
        return now - min(queue.waiting.values())
    interval = (now - queue.routed[0]) / len(queue.routed)
    return waiting * interval


def snapshot(
    seats: list[Seat], directory: Directory, queues: VirtualQueues, now: float
) -> dict[str, Value]:
    """What `_genesys.statistic.sData` answers from: every virtual queue by name, and
    every agent group (`NAME.GA`: configured groups and ACD queues, also `NAME.Q`) and
    place group (`NAME.GP`) with its group statistics, over every connection's agents."""
    figures: dict[str, Value] = {}
    for name in queues.names():
        figures[name] = {stat.value: queues.stat(name, stat, now) for stat in QUEUE_STATS}
    groups: dict[str, list[Seat]] = {}
    for seat in seats:
        if seat.queue is not None:
            groups.setdefault(f"{seat.queue}.GA", []).append(seat)
            groups.setdefault(f"{seat.queue}.Q", []).append(seat)  # the ACD queue
    for name in directory.settings.agent_groups.keys() | _named_groups(directory):
        ids = directory.group(name) or frozenset()
        groups[f"{name}.GA"] = [seat for seat in seats if seat.agent_id in ids]
    by_dn = {seat.dn: seat for seat in seats}
    for name, dns in directory.settings.place_groups.items():
        groups[f"{name}.GP"] = [by_dn[dn] for dn in dns if dn in by_dn]
    for key, members in groups.items():
        figures[key] = {stat.value: group_stat(members, stat) for stat in GROUP_STATS}
    return figures


def _named_groups(directory: Directory) -> set[str]:
    return {group for profile in directory.settings.agents.values() for group in profile.groups}
