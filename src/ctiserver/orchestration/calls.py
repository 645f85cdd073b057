"""Calls as the orchestration server sees them through the DNs it registered: a pure book
kept from T-Library events (docs/protocol.md § 5, reference/call-models.md).

Drive it with `apply(event)`, which returns what happened to calls as facts, in order:
RouteRequested (a call waits at a routing point), CallsMerged (a consultation's party
moved into another call), PartyStateChanged, CallChanged and CallEnded.

Rule 1: a call is known from the first event about it at a followed DN and ends when its
last followed party leaves, unless the same event sends it to a followed DN that has not
reported it yet (EventRouteUsed, EventDiverted: ThirdPartyDN): events for different DNs
may come in any order (call-models.md, preamble).
Rule 2: EventPartyChanged with a PreviousConnID other than its ConnID moves ThisDN's
party from that call (the consultation, which ends) into this one, in its state.
Rule 3: the book trusts the server; an event about a party it did not know is recorded,
never refused.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.tlib.vocabulary import KVList, TMessage


class PartyState(enum.StrEnum):
    """A followed DN's part in a call, as strategies see it in `voice.parties`."""

    DIALING = "dialing"
    RINGING = "ringing"
    ESTABLISHED = "established"
    HELD = "held"
    QUEUED = "queued"
    ROUTING = "routing"
    FAILED = "failed"
    UNKNOWN = "unknown"  # seen in EventRegistered before any event about it


class DnType(enum.StrEnum):
    """The AddressType a DN registered as (EventRegistered InfoStatus)."""

    EXTENSION = "DN"
    QUEUE = "Queue"
    ROUTING_POINT = "RouteDN"


P = PartyState
# Events that put ThisDN on the call in a state (None: keep its state, else established).
_PRESENT: Final[Mapping[str, PartyState | None]] = {
    "EventDialing": P.DIALING,
    "EventRinging": P.RINGING,
    "EventEstablished": P.ESTABLISHED,
    "EventHeld": P.HELD,
    "EventRetrieved": P.ESTABLISHED,
    "EventQueued": P.QUEUED,
    "EventRouteRequest": P.ROUTING,
    "EventDestinationBusy": P.FAILED,
    "EventPartyChanged": None,
    "EventPartyAdded": None,
    "EventPartyDeleted": None,
}
# Events after which ThisDN is no longer on the call.
_GONE: Final = frozenset({"EventReleased", "EventAbandoned", "EventRouteUsed", "EventDiverted"})
# Of those, the ones that name where the call went, in ThirdPartyDN.
_SENT_ON: Final = frozenset({"EventRouteUsed", "EventDiverted"})


@dataclass(slots=True)
class Call:
    """One call: its data, and its parties at followed DNs in the order they joined."""

    conn_id: str
    call_id: str = ""
    call_type: str = ""
    ani: str = ""
    dnis: str = ""
    caller: str = ""
    user_data: KVList = field(default_factory=dict)
    parties: dict[str, PartyState] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class RouteRequested:
    conn_id: str
    routing_point: str


@dataclass(frozen=True, slots=True)
class CallsMerged:
    consultation: str
    into: str


@dataclass(frozen=True, slots=True)
class CallChanged:
    conn_id: str


@dataclass(frozen=True, slots=True)
class PartyStateChanged:
    """A followed party joined, changed state or (state None) left the call."""

    conn_id: str
    dn: str
    state: PartyState | None


@dataclass(frozen=True, slots=True)
class CallEnded:
    conn_id: str


CallFact = RouteRequested | CallsMerged | CallChanged | CallEnded | PartyStateChanged


class CallBook:
    """Every call at a followed DN (see the module docstring)."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.followed: dict[str, DnType] = {}
        self._at: dict[str, set[str]] = {}
        self._changes: list[CallFact] = []
        self._touched: set[str] = set()

    # --- queries --------------------------------------------------------------------------

    def call(self, conn_id: str) -> Call | None:
        return self.calls.get(conn_id)

    def busy(self, dn: str) -> bool:
        """True while *dn* is on any call, or a call is on its way to it (Rule 1)."""
        return bool(self._at.get(dn))

    def focus(self, call: Call) -> str | None:
        """The party actions act on by default: the extension that joined the call last,
        other than its caller; else the caller; else any followed party."""
        extensions = [dn for dn in call.parties if self.followed.get(dn) is DnType.EXTENSION]
        others = [dn for dn in extensions if dn != call.caller]
        if others:
            return others[-1]
        if extensions:
            return extensions[0]
        return next(iter(call.parties), None)

    def common_party(self, first: Call, second: Call) -> str | None:
        """The extension on both calls (the one consulting), or None."""
        for dn in first.parties:
            if dn in second.parties and self.followed.get(dn) is DnType.EXTENSION:
                return dn
        return None

    def take_touched(self) -> set[str]:
        """The DNs whose calls changed since the last call: their busy() may differ."""
        touched, self._touched = self._touched, set()
        return touched

    def routing_point(self, call: Call) -> str | None:
        """The routing point where *call* waits for a route, or None."""
        for dn, state in call.parties.items():
            if state is P.ROUTING:
                return dn
        return None

    # --- changes --------------------------------------------------------------------------

    def follow(self, dn: str, kind: DnType, conn_ids: Iterable[str] = ()) -> None:
        """*dn* is registered; *conn_ids* are the calls EventRegistered says it is on."""
        self.followed[dn] = kind
        for conn_id in conn_ids:
            call = self.calls.get(conn_id) or self._new(conn_id)
            if dn not in call.parties:
                self._join(call, dn, P.UNKNOWN)
        self._changes.clear()

    def clear(self) -> list[CallFact]:
        """Forget everything (the server is gone): every call ends."""
        ended: list[CallFact] = [CallEnded(conn_id) for conn_id in self.calls]
        self.calls.clear()
        self._touched.update(self._at)
        self._at.clear()
        self.followed.clear()
        return ended

    def apply(self, event: TMessage) -> list[CallFact]:
        """Take one event into the book; return what happened to calls."""
        conn_id = event.get("ConnID")
        name = event.get("Event", "")
        if conn_id is None or (name not in _PRESENT and name not in _GONE):
            if conn_id is not None and name == "EventAttachedDataChanged":
                return self._data_changed(conn_id, event)
            return []
        call = self.calls.get(conn_id)
        if call is None:
            if name in _GONE:
                return []
            call = self._new(conn_id)
        self._take_data(call, event)
        dn = event.get("ThisDN", "")
        if name in _GONE:
            self._leave(call, dn, event)
        else:
            self._present(call, dn, name, event)
        if name == "EventRouteRequest":
            self._changes.append(RouteRequested(conn_id, dn))
        self._changes.append(CallChanged(conn_id))
        if not call.parties and not (name in _SENT_ON and call.expected):
            self._end(call)
        facts, self._changes = self._changes, []
        return facts

    def _new(self, conn_id: str) -> Call:
        call = Call(conn_id)
        self.calls[conn_id] = call
        return call

    def _take_data(self, call: Call, event: TMessage) -> None:
        call.call_id = event.get("CallID", call.call_id)
        call.call_type = event.get("CallType", call.call_type)
        call.ani = event.get("ANI", call.ani)
        call.dnis = event.get("DNIS", call.dnis)
        if "UserData" in event:
            call.user_data = event["UserData"]
        if not call.caller:
            call.caller = _caller(event)

    def _present(self, call: Call, dn: str, name: str, event: TMessage) -> None:
        state = _PRESENT[name]
        previous = event.get("PreviousConnID")
        if name == "EventPartyChanged" and previous and previous != call.conn_id:
            self._move(previous, dn, call)
        if state is None:
            state = call.parties.get(dn, P.ESTABLISHED)
        self._join(call, dn, state)

    def _move(self, source_id: str, dn: str, into: Call) -> None:
        """ThisDN's party comes from the consultation *source_id* (Rule 2)."""
        source = self.calls.get(source_id)
        if source is None or dn not in source.parties:
            return
        # Merged first, so that the consultation's interactions are on *into* by the
        # time the party's move is told.
        self._changes.append(CallsMerged(source_id, into.conn_id))
        state = source.parties[dn]
        self._part(source, dn)
        if state is not P.UNKNOWN:
            into.parties.pop(dn, None)  # rejoin at the end: it is the newest party
            self._join(into, dn, state)
        self._changes.append(CallChanged(source_id))
        if not source.parties:
            self._end(source)

    def _leave(self, call: Call, dn: str, event: TMessage) -> None:
        self._part(call, dn)
        destination = event.get("ThirdPartyDN")
        name = event.get("Event", "")
        if (
            name in _SENT_ON
            and destination
            and destination in self.followed
            and destination not in call.parties
        ):
            call.expected.add(destination)
            self._at.setdefault(destination, set()).add(call.conn_id)
            self._touched.add(destination)

    def _join(self, call: Call, dn: str, state: PartyState) -> None:
        if call.parties.get(dn) is not state:
            self._changes.append(PartyStateChanged(call.conn_id, dn, state))
        call.parties[dn] = state
        call.expected.discard(dn)
        self._at.setdefault(dn, set()).add(call.conn_id)
        self._touched.add(dn)

    def _part(self, call: Call, dn: str) -> None:
        if call.parties.pop(dn, None) is not None:
            self._changes.append(PartyStateChanged(call.conn_id, dn, None))
        self._unindex(call, dn)

    def _unindex(self, call: Call, dn: str) -> None:
        self._touched.add(dn)
        calls = self._at.get(dn)
        if calls is not None:
            calls.discard(call.conn_id)
            if not calls:
                del self._at[dn]

    def _end(self, call: Call) -> None:
        for dn in list(call.parties):
            self._part(call, dn)
        for dn in call.expected:
            self._unindex(call, dn)
        del self.calls[call.conn_id]
        self._changes.append(CallEnded(call.conn_id))

    def _data_changed(self, conn_id: str, event: TMessage) -> list[CallFact]:
        call = self.calls.get(conn_id)
        if call is None:
            return []
        self._take_data(call, event)
        return [CallChanged(conn_id)]


def _caller(event: TMessage) -> str:
    """The calling DN, when the event says which party that is."""
    if event.get("ThisDNRole") == "Origination":
        return event.get("ThisDN", "")
    if event.get("OtherDNRole") == "Origination":
        return event.get("OtherDN", "")
    return ""
