"""Resumable client sessions: who registered what, and the events each was sent, kept
for `resume-window` seconds after its connection drops (DESIGN.md § 7, "Resume").

A session starts with RequestRegisterClient and is told its ClientSessionID in
EventServerInfo.  Every event sent to it is kept, in order, with its
EventSequenceNumber (at most `resume-max-events` per session; an event sent to many
sessions is kept once).  A client that reconnects with that ClientSessionID and
LastEventSequenceNumber N gets its registrations back and every kept event numbered
above N, then live events.  A session past its window, or an N older than the oldest
event kept, cannot be resumed: the client is told why and starts a fresh session.

The store changes only through facts (SessionOpened, SessionSent, …), which the core
makes and the hot-standby journal carries to the backup, so that a client can resume
there after a switchover.  Pure: times are arguments.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ctiserver.ids import DeviceId
from ctiserver.immutable import record
from ctiserver.tlib.vocabulary import RegisterMode, TMessage


class Refusal(enum.Enum):
    """Why a session cannot be resumed."""

    UNKNOWN = "no such session (it ended, or its resume-window passed)"
    TOO_OLD = "the events after that number are no longer kept"
    IN_USE = "the session is in use by another connection"


# --- the facts, as the journal carries them ---------------------------------------------------


@record
class SessionOpened:
    session: str
    application: str
    forgotten_below: int = 0  # a snapshot's: events below this number were let go


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
class SessionMasked:
    """RequestSetInputMask: the events the session takes from now on (none named:
    every event)."""

    session: str
    events: tuple[str, ...]


@record
class SessionDropped:
    """Its connection went away at wall time `at`: the window starts."""

    session: str
    at: float


@record
class SessionResumed:
    session: str


@record
class SessionClosed:
    """Its window passed: it is forgotten."""

    session: str


@record
class SessionSent:
    """Event number `sequence` was sent to these sessions: one fact per copy of an
    event, however many sessions got it (the event is shared, not copied)."""

    sessions: tuple[str, ...]
    sequence: int
    event: TMessage


SessionFact = (
    SessionOpened
    | SessionRegistered
    | SessionUnregistered
    | SessionMasked
    | SessionDropped
    | SessionResumed
    | SessionClosed
    | SessionSent
)


@dataclass(slots=True)
class Session:
    id: str
    application: str
    registrations: dict[DeviceId, RegisterMode] = field(default_factory=dict)
    mask: frozenset[str] | None = None  # RequestSetInputMask (None: every event)
    sent: deque[tuple[int, TMessage]] = field(default_factory=deque)
    dropped_at: float | None = None  # wall time; None: connected
    forgotten_below: int = 0  # events numbered below this were let go


@dataclass(frozen=True, slots=True)
class Resumption:
    """What a resumed session gets back: its registrations and the events it missed."""

    session: Session
    registrations: dict[DeviceId, RegisterMode]
    missed: list[TMessage]


# The events of each session a snapshot of the pair keeps (the latest): enough for a
# client to resume over a switchover, which misses the events of a second or two, while
# a snapshot of many busy clients stays small enough to load in a moment.
SNAPSHOT_TAIL = 100


class Sessions:
    def __init__(self, *, window: float = 60.0, max_events: int = 1000, prefix: str = "") -> None:
        self.window = window
        self.max_events = max_events
        self._sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)
        self._prefix = prefix  # tells this server's ids from another's

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def get(self, session: str) -> Session | None:
        return self._sessions.get(session)

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._ids):x}"

    def keep_only(self, ids: Iterable[str]) -> None:
        """Forget every session but these (a backup loading the primary's snapshot keeps
        the sessions of its own clients)."""
        wanted = set(ids)
        self._sessions = {sid: s for sid, s in self._sessions.items() if sid in wanted}

    # --- facts ------------------------------------------------------------------------------

    def apply(self, fact: SessionFact) -> None:
        """Take one fact, from this server or from the journal of the pair."""
        if isinstance(fact, SessionSent):
            for sid in fact.sessions:
                if (found := self._sessions.get(sid)) is not None:
                    self._keep(found, fact.sequence, fact.event)
        elif isinstance(fact, SessionOpened):
            opened = Session(fact.session, fact.application)
            opened.forgotten_below = fact.forgotten_below
            self._sessions[fact.session] = opened
        elif isinstance(fact, SessionClosed):
            self._sessions.pop(fact.session, None)
        elif (found := self._sessions.get(fact.session)) is not None:
            _change(found, fact)

    def apply_all(self, facts: Iterable[SessionFact]) -> None:
        for fact in facts:
            self.apply(fact)

    def _keep(self, session: Session, sequence: int, event: TMessage) -> None:
        keep(session, sequence, event, self.max_events)

    # --- resuming -------------------------------------------------------------------------

    def resume(self, sid: str, last: int) -> Resumption | Refusal:
        """The session *sid*, for a client that last saw event number *last*."""
        session = self._sessions.get(sid)
        if session is None:
            return Refusal.UNKNOWN
        if session.dropped_at is None:
            return Refusal.IN_USE
        if last + 1 < session.forgotten_below:
            return Refusal.TOO_OLD
        missed = [event for sequence, event in session.sent if sequence > last]
        return Resumption(session, dict(session.registrations), missed)

    def as_facts(self, tail: int = SNAPSHOT_TAIL) -> list[SessionFact]:
        """Facts that rebuild this store from nothing (the journal's snapshot), with the
        last *tail* events of each session (the older ones are forgotten: a resume that
        needs them is refused); an event kept for several sessions is in one fact."""
        facts: list[SessionFact] = []
        shared: dict[int, tuple[TMessage, list[str]]] = {}
        for session in self._sessions.values():
            kept = list(itertools.islice(session.sent, max(0, len(session.sent) - tail), None))
            forgotten_below = kept[0][0] if len(kept) < len(session.sent) else 0
            facts.append(
                SessionOpened(
                    session=session.id,
                    application=session.application,
                    forgotten_below=max(session.forgotten_below, forgotten_below),
                )
            )
            for dn, mode in session.registrations.items():
                facts.append(SessionRegistered(session=session.id, dn=dn, mode=mode))
            if session.mask is not None:
                facts.append(masked(session))
            for sequence, event in kept:
                shared.setdefault(sequence, (event, []))[1].append(session.id)
        for sequence in sorted(shared):
            event, sids = shared[sequence]
            facts.append(SessionSent(sessions=tuple(sids), sequence=sequence, event=event))
        for session in self._sessions.values():
            if session.dropped_at is not None:
                facts.append(SessionDropped(session=session.id, at=session.dropped_at))
        return facts


def facts_of(session: Session) -> list[SessionFact]:
    """Facts that rebuild one session from nothing."""
    facts: list[SessionFact] = [
        SessionOpened(
            session=session.id,
            application=session.application,
            forgotten_below=session.forgotten_below,
        )
    ]
    facts.extend(
        SessionRegistered(session=session.id, dn=dn, mode=mode)
        for dn, mode in session.registrations.items()
    )
    if session.mask is not None:
        facts.append(masked(session))
    facts.extend(SessionSent(sessions=(session.id,), sequence=n, event=e) for n, e in session.sent)
    if session.dropped_at is not None:
        facts.append(SessionDropped(session=session.id, at=session.dropped_at))
    return facts


def masked(session: Session) -> SessionMasked:
    return SessionMasked(session=session.id, events=tuple(sorted(session.mask or ())))


def keep(session: Session, sequence: int, event: TMessage, max_events: int) -> None:
    """Keep event number *sequence* for *session* (the hot path: every copy of every
    event sent to a client with a session)."""
    sent = session.sent
    if len(sent) >= max_events:
        session.forgotten_below = sent.popleft()[0] + 1
    sent.append((sequence, event))


def _change(session: Session, fact: SessionFact) -> None:
    match fact:
        case SessionRegistered(dn=dn, mode=mode):
            session.registrations[dn] = mode
        case SessionUnregistered(dn=dn):
            session.registrations.pop(dn, None)
        case SessionMasked(events=events):
            session.mask = frozenset(events) if events else None
        case SessionDropped(at=at):
            session.dropped_at = at
        case SessionResumed():
            session.dropped_at = None
