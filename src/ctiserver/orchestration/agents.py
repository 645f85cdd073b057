"""Agents as the orchestration server sees them on the DNs it registered: who is logged
in where, on which ACD queue, and since when they are Ready.  Pure; kept from
EventRegistered and the agent events (docs/protocol.md § 4, Agents).

Rule 1: `Ready` is the agent's state, not availability; a Ready agent on a call, or one
just picked for another call (reserved), is not available (targets.py decides that).
Rule 2: EventRegistered does not say which queue an agent logged in to, so an agent
first seen there serves every queue until an agent event names one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.tlib.vocabulary import TMessage

READY = "Ready"
_AGENT_EVENTS = frozenset(
    {"EventAgentLogin", "EventAgentReady", "EventAgentNotReady", "EventAgentLogout"}
)


@dataclass(slots=True)
class Seat:
    """An agent logged in on a DN."""

    dn: str
    agent_id: str
    queue: str | None
    status: str
    ready_since: float


class AgentBoard:
    def __init__(self) -> None:
        self.seats: dict[str, Seat] = {}  # by DN

    def seat_of(self, agent_id: str) -> Seat | None:
        for seat in self.seats.values():
            if seat.agent_id == agent_id:
                return seat
        return None

    def serving(self, queue: str) -> list[Seat]:
        """The agents of an ACD queue (and those whose queue is not known, Rule 2)."""
        return [seat for seat in self.seats.values() if seat.queue in (queue, None)]

    def registered(self, event: TMessage, now: float) -> None:
        """Take the agent a DN's EventRegistered reports, if any."""
        dn = event.get("ThisDN", "")
        extensions = event.get("Extensions", {})
        agent_id = extensions.get("AgentID")
        if not isinstance(agent_id, str):
            self.seats.pop(dn, None)
            return
        status = extensions.get("AgentStatus")
        self.seats[dn] = Seat(dn, agent_id, None, str(status), now)

    def apply(self, event: TMessage, now: float) -> bool:
        """Take an agent event; True when it changed anyone's availability."""
        name = event.get("Event", "")
        if name not in _AGENT_EVENTS:
            return False
        dn = event.get("ThisDN", "")
        if name == "EventAgentLogout":
            return self.seats.pop(dn, None) is not None
        seat = self.seats.get(dn)
        if seat is None or name == "EventAgentLogin":
            seat = self.seats[dn] = Seat(dn, event.get("AgentID", ""), None, "NotReady", now)
        seat.agent_id = event.get("AgentID", seat.agent_id)
        seat.queue = event.get("ThisQueue", seat.queue)
        if name == "EventAgentReady":
            if seat.status != READY:
                seat.ready_since = now
            seat.status = READY
        elif name == "EventAgentNotReady":
            seat.status = event.get("AgentWorkMode", "NotReady")
        return True

    def clear(self) -> None:
        self.seats.clear()
