"""Live calls as the T-Library events tell them: each call's parties at our DNs and their
states, its UserData, the queues it waited in, and a bounded history of its events.

Rules:
1. A call is keyed by ConnID, which the server never reuses while it runs.
2. A call with no party left at our DNs has ended, but is remembered for `recent`
   seconds: a call leaving a queue (EventDiverted) or a routing point (EventRouteUsed)
   for one of our DNs has no party until the destination's EventRinging, and must come
   back with its start, its history and its waits.
3. Party states carry the names the dashboard shows (PARTY_STATES' values, and Failed
   for a caller hearing busy or an invalid number).
4. Only call events change parties; any other event naming a known ConnID goes into the
   call's history.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ctiserver.supervision.core_snapshot import SnapshotCall
from ctiserver.tlib.vocabulary import TMessage

PARTY_STATES: Final[Mapping[str, str]] = {
    "EventDialing": "Dialing",
    "EventRinging": "Ringing",
    "EventQueued": "Queued",
    "EventRouteRequest": "Queued",
    "EventEstablished": "Talking",
    "EventRetrieved": "Talking",
    "EventHeld": "Held",
    "EventDestinationBusy": "Failed",
}
# The DN leaves the call: released, offered and abandoned, or sent on by a queue or a
# routing point (reference/call-models.md §§ 1, 10, 11).
LEAVING: Final = frozenset({"EventReleased", "EventAbandoned", "EventDiverted", "EventRouteUsed"})
# The DN stays, in the state it had; EventPartyChanged may move it from PreviousConnID.
STAYING: Final = frozenset(
    {"EventPartyChanged", "EventPartyAdded", "EventPartyDeleted", "EventAttachedDataChanged"}
)
# The most telling state of a call, or of a DN in several calls, comes first.
SIGNIFICANCE: Final = ("Talking", "Held", "Ringing", "Queued", "Dialing", "Failed")
HISTORY_ATTRIBUTES: Final = ("OtherDN", "ThirdPartyDN", "ThisQueue", "CallState", "AgentID")


@dataclass(slots=True)
class LiveCall:
    conn_id: str
    started: float
    call_type: str = "Unknown"
    ani: str | None = None
    dnis: str | None = None
    queue: str | None = None  # the last queue or routing point it came through
    parties: dict[str, str] = field(default_factory=dict)  # our DN -> state
    user_data: Mapping[str, Any] = field(default_factory=dict)
    history: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
    visits: dict[str, float] = field(default_factory=dict)  # queue -> entered, not yet settled
    ended: float | None = None

    @property
    def state(self) -> str:
        return most_telling(self.parties.values()) or "Ended"

    def row(self) -> dict[str, Any]:
        """The call as the dashboard lists it (UserData only on demand)."""
        return {
            "type": self.call_type,
            "ani": self.ani,
            "dnis": self.dnis,
            "queue": self.queue,
            "started": round(self.started, 1),
            "state": self.state,
            "parties": dict(self.parties),
            "waitingSince": self._waiting_since(),
            "data": len(self.user_data),
        }

    def _waiting_since(self) -> float | None:
        """Since when the call waits where it waits now (a queue or a routing point)."""
        waits = [
            self.visits[dn]
            for dn, state in self.parties.items()
            if state == "Queued" and dn in self.visits
        ]
        return round(min(waits), 1) if waits else None


def most_telling(states: Iterable[str]) -> str | None:
    ranked = [SIGNIFICANCE.index(s) for s in states if s in SIGNIFICANCE]
    return SIGNIFICANCE[min(ranked)] if ranked else None


@dataclass(frozen=True, slots=True)
class CallChange:
    """What one event did: the call and DN it named, whether the call is new, and the
    calls it ended (a call the DN moved away from, or the call itself)."""

    call: LiveCall
    dn: str
    created: bool
    ended: tuple[str, ...] = ()
    moved_from: str | None = None


class CallBoard:
    def __init__(self, *, history: int = 50, recent: float = 30.0) -> None:
        self.calls: dict[str, LiveCall] = {}
        self._at: dict[str, dict[str, str]] = {}  # DN -> ConnID -> state
        self._ended: dict[str, LiveCall] = {}  # in the order they ended
        self._history = history
        self._recent = recent

    def states_at(self, dn: str) -> Mapping[str, str]:
        return self._at.get(dn, {})

    def find(self, conn_id: str) -> LiveCall | None:
        return self.calls.get(conn_id) or self._ended.get(conn_id)

    # --- events ---------------------------------------------------------------------

    def apply(self, event: TMessage, at: float) -> CallChange | None:
        """Take one event that names a ConnID; None when it changes no call."""
        name, conn_id, dn = event.get("Event", ""), event.get("ConnID"), event.get("ThisDN")
        if conn_id is None or dn is None:
            return None
        known = self.find(conn_id)
        if name not in PARTY_STATES and name not in LEAVING and name not in STAYING:
            if known is not None:
                self._record(known, event)
            return None
        if known is None and name not in PARTY_STATES and name != "EventPartyChanged":
            return None  # the end or the data of a call that began before we watched
        call, created = self._call_for(conn_id, at)
        self._learn(call, event)
        self._record(call, event)
        moved_from, source_ended = self._move(call, dn, event, at)
        ended = self._set_party(call, dn, name, at)
        if source_ended and moved_from is not None:
            ended = (moved_from, *ended)
        return CallChange(call, dn, created, ended, moved_from)

    def _call_for(self, conn_id: str, at: float) -> tuple[LiveCall, bool]:
        call = self.calls.get(conn_id)
        if call is not None:
            return call, False
        call = self._ended.pop(conn_id, None)
        created = call is None
        if call is None:
            call = LiveCall(conn_id, at, history=collections.deque(maxlen=self._history))
        call.ended = None
        self.calls[conn_id] = call
        return call, created

    def _learn(self, call: LiveCall, event: TMessage) -> None:
        call.call_type = event.get("CallType", call.call_type)
        call.ani = event.get("ANI", call.ani)
        call.dnis = event.get("DNIS", call.dnis)
        call.queue = event.get("ThisQueue", call.queue)
        if "UserData" in event:
            call.user_data = event["UserData"]

    def _record(self, call: LiveCall, event: TMessage) -> None:
        entry: dict[str, Any] = {
            "time": event.get("time"),
            "event": event.get("Event"),
            "dn": event.get("ThisDN"),
        }
        for attribute in HISTORY_ATTRIBUTES:
            if attribute in event:
                entry[attribute] = event[attribute]
        call.history.append(entry)

    def _move(self, call: LiveCall, dn: str, event: TMessage, at: float) -> tuple[str | None, bool]:
        """EventPartyChanged with PreviousConnID: the DN's connection moved into *call*
        (a transfer or conference completed).  Returns the call it left, and whether
        that call ended."""
        previous = event.get("PreviousConnID")
        if event.get("Event") != "EventPartyChanged" or previous in (None, call.conn_id):
            return None, False
        source = self.calls.get(previous) if previous is not None else None
        if source is None or dn not in source.parties:
            return None, False
        state = source.parties[dn]
        source_ended = self._leave(source, dn, at)
        call.parties[dn] = state
        self._at.setdefault(dn, {})[call.conn_id] = state
        return previous, source_ended

    def _set_party(self, call: LiveCall, dn: str, name: str, at: float) -> tuple[str, ...]:
        ended: list[str] = []
        if name in LEAVING:
            if self._leave(call, dn, at):
                ended.append(call.conn_id)
        elif name in PARTY_STATES:
            call.parties[dn] = PARTY_STATES[name]
            self._at.setdefault(dn, {})[call.conn_id] = PARTY_STATES[name]
        return tuple(ended)

    def _leave(self, call: LiveCall, dn: str, at: float) -> bool:
        """*dn* leaves *call*; True when that ends the call (rule 2)."""
        call.parties.pop(dn, None)
        states = self._at.get(dn)
        if states is not None:
            states.pop(call.conn_id, None)
            if not states:
                del self._at[dn]
        if call.parties:
            return False
        call.ended = at
        del self.calls[call.conn_id]
        self._ended[call.conn_id] = call
        return True

    # --- time and the core's snapshot -----------------------------------------------

    def forget_ended(self, now: float) -> None:
        """Drop the ended calls older than `recent` seconds (rule 2)."""
        while self._ended:
            conn_id, call = next(iter(self._ended.items()))
            if call.ended is not None and call.ended > now - self._recent:
                return
            del self._ended[conn_id]

    def load(self, call: SnapshotCall, at: float) -> tuple[LiveCall, list[str]]:
        """Make a call agree with the core's snapshot of it: its parties and its data (what
        the events told of it, its start, history and waits, stays).  Returns the call and
        the DNs whose part in it changed."""
        live = self.calls.get(call.conn_id) or self._ended.pop(call.conn_id, None)
        if live is None:
            live = LiveCall(call.conn_id, at, history=collections.deque(maxlen=self._history))
        live.call_type, live.ani, live.dnis = call.call_type, call.ani, call.dnis
        live.user_data, live.ended = call.user_data, None
        self.calls[call.conn_id] = live
        changed = []
        for party in call.parties:
            live.queue = party.queue or live.queue
            if live.parties.get(party.dn) != party.state:
                live.parties[party.dn] = party.state
                self._at.setdefault(party.dn, {})[call.conn_id] = party.state
                changed.append(party.dn)
        wanted = {party.dn for party in call.parties}
        for dn in [dn for dn in live.parties if dn not in wanted]:
            self._leave(live, dn, at)
            changed.append(dn)
        if not live.parties:
            self.calls.pop(call.conn_id, None)  # none of our DNs is in it
        return live, changed

    def drop_party(self, conn_id: str, dn: str, at: float) -> list[str]:
        """*dn* is no longer in the call (the core says so); returns the calls that ended."""
        call = self.calls.get(conn_id)
        if call is None or dn not in call.parties:
            return []
        return [conn_id] if self._leave(call, dn, at) else []

    def drop_dn(self, dn: str, at: float) -> list[str]:
        """A DN left the configuration: its parties go; returns the calls that ended."""
        return [
            c for conn_id in list(self._at.get(dn, {})) for c in self.drop_party(conn_id, dn, at)
        ]
