"""The primary's side of the journal (DESIGN.md § 7, "Journal"): what the core's outputs
change is made durable in JetStream before the events that follow from it are sent.

The writer is the runtime's Gate.  The change records and session facts of one loop
turn make one batch; while a batch is on its way, the next turns' batches wait and go
together in the next message, so a busy server sends few large messages and a quiet
one adds one round trip to an event.  Events are held in order and released once the
message holding their cause is acknowledged; an event with no cause waiting goes at
once.

Each message is published with the journal sequence it must follow (the
`Nats-Expected-Last-Sequence` header): once another member has written to the journal
(a takeover starts with a marker), this member's writes are refused, and it stops.  A
message whose acknowledgement was lost is sent again under the same `Nats-Msg-Id`, so
JetStream keeps it once.  While NATS is away, messages wait and are retried; the lease
(ha.member) decides when waiting must end.

Every `snapshot-interval` the whole state is captured between two turns and stored in
the pair's object store, with the journal message it includes; the journal before that
message is then purged (a backup starts from the snapshot).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import APIError

from ctiserver.ha.journal import Batch, encode_batch
from ctiserver.ha.settings import HaSettings
from ctiserver.model.changes import Change
from ctiserver.tserver.port import Deliver, Journal, Resend
from ctiserver.tserver.sessions import SessionFact

log = logging.getLogger(__name__)

WRONG_LAST_SEQUENCE = 10071  # JetStream: the stream has moved on
MAX_MESSAGE = 768 << 10  # bytes of one message (NATS's default limit is 1 MiB)
RETRY_WAIT = 0.05


class Superseded(Exception):
    """Another member wrote to the journal: this one is no longer the primary."""


@dataclass(slots=True)
class _Turn:
    """One loop turn's batch and the events that wait for it."""

    changes: list[Change] = field(default_factory=list)
    facts: list[SessionFact] = field(default_factory=list)
    sequence: int = 0
    held: list[Deliver | Resend] = field(default_factory=list)
    snapshot: Journal | None = None  # captured after this turn's changes
    waiters: list[asyncio.Future[None]] = field(default_factory=list)  # for its storing

    @property
    def durable(self) -> bool:
        """Nothing to write: its events wait only for the turns before it."""
        return not self.changes and not self.facts


class JournalWriter:
    def __init__(
        self,
        js: JetStreamContext,
        settings: HaSettings,
        *,
        term: int,
        last: int,
        release: Callable[[Deliver | Resend], None],
        capture: Callable[[], Journal],
        superseded: Callable[[str], None],
        timeout: float = 2.0,
    ) -> None:
        self._js = js
        self._settings = settings
        self.term = term
        self.last = last  # the journal's last message, as this writer knows it
        self._release = release
        self._capture = capture
        self._superseded = superseded
        self._timeout = timeout
        self._open = _Turn()
        self._queue: deque[_Turn] = deque()
        self._sealing = False
        self._sender: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._snapshot_wanted = False
        self._snapshot_waiters: list[asyncio.Future[None]] = []
        self._stopped = False
        self.messages = 0  # published, for the metrics
        self.bytes = 0

    # --- the runtime's Gate ----------------------------------------------------------------

    def journal(self, journal: Journal) -> None:
        if self._stopped:
            return
        self._open.changes.extend(journal.changes)
        self._open.facts.extend(journal.sessions)
        self._open.sequence = journal.sequence
        self._seal_soon()

    def hold(self, output: Deliver | Resend) -> None:
        if self._stopped:
            return
        if self._open.durable and not self._open.held and not self._waiting:
            self._release(output)
            return
        self._open.held.append(output)
        self._seal_soon()

    @property
    def _waiting(self) -> bool:
        return bool(self._queue) or (self._sender is not None and not self._sender.done())

    def snapshot(self) -> asyncio.Future[None]:
        """Capture the whole state at the end of this turn and store it; the future is
        done once it is stored (or the attempt failed, which is logged)."""
        self._snapshot_wanted = True
        self._seal_soon()
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._snapshot_waiters.append(stored)
        return stored

    # --- batches ---------------------------------------------------------------------------

    def _seal_soon(self) -> None:
        if not self._sealing:
            self._sealing = True
            asyncio.get_running_loop().call_soon(self._seal)

    def _seal(self) -> None:
        self._sealing = False
        if self._stopped:
            return
        turn, self._open = self._open, _Turn()
        if self._snapshot_wanted:
            self._snapshot_wanted = False
            turn.snapshot = self._capture()
            turn.waiters, self._snapshot_waiters = self._snapshot_waiters, []
        if turn.durable and not turn.held and turn.snapshot is None:
            return
        self._queue.append(turn)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name="ha-journal")

    async def _send(self) -> None:
        try:
            while self._queue and not self._stopped:
                turns = self._take()
                batch = _merged(turns, self.term)
                if not batch.empty:
                    await self._write(encode_batch(batch))
                self._done(turns)
        except Superseded as exc:
            self.stop()
            self._superseded(str(exc))

    def _take(self) -> list[_Turn]:
        """The waiting turns that fit in one message (at least one)."""
        turns = [self._queue.popleft()]
        size = _size(turns[0])
        while self._queue and size + _size(self._queue[0]) <= MAX_MESSAGE:
            size += _size(self._queue[0])
            turns.append(self._queue.popleft())
        return turns

    def _done(self, turns: list[_Turn]) -> None:
        for turn in turns:
            for output in turn.held:
                self._release(output)
            if turn.snapshot is not None:
                self._store(turn.snapshot, self.last, turn.waiters)

    async def _write(self, data: bytes) -> None:
        headers = {
            "Nats-Expected-Last-Sequence": str(self.last),
            "Nats-Msg-Id": f"{self._settings.pair}.{self.term}.{self.last + 1}",
        }
        told = False
        while not self._stopped:
            try:
                ack = await self._js.publish(
                    self._settings.subject, data, timeout=self._timeout, headers=headers
                )
            except APIError as exc:
                if exc.err_code == WRONG_LAST_SEQUENCE:
                    raise Superseded(
                        f"the journal has moved past message {self.last}: "
                        "the other member took over"
                    ) from None
                told = _retry_later(exc, told)
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                told = _retry_later(exc, told)
            else:
                self.last = ack.seq
                self.messages += 1
                self.bytes += len(data)
                return
            await asyncio.sleep(RETRY_WAIT)

    # --- snapshots -------------------------------------------------------------------------

    def _store(self, snapshot: Journal, covers: int, waiters: list[asyncio.Future[None]]) -> None:
        task = asyncio.create_task(self._put(snapshot, covers), name="ha-snapshot")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

        def tell(_: asyncio.Task[None]) -> None:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

        task.add_done_callback(tell)

    async def _put(self, snapshot: Journal, covers: int) -> None:
        batch = Batch(
            self.term,
            snapshot.sequence,
            snapshot.changes,
            snapshot.sessions,
            snapshot=True,
            covers=covers,
        )
        data = encode_batch(batch)
        try:
            store = await self._js.object_store(self._settings.snapshots)
            await store.put("snapshot", data)
            if covers > 1:
                await self._js.purge_stream(self._settings.stream, seq=covers)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            log.warning(
                "the pair's snapshot could not be stored (next one in %g s): %s",
                self._settings.snapshot_interval,
                exc or type(exc).__name__,
            )
            return
        log.info(
            "snapshot of the pair stored: %d records, %d session facts, %d bytes, "
            "journal message %d",
            len(batch.changes),
            len(batch.sessions),
            len(data),
            covers,
        )

    async def drain(self) -> None:
        """Until everything held so far is written and its events sent."""
        self._seal()
        while self._sender is not None and not self._sender.done():
            await asyncio.shield(self._sender)

    # --- the end ---------------------------------------------------------------------------

    def stop(self) -> list[Deliver | Resend]:
        """Write nothing more; returns the events that were never sent (dropped)."""
        self._stopped = True
        dropped = [o for turn in (*self._queue, self._open) for o in turn.held]
        self._queue.clear()
        self._open = _Turn()
        for task in (self._sender, *self._background):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        return dropped


def _merged(turns: list[_Turn], term: int) -> Batch:
    changes: list[Change] = []
    facts: list[SessionFact] = []
    for turn in turns:
        changes.extend(turn.changes)
        facts.extend(turn.facts)
    sequence = max(turn.sequence for turn in turns)
    return Batch(term, sequence, tuple(changes), tuple(facts))


def _size(turn: _Turn) -> int:
    """A cheap estimate of a turn's bytes in a message."""
    return 400 * (len(turn.changes) + len(turn.facts)) + 16


def _retry_later(exc: BaseException, told: bool) -> bool:
    if not told:
        log.warning(
            "the journal cannot be written now (%s); the events wait and it is tried again",
            exc or type(exc).__name__,
        )
    return True
