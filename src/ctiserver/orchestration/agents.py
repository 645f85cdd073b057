"""Agents as the orchestration server sees them on the DNs it registered: who is logged
in where, on which ACD queue, whether Ready, since when available, and how many calls
each answered.  Pure; kept from EventRegistered, the agent events (docs/protocol.md § 4,
Agents) and what the call book says of each DN.

Rule 1: `Ready` is the agent's state, not availability.  An agent is *available* when
Ready with no call at its DN (nor one on its way there); `available_since` is when it
last became so, the origin of StatTimeInReadyState (longest available = smallest).
Rule 2: `available` holds the available agents in the order they became available, so
the one available longest is found without sorting; a view (`view()`) keeps the same for
the agents of one target (a skill expression, a group), so that finding the first of a
thousand that has the skill does not mean stepping over the thousand that have not.
Rule 3: EventRegistered does not say which queue an agent logged in to, so an agent
first seen there serves every queue until an agent event names one.
Rule 4: an agent answers a call when its DN reaches Established on it other than as the
caller (StatCallsAnswered), and completes it when it then leaves (StatCallsCompleted).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from ctiserver.tlib.vocabulary import TMessage

READY = "Ready"
_AGENT_EVENTS = frozenset(
    {"EventAgentLogin", "EventAgentReady", "EventAgentNotReady", "EventAgentLogout"}
)


@dataclass(slots=True, eq=False)
class Seat:
    """An agent logged in on a DN."""

    dn: str
    agent_id: str
    queue: str | None
    status: str
    ready_since: float
    available_since: float = 0.0
    busy: bool = False
    calls_answered: int = 0
    calls_completed: int = 0
    talking: set[str] = field(default_factory=set)  # ConnIDs it answered, still on

    @property
    def available(self) -> bool:
        return self.status == READY and not self.busy


class AgentBoard:
    """Every agent logged in at a followed DN (see the module docstring)."""

    def __init__(self) -> None:
        self.seats: dict[str, Seat] = {}  # by DN
        self.available: dict[str, Seat] = {}  # by DN, longest available first (Rule 2)
        self._by_agent: dict[str, Seat] = {}
        self._busy: set[str] = set()  # DNs with a call, whether an agent is there or not
        self._views: dict[Hashable, tuple[Callable[[Seat], bool], dict[str, Seat]]] = {}
        self._views_version: Hashable = None

    def view(
        self, key: Hashable, belongs: Callable[[Seat], bool], version: Hashable
    ) -> dict[str, Seat]:
        """The available agents for which *belongs* holds, longest available first, kept up
        to date from now on under *key* (Rule 2).  A new *version* (the directory changed:
        who belongs where) drops every view."""
        if version != self._views_version:
            self._views.clear()
            self._views_version = version
        found = self._views.get(key)
        if found is None:
            members = {dn: seat for dn, seat in self.available.items() if belongs(seat)}
            found = self._views[key] = (belongs, members)
        return found[1]

    def seat_of(self, agent_id: str) -> Seat | None:
        return self._by_agent.get(agent_id)

    def serving(self, queue: str) -> list[Seat]:
        """The agents of an ACD queue (and those whose queue is not known, Rule 3)."""
        return [seat for seat in self.seats.values() if seat.queue in (queue, None)]

    # --- the T-Library --------------------------------------------------------------------

    def registered(self, event: TMessage, now: float) -> None:
        """Take the agent a DN's EventRegistered reports, if any."""
        dn = event.get("ThisDN", "")
        extensions = event.get("Extensions", {})
        agent_id = extensions.get("AgentID")
        if not isinstance(agent_id, str):
            self._remove(dn)
            return
        self._place(Seat(dn, agent_id, None, str(extensions.get("AgentStatus")), now), now)

    def apply(self, event: TMessage, now: float) -> bool:
        """Take an agent event; True when it changed anyone's availability."""
        name = event.get("Event", "")
        if name not in _AGENT_EVENTS:
            return False
        dn = event.get("ThisDN", "")
        if name == "EventAgentLogout":
            return self._remove(dn)
        seat = self.seats.get(dn)
        if seat is None or name == "EventAgentLogin":
            seat = self._place(Seat(dn, event.get("AgentID", ""), None, "NotReady", now), now)
        if (agent_id := event.get("AgentID")) and agent_id != seat.agent_id:
            self._by_agent.pop(seat.agent_id, None)
            seat.agent_id = agent_id
            self._by_agent[agent_id] = seat
        seat.queue = event.get("ThisQueue", seat.queue)
        if name == "EventAgentReady":
            if seat.status != READY:
                seat.ready_since = now
            seat.status = READY
        elif name == "EventAgentNotReady":
            seat.status = event.get("AgentWorkMode", "NotReady")
        self._refresh(seat, now)
        return True

    def call_event(self, event: TMessage) -> None:
        """Count the calls agents answer and complete (Rule 4)."""
        seat = self.seats.get(event.get("ThisDN", ""))
        if seat is None:
            return
        name, conn_id = event.get("Event"), event.get("ConnID", "")
        if name == "EventEstablished" and event.get("ThisDNRole") != "Origination":
            if conn_id not in seat.talking:
                seat.talking.add(conn_id)
                seat.calls_answered += 1
        elif name in ("EventReleased", "EventAbandoned") and conn_id in seat.talking:
            seat.talking.discard(conn_id)
            seat.calls_completed += 1

    def dn_busy(self, dn: str, busy: bool, now: float) -> bool:
        """The call book says whether a call is at *dn*; True when that changed."""
        if busy == (dn in self._busy):
            return False
        if busy:
            self._busy.add(dn)
        else:
            self._busy.discard(dn)
        seat = self.seats.get(dn)
        if seat is not None:
            seat.busy = busy
            self._refresh(seat, now)
        return True

    def clear(self) -> None:
        self.seats.clear()
        self.available.clear()
        self._views.clear()
        self._by_agent.clear()
        self._busy.clear()

    # --- bookkeeping ----------------------------------------------------------------------

    def _place(self, seat: Seat, now: float) -> Seat:
        self._remove(seat.dn)
        seat.busy = seat.dn in self._busy
        self.seats[seat.dn] = seat
        self._by_agent[seat.agent_id] = seat
        self._refresh(seat, now)
        return seat

    def _remove(self, dn: str) -> bool:
        seat = self.seats.pop(dn, None)
        if seat is None:
            return False
        self.available.pop(dn, None)
        for _, members in self._views.values():
            members.pop(dn, None)
        if self._by_agent.get(seat.agent_id) is seat:
            del self._by_agent[seat.agent_id]
        return True

    def _refresh(self, seat: Seat, now: float) -> None:
        if not seat.available:
            self.available.pop(seat.dn, None)
        elif seat.dn not in self.available:
            seat.available_since = now
            self.available[seat.dn] = seat
        for belongs, members in self._views.values():
            if seat.available and belongs(seat):
                members.setdefault(seat.dn, seat)  # a newcomer goes last, as in `available`
            else:
                members.pop(seat.dn, None)
