"""T-Library over JSON (docs/protocol.md), sans-I/O.

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
from typing import Any, Final

import orjson

from ctiserver.lines import NEED_LINE, OVERSIZE, LineBuffer
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


def format_time(epoch: float) -> str:
    """ISO-8601 UTC with microseconds, as the `time` attribute is written.  The part up
    to the second is formatted once per second (every event is stamped)."""
    second = int(epoch)  # after 1970: int() is the floor
    micro = int((epoch - second) * 1_000_000 + 0.5)
    if micro >= 1_000_000:  # rounding reached the next second
        second, micro = second + 1, micro - 1_000_000
    if second != _stamp[0]:
        moment = datetime.datetime.fromtimestamp(second, datetime.UTC)
        _stamp[:] = [second, moment.strftime("%Y-%m-%dT%H:%M:%S.")]
    return f"{_stamp[1]}{micro:06d}Z"


_stamp: list[Any] = [None, ""]  # [the second last formatted, its text up to the second]


class TlibConnection:
    def __init__(self) -> None:
        self._lines = LineBuffer(MAX_LINE)

    def receive_data(self, data: bytes) -> None:
        self._lines.receive_data(data)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet cut into requests."""
        return self._lines.buffered

    def next_message(self) -> TMessage | InvalidRequest | NeedData:
        while True:
            line = self._lines.next_line()
            if line is NEED_LINE:
                return NEED_DATA
            if line is OVERSIZE:
                return _oversize()
            assert isinstance(line, bytes)
            if line.strip():
                try:
                    return decode_request(line)
                except InvalidRequest as exc:
                    return exc


def _oversize() -> InvalidRequest:
    return InvalidRequest(
        TError.INVALID_ATTR, f"a line over {MAX_LINE} bytes was discarded up to its newline"
    )
