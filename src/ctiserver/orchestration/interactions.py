"""Interactions: which session follows which call.  Pure bookkeeping on top of the calls.

An interaction is one session's handle on one call, named by an interaction id that does
not change while the call's ConnID does.  A session gets its first interaction when a
call reaches its routing point (EventRouteRequest), and more when its own `<createcall>`
or `<consultation>` makes calls.

Rule 1: when a consultation's party moves into another call (CallsMerged), each of the
consultation's interactions follows it, unless its session already has an interaction on
that call, in which case it is deleted: the two calls are one now.
Rule 2: when a call ends, its interactions are deleted; the core tells their sessions
(`interaction.deleted`).
Rule 3: a deleted interaction stays in its session's view (`gone`) until the session
has processed the events queued when it was deleted, `interaction.deleted` included.
Rule 4: a session's default interaction (an action without `interactionid`) is its
oldest interaction still alive.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ctiserver.scxml.values import Value


@dataclass(slots=True)
class Interaction:
    id: str
    link: str
    conn_id: str
    session_id: str
    routing_point: str | None = None
    parent_id: str | None = None


@dataclass(slots=True)
class SessionRecord:
    """What the core knows of one running strategy session."""

    session_id: str
    link: str
    routing_point: str | None
    interactions: list[str] = field(default_factory=list)
    party_events: bool = False  # its document has a transition on interaction.partystate.*
    statistics: bool = False  # its document calls _genesys.statistic.sData
    views: dict[str, Value] = field(default_factory=dict)  # as last shown to the session
    gone: dict[str, Value] = field(default_factory=dict)  # deleted, shown until processed


class Interactions:
    def __init__(self) -> None:
        self.by_id: dict[str, Interaction] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.dirty: set[str] = set()  # sessions whose `_genesys` view is stale
        self._by_call: dict[tuple[str, str], list[str]] = {}
        self._suffix = itertools.count(2)

    # --- sessions -------------------------------------------------------------------------

    def open_session(
        self,
        session_id: str,
        link: str,
        routing_point: str | None,
        *,
        party_events: bool,
        statistics: bool = False,
    ) -> None:
        record = SessionRecord(
            session_id, link, routing_point, party_events=party_events, statistics=statistics
        )
        self.sessions[session_id] = record

    def close_session(self, session_id: str) -> None:
        """Forget a session and its interactions (the calls go on without it)."""
        record = self.sessions.pop(session_id, None)
        self.dirty.discard(session_id)
        for interaction_id in record.interactions if record else ():
            self._drop(self.by_id[interaction_id])

    def resolve(self, session_id: str, interaction_id: str | None) -> Interaction | None:
        """The session's interaction *interaction_id*, or its default one (Rule 3)."""
        record = self.sessions.get(session_id)
        if record is None:
            return None
        if interaction_id is None:
            return self.by_id[record.interactions[0]] if record.interactions else None
        found = self.by_id.get(interaction_id)
        return found if found is not None and found.session_id == session_id else None

    # --- interactions ---------------------------------------------------------------------

    def add(
        self,
        session_id: str,
        link: str,
        conn_id: str,
        *,
        routing_point: str | None = None,
        parent_id: str | None = None,
    ) -> Interaction:
        """A new interaction of *session_id* on the call *conn_id*."""
        interaction_id = conn_id
        while interaction_id in self.by_id:
            interaction_id = f"{conn_id}.{next(self._suffix)}"
        interaction = Interaction(
            interaction_id, link, conn_id, session_id, routing_point, parent_id
        )
        self.by_id[interaction_id] = interaction
        self._by_call.setdefault((link, conn_id), []).append(interaction_id)
        self.sessions[session_id].interactions.append(interaction_id)
        self.dirty.add(session_id)
        return interaction

    def on_call(self, link: str, conn_id: str) -> list[Interaction]:
        return [self.by_id[i] for i in self._by_call.get((link, conn_id), ())]

    def touched(self, link: str, conn_id: str) -> None:
        """The call changed: its sessions' views are stale."""
        for interaction in self.on_call(link, conn_id):
            self.dirty.add(interaction.session_id)

    def merged(self, link: str, consultation: str, into: str) -> list[Interaction]:
        """The consultation's party moved into *into* (Rule 1); returns the deleted ones."""
        sessions_there = {i.session_id for i in self.on_call(link, into)}
        deleted: list[Interaction] = []
        for interaction in self.on_call(link, consultation):
            if interaction.session_id in sessions_there:
                deleted.append(interaction)
                self._remove(interaction)
                continue
            self._unindex(interaction)
            interaction.conn_id = into
            self._by_call.setdefault((link, into), []).append(interaction.id)
            self.dirty.add(interaction.session_id)
        return deleted

    def ended(self, link: str, conn_id: str) -> list[Interaction]:
        """The call is gone (Rule 2): its interactions, now deleted."""
        deleted = self.on_call(link, conn_id)
        for interaction in deleted:
            self._remove(interaction)
        return deleted

    def _remove(self, interaction: Interaction) -> None:
        record = self.sessions.get(interaction.session_id)
        if record is not None:
            record.interactions.remove(interaction.id)
            record.gone[interaction.id] = record.views.get(
                interaction.id, {"g_uid": interaction.id}
            )
            self.dirty.add(interaction.session_id)
        self._drop(interaction)

    def _drop(self, interaction: Interaction) -> None:
        self._unindex(interaction)
        del self.by_id[interaction.id]

    def _unindex(self, interaction: Interaction) -> None:
        key = (interaction.link, interaction.conn_id)
        ids = self._by_call.get(key)
        if ids is not None:
            ids.remove(interaction.id)
            if not ids:
                del self._by_call[key]
