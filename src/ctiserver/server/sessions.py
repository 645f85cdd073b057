"""Resumable client sessions: who registered what, and the events each was sent, kept
for `resume-window` seconds after its connection drops (DESIGN.md § 7, "Resume").

A session starts with RequestRegisterClient and is told its ClientSessionID in
EventServerInfo.  Every event sent to it is kept, in order, with its
EventSequenceNumber (a bounded number of events and bytes per session).  A client
that reconnects with that ClientSessionID and LastEventSequenceNumber N gets its
registrations back and every kept event numbered above N, then live events; a session
past its window, or an N older than the oldest event kept, cannot be resumed (the
caller says so with EventError and starts a fresh session).

Pure: time is an argument.  The hot-standby journal carries the same facts to the
backup (SessionFact), so that a client can resume there after a switchover.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ctiserver.ids import DeviceId
from ctiserver.immutable import record
from ctiserver.tlib.vocabulary import RegisterMode


class Refusal(enum.Enum):
    """Why a session cannot be resumed."""

    UNKNOWN = "no such session (it ended, or its resume-window passed)"
    TOO_OLD = "events after that number are no longer kept"
    IN_USE = "the session is in use by another connection"


# --- the facts, as the journal carries them ---------------------------------------------------


@record
class SessionOpened:
    session: str
    application: str


@record
class SessionRegistered:
    session: str
    dn: DeviceId
    mode: RegisterMode


@record
class SessionUnregistered:
    session: str
    dn: DeviceId


@record
class SessionDropped:
    """Its connection went away at wall time `at`: the window starts."""

    session: str
    at: float


@record
class SessionResumed:
    session: str


@record
class SessionSent:
    """Event number `sequence` (its JSON line) was sent to these sessions: one fact per
    copy of an event, however many sessions got it (the line is shared, not copied)."""

    sessions: tuple[str, ...]
    sequence: int
    line: bytes


SessionFact = (
    SessionOpened
    | SessionRegistered
    | SessionUnregistered
    | SessionDropped
    | SessionResumed
    | SessionSent
)


@dataclass(slots=True)
class Session:
    id: str
    application: str
    registrations: dict[DeviceId, RegisterMode] = field(default_factory=dict)
    sent: deque[tuple[int, bytes]] = field(default_factory=deque)
    sent_bytes: int = 0
    dropped_at: float | None = None  # None: connected
    forgotten_below: int = 0  # events numbered below this were let go


@dataclass(frozen=True, slots=True)
class Resumption:
    """What a resumed session gets back: its registrations and the events it missed."""

    session: Session
    registrations: dict[DeviceId, RegisterMode]
    missed: list[bytes]


class Sessions:
    def __init__(
        self,
        *,
        window: float = 60.0,
        max_events: int = 10_000,
        max_bytes: int = 8 << 20,
        prefix: str = "",
    ) -> None:
        self.window = window
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)
        self._prefix = prefix  # tells this server's ids from another's

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session: str) -> Session | None:
        return self._sessions.get(session)

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._ids):x}"

    # --- facts ------------------------------------------------------------------------------

    def apply(self, fact: SessionFact) -> None:
        """Take one fact, from this server or from the journal of the pair."""
        if isinstance(fact, SessionOpened):
            self._sessions[fact.session] = Session(fact.session, fact.application)
        elif isinstance(fact, SessionSent):
            for sid in fact.sessions:
                if (found := self._sessions.get(sid)) is not None:
                    self._keep(found, fact.sequence, fact.line)
        elif (found := self._sessions.get(fact.session)) is not None:
            _change(found, fact)

    def apply_all(self, facts: Iterable[SessionFact]) -> None:
        for fact in facts:
            self.apply(fact)

    def _keep(self, session: Session, sequence: int, line: bytes) -> None:
        session.sent.append((sequence, line))
        session.sent_bytes += len(line)
        while session.sent and (
            len(session.sent) > self.max_events or session.sent_bytes > self.max_bytes
        ):
            dropped, old = session.sent.popleft()
            session.sent_bytes -= len(old)
            session.forgotten_below = dropped + 1

    # --- resuming -------------------------------------------------------------------------

    def resume(self, sid: str, last: int, at: float) -> Resumption | Refusal:
        """The session *sid*, for a client that last saw event number *last*."""
        session = self._sessions.get(sid)
        if session is None or self._expired(session, at):
            return Refusal.UNKNOWN
        if session.dropped_at is None:
            return Refusal.IN_USE
        if last + 1 < session.forgotten_below:
            return Refusal.TOO_OLD
        missed = [line for sequence, line in session.sent if sequence > last]
        return Resumption(session, dict(session.registrations), missed)

    def expire(self, at: float) -> list[str]:
        """Forget the sessions past their window; returns their ids."""
        gone = [sid for sid, s in self._sessions.items() if self._expired(s, at)]
        for sid in gone:
            del self._sessions[sid]
        return gone

    def _expired(self, session: Session, at: float) -> bool:
        return session.dropped_at is not None and at - session.dropped_at > self.window

    def next_expiry(self) -> float | None:
        """The wall time at which the next dropped session passes its window."""
        dropped = [s.dropped_at for s in self._sessions.values() if s.dropped_at is not None]
        return min(dropped) + self.window if dropped else None


def _change(session: Session, fact: SessionFact) -> None:
    match fact:
        case SessionRegistered(dn=dn, mode=mode):
            session.registrations[dn] = mode
        case SessionUnregistered(dn=dn):
            session.registrations.pop(dn, None)
        case SessionDropped(at=at):
            session.dropped_at = at
        case SessionResumed():
            session.dropped_at = None
