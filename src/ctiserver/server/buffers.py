"""One bound on the memory of all client buffers together (`[server] max-client-buffers`).

Each connection charges what it holds (requests read but not yet taken, events queued
but not yet written) whenever that changes.  When the total passes the limit, the
connection that holds the most is dropped, with a log line, until the total fits: the
client that reads slowest (or floods fastest) pays, the others carry on.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class BufferOwner(Protocol):
    name: str

    def drop(self, reason: str) -> None:
        """Close at once, discarding what is buffered."""


class BufferBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.dropped = 0
        self._held: dict[BufferOwner, int] = {}

    def charge(self, owner: BufferOwner, size: int) -> None:
        """*owner* now holds *size* bytes."""
        self.total += size - self._held.get(owner, 0)
        if size:
            self._held[owner] = size
        else:
            self._held.pop(owner, None)
        while self.total > self.limit and self._held:
            self._drop_largest()

    def release(self, owner: BufferOwner) -> None:
        self.total -= self._held.pop(owner, 0)

    def _drop_largest(self) -> None:
        owner = max(self._held, key=self._held.__getitem__)
        size = self._held[owner]
        self.release(owner)
        self.dropped += 1
        log.warning(
            "client buffers hold over %d bytes together (max-client-buffers); "
            "dropping %s, which holds %d",
            self.limit,
            owner.name,
            size,
        )
        owner.drop(f"its {size} buffered bytes passed the server's bound on all buffers")
