"""Which pending request an event answers, so that the requester's copy carries its
ReferenceID (docs/protocol.md § 1).

When the core passes a request to the switch it records a Pending: the DN whose events
answer it, and which events on which calls — `(event name, ConnID)` pairs, where the
ConnID NEW stands for the call the request creates (MakeCall, a consultation) and
NO_CALL for events about no call (agent state).  An event matches the oldest Pending
for its DN; each pair answers once.  A request that creates a call is bound to the
first new call at its DN, or to the callID the switch's response names.

A Pending ends when every pair has answered, when its call has moved on past them (a
MakeCall answered by EventDialing stops waiting for EventDestinationBusy once its call
does something else), when an event it expected says its DN left the call (a
ReleaseCall answered by EventReleased waits for no EventAbandoned: nothing more about
that call comes to the DN), when its client leaves, or at its deadline: once the switch
has accepted the request, events must follow within `answer_timeout`, and if none has
come by then the core answers EventError 57 so that no request goes unanswered.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.ids import CallId, ClientId, ConnId, DeviceId
from ctiserver.model.values import ConsultPurpose
from ctiserver.tlib.vocabulary import KVList

NEW: Final = ConnId("new")  # the call the request creates
NO_CALL: Final = ConnId("")  # events about no call (agents)

Answer = tuple[str, ConnId]
# Events that say the DN is off the call: after one, no event about that call comes to
# the DN, so a Pending there stops waiting for any other pair on it.
LEAVING: Final = frozenset({"EventReleased", "EventAbandoned"})


# What the core does when the switch accepts a request (the Pending's `on_confirm`).


@dataclass(frozen=True, slots=True)
class BindCall:
    """The response's *field* (a ConnectionID) names the call the request created."""

    field: str


@dataclass(frozen=True, slots=True)
class TransferConsultation:
    """Mute transfer: bind the consultation (ConsultationCallResponse.initiated_call),
    then transfer the held call *held* to it at once."""

    held: ConnId


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """EventACK: the switch's acceptance is all the requester hears."""


@dataclass(frozen=True, slots=True)
class ApplyUserData:
    """Change the call's UserData now that the switch took the account code in it."""

    conn_id: ConnId
    data: KVList | None
    clear: bool


@dataclass(frozen=True, slots=True)
class ClearedBy:
    """RequestClearCall: the call is being cleared whole by *dn* (ReleasingParty)."""

    conn_id: ConnId
    dn: DeviceId


OnConfirm = BindCall | TransferConsultation | Acknowledge | ApplyUserData | ClearedBy


@dataclass(slots=True, kw_only=True)
class Pending:
    token: int
    client: ClientId
    reference_id: int
    request: str
    dn: DeviceId
    answers: set[Answer]
    new_conn_id: ConnId | None = None  # the call it created, once known
    call_id: CallId | None = None  # named by the switch's response, before binding
    user_data: KVList | None = None
    answered: bool = False
    confirmed: bool = False
    deadline: float | None = None
    on_confirm: OnConfirm | None = None
    purpose: ConsultPurpose | None = None  # of the consultation it creates
    xid: str | None = None  # the ISCC transaction whose call it creates or moves
    promised: ConnId | None = None  # the ConnID promised to the call it creates
    calls: set[ConnId] = field(default_factory=set)  # every call it concerns
    explain: Mapping[str, str] | None = None  # CSTA error value -> what it means here
    # What its refusal is, when not EventError alone: called with the core, the pending,
    # the EventError it would get and the time (RequestApplyTreatment: not applied).
    on_refusal: Callable[..., None] | None = None

    def expects(self, event: str, conn_id: ConnId) -> Answer | None:
        """The pair that *event* on *conn_id* answers, if it answers one."""
        if (event, conn_id) in self.answers:
            return event, conn_id
        unbound_or_same = self.new_conn_id is None or self.new_conn_id == conn_id
        if (event, NEW) in self.answers and unbound_or_same:
            return event, NEW
        return None

    def overtaken(self, conn_id: ConnId, event: str) -> bool:
        """Its call has moved on: a later event on one of its calls that it does not expect
        (EventNetworkReached says where the call is, not that anything became of it)."""
        if event == "EventNetworkReached":
            return False
        return self.answered and conn_id in self.calls and self.expects(event, conn_id) is None


class Correlator:
    def __init__(self) -> None:
        self._pending: dict[int, Pending] = {}
        self._by_dn: dict[DeviceId, dict[int, Pending]] = {}
        self._by_call_id: dict[CallId, Pending] = {}
        self._deadlines: list[tuple[float, int]] = []  # a heap; finished tokens linger
        self._next_token = 1

    def new_token(self) -> int:
        token = self._next_token
        self._next_token += 1
        return token

    def add(self, pending: Pending) -> None:
        pending.calls |= {conn for _, conn in pending.answers if conn not in (NEW, NO_CALL)}
        self._pending[pending.token] = pending
        self._by_dn.setdefault(pending.dn, {})[pending.token] = pending

    def get(self, token: int) -> Pending | None:
        return self._pending.get(token)

    def expect_call(self, pending: Pending, call_id: CallId) -> None:
        """The switch named the call *pending* created (before or after it is seen)."""
        pending.call_id = call_id
        if pending.token in self._pending:
            self._by_call_id[call_id] = pending

    def bind(self, pending: Pending, conn_id: ConnId) -> None:
        pending.new_conn_id = conn_id
        pending.calls.add(conn_id)

    def finish(self, token: int) -> Pending | None:
        pending = self._pending.pop(token, None)
        if pending is None:
            return None
        if pending.call_id is not None:
            self._by_call_id.pop(pending.call_id, None)
        at_dn = self._by_dn[pending.dn]
        del at_dn[token]
        if not at_dn:
            del self._by_dn[pending.dn]
        return pending

    def answer(self, dn: DeviceId, conn_id: ConnId, event: str) -> Pending | None:
        """The pending request that *event* answers, if any; records the answer."""
        found: Pending | None = None
        for pending in list(self._by_dn.get(dn, {}).values()):
            pair = None if found is not None else pending.expects(event, conn_id)
            if pair is not None:
                found = pending
                self._record(pending, pair, conn_id)
            elif pending.confirmed and pending.overtaken(conn_id, event):
                self.finish(pending.token)
        return found

    def _record(self, pending: Pending, pair: Answer, conn_id: ConnId) -> None:
        pending.answers.discard(pair)
        pending.answered = True
        if pair[1] == NEW and pending.new_conn_id is None:
            self.bind(pending, conn_id)
        if pair[0] in LEAVING and pending.answers:
            self._left(pending, conn_id)
        if not pending.answers and pending.confirmed:
            self.finish(pending.token)

    def _left(self, pending: Pending, conn_id: ConnId) -> None:
        """*pending*'s DN is off *conn_id*: its other pairs on that call cannot come."""
        same = (conn_id, NEW) if pending.new_conn_id == conn_id else (conn_id,)
        pending.answers -= {pair for pair in pending.answers if pair[1] in same}

    def binding_for(self, call_id: CallId, calling: DeviceId | None) -> Pending | None:
        """The unbound call-creating request that a new call belongs to."""
        candidates = list(self._by_dn.get(calling, {}).values()) if calling else []
        named = self._by_call_id.get(call_id)
        if named is not None:
            candidates.insert(0, named)
        for pending in candidates:
            unbound = pending.new_conn_id is None and any(c == NEW for _, c in pending.answers)
            if unbound and pending.call_id in (call_id, None):
                return pending
        return None

    def confirm(self, token: int, *, deadline: float) -> Pending | None:
        """The switch accepted the request; events must now come before *deadline*."""
        pending = self._pending.get(token)
        if pending is None:
            return None
        pending.confirmed = True
        if pending.answered and not pending.answers:
            self.finish(token)
        else:
            pending.deadline = deadline
            heapq.heappush(self._deadlines, (deadline, token))
        return pending

    def next_deadline(self) -> float | None:
        """The earliest deadline of a request still pending."""
        heap = self._deadlines
        while heap and (
            heap[0][1] not in self._pending or self._pending[heap[0][1]].deadline != heap[0][0]
        ):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def expire(self, now: float) -> list[Pending]:
        """Remove and return the requests past their deadline."""
        expired: list[Pending] = []
        while (deadline := self.next_deadline()) is not None and deadline <= now:
            _, token = heapq.heappop(self._deadlines)
            pending = self.finish(token)
            if pending is not None:
                expired.append(pending)
        return expired

    def drop_client(self, client: ClientId) -> None:
        for token in [t for t, p in self._pending.items() if p.client == client]:
            self.finish(token)

    def waiting_at(self, dn: DeviceId, conn_id: ConnId, request: str) -> Pending | None:
        """The oldest pending *request* on *dn* concerning *conn_id*."""
        for pending in self._by_dn.get(dn, {}).values():
            if pending.request == request and conn_id in pending.calls:
                return pending
        return None

    def __len__(self) -> int:
        return len(self._pending)
