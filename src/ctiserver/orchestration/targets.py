"""Target selection for `<queue:submit>`: which DN a waiting call goes to.  Pure.

A target is written as Genesys writes them (reference/orchestration.md § 1.4),
`name@switch.TYPE` or `name.TYPE`, or as a bare name whose type comes from the
enclosing `<queue:targets type=…>` (DN by default).  Supported types:

    DN   a DN: free when no call is at it and, if an agent is logged in there, it is Ready
    A    an agent by login ID: free when Ready on an idle DN
    GA   the agents of an ACD queue (an agent group): the one Ready the longest
    Q    the ACD queue itself: always free; the switch's ACD then picks the agent

Rule 1: targets are tried in the order written; the first with a free DN wins.
Rule 2: a DN just chosen for a call is reserved until its route request is answered (or
its deadline passes), so that two calls routed at once do not pick the same agent; after
that the call book counts the call as on its way to the DN until its EventRinging.
Rule 3: a DN the server does not let us follow cannot be checked, so a DN target there
counts as free; routing to it may still fail (invaliddestination).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ctiserver.orchestration.agents import READY, AgentBoard, Seat
from ctiserver.orchestration.calls import CallBook
from ctiserver.scxml.values import Value


class TargetType(enum.StrEnum):
    DN = "DN"
    AGENT = "A"
    AGENT_GROUP = "GA"
    QUEUE = "Q"


# <queue:targets type="…"> spellings, besides the type codes themselves.
TYPE_NAMES: Final[Mapping[str, TargetType]] = {
    "dn": TargetType.DN,
    "agent": TargetType.AGENT,
    "agentgroup": TargetType.AGENT_GROUP,
    "queue": TargetType.QUEUE,
    "acdqueue": TargetType.QUEUE,
}
_TARGET: Final = re.compile(
    r"(?P<name>[^@.\s]+)(?:@(?P<switch>[^.\s]*))?(?:\.(?P<type>[A-Za-z]+))?"
)


class TargetError(ValueError):
    """A target string that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    type: TargetType

    def __str__(self) -> str:
        return f"{self.name}.{self.type.value}"


@dataclass(frozen=True, slots=True)
class Selection:
    """Where the call goes: the DN, the target that chose it, the agent there if any."""

    dn: str
    target: Target
    agent_id: str | None


def selection_data(selection: Selection, queue: str | None, server: str) -> dict[str, Value]:
    """The fields queue.submit.done adds: what was chosen, Genesys-style, and its DN."""
    if selection.agent_id is not None:
        target = f"{selection.agent_id}@{server}.A"
    else:
        target = f"{selection.dn}@{server}.{selection.target.type.value}"
    data: dict[str, Value] = {
        "targetselected": target,
        "vqselected": queue or "",
        "resource": selection.dn,
    }
    if selection.agent_id is not None:
        data["agentid"] = selection.agent_id
    return data


def parse_target(text: str, default: TargetType = TargetType.DN) -> Target:
    """A target string (see the module docstring).  Raises TargetError."""
    match = _TARGET.fullmatch(text.strip())
    if match is None:
        raise TargetError(f"target {text!r} is not NAME, NAME.TYPE or NAME@SWITCH.TYPE")
    code = match.group("type")
    if code is None:
        return Target(match.group("name"), default)
    try:
        kind = TargetType(code.upper())
    except ValueError:
        kind = TYPE_NAMES.get(code.lower()) or _unknown_type(text, code)
    return Target(match.group("name"), kind)


def _unknown_type(text: str, code: str) -> TargetType:
    supported = ", ".join(t.value for t in TargetType)
    raise TargetError(f"target {text!r}: type {code!r} is not supported ({supported})")


class Reservations:
    """DNs chosen for calls whose EventRinging has not come back yet (Rule 2)."""

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


def select(
    targets: Sequence[Target],
    *,
    agents: AgentBoard,
    calls: CallBook,
    reservations: Reservations,
    now: float,
) -> Selection | None:
    """The first free DN among *targets* (Rule 1), or None when none is free."""
    for target in targets:
        chosen = _select_one(target, agents, calls, reservations, now)
        if chosen is not None:
            return chosen
    return None


def _select_one(
    target: Target, agents: AgentBoard, calls: CallBook, reservations: Reservations, now: float
) -> Selection | None:
    def free(seat: Seat) -> bool:
        return (
            seat.status == READY and not calls.busy(seat.dn) and not reservations.held(seat.dn, now)
        )

    match target.type:
        case TargetType.QUEUE:
            return Selection(target.name, target, None)
        case TargetType.AGENT:
            seat = agents.seat_of(target.name)
            return Selection(seat.dn, target, seat.agent_id) if seat and free(seat) else None
        case TargetType.AGENT_GROUP:
            ready = [seat for seat in agents.serving(target.name) if free(seat)]
            if not ready:
                return None
            longest = min(ready, key=lambda seat: seat.ready_since)
            return Selection(longest.dn, target, longest.agent_id)
        case TargetType.DN:
            seat = agents.seats.get(target.name)
            if seat is not None:
                return Selection(seat.dn, target, seat.agent_id) if free(seat) else None
            if calls.busy(target.name) or reservations.held(target.name, now):
                return None
            return Selection(target.name, target, None)
