"""Target selection for `<queue:submit>`: which DN, at which site, a waiting call goes to.
Pure.

Each CTI server connection offers a Pool (its agents, calls and reservations); the call's
own pool comes first.  A target at `@SITE` is looked for in the pool of that site when
one has that location; a numbered target (DN, P, Q, RP) at a site the server has no
connection to is sent there through ISCC, unchecked; an agent or group target whose `@`
names no known site is looked for in every pool (Genesys writes the statistics server's
name there).

    free       an agent: Ready with no call at its DN and not just chosen for another call;
               a DN without an agent: no call at it; a DN the server does not follow: free
    order      without `orderstat`: the targets in the order written, and within a group
               the agent available the longest; with it, the best candidate of all targets
               by that statistic (`ordertype` max or min), the longest available first
               among equals

Rule 1: a DN just chosen for a call is reserved until its route request is answered (or
its deadline passes), so that two calls routed at once do not pick the same agent; after
that the call book counts the call as on its way to the DN until its EventRinging.
Rule 2: a threshold (`{StatAgentsAvailable>2}Sales.GA`) is evaluated for each candidate
agent, against its own statistics and then its group's; a candidate it rejects is not
free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ctiserver.orchestration.agents import AgentBoard, Seat
from ctiserver.orchestration.calls import CallBook
from ctiserver.orchestration.directory import Directory
from ctiserver.orchestration.statistics import ALIASES, Figures, agent_stat
from ctiserver.orchestration.targets import NUMBERED, Target, TargetType
from ctiserver.scxml.values import Value


class Reservations:
    """DNs chosen for calls whose EventRinging has not come back yet (Rule 1)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def reserve(self, dn: str, until: float) -> None:
        self._until[dn] = until

    def release(self, dn: str) -> None:
        self._until.pop(dn, None)

    def held(self, dn: str, now: float) -> bool:
        until = self._until.get(dn)
        if until is None:
            return False
        if until <= now:
            del self._until[dn]
            return False
        return True


@dataclass(slots=True)
class Pool:
    """What one CTI server connection offers: its agents, calls and reservations."""

    link: str
    location: str | None
    agents: AgentBoard = field(default_factory=AgentBoard)
    calls: CallBook = field(default_factory=CallBook)
    reservations: Reservations = field(default_factory=Reservations)


@dataclass(frozen=True, slots=True)
class Order:
    """`orderstat` and `ordertype`: the statistic to order candidates by, max or min."""

    statistic: str
    maximum: bool = True


@dataclass(frozen=True, slots=True)
class Selection:
    """Where the call goes: the DN, in which pool (or at which remote location), the
    target that chose it, and the agent there if any."""

    dn: str
    target: Target
    agent_id: str | None
    link: str | None  # the pool's link; None: a location no connection serves
    location: str | None


def selection_data(selection: Selection, queue: str | None, server: str) -> dict[str, Value]:
    """The fields queue.submit.done adds: what was chosen, Genesys-style, and its DN."""
    where = selection.location or server
    if selection.agent_id is not None:
        chosen = f"{selection.agent_id}@{where}.A"
    else:
        code = selection.target.type.value
        chosen = f"{selection.dn}@{where}.{code}"
    data: dict[str, Value] = {
        "targetselected": chosen,
        "vqselected": queue or "",
        "resource": selection.dn,
    }
    if selection.agent_id is not None:
        data["agentid"] = selection.agent_id
    if selection.location is not None:
        data["location"] = selection.location
    return data


def select(
    targets: Sequence[Target],
    *,
    pools: Sequence[Pool],
    directory: Directory,
    now: float,
    order: Order | None = None,
) -> Selection | None:
    """A free target for a call whose own pool is `pools[0]`, or None when none is free."""
    if order is None:
        for target in targets:
            for candidate in _candidates(target, pools, directory, now):
                return candidate[0]
        return None
    best: tuple[float, Selection] | None = None
    for target in targets:
        for selection, seat in _candidates(target, pools, directory, now):
            value = agent_stat(seat, order.statistic, directory, now) if seat else None
            if value is None:
                value = float("-inf")
            elif not order.maximum:
                value = -value
            if best is None or value > best[0]:
                best = (value, selection)
    return best[1] if best is not None else None


_Candidate = tuple[Selection, Seat | None]


def _candidates(
    target: Target, pools: Sequence[Pool], directory: Directory, now: float
) -> Iterator[_Candidate]:
    if target.type in NUMBERED:
        pool = _site_pool(target, pools)
        if pool is None:
            location = target.site
            yield Selection(target.name, target, None, None, location), None
            return
        yield from _numbered(target, pool, pools[0], directory, now)
        return
    for pool in _agent_pools(target, pools):
        yield from _agents(target, pool, pools[0], directory, now)


def _site_pool(target: Target, pools: Sequence[Pool]) -> Pool | None:
    """The pool a numbered target is in: its site's, or the call's own."""
    own = pools[0]
    if target.site is None or own.location in (None, target.site):
        return own
    for pool in pools:
        if pool.location == target.site:
            return pool
    return None


def _agent_pools(target: Target, pools: Sequence[Pool]) -> Sequence[Pool]:
    named = [pool for pool in pools if target.site and pool.location == target.site]
    return named or pools


def _numbered(
    target: Target, pool: Pool, own: Pool, directory: Directory, now: float
) -> Iterator[_Candidate]:
    location = None if pool is own else pool.location
    if target.type in (TargetType.QUEUE, TargetType.ROUTING_POINT):
        yield Selection(target.name, target, None, pool.link, location), None
        return
    seat = pool.agents.seats.get(target.name)
    if seat is not None:
        if _free(seat, pool, now) and _passes(target, seat, [seat], directory, now):
            yield Selection(seat.dn, target, seat.agent_id, pool.link, location), seat
    elif not pool.calls.busy(target.name) and not pool.reservations.held(target.name, now):
        yield Selection(target.name, target, None, pool.link, location), None


def _agents(
    target: Target, pool: Pool, own: Pool, directory: Directory, now: float
) -> Iterator[_Candidate]:
    location = None if pool is own else pool.location
    if pool is not own and location is None:
        return  # no way to route there: the connection's site is not named
    group: list[Seat] | None = None
    for seat in _members(target, pool, directory, now):
        if target.threshold is not None:
            if group is None:
                group = list(_logged_in(target, pool, directory))
            if not _passes(target, seat, group, directory, now):
                continue
        yield Selection(seat.dn, target, seat.agent_id, pool.link, location), seat


def _members(target: Target, pool: Pool, directory: Directory, now: float) -> Iterator[Seat]:
    """The free agents of *target* in *pool*, the longest available first."""
    if target.type is TargetType.AGENT:
        seat = pool.agents.seat_of(target.name)
        if seat is not None and _free(seat, pool, now):
            yield seat
        return
    if target.type is TargetType.PLACE_GROUP:
        yield from _places(target, pool, directory, now)
        return
    key = (target.type, target.name)
    view = pool.agents.view(key, _membership(target, directory), directory.version)
    for seat in list(view.values()):
        if not pool.reservations.held(seat.dn, now):
            yield seat


def _places(target: Target, pool: Pool, directory: Directory, now: float) -> Iterator[Seat]:
    dns = directory.place_group(target.name) or ()
    seats = [pool.agents.seats[dn] for dn in dns if dn in pool.agents.seats]
    seats.sort(key=lambda seat: seat.available_since)
    for seat in seats:
        if _free(seat, pool, now):
            yield seat


def _logged_in(target: Target, pool: Pool, directory: Directory) -> Iterator[Seat]:
    """Every agent of *target* in *pool*, available or not: the group of its statistics."""
    if target.type is TargetType.AGENT:
        seat = pool.agents.seat_of(target.name)
        yield from () if seat is None else (seat,)
        return
    if target.type is TargetType.PLACE_GROUP:
        dns = directory.place_group(target.name) or ()
        yield from (pool.agents.seats[dn] for dn in dns if dn in pool.agents.seats)
        return
    belongs = _membership(target, directory)
    yield from (seat for seat in pool.agents.seats.values() if belongs(seat))


_Belongs = Callable[[Seat], bool]


def _membership(target: Target, directory: Directory) -> _Belongs:
    if target.type is TargetType.SKILL:
        return lambda seat: directory.matches(target.name, seat.agent_id)
    members = directory.group(target.name)
    if members is not None:
        return lambda seat: seat.agent_id in members
    # Not a configured agent group: the agents of the ACD queue of that number.
    return lambda seat: seat.queue in (target.name, None)


def _free(seat: Seat, pool: Pool, now: float) -> bool:
    return seat.available and not pool.reservations.held(seat.dn, now)


def _passes(
    target: Target, seat: Seat, group: list[Seat], directory: Directory, now: float
) -> bool:
    if target.threshold is None:
        return True
    figures = Figures(seat, group, directory, now)
    return directory.threshold(target.threshold, ALIASES).matches(figures)
