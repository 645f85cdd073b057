"""The requests HotStandbyClient has sent and the server has not answered yet, by
ReferenceID (one numbering for every connection, so that an answer replayed on a new
connection finds its request), each with the connection it went out on.

The first event that carries a request's ReferenceID answers it.  EventError 58 says
the request reached a server serving as backup, which did nothing: its caller sends
it again to the primary.  A request whose connection was lost, and which the next
connection's replay did not answer, is in doubt (RequestInDoubt): the SDK cannot know
whether it was carried out, and never sends it again on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from ctiserver.client.connection import TClient
from ctiserver.client.switchover import Counts, RequestInDoubt
from ctiserver.tlib.vocabulary import TMessage

ON_BACKUP = 58  # EventError: this server is the backup of a hot-standby pair


class OnBackup(Exception):
    """The request reached a server serving as backup (EventError 58): not carried out."""


@dataclass(eq=False, slots=True)
class Pending:
    request: str
    reference_id: int
    conn: TClient  # sent on this connection
    answer: asyncio.Future[TMessage]


class Outstanding:
    def __init__(self, references: Iterator[int], counts: Counts) -> None:
        self.references = references
        self.counts = counts
        self._pending: dict[int, Pending] = {}

    def track(self, request: str, conn: TClient) -> Pending:
        """A request about to go out on *conn*, under a fresh ReferenceID."""
        reference_id = next(self.references)
        answer = asyncio.get_running_loop().create_future()
        pending = self._pending[reference_id] = Pending(request, reference_id, conn, answer)
        return pending

    def forget(self, pending: Pending) -> None:
        self._pending.pop(pending.reference_id, None)

    def _waiting(self, event: TMessage) -> Pending | None:
        reference_id = event.get("ReferenceID")
        pending = self._pending.get(reference_id) if reference_id is not None else None
        return None if pending is None or pending.answer.done() else pending

    def refused_on_backup(self, event: TMessage) -> bool:
        """Whether *event* is EventError 58 to one of these requests (then refused)."""
        pending = self._waiting(event)
        if pending is None or event.get("Event") != "EventError":
            return False
        if event.get("ErrorCode") != ON_BACKUP:
            return False
        pending.answer.set_exception(OnBackup())
        return True

    def answer(self, event: TMessage) -> None:
        if (pending := self._waiting(event)) is not None:
            pending.answer.set_result(event)

    def strand(self, conn: TClient | None, why: str) -> None:
        """Requests sent on another connection than *conn*, not answered: in doubt."""
        for pending in list(self._pending.values()):
            if pending.conn is not conn and not pending.answer.done():
                error = RequestInDoubt(pending.request, pending.reference_id, why)
                pending.answer.set_exception(error)
                self.counts.in_doubt += 1

    def fail(self, error: Exception) -> None:
        for pending in self._pending.values():
            if not pending.answer.done():
                pending.answer.set_exception(error)
