"""Time as a value.  Pure layers take an Instant as an argument; only shells ask a Clock.

An Instant carries two readings: `monotonic`, for timeouts and deadlines, which never
jumps, and `wall`, for the `time` attribute that clients see (seconds since the epoch).
"""

from __future__ import annotations

import time
from typing import Protocol

from ctiserver.immutable import immutable


@immutable
class Instant:
    monotonic: float
    wall: float


class Clock(Protocol):
    def now(self) -> Instant: ...


class SystemClock:
    """The real clocks of this machine."""

    def now(self) -> Instant:
        return Instant(time.monotonic(), time.time())


class FakeClock:
    """A clock that moves only when told to; for tests of pure layers."""

    def __init__(self, *, wall: float = 1_795_000_000.0) -> None:
        self._now = Instant(0.0, wall)

    def now(self) -> Instant:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now = Instant(self._now.monotonic + seconds, self._now.wall + seconds)
