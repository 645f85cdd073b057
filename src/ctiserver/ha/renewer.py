"""The primary's lease renewals, from a thread of its own (docs/ha.md, "Fencing").

On the server's event loop a renewal waits behind whatever the loop is doing: a burst
of work after a takeover (clients resuming, the reconciliation) could hold it past the
lease's deadline on a busy machine, and the primary would fence itself for nothing.
Here a thread with its own event loop and its own NATS connection writes the renewals,
so that they keep their pace however busy the server's loop is.

A loop that is not merely busy but stuck must still lose the lease, or the pair would
never fail over from a hung primary: the server's loop beats (beat()) at each of its
own checks, and the thread renews only while the last beat is at most `STUCK` lease
ttls old.  The member's loop keeps the fencing rule: it stops acting at the lease's
deadline (ha.lease), whatever the thread did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ctiserver.ha.lease import Lease
from ctiserver.ha.settings import HaSettings
from ctiserver.jetstream import connection
from ctiserver.jetstream.link import NatsSettings

log = logging.getLogger(__name__)

LEASE_KEY = "lease"
STUCK = 2.0  # lease ttls without a beat after which the server's loop is taken as stuck
NATS_ERRORS = (OSError, TimeoutError, nats.errors.Error)
FINISH_ROUNDS = 5  # of cancelling the tasks nats-py left, before the thread's loop closes
FINISH_WAIT = 2.0  # seconds each round waits for them


class LeaseRenewer:
    def __init__(
        self,
        settings: HaSettings,
        nats_settings: NatsSettings,
        lease: Lease,
        *,
        taken: Callable[[], None],
    ) -> None:
        """*taken* is called on the server's loop if the other member holds the lease."""
        self._settings = settings
        self._nats = nats_settings
        self._lease = lease
        self._taken = taken
        self._server_loop = asyncio.get_running_loop()
        self._beat = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="ha-lease", daemon=True)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.renewals = 0

    def start(self) -> None:
        self._thread.start()

    def beat(self) -> None:
        """The server's loop is running (called from it)."""
        self._beat = time.monotonic()

    async def stop(self) -> None:
        """Stop renewing; returns once no renewal is in flight."""
        self._stopping.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # its loop has closed already
                loop.call_soon_threadsafe(wake.set)
        if self._thread.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    # --- the thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception:  # a bug here must not pass silently: the loop will fence
            log.exception("the lease renewer failed")

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stopping.is_set():  # stopped before its loop could be woken
            return
        client = Client()
        try:
            if await self._connect(client):
                kv = await client.jetstream(timeout=self._nats.request_timeout).key_value(
                    self._settings.bucket
                )
                await self._renew(kv)
        except NATS_ERRORS as exc:
            log.warning("the lease renewer has no NATS (%s): the lease runs out", exc)
        finally:
            await connection.close(client)
            await finish_tasks()

    async def _connect(self, client: Client) -> bool:
        """Connect, until stopped or the lease's deadline (nats-py would try forever);
        whether it is connected and still to renew."""
        assert self._wake is not None
        attempt = asyncio.ensure_future(
            client.connect(
                servers=list(self._nats.urls),
                name=f"ctiserver-{self._settings.pair}-{self._settings.member}-lease",
                connect_timeout=max(1, round(self._nats.connect_timeout)),
                reconnect_time_wait=0.1,  # type: ignore[arg-type]
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=_nats_error,
            )
        )
        stopped = asyncio.create_task(self._wake.wait())
        left = max(0.0, self._lease.deadline() - time.monotonic())
        await asyncio.wait({attempt, stopped}, timeout=left, return_when=FIRST_COMPLETED)
        stopped.cancel()
        if attempt.done():
            attempt.result()  # its error, if it failed
            return not self._stopping.is_set()
        await connection.end(attempt)
        if not self._stopping.is_set():
            log.warning("the lease renewer could not reach NATS in time: the lease runs out")
        return False

    async def _renew(self, kv: KeyValue) -> None:
        lease, wake = self._lease, self._wake
        assert wake is not None
        value = self._settings.member.encode()
        while not self._stopping.is_set():
            pause = max(0.0, min(lease.renew_every, lease.deadline() - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), pause)
            if self._stopping.is_set():
                return
            sent = time.monotonic()
            if sent >= lease.deadline():
                return  # the lease is lost: the server's loop fences when it runs
            if sent - self._beat > STUCK * lease.ttl:
                continue  # the server's loop is stuck: let the lease run out
            try:
                revision = await asyncio.wait_for(
                    kv.update(LEASE_KEY, value, last=lease.revision),
                    timeout=max(0.05, lease.deadline() - sent),
                )
            except KeyWrongLastSequenceError:
                self._server_loop.call_soon_threadsafe(self._taken)
                return
            except NATS_ERRORS as exc:
                log.debug("lease renewal failed: %s", exc)
            else:  # recorded even if stopped meanwhile: resign() gives up this revision
                lease.written(revision, sent)
                self.renewals += 1


async def _nats_error(exc: Exception) -> None:
    """nats-py's errors (each failed attempt to reach NATS): the renewals say what matters."""
    log.debug("lease renewer: NATS: %s", exc)


async def finish_tasks() -> None:
    """Cancel and wait for every other task of this (the thread's own) loop, before it
    closes: asyncio.run cancels, once, what runs when the main task ends, and a task
    started meanwhile would be destroyed pending on the closed loop.  The client is
    closed already (jetstream.connection); this ends whatever else nats-py started (a
    subscription's task, a close it scheduled), round after round until none is left.
    """
    current = asyncio.current_task()
    for _ in range(FINISH_ROUNDS):
        others = {task for task in asyncio.all_tasks() if task is not current}
        if not others:
            return
        for task in others:
            task.cancel()
        await asyncio.wait(others, timeout=FINISH_WAIT)
    log.error("the lease renewer's loop still runs tasks it could not stop")
