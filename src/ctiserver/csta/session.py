"""One CSTA association as a pure object: bytes in, messages out, and back.

Nothing here touches a socket, a clock or an event loop; ctiserver.link (the application
side) and ctiserver.pbxsim.listener (the switch side) drive a session with:

    receive_data(bytes)      feed what the socket gave; b"" when the peer closed
    next_message()           the next Inbound message, or NEED_DATA
    send_request(request)    -> (invoke id, bytes); the caller waits on that id
    send_response(id, msg)   -> bytes, echoing the peer's invoke id
    send_event(event)        -> bytes, under invoke id 9999

Rule 1: requests we send get invoke ids 0001-9998 (InvokeIds: constant time, first
freed first reused, never one still outstanding); a reply is matched to its request by
id.  Ids the *peer* chooses are echoed as received and never checked for reuse (some
applications reuse them).
Rule 2: helpers raise LocalProtocolError; next_message() is the only way in from the
wire, so it is the one place that turns those into RemoteProtocolError.
Rule 3: a frame that was read whole but cannot be used raises UnusableFrame (non-fatal),
which carries the frame's invoke id when readable; the session goes on.
Rule 4: a RemoteProtocolError with fatal=True (framing lost) leaves the session in a
terminal state; every later call to next_message() raises again.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import field
from typing import Final

from ctiserver.csta import codec
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.framing import EVENT_INVOKE_ID, FrameBuffer, UnusableFrame, wrap
from ctiserver.csta.schema import (
    CSTA_NAMESPACE_TEMPLATE,
    ERROR_KIND,
    EVENT_KIND,
    RESPONSE_KIND,
    Event,
    Message,
    Request,
    Response,
    Unconfirmed,
)
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import InvokeId
from ctiserver.immutable import immutable

FIRST_INVOKE_ID: Final = 1
LAST_INVOKE_ID: Final = 9998  # 9999 is the events' (ECMA-323 Annex J.2)
INVOKE_IDS: Final = LAST_INVOKE_ID - FIRST_INVOKE_ID + 1


class NeedData(enum.Enum):
    NEED_DATA = enum.auto()


NEED_DATA: Final = NeedData.NEED_DATA


class Role(enum.Enum):
    """ECMA-269 § 6.1: the application is the computing function, the switch the other."""

    COMPUTING_FUNCTION = enum.auto()
    SWITCHING_FUNCTION = enum.auto()


_SWITCHING_FUNCTION: Final = Role.SWITCHING_FUNCTION  # read as schema's *_KIND are


@immutable
class Inbound:
    """A message from the peer, with the invoke id to answer it under.

    For a response or CSTAErrorCode, `request` is the request of ours it answers.
    `document` is the XML document as it came, for a trace.
    """

    invoke_id: InvokeId
    message: Message
    request: Request | None = None
    document: bytes = field(default=b"", compare=False, repr=False)


class InvokeIds:
    """The invoke ids of requests we send, each allocated and freed in constant time.

    Freed ids queue up and are reused oldest first, so an id comes back as late as it
    can.  An id still outstanding is never handed out.  An abandoned one (its request
    timed out) waits in quarantine, and a late reply to it is recognised and dropped,
    until its reply comes or every other id is in use: only then is it reused.
    """

    def __init__(self) -> None:
        self._free: deque[InvokeId] = deque(
            InvokeId(n) for n in range(FIRST_INVOKE_ID, LAST_INVOKE_ID + 1)
        )
        self._quarantine: deque[InvokeId] = deque()
        self._abandoned: set[InvokeId] = set()

    def allocate(self) -> InvokeId:
        """A free id.  Raises LocalProtocolError when every id is outstanding."""
        if self._free:
            return self._free.popleft()
        while self._quarantine:
            invoke_id = self._quarantine.popleft()
            if invoke_id in self._abandoned:  # else its late reply freed it already
                self._abandoned.discard(invoke_id)
                return invoke_id
        raise LocalProtocolError(f"all {INVOKE_IDS} invoke ids are outstanding")

    def free(self, invoke_id: InvokeId) -> None:
        """*invoke_id* was answered (or needs no answer): it may be used again."""
        self._free.append(invoke_id)

    def abandon(self, invoke_id: InvokeId) -> None:
        """Nobody waits for *invoke_id* any more, but its reply may still come."""
        self._abandoned.add(invoke_id)
        self._quarantine.append(invoke_id)

    def late_reply(self, invoke_id: InvokeId) -> bool:
        """Whether a reply under *invoke_id* answers an abandoned request (and frees it)."""
        if invoke_id not in self._abandoned:
            return False
        self._abandoned.discard(invoke_id)
        self._free.append(invoke_id)
        return True


def namespace_for(edition: str) -> str:
    """The ECMA-323 namespace of an edition name such as "ed4"."""
    return CSTA_NAMESPACE_TEMPLATE.format(edition=edition)


class CstaSession:
    def __init__(self, role: Role, *, edition: str = "ed4") -> None:
        self.role = role
        self.namespace = namespace_for(edition)
        self._frames = FrameBuffer()
        self._invoke_ids = InvokeIds()
        self._outstanding: dict[InvokeId, Request] = {}
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
        kind = message.KIND
        if kind is RESPONSE_KIND or kind is ERROR_KIND:
            request = self._outstanding.pop(invoke_id, None)
            if request is None:
                if self._invoke_ids.late_reply(invoke_id):
                    return None  # a late reply to a request we gave up on: harmless
                raise RemoteProtocolError(
                    f"{type(message).__name__} answers invoke id {invoke_id:04d}, "
                    "which has no request outstanding"
                )
            self._invoke_ids.free(invoke_id)
            return Inbound(invoke_id, message, request, document)
        if kind is EVENT_KIND and self.role is _SWITCHING_FUNCTION:
            raise RemoteProtocolError(f"an application sent the event {type(message).__name__}")
        return Inbound(invoke_id, message, document=document)

    # --- messages to wire ---------------------------------------------------------------

    def send_request(self, request: Request) -> tuple[InvokeId, bytes]:
        """Encode *request* under a fresh invoke id; the caller waits on that id.

        Raises LocalProtocolError when all 9,998 ids are outstanding: a caller that may
        have that many requests in flight keeps its own window below INVOKE_IDS.
        """
        data = codec.encode(request, namespace=self.namespace)
        invoke_id = self._invoke_ids.allocate()
        try:
            framed = wrap(invoke_id, data)
        except LocalProtocolError:
            self._invoke_ids.free(invoke_id)
            raise
        self._outstanding[invoke_id] = request
        return invoke_id, framed

    def send_unconfirmed(self, message: Unconfirmed) -> bytes:
        """An invocation that expects no answer (routeing services)."""
        data = codec.encode(message, namespace=self.namespace)
        invoke_id = self._invoke_ids.allocate()
        self._invoke_ids.free(invoke_id)  # no answer will come under it
        return wrap(invoke_id, data)

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
            self._invoke_ids.abandon(invoke_id)
