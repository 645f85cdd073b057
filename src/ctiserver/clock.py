"""Time as a value.  Pure layers take `now` as an argument; only shells ask a Clock.

Two readings are kept apart: `monotonic()` for timeouts and deadlines, which never jumps,
and `wall()` for the `time` attribute that clients see (seconds since the Unix epoch).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class SystemClock:
    """The real clocks of this machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to; for tests of pure layers."""

    def __init__(self, *, wall: float = 1_795_000_000.0) -> None:
        self._monotonic = 0.0
        self._wall = wall

    def monotonic(self) -> float:
        return self._monotonic

    def wall(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._wall += seconds
