"""The core's side of the hot-standby pair (docs/ha.md, DESIGN.md § 7): whether its
outputs carry a Journal, following the primary's journal and snapshot as the backup, and
taking over.

PairSide is a part of TServerCore (tserver.core), written apart: its methods are the
core's own (`core.take_over(at)`), so nothing stands between a caller and them.  Host
says what of the core they read and change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ClientId
from ctiserver.model.changes import Change
from ctiserver.model.model import Model
from ctiserver.tlib.vocabulary import ServerRole, TMessage
from ctiserver.tserver.addresses import SERVER_VERSION
from ctiserver.tserver.call_monitoring import CallMonitor
from ctiserver.tserver.cleanup import Cleanup
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.events import server_info
from ctiserver.tserver.port import CoreSettings, Journal, Output, Requester
from ctiserver.tserver.sessions import SessionFact


class Host(Protocol):
    """The core, as its pair side uses it."""

    _model: Model
    _role: ServerRole
    _sequence: int
    _journaling: bool
    journaling: bool
    clients: Clients
    call_monitor: CallMonitor
    cleanup: Cleanup

    @property
    def settings(self) -> CoreSettings: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...

    def _flush(self) -> list[Output]: ...


class PairSide:
    @property
    def journaling(self: Host) -> bool:
        """Whether the outputs carry a Journal (the primary of a pair)."""
        return self._journaling

    @journaling.setter
    def journaling(self: Host, on: bool) -> None:
        self._journaling = self.clients.journaling = on

    def serve_as_backup(self: Host) -> None:
        """From now on follow the primary's journal, and leave the switch to it."""
        self._role = ServerRole.BACKUP
        self.journaling = False

    def apply_journal(
        self: Host, changes: Iterable[Change], facts: Iterable[SessionFact], sequence: int
    ) -> None:
        """The backup: take a batch of the primary's journal."""
        self._model.replay(changes)
        self.clients.apply(facts)
        self._sequence = max(self._sequence, sequence)

    def load_snapshot(
        self: Host, changes: Iterable[Change], facts: Iterable[SessionFact], sequence: int
    ) -> None:
        """The backup: the primary's whole state, instead of what it followed so far."""
        self._model.restart(changes)
        self.clients.load(facts)
        self._sequence = max(self._sequence, sequence)

    def journal_snapshot(self: Host) -> Journal:
        """The whole state, as a Journal that rebuilds it in an empty core."""
        return Journal(
            tuple(self._model.as_records()), tuple(self.clients.as_facts()), self._sequence
        )

    def take_over(self: Host, at: Instant) -> list[Output]:
        """The backup becomes the primary: the sessions of the old primary's clients wait
        for them, every client hears EventServerInfo (ServerRole Primary), and the
        numbering goes on above every number either member gave."""
        self._role = ServerRole.PRIMARY
        self.journaling = True
        self.clients.take_over(at)
        self.call_monitor.rebuild()
        self.cleanup = Cleanup(self.settings.cleanup)
        self.cleanup.track([call.conn_id for call in self._model.calls], at)
        live = [c for c in self.clients.everyone if not self.clients.detached(c)]
        self.send(server_info(SERVER_VERSION, ServerRole.PRIMARY), live, at)
        return self._flush()
