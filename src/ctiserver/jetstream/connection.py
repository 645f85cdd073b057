"""Opening and closing one nats-py connection so that neither outlives its owner.

nats-py (2.x) leaves work behind in three ways, all seen on Python 3.11, whose
`asyncio.wait_for` returns the awaited result instead of raising when the cancellation
and the result come in the same turn of the loop (Python 3.12 no longer does):

- `Client.connect` with `allow_reconnect` tries forever while the server is away, and a
  cancellation that meets the server's answer is lost: the attempts go on.
- `Client.close` while the client reconnects cancels the reconnection, which may lose
  that cancellation and connect again after close() returned: the connection stays
  open, with its reader, pinger and flusher tasks running (on a loop that then closes,
  the flusher is destroyed pending and reported as "Event loop is closed").
- `Client.close` just as a reconnection begins raises CancelledError, although nothing
  cancelled its caller: both wait on the transport's closing, and cancelling the
  reconnection cancels that wait.

`connect` and `close` here are final: a cancelled connect stops its attempts and closes
what they opened; close() is repeated until the client is closed and none of its tasks
runs (its tasks are found by their coroutine's owner: nats-py does not list them).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats.errors
from nats.aio.client import Client

log = logging.getLogger(__name__)

FAILURES = (OSError, TimeoutError, nats.errors.Error)
ROUNDS = 5  # of close(), or of cancelling a task, before giving up (each is expected to do)
ROUND_WAIT = 2.0  # seconds a cancelled task is given to end, each round


async def connect(client: Client, **options: Any) -> None:
    """`client.connect(**options)`; if cancelled, its attempts stop and whatever they
    opened is closed before the cancellation goes on."""
    attempt = asyncio.ensure_future(client.connect(**options))
    try:
        await asyncio.wait({attempt})
    except asyncio.CancelledError:
        await end(attempt)
        await close(client)
        raise
    attempt.result()


async def end(task: asyncio.Future[Any]) -> None:
    """Cancel *task* until it has ended (a lost cancellation is sent again).  Its
    outcome is dropped: a NATS error logged for debugging, any other error logged."""
    for _ in range(ROUNDS):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=ROUND_WAIT)
    if not task.done():
        log.error("a NATS task does not end when cancelled: %r", task)
    elif not task.cancelled() and (exc := task.exception()) is not None:
        if isinstance(exc, FAILURES):
            log.debug("NATS: %s", exc)
        else:  # a bug: not to pass silently
            log.error("%r failed", task, exc_info=exc)


async def close(client: Client) -> None:
    """Close *client* for good: closed, and none of its tasks running.  Never raises a
    NATS error; raises CancelledError only if the caller is cancelled."""
    for _ in range(ROUNDS):
        if opened(client):
            try:
                await client.close()
            except asyncio.CancelledError:
                if _cancelling():
                    raise
            except FAILURES as exc:
                log.debug("closing a NATS connection: %s", exc)
        running = [task for task in tasks(client) if not task.done()]
        for task in running:
            await end(task)
        if not running and not opened(client):
            return
    log.error("a NATS connection could not be closed")


def opened(client: Client) -> bool:
    """Whether *client* has a connection (or an attempt at one) that close() would end:
    a client whose connect never ran, or that is closed, has none."""
    return (
        client.is_connected or client.is_connecting or client.is_reconnecting or client.is_draining
    )


def tasks(client: Client) -> list[asyncio.Task[Any]]:
    """The running loop's tasks that run a method of *client* (its reader, pinger,
    flusher, reconnection).  nats-py keeps only the latest of each in an attribute: a
    reconnection that raced close() can leave an earlier one running, unreferenced."""
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not current and _owner(task) is client]


def _owner(task: asyncio.Task[Any]) -> object:
    frame = getattr(task.get_coro(), "cr_frame", None)
    return None if frame is None else frame.f_locals.get("self")


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
