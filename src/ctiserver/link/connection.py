"""One CSTA association over one TCP connection, on the application side.

CstaLink drives a CstaSession: it reads, feeds, dispatches, and writes.  Requests are
submitted with a callback (no task per request) and a timeout; replies come back by
invoke id.  Writes made in one loop iteration go out in one system call.

At most `max_outstanding` requests (at most the 9,998 invoke ids of ECMA-323) are
outstanding at once; a request beyond them waits, in order, for an answer to make
room, and its timeout runs from when it is sent.

Timeouts cost no timer per request (a loop timer made and cancelled is some 4 µs):
requests wait in one queue per timeout value, in the order sent and so in the order
due, and one loop timer is set for the earliest deadline.  An answered request is
dropped from its queue when it comes to the front.

The switch's own requests are answered here: SystemStatus and RequestSystemStatus (the
keep-alive of the implicit association style); anything else it asks gets
CSTAErrorCode(operation, serviceNotSupported).  Events and unconfirmed invocations go
to the `on_message` callback.  A malformed message is logged and skipped; lost framing
closes the connection.  Those log lines are rate limited (doors.lograte): a switch
that keeps misbehaving writes a line every few seconds, not one per message.
`close_reason` says why the connection ended, for the supervisor's log line.

Every frame in and out goes to the trace (link.trace) when somebody traces, and is
counted in LinkCounters (read by /metrics; plain integers, no lock on the hot path).
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.framing import HEADER_SIZE
from ctiserver.csta.schema import (
    ERROR_KIND,
    EVENT_KIND,
    REQUEST_KIND,
    RESPONSE_KIND,
    UNCONFIRMED_KIND,
    Message,
    Request,
    Response,
    Unconfirmed,
)
from ctiserver.csta.session import INVOKE_IDS, NEED_DATA, CstaSession, Inbound, Role
from ctiserver.csta.system import (
    RequestSystemStatus,
    RequestSystemStatusResponse,
    SystemStatus,
    SystemStatusResponse,
)
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.errors import LinkDown, RemoteProtocolError, ServiceError
from ctiserver.ids import InvokeId
from ctiserver.link.trace import CstaTrace

log = logging.getLogger(__name__)
troubles = RateLimitedLog(log)

Reply = Response | BaseException
ReplyCallback = Callable[[Reply], None]
READ_SIZE = 1 << 16


@dataclass(slots=True)
class LinkCounters:
    """What happened on the links to the switch since the server started."""

    frames_received: int = 0
    frames_sent: int = 0
    protocol_errors: int = 0  # frames skipped as malformed
    request_timeouts: int = 0  # requests the switch did not answer in time
    error_responses: int = 0  # CSTAErrorCode answers


@dataclass(slots=True)
class _Waiting:
    request: Request
    callback: ReplyCallback
    timeout: float  # which deadline queue holds it


# A loop timer may run up to a clock tick early; a deadline this close counts as due.
_CLOCK_SLACK = 0.002


@dataclass(frozen=True, slots=True)
class _Queued:
    request: Request
    callback: ReplyCallback
    timeout: float


class CstaLink:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        edition: str,
        on_message: Callable[[Message], None],
        trace: CstaTrace | None = None,
        counters: LinkCounters | None = None,
        max_outstanding: int = INVOKE_IDS,
    ) -> None:
        if not 1 <= max_outstanding <= INVOKE_IDS:
            raise ValueError(f"max_outstanding must be 1 to {INVOKE_IDS}")
        self._reader = reader
        self._writer = writer
        self._session = CstaSession(Role.COMPUTING_FUNCTION, edition=edition)
        self._on_message = on_message
        self._trace = trace
        self.counters = counters or LinkCounters()
        self._max_outstanding = max_outstanding
        self._waiting: dict[InvokeId, _Waiting] = {}
        self._deadlines: dict[float, deque[tuple[float, InvokeId, _Waiting]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._queued: deque[_Queued] = deque()
        self._outgoing: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self.close_reason = ""
        self.arrived = 0.0  # time.perf_counter() when the chunk being handled was read
        self.switch_status: asyncio.Future[SystemStatusValue] = self._loop.create_future()

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        edition: str,
        connect_timeout: float,
        on_message: Callable[[Message], None],
        tls: ssl.SSLContext | None = None,
        trace: CstaTrace | None = None,
        counters: LinkCounters | None = None,
        max_outstanding: int = INVOKE_IDS,
    ) -> CstaLink:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        return cls(
            reader,
            writer,
            edition=edition,
            on_message=on_message,
            trace=trace,
            counters=counters,
            max_outstanding=max_outstanding,
        )

    @property
    def closed(self) -> bool:
        return self._closed

    # --- requests ----------------------------------------------------------------------

    @property
    def outstanding(self) -> int:
        """Requests sent and not yet answered (those waiting to be sent not counted)."""
        return len(self._waiting)

    def submit(self, request: Request, callback: ReplyCallback, *, timeout: float) -> None:
        """Send *request*; *callback* gets the Response, ServiceError, TimeoutError or LinkDown.

        *timeout* runs from when the request is sent: at once, or when an answer to an
        earlier one makes room under `max_outstanding`.
        """
        if self._closed:
            callback(LinkDown("the link to the switch is down"))
        elif self._queued or len(self._waiting) >= self._max_outstanding:
            self._queued.append(_Queued(request, callback, timeout))
        else:
            self._send(request, callback, timeout)

    def _send(self, request: Request, callback: ReplyCallback, timeout: float) -> None:
        invoke_id, data = self._session.send_request(request)
        waiting = self._waiting[invoke_id] = _Waiting(request, callback, timeout)
        deadline = self._loop.time() + timeout
        queue = self._deadlines.get(timeout)
        if queue is None:
            queue = self._deadlines[timeout] = deque()
        queue.append((deadline, invoke_id, waiting))
        if deadline < self._timer_at:
            self._arm(deadline)
        self._write(data, request)

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._expire_due)

    def _expire_due(self) -> None:
        """Time out every request due; set the timer for the next deadline."""
        self._timer, self._timer_at = None, math.inf
        now = self._loop.time() + _CLOCK_SLACK
        next_deadline = math.inf
        for timeout, queue in list(self._deadlines.items()):
            while queue:
                deadline, invoke_id, waiting = queue[0]
                if self._waiting.get(invoke_id) is not waiting:
                    queue.popleft()  # answered already
                elif deadline <= now:
                    queue.popleft()
                    self._expire(invoke_id)
                else:
                    next_deadline = min(next_deadline, deadline)
                    break
            if not queue and self._deadlines.get(timeout) is queue:
                del self._deadlines[timeout]
        # A request sent meanwhile (from the queue, as others timed out) armed the timer
        # for its own deadline; keep whichever comes first.
        if next_deadline < self._timer_at and not self._closed:
            self._arm(next_deadline)

    def _forget_answered(self, timeout: float) -> None:
        """Drop the answered requests at the front of a deadline queue.  Replies come
        mostly in order, so the queue holds about the requests still outstanding, not
        every request of the last reply-timeout seconds (with their callbacks, which the
        garbage collector would scan again and again)."""
        queue = self._deadlines.get(timeout)
        waiting = self._waiting
        while queue:
            _, invoke_id, entry = queue[0]
            if waiting.get(invoke_id) is entry:
                return
            queue.popleft()

    def _send_queued(self) -> None:
        while self._queued and len(self._waiting) < self._max_outstanding and not self._closed:
            queued = self._queued.popleft()
            self._send(queued.request, queued.callback, queued.timeout)

    async def request(self, request: Request, *, within: float) -> Response:
        """Send *request* and wait for its reply.  Raises ServiceError, TimeoutError, LinkDown."""
        reply: asyncio.Future[Reply] = self._loop.create_future()

        def deliver(result: Reply) -> None:
            if not reply.done():  # the waiter may have been cancelled meanwhile
                reply.set_result(result)

        self.submit(request, deliver, timeout=within)
        result = await reply
        if isinstance(result, BaseException):
            raise result
        return result

    def send_unconfirmed(self, message: Unconfirmed) -> None:
        if self._closed:
            raise LinkDown("the link to the switch is down")
        self._write(self._session.send_unconfirmed(message), message)

    def _expire(self, invoke_id: InvokeId) -> None:
        waiting = self._waiting.pop(invoke_id, None)
        if waiting is not None:
            self._session.abandon(invoke_id)
            self.counters.request_timeouts += 1
            name = type(waiting.request).__name__
            waiting.callback(TimeoutError(f"the switch did not answer {name}"))
            self._send_queued()

    # --- reading -----------------------------------------------------------------------

    async def run(self) -> None:
        """Read until the switch closes the link or breaks its framing."""
        try:
            while data := await self._reader.read(READ_SIZE):
                self.arrived = time.perf_counter()
                self._session.receive_data(data)
                if not self._drain():
                    break
            else:
                self._session.receive_data(b"")
                if self._drain():
                    self._ended("the switch closed the connection")
        except OSError as exc:
            self._ended(f"reading from the switch failed: {exc.strerror or exc}")
        finally:
            self.close()

    def _ended(self, reason: str) -> None:
        if not self.close_reason:
            self.close_reason = reason

    def _drain(self) -> bool:
        """Handle every whole message; False when the stream can no longer be trusted."""
        while True:
            try:
                inbound = self._session.next_message()
            except RemoteProtocolError as exc:
                self.counters.protocol_errors += 1
                if exc.fatal:
                    self._ended(f"the switch broke the CSTA framing: {exc}")
                    return False
                troubles.warning(
                    "protocol", "CSTA protocol error from the switch, skipped: %s", exc
                )
                continue
            if inbound is NEED_DATA:
                return True
            self.counters.frames_received += 1
            trace = self._trace
            if trace is not None and trace.tracer.active:
                trace.frame("in", inbound.invoke_id, inbound.message, inbound.document)
            self._dispatch(inbound)

    def _dispatch(self, inbound: Inbound) -> None:
        message = inbound.message
        kind = message.KIND
        if kind is EVENT_KIND or kind is UNCONFIRMED_KIND:
            try:
                self._on_message(message)
            except Exception:
                name = type(message).__name__
                troubles.log(logging.ERROR, name, "failed to apply %s", name, exc_info=True)
        elif kind is RESPONSE_KIND or kind is ERROR_KIND:
            self._reply(inbound)
        elif kind is REQUEST_KIND:
            self._answer_switch(inbound)

    def _reply(self, inbound: Inbound) -> None:
        waiting = self._waiting.pop(inbound.invoke_id, None)
        if waiting is None:
            return
        self._forget_answered(waiting.timeout)
        message = inbound.message
        if isinstance(message, CSTAErrorCode):
            self.counters.error_responses += 1
            waiting.callback(ServiceError(message.category.value, message.value))
        else:
            assert isinstance(message, Response)
            waiting.callback(message)
        if self._queued:
            self._send_queued()

    def _answer_switch(self, inbound: Inbound) -> None:
        message = inbound.message
        reply: Response | CSTAErrorCode
        if isinstance(message, SystemStatus):
            if not self.switch_status.done():
                self.switch_status.set_result(message.system_status)
            reply = SystemStatusResponse()
        elif isinstance(message, RequestSystemStatus):
            reply = RequestSystemStatusResponse(system_status=SystemStatusValue.NORMAL)
        else:
            reply = CSTAErrorCode(category=ErrorCategory.OPERATION, value="serviceNotSupported")
        self._write(self._session.send_response(inbound.invoke_id, reply), reply)

    # --- writing and closing -----------------------------------------------------------

    def _write(self, data: bytes, message: Message) -> None:
        self.counters.frames_sent += 1
        trace = self._trace
        if trace is not None and trace.tracer.active:
            invoke_id = InvokeId(int(data[4:HEADER_SIZE]))
            trace.frame("out", invoke_id, message, data[HEADER_SIZE:])
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(data)

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if data and not self._closed:
            self._writer.write(data)

    def close(self, reason: str = "") -> None:
        """Close the connection; every request still waiting gets LinkDown."""
        if self._closed:
            return
        self._ended(reason or "closed by this server")
        self._closed = True
        self._flush_now()
        self._writer.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadlines.clear()
        waiting, self._waiting = self._waiting, {}
        for item in waiting.values():
            item.callback(LinkDown("the link to the switch went down before it answered"))
        queued, self._queued = self._queued, deque()
        for entry in queued:
            entry.callback(LinkDown("the link to the switch went down before it was sent"))
        if not self.switch_status.done():
            self.switch_status.set_exception(LinkDown("the link closed during association"))
            self.switch_status.exception()  # retrieved: nobody may be waiting any more

    def _flush_now(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if data:
            self._writer.write(data)
