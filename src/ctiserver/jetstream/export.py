"""The event stream (`[export] events`, DESIGN.md § 7, docs/events.md): every T-Library
event this server produces, published once to JetStream as the JSON its clients got.

    take(delivery)   the runtime's event listener: encode once, keep in the buffer
    run()            declare the stream if missing, then publish what is buffered in
                     batches (jetstream.publisher: one wait for a batch's acks), in order

Call handling never waits for NATS: `take` only encodes and appends.  While NATS or
the stream is away the buffer holds up to `max-buffer` bytes; what does not fit is
dropped and counted, and one line is logged when the trouble starts, one when events
start to be dropped, and one when everything held is published again.  A batch whose
acknowledgements do not all come is published again from its first unacknowledged
event: JetStream keeps an event once by its message id (jetstream.events).  An event
JetStream refuses for good (larger than the stream takes), or REFUSALS times, is
dropped and counted as refused.

The member of a hot-standby pair exports only while it is primary (`exporting()`):
the backup's answers to its own clients are not the pair's events.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

import nats.errors
import orjson
from nats.js import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError, ServiceUnavailableError

from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.jetstream.buffer import Entry, EventBuffer
from ctiserver.jetstream.events import (
    ExportSettings,
    Subjects,
    message_id,
    stream_config,
)
from ctiserver.jetstream.link import NatsLink
from ctiserver.jetstream.publisher import Batch, BatchPublisher, Outcome, Refusal
from ctiserver.tserver.port import Deliver

log = logging.getLogger(__name__)
troubles = RateLimitedLog(log, interval=30.0)

BATCH = 1000  # events published before waiting for their acknowledgements
REFUSALS = 3  # times JetStream may refuse one event before it is dropped
# JetStream's refusals that no retry changes: larger than the stream takes (10054)
FOR_GOOD = frozenset({10054})
RETRY_MIN, RETRY_MAX = 0.25, 5.0  # seconds between attempts while NATS refuses
FAILURES = (TimeoutError, OSError, nats.errors.Error)
BUFFER_FULL, REFUSED = "buffer-full", "refused"


class ExportState(enum.StrEnum):
    PUBLISHING = "publishing"  # NATS takes the events (it may still be catching up)
    BUFFERING = "buffering"  # NATS or the stream is away: events are held
    DROPPING = "dropping"  # away, and the buffer is full: events are dropped
    STANDBY = "standby"  # the backup of a pair: nothing to export


@dataclass(slots=True)
class Outage:
    """From the first trouble until everything held is published again."""

    why: str
    told: bool = False  # logged (the wait for NATS at the start is not)
    dropped: int = 0


class EventExport:
    def __init__(
        self,
        settings: ExportSettings,
        link: NatsLink,
        *,
        server: str,
        exporting: Callable[[], bool] = lambda: True,
    ) -> None:
        self.settings = settings
        self.server = server
        self.stream = stream_config(settings, server)
        self._link = link
        self._exporting = exporting
        self._subjects = Subjects(server)
        self._buffer = EventBuffer(settings.max_buffer)
        self.published = 0
        self.dropped = {BUFFER_FULL: 0, REFUSED: 0}
        self._outage: Outage | None = Outage("NATS is not connected yet")
        self._publishing = False
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._batches: BatchPublisher | None = None
        self._stopping = False
        self._retry = RETRY_MIN  # seconds before the next attempt, after a failed one
        self.ready = asyncio.Event()  # set once the stream has been declared
        link.on_change(self._link_changed)

    # --- figures ---------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def buffered_bytes(self) -> int:
        return self._buffer.bytes

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def state(self) -> ExportState:
        if not self._exporting() and not self._buffer:
            return ExportState.STANDBY
        if self._publishing and self._link.up:
            return ExportState.PUBLISHING
        if self._outage is not None and self._outage.dropped:
            return ExportState.DROPPING
        return ExportState.BUFFERING

    # --- the runtime's event listener ------------------------------------------------------

    def take(self, delivery: Deliver) -> None:
        """Keep the event for JetStream: the requester's copy (with its ReferenceID) when it
        answers a request, else the event as its recipients got it."""
        if not self._exporting():
            return
        event = delivery.event
        if delivery.answering is not None:
            event = {**event, "ReferenceID": delivery.answering[1]}
        entry = Entry(self._subjects.of(event), orjson.dumps(event), message_id(self.server, event))
        if self._buffer.put(entry):
            self._empty.clear()
            self._wake.set()
        else:
            self._drop(BUFFER_FULL)

    def _drop(self, reason: str) -> None:
        self.dropped[reason] += 1
        if reason != BUFFER_FULL:
            return
        outage = self._outage
        if outage is None:
            outage = self._outage = Outage("NATS took events slower than they came", told=True)
        if not outage.dropped:
            log.warning(
                "event export: the buffer is full (%d events, %d bytes; [export] max-buffer): "
                "dropping events until NATS takes them again",
                len(self._buffer),
                self._buffer.bytes,
            )
        outage.dropped += 1

    # --- publishing --------------------------------------------------------------------------

    async def run(self) -> None:
        """Publish until cancelled, through every loss and return of NATS."""
        while True:
            await self._link.connected.wait()
            try:
                await self._declare()
                await self._publish_while_up()  # until NATS is lost: go on when it is back
                continue
            except NoStreamResponseError:
                self._trouble(f"no stream takes the subjects {self._subjects.wildcard}")
            except APIError as exc:
                self._trouble(f"JetStream refuses the events ({exc.description or exc})")
            except FAILURES as exc:
                self._trouble(f"NATS does not take the events ({exc or type(exc).__name__})")
            finally:
                self._publishing = False
            await asyncio.sleep(self._retry)
            self._retry = min(self._retry * 2, RETRY_MAX)

    async def _declare(self) -> None:
        """The stream, made if it is missing; one that exists is used as it is."""
        js = self._js()
        try:
            await js.add_stream(self.stream)
        except ServiceUnavailableError:
            troubles.error(
                "declare",
                "event export: JetStream does not answer (is it enabled on the NATS server?)",
            )
        except APIError as exc:
            if not await self._exists(js):
                troubles.error(
                    "declare",
                    "event export: cannot make the stream %s (%s); publishing anyway",
                    self.stream.name,
                    exc,
                )
        if not self.ready.is_set():
            log.info(
                "event export: publishing to stream %s on %s",
                self.stream.name,
                self._subjects.wildcard,
            )
        self.ready.set()

    async def _exists(self, js: JetStreamContext) -> bool:
        """Whether the stream exists (with settings other than [export]'s: said once)."""
        try:
            info = await js.stream_info(self.stream.name or "")
        except APIError:
            return False
        subjects = info.config.subjects or []
        if self._subjects.wildcard not in subjects:
            troubles.error(
                "subjects",
                "event export: stream %s exists with subjects %s, not %s",
                self.stream.name,
                subjects,
                self._subjects.wildcard,
            )
        else:
            troubles.warning(
                "settings",
                "event export: stream %s exists with settings other than [export]'s; "
                "it is used as it is",
                self.stream.name,
            )
        return True

    def _js(self) -> JetStreamContext:
        return self._link.client.jetstream(timeout=self._link.settings.request_timeout)

    def _publisher(self) -> BatchPublisher:
        client = self._link.client
        if self._batches is None or self._batches.client is not client:
            self._batches = BatchPublisher(client)
        return self._batches

    async def _publish_while_up(self) -> None:
        publisher = self._publisher()
        self._publishing = True
        while self._link.up:
            if not self._buffer:
                self._end_outage()
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            entries = self._buffer.head(BATCH)
            batch = await publisher.publish(entries, self._link.settings.request_timeout)
            self._settle(entries, batch)

    def _settle(self, entries: list[Entry], batch: Batch) -> None:
        """Forget the events stored in a row from the first; the rest go again.  Raises
        what stopped the row (a refusal, no stream, no answer) unless NATS is lost."""
        done = 0
        while done < len(entries) and batch.outcomes[done] is Outcome.STORED:
            done += 1
        self._buffer.pop(done)
        self.published += done
        if done == len(entries):
            self._retry = RETRY_MIN
            return
        outcome = batch.outcomes[done]
        if outcome is Outcome.NO_STREAM:
            raise NoStreamResponseError
        if outcome is Outcome.REFUSED or outcome is Outcome.TOO_LARGE:
            refusal = batch.refusals.get(done, Refusal(0, "larger than NATS takes"))
            self._refused(entries[done], refusal, at_once=outcome is Outcome.TOO_LARGE)
        elif self._link.up:
            raise TimeoutError(f"{len(entries) - done} events not acknowledged in time")

    def _refused(self, entry: Entry, refusal: Refusal, *, at_once: bool) -> None:
        """An event JetStream will never take (too large, or refused for good, or
        REFUSALS times) is dropped; another refusal is an outage: try again later."""
        entry.refusals += 1
        if not (at_once or refusal.code in FOR_GOOD or entry.refusals >= REFUSALS):
            raise APIError(err_code=refusal.code, description=refusal.description)
        troubles.error(
            "refused",
            "event export: dropped an event JetStream does not take on %s: %s",
            entry.subject,
            refusal.description,
        )
        self._buffer.pop(1)
        self._drop(REFUSED)

    # --- trouble -----------------------------------------------------------------------------

    def _link_changed(self, up: bool) -> None:
        if not up and not self._stopping:
            self._trouble("NATS is away")
        if not up and self._batches is not None:
            self._batches.abandon()
        self._wake.set()

    def _trouble(self, why: str) -> None:
        """Say once per outage why events are held (waiting for NATS at the start is
        no trouble until something else goes wrong)."""
        outage = self._outage
        if outage is None or not outage.told:
            self._outage = Outage(why, told=True, dropped=outage.dropped if outage else 0)
            log.warning(
                "event export: %s; holding events (up to %d bytes) until NATS takes them",
                why,
                self.settings.max_buffer,
            )

    def _end_outage(self) -> None:
        outage, self._outage = self._outage, None
        if outage is not None and (outage.told or outage.dropped):
            log.warning(
                "event export: publishing again; %d events were dropped while %s",
                outage.dropped,
                outage.why,
            )

    async def drained(self) -> None:
        """Until everything held is published (there may be more after)."""
        await self._empty.wait()

    async def stop(self, seconds: float) -> None:
        """The server stops: wait (at most *seconds*) until everything buffered is
        published; the loss of NATS that follows is no outage."""
        self._stopping = True
        if self._link.up:
            try:
                async with asyncio.timeout(seconds):
                    await self._empty.wait()
            except TimeoutError:
                log.warning(
                    "event export: %d events not published before the stop", len(self._buffer)
                )
