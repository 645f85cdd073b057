"""Which pending request an event answers, so that the requester's copy carries its
ReferenceID (DESIGN.md § 3, "Correlation").

When the core passes a request to the switch it records a Pending: the DN and call whose
events answer it and the names of those events.  An event matches the oldest Pending for
its DN, call and name; each name answers once.  A request that creates a call (MakeCall)
is bound to the first new call at its DN, or to the callID the switch's response names.

A Pending ends when every name has answered, when its client leaves, or at its deadline:
once the switch has accepted the request, events must follow within `answer_timeout`;
if none has come by then, the core answers EventError 57 so no request goes unanswered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ctiserver.ids import CallId, ClientId, ConnId, DeviceId
from ctiserver.tlib.vocabulary import KVList


@dataclass(slots=True, kw_only=True)
class Pending:
    token: int
    client: ClientId
    reference_id: int
    request: str
    dn: DeviceId
    answers: set[str]
    conn_id: ConnId | None = None
    binds_new_call: bool = False
    call_id: CallId | None = None  # named by the switch's response, before binding
    user_data: KVList | None = None
    answered: bool = False
    confirmed: bool = False
    deadline: float | None = None
    on_confirm: Callable[[Pending, Any], None] | None = None  # given the switch's response

    def matches(self, conn_id: ConnId | None, event: str) -> bool:
        """Whether *event* on this request's DN answers it."""
        if event not in self.answers:
            return False
        if self.conn_id is not None:
            return conn_id == self.conn_id
        return self.binds_new_call

    def overtaken(self, conn_id: ConnId | None, event: str) -> bool:
        """Its call has moved on: a later event that is not one of its answers."""
        return self.answered and self.conn_id == conn_id and event not in self.answers


class Correlator:
    def __init__(self) -> None:
        self._pending: dict[int, Pending] = {}
        self._by_dn: dict[DeviceId, dict[int, Pending]] = {}
        self._by_call_id: dict[CallId, Pending] = {}
        self._next_token = 1

    def new_token(self) -> int:
        token = self._next_token
        self._next_token += 1
        return token

    def add(self, pending: Pending) -> None:
        self._pending[pending.token] = pending
        self._by_dn.setdefault(pending.dn, {})[pending.token] = pending

    def get(self, token: int) -> Pending | None:
        return self._pending.get(token)

    def expect_call(self, pending: Pending, call_id: CallId) -> None:
        """The switch named the call *pending* created (before or after it is seen)."""
        pending.call_id = call_id
        if pending.token in self._pending:
            self._by_call_id[call_id] = pending

    def finish(self, token: int) -> Pending | None:
        pending = self._pending.pop(token, None)
        if pending is not None and pending.call_id is not None:
            self._by_call_id.pop(pending.call_id, None)
        if pending is not None:
            at_dn = self._by_dn[pending.dn]
            del at_dn[token]
            if not at_dn:
                del self._by_dn[pending.dn]
        return pending

    def answer(self, dn: DeviceId, conn_id: ConnId | None, event: str) -> Pending | None:
        """The pending request that *event* answers, if any; records the answer.

        Requests whose call has moved on past their answers end here too: a MakeCall
        answered by EventDialing waits for a possible EventDestinationBusy only until
        its call does something else.
        """
        found: Pending | None = None
        for pending in list(self._by_dn.get(dn, {}).values()):
            if found is None and pending.matches(conn_id, event):
                found = pending
                pending.answers.discard(event)
                pending.answered = True
                if pending.conn_id is None:
                    pending.conn_id = conn_id
                if not pending.answers and pending.confirmed:
                    self.finish(pending.token)
            elif pending.confirmed and pending.overtaken(conn_id, event):
                self.finish(pending.token)
        return found

    def binding_for(self, call_id: CallId, calling: DeviceId | None) -> Pending | None:
        """The unbound call-creating request that a new call belongs to."""
        candidates = list(self._by_dn.get(calling, {}).values()) if calling else []
        named = self._by_call_id.get(call_id)
        if named is not None:
            candidates.append(named)
        for pending in candidates:
            if not pending.binds_new_call or pending.conn_id is not None:
                continue
            if pending.call_id in (call_id, None):
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
        return pending

    def expire(self, now: float) -> list[Pending]:
        """Remove and return the requests past their deadline."""
        expired = [
            p for p in self._pending.values() if p.deadline is not None and p.deadline <= now
        ]
        for pending in expired:
            self.finish(pending.token)
        return expired

    def drop_client(self, client: ClientId) -> None:
        for token in [t for t, p in self._pending.items() if p.client == client]:
            self.finish(token)

    def next_deadline(self) -> float | None:
        deadlines = [p.deadline for p in self._pending.values() if p.deadline is not None]
        return min(deadlines, default=None)

    def __len__(self) -> int:
        return len(self._pending)
