"""T-Library over JSON (DESIGN.md § 3), sans-I/O.

On TCP a message is one JSON object per line; on WebSocket, one per text frame.
TlibConnection cuts a TCP byte stream into requests:

    receive_data(bytes)   feed what the socket gave
    next_message()        a checked request (TMessage), an InvalidRequest to answer with
                          EventError, or NEED_DATA

A line longer than MAX_LINE is discarded up to its newline and reported once; the
connection goes on.  encode_event() gives the bytes of one event line.
"""

from __future__ import annotations

import datetime
import enum
import math
from typing import Final

import orjson

from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import InvalidRequest, check
from ctiserver.tlib.vocabulary import TMessage

MAX_LINE: Final = 1 << 20


class NeedData(enum.Enum):
    NEED_DATA = enum.auto()


NEED_DATA: Final = NeedData.NEED_DATA


def decode_request(payload: bytes | str) -> TMessage:
    """One request from one line or WebSocket frame.  Raises InvalidRequest."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(TError.INVALID_ATTR, f"not JSON: {exc}") from None
    return check(value)


def encode_event(event: TMessage) -> bytes:
    """The JSON line of *event*, newline included."""
    return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)


class _SecondPrefix:
    """The text of the last second formatted ("2026-11-21T09:30:00."): events come many
    to a second, so only the microseconds change from one to the next."""

    second = 0
    prefix = "1970-01-01T00:00:00."


def format_time(epoch: float) -> str:
    """ISO-8601 UTC with microseconds, as the `time` attribute is written.

    Rounds to the microsecond half to even, as datetime.fromtimestamp() does.
    """
    fraction, whole = math.modf(epoch)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    second = int(whole)
    if second != _SecondPrefix.second:
        moment = datetime.datetime.fromtimestamp(second, datetime.UTC)
        _SecondPrefix.prefix = moment.strftime("%Y-%m-%dT%H:%M:%S.")
        _SecondPrefix.second = second
    return f"{_SecondPrefix.prefix}{micro:06d}Z"


class TlibConnection:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._discarding = False
        self._scanned = 0

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def next_message(self) -> TMessage | InvalidRequest | NeedData:
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
            if len(line) > MAX_LINE:
                return _oversize()
            if line.strip():
                try:
                    return decode_request(line)
                except InvalidRequest as exc:
                    return exc

    def _await_newline(self) -> InvalidRequest | NeedData:
        self._scanned = len(self._buffer)
        if len(self._buffer) <= MAX_LINE:
            return NEED_DATA
        del self._buffer[:]
        self._scanned = 0
        if self._discarding:
            return NEED_DATA
        self._discarding = True
        return _oversize()


def _oversize() -> InvalidRequest:
    return InvalidRequest(
        TError.INVALID_ATTR, f"a line over {MAX_LINE} bytes was discarded up to its newline"
    )
