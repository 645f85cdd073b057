"""The asyncio shell of the simulated PBX: accepts CSTA links and drives the Switch.

Per accepted connection: one CstaSession(Role.SWITCHING_FUNCTION) and one association
of the Switch.  The shell feeds bytes in, hands each message to the switch with the
loop's monotonic time, and performs the returned effects: replies, events and
routeing invocations to the right links, edition changes, closes, timers, and lines of
the recordings file.

Rules:
- Writes are batched: everything the inputs of one turn of the loop produce for a link
  goes out in one write, and the greeting SystemStatus is one segment of its own.
- A slow or broken link never blocks the others: only its own reader waits for its
  buffer to drain, and a link whose unsent data passes `max_buffered` is dropped.
- A malformed frame is logged and answered with CSTAErrorCode when its invoke id can
  be read; the link is dropped only when the framing is lost.
- stop() closes the listener and every link, but the Switch, with its calls and
  agents, stays: start() again and the calls are still there (but for calls across a
  trunk: stopping closes the trunk links too, which clears their calls).
- The listener takes TLS (`[pbxsim] tls-cert`/`tls-key`) and caps its links, in all and
  per address (ctiserver.doors); a misbehaving link's log lines are rate limited.
- Trunks are ctiserver.pbxsim.trunks' job; this shell starts and stops them with the
  CSTA listener and hands them the switch's TrunkSend effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.framing import UnusableFrame
from ctiserver.csta.schema import Event, Message, Request, Response, Unconfirmed
from ctiserver.csta.session import NEED_DATA, CstaSession, Role, namespace_for
from ctiserver.doors.admission import Admission, remote_host
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import DeviceId, InvokeId
from ctiserver.pbxsim.outcome import (
    AssociationId,
    Close,
    Outcome,
    RecordingEnded,
    Reply,
    Send,
    StartTimer,
    Timer,
    TrunkSend,
    UseEdition,
)
from ctiserver.pbxsim.phone import PhoneAction, phone_action
from ctiserver.pbxsim.recording import recording_line
from ctiserver.pbxsim.switch import Switch
from ctiserver.pbxsim.trunks import RETRY, TrunkLinks

_log = logging.getLogger(__name__)
_troubles = RateLimitedLog(_log)
_READ_SIZE = 65536
_MAX_BUFFERED = 8 * 1024 * 1024
_STOP_GRACE = 2.0  # seconds a closing link may take to flush before it is cut
_GENERIC = CSTAErrorCode(category=ErrorCategory.OPERATION, value="generic")
_NOT_SUPPORTED = CSTAErrorCode(category=ErrorCategory.OPERATION, value="serviceNotSupported")


class _Link:
    """One accepted connection: its session, association and pending output."""

    def __init__(
        self,
        association: AssociationId,
        session: CstaSession,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.association = association
        self.session = session
        self.writer = writer
        self.pending = bytearray()
        self.closing = False
        self.peer = str(writer.get_extra_info("peername"))  # a closed TLS transport forgets it

    def reply(self, invoke_id: InvokeId, message: Response | CSTAErrorCode) -> None:
        """Queue the answer to the peer's request *invoke_id*."""
        self._queue(message, lambda: self.session.send_response(invoke_id, message))

    def send(self, message: Event | Unconfirmed | Request) -> None:
        """Queue a message of the switch's own: event, routeing invocation, request."""
        if isinstance(message, Event):
            self._queue(message, lambda: self.session.send_event(message))
        elif isinstance(message, Request):
            self._queue(message, lambda: self.session.send_request(message)[1])
        else:
            self._queue(message, lambda: self.session.send_unconfirmed(message))

    def _queue(self, message: Message, encode: Callable[[], bytes]) -> None:
        try:
            self.pending += encode()
        except LocalProtocolError:
            _log.exception("cannot send %s to %s", type(message).__name__, self.peer)

    def flush(self, max_buffered: int) -> None:
        """Write what is pending in one write; close the link if it is closing."""
        if self.writer.is_closing():
            self.pending.clear()
            return
        if self.pending:
            self.writer.write(bytes(self.pending))
            self.pending.clear()
        if self.writer.transport.get_write_buffer_size() > max_buffered:
            _log.warning("dropping CSTA link %s: it does not read what it is sent", self.peer)
            self.closing = True
            self.writer.transport.abort()
        elif self.closing:
            self.writer.close()  # after what is buffered has been written


class PbxListener:
    """Accepts CSTA links for one Switch.

    Args:
        switch: the switch; it outlives the listener (stop() and start() keep it).
        host, port: where to listen; port 0 picks a free port.
        max_buffered: bytes of unsent output after which a link is dropped.
        trunk_retry: seconds between attempts to dial a trunk's peer, first and most.
        tls: the listener's TLS context, if any.
        max_links, max_links_per_address: the listener's connection caps.
    """

    def __init__(
        self,
        switch: Switch,
        host: str,
        port: int,
        *,
        max_buffered: int = _MAX_BUFFERED,
        trunk_retry: tuple[float, float] = RETRY,
        tls: ssl.SSLContext | None = None,
        max_links: int = 16,
        max_links_per_address: int = 8,
    ) -> None:
        self.tls = tls
        self.admission: Admission[asyncio.StreamWriter] = Admission(
            "pbxsim CSTA", total=max_links, per_address=max_links_per_address
        )
        self.switch = switch
        self._host = host
        self._port = port
        self._max_buffered = max_buffered
        self._server: asyncio.Server | None = None
        self._links: dict[AssociationId, _Link] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._timer_keys = 0
        self._dirty: set[_Link] = set()
        self._flushing = False  # a flush is scheduled for the end of this turn
        self._trunk_retry = trunk_retry
        self._trunks: TrunkLinks | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # kept: asking costs a syscall

    @property
    def address(self) -> tuple[str, int] | None:
        """Where the listener is bound, while it is started."""
        if self._server is None:
            return None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> tuple[str, int]:
        """Bind and start accepting.  Returns (host, port) as bound."""
        if self._server is not None:
            raise RuntimeError("the pbxsim listener is already started")
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._serve, self._host, self._port, ssl=self.tls)
        address = self.address
        assert address is not None
        self._port = address[1]  # a restart binds the same port
        for request in self.switch.pending_timers():
            self._schedule(request)
        if self._trunks is None:
            self._trunks = TrunkLinks(self.switch, self._perform_now, retry=self._trunk_retry)
        await self._trunks.start()
        return address

    @property
    def trunk_address(self) -> tuple[str, int] | None:
        """Where trunks are accepted, while started and if `trunk_listen` is configured."""
        return self._trunks.address if self._trunks is not None else None

    def connect_trunk(self, name: str, host: str, port: int) -> None:
        """Set (or change) where trunk *name* dials, and dial there now.  A change drops
        the link the trunk had dialled (and so the calls on it).

        For tests and scripts that start switches on free ports, whose addresses are known
        only once they run.  Raises KeyError if the switch has no trunk *name*, and
        RuntimeError if the listener is not started.
        """
        if self._trunks is None or self._server is None:
            raise RuntimeError("the pbxsim listener is not started")
        self._trunks.connect(name, host, port)

    def trunk_up(self, name: str) -> bool:
        """Whether trunk *name* has a link that is up."""
        return self._trunks is not None and self._trunks.up(name)

    async def wait_trunk(self, name: str, *, up: bool = True) -> None:
        """Wait until trunk *name* is up (or down); put a timeout around it."""
        if self._trunks is None:
            raise RuntimeError("the pbxsim listener is not started")
        await self._trunks.wait(name, up=up)

    async def stop(self) -> None:
        """Close the listener and every link.  The switch keeps its calls and agents."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._trunks is not None:
            await self._trunks.stop()
        for link in self._links.values():
            link.closing = True
            link.writer.close()  # each link's reader then sees the end and finishes
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=_STOP_GRACE)
        for link in self._links.values():
            link.writer.transport.abort()  # a peer that does not read its last data
        if self._tasks:
            await asyncio.wait(self._tasks)
        await server.wait_closed()
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    async def run(self) -> None:
        """Start if needed, then serve until cancelled; stops on the way out."""
        if self._server is None:
            await self.start()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.stop()

    def use_phone(self, station: DeviceId, body: Any) -> Outcome:
        """A person uses *station*'s phone as a JSON *body* says (phone.phone_action).
        Raises ValueError for a body that says nothing it can do, and ServiceError."""
        return self.act(phone_action(station, body))

    def act(self, action: PhoneAction) -> Outcome:
        """A person uses a phone (see ctiserver.pbxsim.phone); monitors hear of it.

        Raises ServiceError, as the equivalent CSTA request would be refused.
        """
        outcome = self.switch.act(action, now=self._now())
        self._perform(outcome)
        self._flush()
        return outcome

    # --- links ------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._server is None:  # accepted just as stop() began
            writer.close()
            return
        address = remote_host(writer.get_extra_info("peername"))
        if not self.admission.admit(address, writer, pending=False).admitted:
            writer.transport.abort()
            return
        task.add_done_callback(lambda _task: self.admission.release(writer))
        self._tasks.add(task)
        association, outcome = self.switch.connect(now=self._now())
        session = CstaSession(Role.SWITCHING_FUNCTION, edition=self.switch.config.edition)
        link = self._links[association] = _Link(association, session, writer)
        _log.info("CSTA link %s accepted as association %d", link.peer, association)
        try:
            self._perform(outcome)
            self._flush()  # the greeting SystemStatus, as one segment
            await self._read(link, reader)
        except OSError as exc:
            _log.info("CSTA link %s broke: %s", link.peer, exc)
        finally:
            self._flush()  # what its last reads produced (a flush is due this turn)
            self._tasks.discard(task)
            del self._links[association]
            self._perform(self.switch.disconnect(association, now=self._now()))
            self._flush()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            _log.info("CSTA link %s closed", link.peer)

    async def _read(self, link: _Link, reader: asyncio.StreamReader) -> None:
        while not link.closing:
            data = await reader.read(_READ_SIZE)
            link.session.receive_data(data)
            self._take_messages(link)
            self._flush_soon()
            if not data:
                return
            await link.writer.drain()  # only this link's reader waits for its peer

    def _take_messages(self, link: _Link) -> None:
        while not link.closing:
            try:
                inbound = link.session.next_message()
            except UnusableFrame as exc:
                self._refuse_frame(link, exc)
                continue
            except RemoteProtocolError as exc:
                if exc.fatal:
                    _troubles.warning(
                        link.peer, "CSTA link %s lost its framing: %s", link.peer, exc
                    )
                    link.closing = True
                    link.writer.close()
                    return
                _troubles.warning(link.peer, "CSTA link %s: %s", link.peer, exc)
                continue
            if inbound is NEED_DATA:
                return
            try:
                outcome = self.switch.handle(link.association, inbound.message, now=self._now())
            except Exception:  # a switch bug must not take the link down with it
                _log.exception("pbxsim failed on %s", type(inbound.message).__name__)
                outcome = Outcome((Reply(_GENERIC),))
            self._perform(outcome, link, inbound.invoke_id)

    def _refuse_frame(self, link: _Link, exc: UnusableFrame) -> None:
        _troubles.warning(link.peer, "CSTA link %s sent an unusable frame: %s", link.peer, exc)
        if exc.invoke_id is None:
            return
        error = _NOT_SUPPORTED if exc.unknown_message else _GENERIC
        link.reply(exc.invoke_id, error)
        self._dirty.add(link)

    # --- effects ------------------------------------------------------------------------

    def _perform(
        self,
        outcome: Outcome,
        requester: _Link | None = None,
        invoke_id: InvokeId | None = None,
    ) -> None:
        for effect in outcome.effects:
            match effect:
                case Reply(message=message) if requester is not None:
                    assert invoke_id is not None
                    requester.reply(invoke_id, message)
                    self._dirty.add(requester)
                case Send() | UseEdition() | Close():
                    self._perform_on_link(effect)
                case StartTimer():
                    self._schedule(effect)
                case RecordingEnded():
                    self._write_recording(effect)
                case TrunkSend(link=link_id, message=message):
                    if self._trunks is not None:
                        self._trunks.send(link_id, message)

    def _perform_on_link(self, effect: Send | UseEdition | Close) -> None:
        link = self._links.get(effect.association)
        if link is None:
            return  # it is gone already
        match effect:
            case Send(message=message):
                link.send(message)
                self._dirty.add(link)
            case UseEdition(edition=edition):
                link.session.namespace = namespace_for(edition)
            case Close():
                link.closing = True
                self._dirty.add(link)

    def _perform_now(self, outcome: Outcome) -> None:
        """Perform an outcome of the trunks' making, and write what it produced."""
        self._perform(outcome)
        self._flush_soon()

    def _write_recording(self, ended: RecordingEnded) -> None:
        """Append the recording's line to the recordings file (a small, local write)."""
        path = self.switch.config.settings.recordings
        if path is None:
            return
        line = recording_line(ended, wall_offset=time.time() - self._now())
        try:
            with open(path, "a", encoding="utf-8") as recordings:
                recordings.write(line + "\n")
        except OSError as exc:
            _log.error("cannot write recording %s to %s: %s", ended.message, path, exc)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for link in dirty:
            link.flush(self._max_buffered)

    def _flush_soon(self) -> None:
        """Flush once this turn of the loop is through: what the inputs of one turn (the
        reads of every link and trunk, the timers) produce for a link goes out in one
        write."""
        if self._dirty and not self._flushing:
            self._flushing = True
            (self._loop or asyncio.get_running_loop()).call_soon(self._flush_turn)

    def _flush_turn(self) -> None:
        self._flushing = False
        self._flush()

    def _schedule(self, request: StartTimer) -> None:
        self._timer_keys += 1
        key = self._timer_keys
        loop = self._loop or asyncio.get_running_loop()
        self._timers[key] = loop.call_at(request.at, self._fire, key, request.timer, request.at)

    def _fire(self, key: int, timer: Timer, at: float) -> None:
        del self._timers[key]
        # The loop may run a handle a clock-resolution early; the switch wants it due.
        outcome = self.switch.fire(timer, now=max(self._now(), at))
        self._perform(outcome)
        self._flush_soon()

    def _now(self) -> float:
        return (self._loop or asyncio.get_running_loop()).time()
