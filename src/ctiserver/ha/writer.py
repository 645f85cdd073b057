"""The primary's side of the journal (DESIGN.md § 7, "Journal"): what the core's outputs
change is made durable in JetStream before the events that follow from it are sent.

The writer is the runtime's Gate.  The change records and session facts of one loop
turn make one batch, with the last EventSequenceNumber given (a turn that only gave
numbers, to clients without a session, is a batch too: the next primary numbers above
it); while a batch is on its way, the next turns' batches wait and go together in the
next message, so a busy server sends few large messages and a quiet one adds one round
trip to an event.  Events are held in order and released once the message holding
their cause is acknowledged; an event with no cause waiting goes at once.

Each message is published with the journal sequence it must follow (the
`Nats-Expected-Last-Sequence` header): once another member has written to the journal
(a takeover starts with a marker), this member's writes are refused, and it stops.  Up
to DEPTH messages are on their way at once (each names the one before, so they land in
order or not at all); when one is not acknowledged, it and those after it are written
again one by one, and one whose acknowledgement was lost is recognised in the stream by
its `Nats-Msg-Id`.  While NATS is away, messages wait and are retried; the lease
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
DEPTH = 4  # journal messages on their way at once


class Superseded(Exception):
    """Another member wrote to the journal: this one is no longer the primary."""


@dataclass(slots=True)
class _Message:
    """One journal message: the turns it holds, and its way to JetStream."""

    turns: list[_Turn]
    body: bytes | None = None  # None: nothing to write (its events wait only in order)
    follows: int = 0  # the journal message it must come after
    msg_id: str = ""
    task: asyncio.Task[None] | None = None  # its first try
    written: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Nats-Expected-Last-Sequence": str(self.follows), "Nats-Msg-Id": self.msg_id}


@dataclass(slots=True)
class _Turn:
    """One loop turn's batch and the events that wait for it."""

    changes: list[Change] = field(default_factory=list)
    facts: list[SessionFact] = field(default_factory=list)
    sequence: int = 0
    journaled: bool = False  # the core journalled this turn (changes, facts or numbers given)
    held: list[Deliver | Resend] = field(default_factory=list)
    snapshot: Journal | None = None  # captured after this turn's changes
    waiters: list[asyncio.Future[None]] = field(default_factory=list)  # for its storing

    @property
    def durable(self) -> bool:
        """Nothing to write: its events wait only for the turns before it."""
        return not self.journaled


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
        self.last = last  # the journal's last message acknowledged
        self._next = last  # the journal's last message once those on their way land
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
        self._open.journaled = True
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
        """Publish the waiting turns, up to DEPTH messages on their way at once, and
        release each message's events when it is acknowledged, in order."""
        in_flight: deque[_Message] = deque()
        try:
            while not self._stopped and (self._queue or in_flight):
                while self._queue and len(in_flight) < DEPTH:
                    in_flight.append(self._message(self._take()))
                head = in_flight.popleft()
                if head.task is not None and not await self._acknowledged(head):
                    await self._recover(head, in_flight)
                self._done(head.turns)
        except Superseded as exc:
            self.stop()
            self._superseded(str(exc))
        finally:
            for message in in_flight:
                if message.task is not None:
                    message.task.cancel()

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

    def _message(self, turns: list[_Turn]) -> _Message:
        """The next message of the journal, on its way (unless it holds nothing)."""
        if all(turn.durable for turn in turns):
            return _Message(turns)
        batch = _merged(turns, self.term)
        msg_id = f"{self._settings.pair}.{self.term}.{self._next + 1}"
        message = _Message(turns, encode_batch(batch), self._next, msg_id)
        self._next += 1
        message.task = asyncio.create_task(self._publish(message), name="ha-publish")
        return message

    async def _acknowledged(self, message: _Message) -> bool:
        """Whether the first try of *message* was acknowledged (then it is counted)."""
        assert message.task is not None
        try:
            await message.task
        except (APIError, TimeoutError, OSError, nats.errors.Error):
            return False
        self._written(message)
        return True

    async def _recover(self, failed: _Message, after: deque[_Message]) -> None:
        """*failed* was not acknowledged: neither were those after it (each names the
        one before).  Write them again one by one, as they were."""
        for message in after:
            if message.task is not None:
                message.task.cancel()
        await self._write(failed)
        for message in after:
            if message.body is not None:
                await self._write(message)
                message.task = None
            message.written = True

    async def _publish(self, message: _Message) -> None:
        assert message.body is not None
        await self._js.publish(
            self._settings.subject, message.body, timeout=self._timeout, headers=message.headers
        )

    async def _write(self, message: _Message) -> None:
        """Publish *message* until JetStream has it: a message whose acknowledgement was
        lost is found in the stream; one refused because the journal moved on means the
        other member took over."""
        told = False
        while not self._stopped:
            try:
                await self._publish(message)
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    told = _retry_later(exc, told)
                elif await self._landed(message):
                    break
                else:
                    raise Superseded(
                        f"the journal has moved past message {message.follows}: "
                        "the other member took over"
                    ) from None
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                told = _retry_later(exc, told)
            else:
                break
            await asyncio.sleep(RETRY_WAIT)
        self._written(message)

    async def _landed(self, message: _Message) -> bool:
        """Whether the journal's message after *message.follows* is this one."""
        try:
            found = await self._js.get_msg(self._settings.stream, message.follows + 1)
        except (APIError, TimeoutError, OSError, nats.errors.Error):
            return False
        return (found.headers or {}).get("Nats-Msg-Id") == message.headers["Nats-Msg-Id"]

    def _written(self, message: _Message) -> None:
        if message.body is not None and not message.written:
            message.written = True
            self.last = message.follows + 1
            self.messages += 1
            self.bytes += len(message.body)

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
