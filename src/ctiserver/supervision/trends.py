"""Small trends over the last hour, one bucket a minute: the calls that began in that
minute (consultations aside), and the most calls waiting at once in queues and at
routing points during it.

A bucket is [start, calls, waiting], `start` being the minute's first second (epoch
seconds).  A minute in which nothing happened still gets its bucket, waiting carrying
over, when time reaches the next one (`advance`).
"""

from __future__ import annotations

import collections
from typing import Final

MINUTE: Final = 60.0

Bucket = list[float]  # [start, calls, waiting]


def _minute(at: float) -> float:
    return at - at % MINUTE


class Trends:
    def __init__(self, *, minutes: int, at: float, waiting: int = 0) -> None:
        self.buckets: collections.deque[Bucket] = collections.deque(maxlen=minutes)
        self.buckets.append([_minute(at), 0, waiting])
        self._waiting = waiting

    @property
    def current(self) -> Bucket:
        return self.buckets[-1]

    def advance(self, at: float) -> bool:
        """Open the buckets of the minutes up to *at*; True if one was opened."""
        start = _minute(at)
        last = self.current[0]
        if start <= last:
            return False
        missing = min(int((start - last) // MINUTE), self.buckets.maxlen or 1)
        for step in range(missing - 1, -1, -1):
            self.buckets.append([start - step * MINUTE, 0, self._waiting])
        return True

    def call_started(self, at: float) -> None:
        self.advance(at)
        self.current[1] += 1

    def waiting(self, count: int, at: float) -> bool:
        """The calls waiting now; True if the current bucket's peak rose."""
        self.advance(at)
        self._waiting = count
        if count > self.current[2]:
            self.current[2] = count
            return True
        return False

    def rows(self) -> list[list[float]]:
        return [list(bucket) for bucket in self.buckets]
