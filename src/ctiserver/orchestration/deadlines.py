"""Deadlines by key on a clock that is only ever given: when a request times out, when a
waiting `<queue:submit>` gives up, when an orphaned session is ended.  Pure.

Setting a key again moves its deadline; cancelled and moved entries stay in the heap
until they reach its top, where they are dropped (as the SCXML driver does with timers).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Deadlines(Generic[K]):
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._due: dict[K, float] = {}
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._due)

    def set(self, key: K, when: float) -> None:
        self._due[key] = when
        heapq.heappush(self._heap, (when, next(self._sequence), key))

    def cancel(self, key: K) -> None:
        self._due.pop(key, None)

    def next_due(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def expired(self, now: float) -> list[K]:
        """The keys due at or before *now*, earliest first; they are forgotten."""
        keys: list[K] = []
        while (due := self.next_due()) is not None and due <= now:
            _, _, key = heapq.heappop(self._heap)
            del self._due[key]
            keys.append(key)
        return keys

    def _drop_stale(self) -> None:
        while self._heap:
            when, _, key = self._heap[0]
            if self._due.get(key) == when:
                return
            heapq.heappop(self._heap)
