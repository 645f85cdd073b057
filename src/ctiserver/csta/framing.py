"""The 8-byte "CSTA XML without SOAP" framing (ECMA-323 Annex G.2 / J.2), sans-I/O.

Each message on the TCP stream is a header followed by one XML document:

    bytes 0-1  format indicator, 0x0000 = XML without SOAP
    bytes 2-3  uint16 big-endian: the *total* frame length in bytes, header included
    bytes 4-7  invoke id: four ASCII decimal digits; unsolicited events use 9999

How to drive a FrameBuffer: feed() what the socket gave, then call next_frame() until it
returns None.  A frame with a bad format word or invoke id is consumed and reported as
UnusableFrame, a non-fatal RemoteProtocolError (the stream is still in step); a length
below the header size means the stream is out of step for good, so every later call
raises a fatal RemoteProtocolError.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import InvokeId

HEADER = struct.Struct(">HH4s")
HEADER_SIZE = HEADER.size
MAX_FRAME_SIZE = 0xFFFF
FORMAT_XML_WITHOUT_SOAP = 0x0000
EVENT_INVOKE_ID = InvokeId(9999)


class UnusableFrame(RemoteProtocolError):
    """One whole frame was read but cannot be used; the stream is still in step.

    Attributes:
        invoke_id: the frame's invoke id when its four digits could be read, else None,
            so that a switch can answer the request with CSTAErrorCode.
        unknown_message: the root element's name when the document was well-formed but
            names a message ctiserver does not know (a switch answers serviceNotSupported).
    """

    def __init__(
        self, message: str, *, invoke_id: InvokeId | None, unknown_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.invoke_id = invoke_id
        self.unknown_message = unknown_message


class Frame(NamedTuple):
    """One frame read whole (a tuple: one is made per message, cheaply)."""

    invoke_id: InvokeId
    document: bytes


def wrap(invoke_id: InvokeId, document: bytes) -> bytes:
    """Frame *document* under *invoke_id*.  Raises LocalProtocolError if it cannot fit."""
    if not 0 <= invoke_id <= 9999:
        raise LocalProtocolError(f"invoke id {invoke_id} is not four decimal digits")
    length = HEADER_SIZE + len(document)
    if length > MAX_FRAME_SIZE:
        raise LocalProtocolError(f"a {length}-byte frame exceeds the {MAX_FRAME_SIZE}-byte limit")
    return HEADER.pack(FORMAT_XML_WITHOUT_SOAP, length, b"%04d" % invoke_id) + document


class FrameBuffer:
    """Cuts a byte stream into frames.

    Frames are read from an offset into the buffer, and the bytes read are dropped once
    per feed(), not once per frame: a read of many frames costs one move, not one each.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start = 0
        self._broken: str | None = None

    def feed(self, data: bytes) -> None:
        if self._start:
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._start

    def next_frame(self) -> Frame | None:
        """Return the next whole frame, or None if more bytes are needed."""
        if self._broken is not None:
            raise RemoteProtocolError(self._broken, fatal=True)
        buffer, start = self._buffer, self._start
        if len(buffer) - start < HEADER_SIZE:
            return None
        format_word, length, invoke_digits = HEADER.unpack_from(buffer, start)
        if length < HEADER_SIZE:
            self._broken = f"frame length {length} is shorter than the header; stream out of step"
            raise RemoteProtocolError(self._broken, fatal=True)
        if len(buffer) - start < length:
            return None
        document = bytes(buffer[start + HEADER_SIZE : start + length])
        self._start = start + length
        invoke_id = _INVOKE_IDS.get(invoke_digits)
        if invoke_id is not None and format_word == FORMAT_XML_WITHOUT_SOAP:
            return Frame(invoke_id, document)
        readable = invoke_digits.isdigit()
        if format_word != FORMAT_XML_WITHOUT_SOAP:
            raise UnusableFrame(
                f"frame format 0x{format_word:04x} is not XML without SOAP",
                invoke_id=InvokeId(int(invoke_digits)) if readable else None,
            )
        if not readable:
            raise UnusableFrame(
                f"invoke id {invoke_digits!r} is not four decimal digits", invoke_id=None
            )
        invoke_id = _INVOKE_IDS[invoke_digits] = InvokeId(int(invoke_digits))
        return Frame(invoke_id, document)


# Four ASCII digits -> invoke id, filled as frames come (at most 10,000 entries).
_INVOKE_IDS: dict[bytes, InvokeId] = {}
