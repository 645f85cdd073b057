"""How HotStandbyClient keeps its session on the primary of a pair (docs/sdk.md).

Every server gets one connection.  A *watch* is registered without DNs: its
EventServerInfo (at registration, and when its server takes over) says whether the
server is primary.  The *session's* connection is on the primary and carries the
application's requests and events.  The conductor moves the session whenever a
watch says its server is primary:

    first session:   the primary's watch becomes the session's connection;
    session lost:    (its connection closed, its server answered as a backup, or
                     another server announced itself primary) PrimaryLost; requests
                     wait for a primary;
    resume:          a new connection to the primary registers with ClientSessionID
                     and the last EventSequenceNumber delivered: SessionResumed, the
                     events missed, then live ones; requests in flight that the
                     replay did not answer are in doubt;
    refused:         (EventError 53) the primary's watch becomes the connection of
                     a new session and the DNs are registered again: SessionRestarted.

A resume is only tried on a server that said it is primary: a backup never holds the
session.  Lost servers are dialled again with a growing back-off.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.client.members import Backoff, Member
from ctiserver.client.outstanding import OnBackup, Outstanding, Pending
from ctiserver.client.stream import EventStream
from ctiserver.client.switchover import (
    PrimaryLost,
    RequestInDoubt,
    SessionRestarted,
    SessionResumed,
)
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)

PRIMARY, BACKUP = "Primary", "Backup"  # ServerRole
CANNOT_RESUME = 53  # EventError to a ClientSessionID that cannot be resumed
UNREACHABLE = (OSError, TimeoutError, ConnectionClosed)  # ssl.SSLError is an OSError

Dial = Callable[[Member, tuple[str, int] | None], Awaitable[TClient]]


class Failover:
    def __init__(
        self,
        members: list[Member],
        dial: Dial,
        stream: EventStream,
        outstanding: Outstanding,
        *,
        failover_timeout: float,
        reconnect: tuple[float, float],
    ) -> None:
        self.members = members
        self._dial_member = dial
        self._stream = stream
        self._outstanding = outstanding
        self.failover_timeout = failover_timeout
        self._reconnect = reconnect
        self.session: Member | None = None  # where the session is, while it is up
        self.conn: TClient | None = None  # the session's connection, while it is up
        self.session_id = ""
        self.server_info: TMessage = {}  # the EventServerInfo that opened or resumed it
        self.registrations: dict[str, dict[str, Any]] = {}  # DN -> its request's attributes
        self.up = asyncio.Event()  # set while the session is up (or once closed)
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self._boundary: int | None = None  # ReferenceID of the resume's answer, until seen
        self._lost: tuple[Member, float] | None = None  # where and when it was last lost
        self._backoff = Backoff(*reconnect)  # between attempts to move the session
        self._changed = asyncio.Event()  # wakes the conductor
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._conns: set[TClient] = set()  # every connection open, to close at the end

    def start(self) -> None:
        for member in self.members:
            self._spawn(self._keep(member), f"tclient-keep-{member.name}")
        self._spawn(self._conduct(), "tclient-conductor")

    def describe(self) -> str:
        return "; ".join(member.describe() for member in self.members)

    # --- the connections -----------------------------------------------------------------------

    async def _keep(self, member: Member) -> None:
        """Keep a watch on *member* whenever there is no connection there."""
        backoff = Backoff(*self._reconnect)
        loop = asyncio.get_running_loop()
        while True:
            await member.vacant.wait()
            await asyncio.sleep(backoff.delay())
            try:
                watch = await self._dial(member, None)
            except (TServerError, ssl.SSLCertVerificationError) as exc:
                self._refused(member, exc)
                continue
            except UNREACHABLE as exc:
                member.problem = str(exc) or type(exc).__name__
                continue
            if not member.vacant.is_set():  # the session was resumed there meanwhile
                await self._hang_up(watch)
                continue
            member.watch(watch)
            self._changed.set()
            since = loop.time()
            await self._read(member, watch)
            if loop.time() - since >= backoff.high:
                backoff.reset()

    async def _dial(self, member: Member, resume: tuple[str, int] | None) -> TClient:
        conn = await self._dial_member(member, resume)
        self._conns.add(conn)
        return conn

    async def _hang_up(self, conn: TClient) -> None:
        self._conns.discard(conn)
        await conn.close()

    def _refused(self, member: Member, exc: Exception) -> None:
        """A server refused this client (its password, its certificate): at the start,
        the client does not start; later, it is logged, and tried again."""
        member.problem = f"refused: {exc}"
        if not self.started.done():
            self.started.set_exception(exc)
        else:
            log.error("%s refused this client: %s", member.name, exc)

    async def _read(self, member: Member, conn: TClient) -> None:
        try:
            async for event in conn.events():
                if conn is self.conn:
                    self._on_session_event(member, conn, event)
                elif conn is member.conn:
                    self._on_watch_event(member, event)
                # else: a lost session's connection, closing
            self._conns.discard(conn)  # it ended
        finally:
            if conn is self.conn:
                self.lose(f"the connection to {member.name} closed")
            member.gone(conn, "the connection closed")
            self._changed.set()

    def _on_watch_event(self, member: Member, event: TMessage) -> None:
        member.prelude.append(event)
        if event.get("Event") == "EventServerInfo" and "ServerRole" in event:
            member.role = event["ServerRole"]
            self._changed.set()

    def _on_session_event(self, member: Member, conn: TClient, event: TMessage) -> None:
        if self._outstanding.refused_on_backup(event):  # not delivered: it did nothing
            self.lose(f"{member.name} answered as the backup of its pair")
            return
        self._stream.deliver(event)
        self._outstanding.answer(event)
        if event.get("Event") != "EventServerInfo":
            return
        reference_id = event.get("ReferenceID")
        if reference_id is not None and reference_id == self._boundary:  # the replay is over
            self._boundary = None
            self._outstanding.strand(conn, "the new primary had no answer for it")
        elif reference_id is None and event.get("ServerRole") == BACKUP:
            self.lose(f"{member.name} serves as backup now")

    # --- moving the session --------------------------------------------------------------------

    async def _conduct(self) -> None:
        """Move the session to the server that says it is primary, whenever one does."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            primary = self._new_primary()
            if primary is None:
                continue
            if self.session is not None:
                self.lose(f"{primary.name} took over as primary")
            try:
                await self._open(primary)
            except Exception:
                log.exception("could not move the session to %s", primary.name)
                self._try_again()

    def _new_primary(self) -> Member | None:
        for member in self.members:
            if member is not self.session and member.conn is not None and member.role == PRIMARY:
                return member
        return None

    async def _open(self, member: Member) -> None:
        """Resume the session on *member*, the primary (or start it there)."""
        if not self.started.done():
            self._promote(member, "")
            return
        try:
            conn = await self._dial(member, (self.session_id, self._stream.last))
        except TServerError as exc:
            self._not_resumed(member, exc)
            return
        except UNREACHABLE as exc:
            log.warning("cannot resume the session on %s yet: %s", member.name, exc)
            self._try_again()
            return
        if self.closed or conn.server_info.get("ServerRole") != PRIMARY:
            await self._hang_up(conn)  # it stopped being primary meanwhile
            self._try_again()
            return
        self._adopt(member, conn)

    def _not_resumed(self, member: Member, exc: TServerError) -> None:
        """Refused: the session starts afresh, unless it is only still in use by a
        connection the server has not seen close yet (tried again for failover_timeout)."""
        if exc.code != CANNOT_RESUME:
            log.error("%s refused to resume the session: %s", member.name, exc)
            self._try_again()
            return
        lost_at = self._lost[1] if self._lost is not None else 0.0
        waited = asyncio.get_running_loop().time() - lost_at
        if "in use" in exc.message and waited < self.failover_timeout:
            log.info("%s still holds the session's old connection: trying again", member.name)
            self._try_again()
        elif member.conn is not None and member.role == PRIMARY:
            self._promote(member, exc.message)
        else:
            self._try_again()

    def _try_again(self) -> None:
        self._later(max(0.01, self._backoff.delay()), self._changed.set)

    def _adopt(self, member: Member, conn: TClient) -> None:
        """*conn* resumed the session on *member*: it carries the session from now on."""
        watch = member.conn
        member.hold(conn)
        switchover = self._lost is None or self._lost[0] is not member
        self.session, self.conn, self.server_info = member, conn, conn.server_info
        self._boundary = conn.server_info.get("ReferenceID")
        self._backoff.reset()
        last = self._stream.last
        log.warning("resumed session %s on %s after event %d", self.session_id, member.name, last)
        self._stream.tell(SessionResumed(member.name, self.session_id, last, switchover))
        self._spawn(self._read(member, conn), f"tclient-session-{member.name}")
        if watch is not None:
            self._spawn(self._hang_up(watch), "tclient-close")
        self.up.set()

    def _promote(self, member: Member, reason: str) -> None:
        """The watch on *member* becomes the connection of a new session."""
        watch = member.conn
        assert watch is not None
        previous = self.session_id
        self.session, self.conn, self.server_info = member, watch, watch.server_info
        self.session_id = str(watch.server_info.get("ClientSessionID", ""))
        self._boundary = None
        self._stream.start_again()
        self._backoff.reset()
        if self.started.done():
            log.warning("started a new session on %s: %s", member.name, reason)
            dns = tuple(self.registrations)
            self._stream.tell(SessionRestarted(member.name, self.session_id, previous, reason, dns))
            self._outstanding.strand(watch, f"the session could not be resumed ({reason})")
        for event in member.prelude:
            self._stream.deliver(event)
        member.prelude.clear()
        self._register_again(watch)
        self.up.set()
        if not self.started.done():
            self.started.set_result(None)

    def _register_again(self, conn: TClient) -> None:
        """Send the lost session's registrations on *conn*, before any other request."""
        for dn, attributes in list(self.registrations.items()):
            pending = self._outstanding.track("RequestRegisterAddress", conn)
            try:
                reference_id = pending.reference_id
                conn.send(
                    "RequestRegisterAddress", ReferenceID=reference_id, ThisDN=dn, **attributes
                )
            except ConnectionClosed:  # the next session registers it
                self._outstanding.forget(pending)
                return
            self._spawn(self._registered_again(dn, pending), f"tclient-register-{dn}")

    async def _registered_again(self, dn: str, pending: Pending) -> None:
        try:
            event = await pending.answer
        except (RequestInDoubt, ConnectionClosed, OnBackup):
            return  # the session that goes on has it, or the next one registers it
        finally:
            self._outstanding.forget(pending)
        if event.get("Event") == "EventError":
            log.error("could not register %s again: %s", dn, event.get("ErrorMessage"))
            self.registrations.pop(dn, None)

    # --- losing it -----------------------------------------------------------------------------

    def lose_on(self, conn: TClient, reason: str) -> None:
        if conn is self.conn:
            self.lose(reason)

    def lose(self, reason: str) -> None:
        """The session's connection is lost: tell the application, look for the primary."""
        member, conn = self.session, self.conn
        if member is None or conn is None or self.closed:
            return
        self.session = self.conn = None
        self._boundary = None
        self._lost = (member, asyncio.get_running_loop().time())
        self.up.clear()
        member.gone(conn, reason)  # what else comes on it is not the session's
        log.warning("lost the primary %s: %s", member.name, reason)
        self._stream.tell(PrimaryLost(member.name, reason))
        self._spawn(self._hang_up(conn), "tclient-close")
        self._later(self.failover_timeout, self._give_up)
        self._changed.set()

    def _give_up(self) -> None:
        """failover_timeout after a loss, with no session since: the requests waiting
        for an answer get none."""
        if self.conn is not None or self._lost is None or self.closed:
            return
        if asyncio.get_running_loop().time() >= self._lost[1] + self.failover_timeout - 0.001:
            self._outstanding.strand(None, f"no primary within {self.failover_timeout:g} s")

    # --- tasks and the end ---------------------------------------------------------------------

    async def close(self) -> None:
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in list(self._conns):
            await self._hang_up(conn)
        self.session = self.conn = None
        self.up.set()  # requests waiting for a primary see the client closed
        if not self.started.done():
            self.started.cancel()

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        handles: list[asyncio.TimerHandle] = []

        def due() -> None:
            self._timers.difference_update(handles)
            callback()

        handles.append(asyncio.get_running_loop().call_later(delay, due))
        self._timers.update(handles)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())
