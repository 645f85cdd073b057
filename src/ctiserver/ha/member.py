"""One member of a hot-standby pair (DESIGN.md § 7): backup until it holds the pair's
lease, then primary until it cannot keep it.

    backup:   follow the journal (ha.follower); try to create the lease every quarter
              of its ttl; the core refuses switch requests (EventError 58) and leaves
              switch events to the journal.
    takeover: with the lease, finish the journal, write a marker that fences the old
              primary's writes, hand the core's outputs to the journal writer
              (ha.writer), tell every client (EventServerInfo Primary), become the
              switch's router and reconcile with the switch.
    primary:  renew the lease every quarter ttl; at the lease's deadline without a
              renewal (NATS unreachable, or the lease taken), stop acting at once,
              close every client (they resume on the new primary) and start again as
              a backup from the pair's state in JetStream.

The member declares what the pair keeps in JetStream (the lease bucket, the journal's
stream, the snapshot store) if it is not there yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import Protocol

import nats.errors
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ctiserver.ha.follower import JournalFollower
from ctiserver.ha.journal import Batch, encode_batch
from ctiserver.ha.lease import Lease
from ctiserver.ha.renewer import LEASE_KEY, LeaseRenewer
from ctiserver.ha.settings import HaSettings
from ctiserver.ha.writer import JournalWriter, Superseded
from ctiserver.jetstream import connection
from ctiserver.jetstream.link import NatsLink
from ctiserver.server.runtime import Runtime
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import Journal

log = logging.getLogger(__name__)

NATS_ERRORS = (TimeoutError, OSError, nats.errors.Error)


class Role(enum.StrEnum):
    STARTING = "starting"  # not serving: waiting for NATS, or stopped acting
    BACKUP = "backup"
    TAKING_OVER = "taking-over"
    PRIMARY = "primary"


class Switchboard(Protocol):
    """What the composition root does for the member: the parts beyond the core."""

    def fresh_core(self) -> TServerCore:
        """A new core, as at the server's start (a demoted member starts again)."""

    def route_and_reconcile(self) -> None:
        """Become the router of the routing points, and reconcile with the switch."""

    def stop_routing(self) -> None:
        """Leave the routing points to the other member."""

    async def hand_over(self, deadline: float) -> None:
        """Before a graceful stop lets the lease go: publish what the server still holds
        for others (the event export), until *deadline* (monotonic) at the latest, so
        that the other member's events follow it."""


class Member:
    def __init__(
        self, settings: HaSettings, link: NatsLink, runtime: Runtime, switchboard: Switchboard
    ) -> None:
        self.settings = settings
        self._link = link
        self._runtime = runtime
        self._switchboard = switchboard
        self.role = Role.STARTING
        self._role_changed = asyncio.Condition()
        self.takeovers = 0
        self.demotions = 0
        self.follower: JournalFollower | None = None
        self.writer: JournalWriter | None = None
        self._snapshot_timer: asyncio.TimerHandle | None = None
        self._renewer: LeaseRenewer | None = None  # while primary
        self.first_snapshot: asyncio.Future[None] | None = None  # of the latest term
        self._stop_acting = asyncio.Event()
        self._why = ""
        self._resigned = False  # the server is stopping
        self.primary_since: float | None = None  # loop time it began acting as primary
        self.stopped_at: float | None = None  # loop time it last stopped acting
        self._kv: KeyValue | None = None
        self._lease: Lease | None = None
        runtime.add_journal_listener(self._journal)
        runtime.core.serve_as_backup()

    def _become(self, role: Role) -> None:
        self.role = role
        self._runtime.role = role.value
        asyncio.get_running_loop().create_task(self._tell_role())

    async def _tell_role(self) -> None:
        async with self._role_changed:
            self._role_changed.notify_all()

    async def became(self, role: Role) -> None:
        """Until this member has the role *role*."""
        async with self._role_changed:
            await self._role_changed.wait_for(lambda: self.role is role)

    async def primary_after(self, term: float) -> None:
        """Until this member is the primary of a term after *term* (a lease revision)."""
        async with self._role_changed:
            await self._role_changed.wait_for(
                lambda: (
                    self.role is Role.PRIMARY
                    and self._lease is not None
                    and self._lease.revision > term
                )
            )

    def figures(self) -> dict[str, float]:
        """What /healthz and /metrics say of the member."""
        writer, follower = self.writer, self.follower
        position = writer.last if writer is not None else (follower.position if follower else 0)
        return {
            "term": float(self._lease.revision if self._lease is not None else 0),
            "journal_position": float(position),
            "journal_messages": float(writer.messages if writer is not None else 0),
            "journal_bytes": float(writer.bytes if writer is not None else 0),
            "takeovers": float(self.takeovers),
            "demotions": float(self.demotions),
            "nats_up": 1.0 if self._link.up else 0.0,
        }

    # --- the journal's entry ----------------------------------------------------------------

    def _journal(self, journal: Journal) -> None:
        if self.writer is not None:
            self.writer.journal(journal)

    # --- the member's life ------------------------------------------------------------------

    async def run(self) -> None:
        await self._link.connected.wait()
        kv = self._kv = await self._declare()
        while True:
            lease, following = await self._as_backup(kv)
            self._lease = lease
            renewing = asyncio.create_task(self._keep(lease), name="ha-lease")
            try:
                await self._take_over(lease, following)
                await self._stop_acting.wait()
            except Superseded as exc:
                self._why = str(exc)
            finally:
                for task in (renewing, following):
                    await connection.end(task)  # a cancellation nats-py lost is sent again
                self._end()
                self._lease = None
            if self._resigned:
                return
            await self._demote()

    async def resign(self) -> None:
        """A graceful stop: send what is held, stop acting, and let the lease go, so
        that the other member takes over at once instead of after the lease's ttl."""
        self._resigned = True
        lease, kv, writer = self._lease, self._kv, self.writer
        if self.role is not Role.PRIMARY or lease is None or kv is None:
            return
        if writer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(writer.drain(), self.settings.lease_ttl)
        self._fence("the server is stopping")
        await self._switchboard.hand_over(lease.deadline())
        if self._renewer is not None:
            await self._renewer.stop()  # no renewal may follow the deletion
        try:
            await asyncio.wait_for(kv.delete(LEASE_KEY, last=lease.revision), 1.0)
        except (*NATS_ERRORS, nats.js.errors.APIError) as exc:
            log.warning(
                "could not give the lease up (%s): the other member takes over when it expires", exc
            )
        else:
            log.warning(
                "gave up the lease of pair %s: the other member takes over", self.settings.pair
            )

    async def _declare(self) -> KeyValue:
        """The lease bucket, the journal and the snapshot store, made if missing."""
        js, s = self._link.js, self.settings
        while True:
            try:
                kv = await js.create_key_value(
                    KeyValueConfig(bucket=s.bucket, history=1, ttl=s.lease_ttl)
                )
                await js.add_stream(
                    StreamConfig(name=s.stream, subjects=[s.subject], storage=StorageType.FILE)
                )
                await js.create_object_store(s.snapshots, ObjectStoreConfig(bucket=s.snapshots))
                return kv
            except BadRequestError as exc:  # made by the other member with other settings
                log.error("the pair's JetStream entities differ from this member's: %s", exc)
                raise
            except NATS_ERRORS as exc:
                log.warning("cannot prepare the pair in JetStream yet: %s", exc)
                await self._link.connected.wait()
                await asyncio.sleep(0.25)

    # --- backup -----------------------------------------------------------------------------

    async def _as_backup(self, kv: KeyValue) -> tuple[Lease, asyncio.Task[None]]:
        """Follow the journal until the lease is ours (the following goes on: the
        takeover finishes the journal)."""
        self._become(Role.BACKUP)
        self._stop_acting.clear()
        self._runtime.hold_events(None)
        self._runtime.core.serve_as_backup()
        follower = JournalFollower(
            self._link.js, self.settings, lambda: self._runtime.core, self._link.connected
        )
        self.follower = follower
        following = asyncio.create_task(follower.run(), name="ha-follow")
        try:
            return await self._acquire(kv), following
        except BaseException:
            following.cancel()
            raise

    async def _acquire(self, kv: KeyValue) -> Lease:
        lease = Lease(self.settings.lease_ttl)
        while True:
            sent = time.monotonic()
            try:
                revision = await kv.create(LEASE_KEY, self.settings.member.encode())
            except KeyWrongLastSequenceError:
                pass  # the primary holds it
            except NATS_ERRORS as exc:
                log.debug("lease: %s", exc)
            else:
                lease.written(revision, sent)
                log.warning("took the pair's lease (term %d): taking over", revision)
                return lease
            await asyncio.sleep(lease.renew_every)

    async def _journal_end(self, lease: Lease) -> int:
        while True:
            try:
                info = await self._link.js.stream_info(self.settings.stream)
                return info.state.last_seq
            except NATS_ERRORS as exc:
                log.warning("cannot read the journal's end: %s", exc)
                await asyncio.sleep(0.05)

    # --- primary ----------------------------------------------------------------------------

    async def _take_over(self, lease: Lease, following: asyncio.Task[None]) -> None:
        """Finish the journal, fence the old primary's writes, and serve."""
        self._become(Role.TAKING_OVER)
        assert self.follower is not None
        last = await self._journal_end(lease)
        await self.follower.caught_up(last)
        following.cancel()
        last = await self._mark(lease, last)
        self._begin(lease, last)

    async def _mark(self, lease: Lease, last: int) -> int:
        """Write the term's first message after *last*: the old primary's writes are
        refused from now on.  Returns the marker's journal sequence."""
        marker = encode_batch(Batch(lease.revision, self._runtime.core.sequence))
        headers = {"Nats-Expected-Last-Sequence": str(last)}
        while lease.valid(time.monotonic()):
            try:
                ack = await self._link.js.publish(self.settings.subject, marker, headers=headers)
                return ack.seq
            except nats.js.errors.APIError as exc:
                raise Superseded(f"the journal moved on during the takeover: {exc}") from None
            except NATS_ERRORS as exc:
                log.warning("cannot write the takeover marker yet: %r", exc)
                await asyncio.sleep(0.05)
        raise Superseded("the lease ran out during the takeover")

    def _begin(self, lease: Lease, last: int) -> None:
        runtime = self._runtime
        self.writer = JournalWriter(
            self._link.js,
            self.settings,
            term=lease.revision,
            last=last,
            release=runtime.release,
            capture=lambda: runtime.core.journal_snapshot(),
            superseded=self._fence,
            timeout=self._link.settings.request_timeout,
        )
        runtime.hold_events(self.writer)
        self.primary_since = asyncio.get_running_loop().time()
        runtime.perform(runtime.core.take_over(runtime.clock.now()))
        self._become(Role.PRIMARY)
        self.takeovers += 1
        self._switchboard.route_and_reconcile()
        log.warning("primary of pair %s (term %d)", self.settings.pair, lease.revision)
        # The term's first snapshot at once: a member that starts (or is demoted) later
        # then replays this term's journal only, not every term's since the last one.
        self.first_snapshot = self._snapshot()

    def _snapshot(self) -> asyncio.Future[None] | None:
        """A snapshot now (the future says when it is stored), and the next one after
        snapshot-interval."""
        if self.role is not Role.PRIMARY or self.writer is None:
            return None
        self._snapshot_timer = asyncio.get_running_loop().call_later(
            self.settings.snapshot_interval, self._snapshot
        )
        return self.writer.snapshot()  # its storing is logged

    async def _keep(self, lease: Lease) -> None:
        """Keep the lease (renewed from a thread of its own: ha.renewer); at its deadline
        without a renewal, stop acting."""
        renewer = self._renewer = LeaseRenewer(
            self.settings,
            self._link.settings,
            lease,
            taken=lambda: self._fence("the lease was taken by the other member"),
        )
        renewer.start()
        try:
            while True:
                renewer.beat()
                wake = min(time.monotonic() + lease.renew_every, lease.deadline())
                await asyncio.sleep(max(0.0, wake - time.monotonic()))
                late = time.monotonic() - wake
                if late > lease.renew_every:  # the loop was held: say so
                    log.warning("the event loop was held %.2f s", late)
                if not lease.valid(time.monotonic()):
                    self._fence("the lease could not be renewed in time (NATS unreachable?)")
                    return
        finally:
            await renewer.stop()

    def _fence(self, why: str) -> None:
        """Stop acting on the switch and answering as primary, now, and close every
        client: whatever this member numbered from now on would not be in the journal,
        and the next primary would give the same EventSequenceNumbers again (a
        stopping server's EventLinkDisconnected, an EventError 58).  What was released
        before (journalled) is still written to them first."""
        if self._stop_acting.is_set():
            return
        self._why = why
        self.stopped_at = asyncio.get_running_loop().time()
        self._become(Role.STARTING)
        self._runtime.core.serve_as_backup()
        self._runtime.hold_events(None)
        if self.writer is not None:
            dropped = self.writer.stop()
            if dropped:
                log.warning(
                    "%d events were never sent: their journal was not written", len(dropped)
                )
        self._runtime.close_clients(f"this server is no longer the primary of its pair: {why}")
        self._stop_acting.set()

    def _end(self) -> None:
        if self._snapshot_timer is not None:
            self._snapshot_timer.cancel()
            self._snapshot_timer = None
        if self.writer is not None:
            self.writer.stop()
            self.writer = None
        self._runtime.core.serve_as_backup()
        self._runtime.hold_events(None)

    # --- demotion ---------------------------------------------------------------------------

    async def _demote(self) -> None:
        """Start again as a backup: clients go to the new primary, the state comes from
        the pair's snapshot and journal."""
        log.error(
            "no longer primary of pair %s: %s; starting again as backup",
            self.settings.pair,
            self._why or "stopped",
        )
        self.demotions += 1
        self._switchboard.stop_routing()
        self._runtime.close_clients("this server is no longer the primary of its pair")
        core = self._switchboard.fresh_core()
        core.serve_as_backup()
        self._runtime.replace_core(core)
        await self._link.connected.wait()
