"""Rate-limited log lines for a peer, a switch or a client that misbehaves.

A switch that sends a malformed message a thousand times a second must not write a
thousand log lines a second.  `RateLimitedLog` writes the first line about a subject
(a peer, a link, an address: whatever names the source of trouble) and then at most
one line per subject every `interval` seconds; the next line written says how many
were held back since.  The link, ISCC peering, the listeners and pbxsim use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

DEFAULT_INTERVAL: Final = 10.0
MAX_SUBJECTS: Final = 4096


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(
        self, level: int, subject: str, message: str, *args: object, exc_info: bool = False
    ) -> bool:
        """Log *message* % *args* about *subject* unless one was logged within the
        interval; returns whether it was written."""
        if not self.logger.isEnabledFor(level):
            return False
        now = self._clock()
        last = self._last.get(subject)
        if last is not None and now - last < self.interval:
            self._held[subject] = self._held.get(subject, 0) + 1
            return False
        held = self._held.pop(subject, 0)
        if held:
            message += f" ({held} similar line{'s' if held > 1 else ''} held back)"
        self._remember(subject, now)
        self.logger.log(level, message, *args, exc_info=exc_info)
        return True

    def warning(self, subject: str, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, subject, message, *args)

    def error(self, subject: str, message: str, *args: object) -> bool:
        return self.log(logging.ERROR, subject, message, *args)

    def _remember(self, subject: str, now: float) -> None:
        self._last.pop(subject, None)
        self._last[subject] = now
        if len(self._last) > MAX_SUBJECTS:  # bounded memory: forget the oldest subject
            oldest = next(iter(self._last))
            del self._last[oldest]
            self._held.pop(oldest, None)
