"""The server's clients as the core sees them: who is connected and greeted, which DNs
each registered (tserver.registry), and their resumable sessions (tserver.sessions).

A client that registers gets a session.  When its connection drops, the client stays
registered, *detached*, for `resume-window` seconds: the events of its DNs are still
addressed to it and kept in its session, so that a client resuming the session gets
every event it missed.  A detached registration gives way to a live client that needs
the DN (ModePrivate).  At the window's end the session closes and the registrations go.

Every change to a session is a fact, applied here and, on the primary of a pair, kept
for the journal (`facts`).  The backup applies the primary's facts; when it takes over,
the sessions whose client is not connected to it become detached clients of its own.
Pure: times are arguments.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, DeviceId
from ctiserver.tlib.vocabulary import RegisterMode, TMessage
from ctiserver.tserver.registry import Registry
from ctiserver.tserver.sessions import (
    Refusal,
    Resumption,
    Session,
    SessionClosed,
    SessionDropped,
    SessionFact,
    SessionMasked,
    SessionOpened,
    SessionRegistered,
    SessionResumed,
    Sessions,
    SessionSent,
    SessionUnregistered,
    facts_of,
    keep,
)


class Clients:
    def __init__(self, *, window: float, max_events: int, prefix: str) -> None:
        self.registry = Registry()
        self.sessions = Sessions(window=window, max_events=max_events, prefix=prefix)
        self.journaling = False  # keep the facts for the journal (primary of a pair)
        self.facts: list[SessionFact] = []
        self._greeted: dict[ClientId, str] = {}  # client -> ApplicationName
        self._session_of: dict[ClientId, str] = {}
        self._client_of: dict[str, ClientId] = {}
        self._sessions: dict[ClientId, Session] = {}  # the sessions of clients, at hand
        self._detached: dict[ClientId, float] = {}  # -> monotonic end of its window
        self._stand_ins = itertools.count(-1, -1)  # clients for sessions of the other member
        # RequestSetInputMask: the events a client takes, at hand for every event sent
        # (a session keeps its own, and the journal carries it)
        self.masks: dict[ClientId, frozenset[str]] = {}

    # --- reading -----------------------------------------------------------------------------

    def greeted(self, client: ClientId) -> bool:
        return client in self._greeted

    @property
    def everyone(self) -> list[ClientId]:
        """Every greeted client, detached ones included (they keep what they miss)."""
        return list(self._greeted)

    def session_of(self, client: ClientId) -> str | None:
        return self._session_of.get(client)

    def detached(self, client: ClientId) -> bool:
        return client in self._detached

    def set_mask(self, client: ClientId, events: frozenset[str] | None) -> None:
        """RequestSetInputMask: only these events to *client* (None: every event)."""
        if events is None:
            self.masks.pop(client, None)
        else:
            self.masks[client] = events
        if (sid := self._session_of.get(client)) is not None:
            self._fact(SessionMasked(session=sid, events=tuple(sorted(events or ()))))

    # --- connections -------------------------------------------------------------------------

    def connected(self, client: ClientId) -> None:
        self.registry.add_client(client)

    def disconnected(self, client: ClientId, at: Instant) -> None:
        """Its connection went away: detached if it has a session, else forgotten."""
        sid = self._session_of.get(client)
        if sid is None:
            self.registry.remove_client(client)
            self._greeted.pop(client, None)
            self.masks.pop(client, None)
            return
        self._detached[client] = at.monotonic + self.sessions.window
        self._fact(SessionDropped(session=sid, at=at.wall))

    def open(self, client: ClientId, application: str) -> str:
        """RequestRegisterClient: greet *client*; its session id (a client that registers
        again on the same connection keeps its session)."""
        self._greeted[client] = application
        sid = self._session_of.get(client)
        if sid is None:
            sid = self.sessions.new_id()
            self._fact(SessionOpened(session=sid, application=application))
            self._attach(client, sid)
        return sid

    def resume(
        self, client: ClientId, sid: str, last: int, application: str
    ) -> Resumption | Refusal:
        """RequestRegisterClient with ClientSessionID: *client* takes the session over,
        with its registrations; the events it missed are in the answer."""
        if self._session_of.get(client) not in (None, sid):
            return Refusal.IN_USE
        found = self.sessions.resume(sid, last)
        if isinstance(found, Refusal):
            return found
        previous = self._client_of.get(sid)
        if previous is not None and previous != client:
            self._move(previous, client)
        self._greeted[client] = application
        self._attach(client, sid)
        self._fact(SessionResumed(session=sid))
        return found

    def _attach(self, client: ClientId, sid: str) -> None:
        self._session_of[client] = sid
        self._client_of[sid] = client
        session = self.sessions.get(sid)
        if session is not None:
            self._sessions[client] = session

    def _move(self, old: ClientId, new: ClientId) -> None:
        for dn in self.registry.dns_of(old):
            mode = self.registry.mode(old, dn)
            self.registry.unregister(old, dn)
            if mode is not None:
                self.registry.register(new, dn, mode)
        if (mask := self.masks.get(old)) is not None:
            self.masks[new] = mask
        self._forget(old)

    def _forget(self, client: ClientId) -> None:
        self.registry.remove_client(client)
        self._greeted.pop(client, None)
        self._detached.pop(client, None)
        self._sessions.pop(client, None)
        self.masks.pop(client, None)
        sid = self._session_of.pop(client, None)
        if sid is not None and self._client_of.get(sid) == client:
            del self._client_of[sid]

    # --- registrations -----------------------------------------------------------------------

    def register(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None:
        """Register; returns why it cannot be done, or None when done.  Detached clients
        in the way give the DN up."""
        problem = self.registry.register(client, dn, mode)
        if problem is None:
            self._registered(client, dn, mode)
            return None
        others = [c for c in self.registry.clients_of(dn) if c != client]
        if not all(other in self._detached for other in others):
            return problem
        for other in others:
            self.unregister(other, dn)
        return self.register(client, dn, mode)

    def _registered(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> None:
        sid = self._session_of.get(client)
        if sid is not None:
            self._fact(SessionRegistered(session=sid, dn=dn, mode=mode))

    def unregister(self, client: ClientId, dn: DeviceId) -> bool:
        if not self.registry.unregister(client, dn):
            return False
        if (sid := self._session_of.get(client)) is not None:
            self._fact(SessionUnregistered(session=sid, dn=dn))
        return True

    def unregister_dn(self, dn: DeviceId) -> list[ClientId]:
        """Drop every registration of *dn* (the DN left the configuration)."""
        clients = self.registry.unregister_dn(dn)
        for client in clients:
            if (sid := self._session_of.get(client)) is not None:
                self._fact(SessionUnregistered(session=sid, dn=dn))
        return clients

    # --- events ------------------------------------------------------------------------------

    def sent(self, sequence: int, event: TMessage, recipients: Iterable[ClientId]) -> None:
        """Event number *sequence* went to *recipients*: kept in their sessions (the
        same as applying a SessionSent, without making one unless it is journalled)."""
        sessions = self._sessions
        if not sessions:
            return
        limit = self.sessions.max_events
        kept = []
        for client in recipients:
            session = sessions.get(client)
            if session is not None:
                keep(session, sequence, event, limit)
                kept.append(session.id)
        if kept and self.journaling:
            self.facts.append(SessionSent(sessions=tuple(kept), sequence=sequence, event=event))

    # --- time --------------------------------------------------------------------------------

    def expire(self, at: Instant) -> list[ClientId]:
        """Close the sessions of detached clients past their window."""
        gone = [c for c, end in self._detached.items() if end <= at.monotonic]
        for client in gone:
            sid = self._session_of.get(client)
            self._forget(client)
            if sid is not None:
                self._fact(SessionClosed(session=sid))
        return gone

    def next_deadline(self) -> float | None:
        return min(self._detached.values()) if self._detached else None

    # --- the pair ----------------------------------------------------------------------------

    def apply(self, facts: Iterable[SessionFact]) -> None:
        """The primary's facts, on the backup (which keeps its own clients apart)."""
        self.sessions.apply_all(facts)

    def load(self, facts: Iterable[SessionFact]) -> None:
        """The primary's sessions, all of them (its snapshot), instead of those followed
        so far; the sessions of this server's own clients stay."""
        self.sessions.keep_only(self._client_of)
        self.sessions.apply_all(facts)

    def take_over(self, at: Instant) -> None:
        """The sessions whose client is not connected here become detached clients of
        this server, registered as they were, for what is left of their window.  The
        sessions of clients connected here go into the journal whole (the old primary
        never wrote them)."""
        for session in self.sessions:
            if session.id in self._client_of:
                if self.journaling:
                    self.facts.extend(facts_of(session))
                continue
            stand_in = ClientId(next(self._stand_ins))
            self.registry.add_client(stand_in)
            for dn, mode in session.registrations.items():
                self.registry.register(stand_in, dn, mode)
            if session.mask is not None:
                self.masks[stand_in] = session.mask
            self._greeted[stand_in] = session.application
            self._attach(stand_in, session.id)
            dropped = session.dropped_at
            if dropped is None:
                dropped = at.wall
                self._fact(SessionDropped(session=session.id, at=dropped))
            left = max(0.0, dropped + self.sessions.window - at.wall)
            self._detached[stand_in] = at.monotonic + left

    def as_facts(self) -> list[SessionFact]:
        return self.sessions.as_facts()

    def take_facts(self) -> list[SessionFact]:
        facts, self.facts = self.facts, []
        return facts

    def _fact(self, fact: SessionFact) -> None:
        self.sessions.apply(fact)
        if self.journaling:
            self.facts.append(fact)
