"""A byte stream cut into lines, for the protocols that send one JSON object per line
(the T-Library over TCP, ISCC between sites).

Sans-I/O: receive_data(bytes), then next_line() until it returns NEED_LINE.  A line is
at most `max_line` bytes: a longer one is reported once (OVERSIZE) and discarded up to
its newline, without keeping more than `max_line` bytes of it, so that a peer cannot
make the buffer grow without end.
"""

from __future__ import annotations

import enum
from typing import Final


class Cut(enum.Enum):
    NEED_LINE = enum.auto()  # no whole line yet
    OVERSIZE = enum.auto()  # a line over max_line bytes was dropped


NEED_LINE: Final = Cut.NEED_LINE
OVERSIZE: Final = Cut.OVERSIZE


class LineBuffer:
    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = False  # inside a line already reported as oversize
        self._scanned = 0  # no newline before this offset

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        """Bytes received and not yet cut into lines."""
        return len(self._buffer)

    def next_line(self) -> bytes | Cut:
        """The next line without its newline, OVERSIZE once for a line too long, or
        NEED_LINE."""
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline < 0:
                return self._await_newline()
            line = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            self._scanned = 0
            if self._discarding:
                self._discarding = False  # the tail of an oversize line: already reported
                continue
            return OVERSIZE if len(line) > self.max_line else line

    def _await_newline(self) -> Cut:
        self._scanned = len(self._buffer)
        if len(self._buffer) <= self.max_line:
            return NEED_LINE
        del self._buffer[:]
        self._scanned = 0
        if self._discarding:
            return NEED_LINE
        self._discarding = True
        return OVERSIZE
