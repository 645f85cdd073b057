"""The event export's buffer: the events encoded for JetStream and not yet acknowledged
by it, oldest first, bounded in bytes (`[export] max-buffer`).

An event that does not fit is refused (the caller counts it dropped): what the buffer
holds stays a run of consecutive events, published in order once NATS takes them.
Nothing here does I/O.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

OVERHEAD: Final = 96  # bytes an entry costs beyond its subject, payload and id


@dataclass(slots=True)
class Entry:
    """One event as it is published."""

    subject: str
    payload: bytes
    message_id: str
    refusals: int = 0  # times JetStream refused it (it is dropped after a few)

    @property
    def size(self) -> int:
        return len(self.payload) + len(self.subject) + len(self.message_id) + OVERHEAD


class EventBuffer:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self._entries: collections.deque[Entry] = collections.deque()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, entry: Entry) -> bool:
        """Keep *entry* after the others; False (and nothing kept) when it does not fit."""
        size = entry.size
        if self.bytes + size > self.limit:
            return False
        self._entries.append(entry)
        self.bytes += size
        return True

    def head(self, count: int) -> list[Entry]:
        """The *count* oldest entries (fewer if there are fewer), left in the buffer."""
        return list(itertools.islice(self._entries, count))

    def pop(self, count: int) -> None:
        """Forget the *count* oldest entries (published, or dropped)."""
        for _ in range(min(count, len(self._entries))):
            self.bytes -= self._entries.popleft().size

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)
