"""The backup's side of the journal (DESIGN.md § 7, "Journal"): it rebuilds the
primary's state from the pair's latest snapshot, then applies every journal message
after it as it comes, so that it always holds what clients have seen.

A message that does not follow the last one applied (the journal was purged past it,
or a consumer skipped) means the state may miss something: the follower starts again
from the snapshot.  A message that cannot be read is logged and skipped; so is one
written in an older term than the journal has reached.  `caught_up(n)` waits until
message n is applied (a takeover finishes the journal that way).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import ObjectNotFoundError

from ctiserver.errors import RemoteProtocolError
from ctiserver.ha.journal import Batch, decode_batch
from ctiserver.ha.settings import HaSettings
from ctiserver.tserver.core import TServerCore

log = logging.getLogger(__name__)

# Journal messages applied in a row before the follower lets the loop run other work.
YIELD_EVERY = 32


class Gap(Exception):
    """A journal message is missing between the last applied and the next."""


class JournalFollower:
    def __init__(
        self,
        js: JetStreamContext,
        settings: HaSettings,
        core: Callable[[], TServerCore],
        connected: asyncio.Event,
    ) -> None:
        self._js = js
        self._connected = connected  # set while NATS is reachable
        self._settings = settings
        self._core = core  # the runtime's core of the moment
        self.position = 0  # the last journal message applied
        self.term = 0  # the newest term seen
        self._progress = asyncio.Condition()
        self.loaded = 0  # snapshots loaded, for the logs and tests

    async def run(self) -> None:
        """Follow until cancelled."""
        while True:
            try:
                await self._load_snapshot()
                await self._follow()
            except Gap as exc:
                log.warning("the journal has a gap (%s): loading the snapshot again", exc)
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                if cancelled():  # the error hid a cancellation (nats-py can lose one)
                    raise asyncio.CancelledError from exc
                log.warning("following the journal failed (%s); starting again", exc)
                await self._connected.wait()
                await asyncio.sleep(0.25)

    async def caught_up(self, last: int) -> None:
        """Until message *last* is applied."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.position >= last)

    async def _load_snapshot(self) -> None:
        try:
            store = await self._js.object_store(self._settings.snapshots)
            found = await store.get("snapshot")
        except ObjectNotFoundError:
            log.info("the pair has no snapshot yet: following the journal from its start")
            return
        if found.data is None:
            return
        try:
            batch = decode_batch(found.data)
        except RemoteProtocolError as exc:
            log.error("the pair's snapshot cannot be read (%s): following the journal", exc)
            return
        self._core().load_snapshot(batch.changes, batch.sessions, batch.sequence)
        self.loaded += 1
        await self._advance(batch.covers, batch.term)
        log.info(
            "loaded the pair's snapshot: journal message %d, %d records",
            batch.covers,
            len(batch.changes),
        )

    async def _follow(self) -> None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.position + 1
        )
        subscription = await self._js.subscribe(
            self._settings.subject, ordered_consumer=True, config=config
        )
        try:
            applied = 0
            async for message in subscription.messages:
                await self._apply(message)
                applied += 1
                if applied % YIELD_EVERY == 0:  # a backlog is applied without a pause
                    await asyncio.sleep(0)  # otherwise: the lease's renewal waits for it
        finally:
            try:
                await subscription.unsubscribe()
            except (TimeoutError, OSError, nats.errors.Error) as exc:  # the link closed
                log.debug("journal subscription: %s", exc)

    async def _apply(self, message: Msg) -> None:
        sequence = message.metadata.sequence.stream
        if sequence <= self.position:
            return  # had it (the snapshot covers it)
        if sequence != self.position + 1:
            raise Gap(f"message {sequence} after {self.position}")
        try:
            batch = decode_batch(message.data)
        except RemoteProtocolError as exc:
            log.error("journal message %d cannot be read, skipped: %s", sequence, exc)
        else:
            self._take(batch, sequence)
        await self._advance(sequence, self.term)

    def _take(self, batch: Batch, sequence: int) -> None:
        if batch.term < self.term:
            log.warning(
                "journal message %d is from term %d, after term %d: skipped",
                sequence,
                batch.term,
                self.term,
            )
            return
        self._core().apply_journal(batch.changes, batch.sessions, batch.sequence)
        self.term = batch.term

    async def _advance(self, position: int, term: int) -> None:
        async with self._progress:
            self.position = max(self.position, position)
            self.term = max(self.term, term)
            self._progress.notify_all()


def cancelled() -> bool:
    """Whether this task was asked to stop (though the CancelledError did not reach it)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
