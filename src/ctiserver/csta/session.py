"""One CSTA association as a pure object: bytes in, messages out, and back.

Nothing here touches a socket, a clock or an event loop; ctiserver.link (the application
side) and ctiserver.pbxsim.listener (the switch side) drive a session with:

    receive_data(bytes)      feed what the socket gave; b"" when the peer closed
    next_message()           the next Inbound message, or NEED_DATA
    send_request(request)    -> (invoke id, bytes); the caller waits on that id
    send_response(id, msg)   -> bytes, echoing the peer's invoke id
    send_event(event)        -> bytes, under invoke id 9999

Rule 1: requests we send get invoke ids 0001-9998, cycling and skipping ids still
outstanding; a reply is matched to its request by id.  Ids the *peer* chooses are
echoed as received and never checked for reuse (some applications reuse them).
Rule 2: helpers raise LocalProtocolError; next_message() is the only way in from the
wire, so it is the one place that turns those into RemoteProtocolError.
Rule 3: a frame that was read whole but cannot be used raises UnusableFrame (non-fatal),
which carries the frame's invoke id when readable; the session goes on.
Rule 4: a RemoteProtocolError with fatal=True (framing lost) leaves the session in a
terminal state; every later call to next_message() raises again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

from ctiserver.csta import codec
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.framing import EVENT_INVOKE_ID, FrameBuffer, UnusableFrame, wrap
from ctiserver.csta.schema import (
    CSTA_NAMESPACE_TEMPLATE,
    Event,
    Kind,
    Message,
    Request,
    Response,
    Unconfirmed,
)
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import InvokeId

_FIRST_INVOKE_ID = 1
_LAST_INVOKE_ID = 9998
_ABANDONED_MEMORY = 256


class NeedData(enum.Enum):
    NEED_DATA = enum.auto()


NEED_DATA: Final = NeedData.NEED_DATA


class Role(enum.Enum):
    """ECMA-269 § 6.1: the application is the computing function, the switch the other."""

    COMPUTING_FUNCTION = enum.auto()
    SWITCHING_FUNCTION = enum.auto()


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message from the peer, with the invoke id to answer it under.

    For a response or CSTAErrorCode, `request` is the request of ours it answers.
    `document` is the XML document as it came, for a trace.
    """

    invoke_id: InvokeId
    message: Message
    request: Request | None = None
    document: bytes = field(default=b"", compare=False, repr=False)


def namespace_for(edition: str) -> str:
    """The ECMA-323 namespace of an edition name such as "ed4"."""
    return CSTA_NAMESPACE_TEMPLATE.format(edition=edition)


class CstaSession:
    def __init__(self, role: Role, *, edition: str = "ed4") -> None:
        self.role = role
        self.namespace = namespace_for(edition)
        self._frames = FrameBuffer()
        self._next_invoke_id = _FIRST_INVOKE_ID
        self._outstanding: dict[InvokeId, Request] = {}
        self._abandoned: dict[InvokeId, None] = {}
        self._peer_closed = False

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def peer_closed(self) -> bool:
        return self._peer_closed

    # --- wire to messages ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Buffer *data*; b"" means the peer closed.  Parsing happens in next_message()."""
        if data:
            self._frames.feed(data)
        else:
            self._peer_closed = True

    def next_message(self) -> Inbound | NeedData:
        """Return the next complete message, or NEED_DATA.  Raises RemoteProtocolError."""
        while True:
            frame = self._frames.next_frame()
            if frame is None:
                if self._peer_closed and self._frames.buffered:
                    raise RemoteProtocolError("peer closed the link in mid-frame", fatal=True)
                return NEED_DATA
            try:
                message = codec.decode(frame.document)
            except LocalProtocolError as exc:
                raise UnusableFrame(
                    f"undecodable CSTA document under invoke id {frame.invoke_id:04d}: {exc}",
                    invoke_id=frame.invoke_id,
                    unknown_message=exc.name if isinstance(exc, codec.UnknownMessage) else None,
                ) from exc
            inbound = self._classify(frame.invoke_id, message, frame.document)
            if inbound is not None:
                return inbound

    def _classify(self, invoke_id: InvokeId, message: Message, document: bytes) -> Inbound | None:
        if message.KIND in (Kind.RESPONSE, Kind.ERROR):
            request = self._outstanding.pop(invoke_id, None)
            if request is None:
                if self._abandoned.pop(invoke_id, "absent") is None:
                    return None  # a late reply to a request we gave up on: harmless
                raise RemoteProtocolError(
                    f"{type(message).__name__} answers invoke id {invoke_id:04d}, "
                    "which has no request outstanding"
                )
            return Inbound(invoke_id, message, request, document)
        if message.KIND is Kind.EVENT and self.role is Role.SWITCHING_FUNCTION:
            raise RemoteProtocolError(f"an application sent the event {type(message).__name__}")
        return Inbound(invoke_id, message, document=document)

    # --- messages to wire ---------------------------------------------------------------

    def send_request(self, request: Request) -> tuple[InvokeId, bytes]:
        """Encode *request* under a fresh invoke id; the caller waits on that id."""
        invoke_id = self._allocate_invoke_id()
        data = wrap(invoke_id, codec.encode(request, namespace=self.namespace))
        self._outstanding[invoke_id] = request
        return invoke_id, data

    def send_unconfirmed(self, message: Unconfirmed) -> bytes:
        """An invocation that expects no answer (routeing services)."""
        return wrap(self._allocate_invoke_id(), codec.encode(message, namespace=self.namespace))

    def send_response(self, invoke_id: InvokeId, response: Response | CSTAErrorCode) -> bytes:
        """Answer the peer's request *invoke_id*."""
        return wrap(invoke_id, codec.encode(response, namespace=self.namespace))

    def send_event(self, event: Event) -> bytes:
        if self.role is not Role.SWITCHING_FUNCTION:
            raise LocalProtocolError("only the switching function sends events")
        return wrap(EVENT_INVOKE_ID, codec.encode(event, namespace=self.namespace))

    def abandon(self, invoke_id: InvokeId) -> None:
        """Stop waiting for *invoke_id* (timed out); a late reply is then dropped quietly."""
        if self._outstanding.pop(invoke_id, None) is not None:
            self._abandoned[invoke_id] = None
            while len(self._abandoned) > _ABANDONED_MEMORY:
                del self._abandoned[next(iter(self._abandoned))]

    def _allocate_invoke_id(self) -> InvokeId:
        span = _LAST_INVOKE_ID - _FIRST_INVOKE_ID + 1
        for _ in range(span):
            candidate = InvokeId(self._next_invoke_id)
            self._next_invoke_id += 1
            if self._next_invoke_id > _LAST_INVOKE_ID:
                self._next_invoke_id = _FIRST_INVOKE_ID
            if candidate not in self._outstanding:
                self._abandoned.pop(candidate, None)
                return candidate
        raise LocalProtocolError(f"all {span} invoke ids are outstanding")
