"""HotStandbyClient: one T-Library session carried across the members of a hot-standby
pair (DESIGN.md § 7), or across lost connections to a single server (docs/sdk.md).

    async with await HotStandbyClient.connect(
        [("tserver-a", 7000), ("tserver-b", 7000)], application_name="desk"
    ) as client:
        await client.register_address("7001")
        async for event in client.events():
            ...

The client keeps one connection to every member.  The one to the primary carries the
application's session: its requests, its registrations, its events.  The others are
watches (registered, without DNs): they say which member is primary.  When the
session's connection is lost (it closed, its server answered as a backup, or another
member announced itself primary) the client puts PrimaryLost in the stream; as soon as
a member is primary it resumes the session there with the EventSequenceNumber of the
last event it delivered (SessionResumed, then the events missed, then live events),
or, when the session cannot be resumed, starts a new one and registers its DNs again
(SessionRestarted).

Within a session, events are delivered in strictly increasing EventSequenceNumber: never
twice, and, the session being resumed from the last one delivered, none skipped.  A
request is sent once: an answer replayed by the new primary answers it; without one it
raises RequestInDoubt.  Only a request refused with EventError 58 (it reached a backup,
which does nothing) is sent again, to the primary.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl as tls
import types
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.client.members import Backoff, Member
from ctiserver.client.requests import TRequests
from ctiserver.client.switchover import (
    NoPrimary,
    Notice,
    PrimaryLost,
    RequestInDoubt,
    SessionRestarted,
    SessionResumed,
)
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)

PRIMARY, BACKUP = "Primary", "Backup"  # ServerRole
ON_BACKUP = 58  # EventError: this server is the backup of its pair
CANNOT_RESUME = 53  # EventError to a ClientSessionID that cannot be resumed
UNREACHABLE = (OSError, TimeoutError, ConnectionClosed)  # ssl.SSLError is an OSError


class _OnBackup(Exception):
    """The request reached a server serving as backup (EventError 58): not carried out."""


@dataclass(eq=False, slots=True)
class _Pending:
    """A request sent and not answered yet."""

    request: str
    reference_id: int
    conn: TClient  # sent on this connection
    answer: asyncio.Future[TMessage]


class HotStandbyClient(TRequests):
    def __init__(
        self,
        addresses: Sequence[tuple[str, int]],
        *,
        application_name: str,
        application_password: str | None = None,
        ssl: tls.SSLContext | None = None,
        connect_timeout: float = 10.0,
        failover_timeout: float = 10.0,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
    ) -> None:
        if not addresses:
            raise ValueError("HotStandbyClient needs the address of at least one server")
        self._members = [Member(host, port) for host, port in addresses]
        self._application = (application_name, application_password)
        self._ssl = ssl
        self._connect_timeout = connect_timeout
        self.failover_timeout = failover_timeout
        self._reconnect = (reconnect_min, reconnect_max)
        self._references = itertools.count(1)  # one numbering for every connection
        self._queue: asyncio.Queue[TMessage | Notice | None] = asyncio.Queue()
        self._pending: dict[int, _Pending] = {}
        self._registrations: dict[str, dict[str, Any]] = {}  # DN -> its request's attributes
        self._session: Member | None = None  # where the session is, while it is up
        self._conn: TClient | None = None  # the session's connection, while it is up
        self._session_id = ""
        self._last = 0  # EventSequenceNumber of the last event delivered in this session
        self._boundary: int | None = None  # ReferenceID of the resume's answer, until seen
        self._lost: tuple[Member, float] | None = None  # where and when it was last lost
        self._session_backoff = Backoff(reconnect_min, reconnect_max)
        self._up = asyncio.Event()  # set while the session is up (or the client closed)
        self._changed = asyncio.Event()  # wakes the conductor
        self._closed = False
        self._started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] = set()
        self._conns: set[TClient] = set()  # every connection open, to close at the end
        self.server_info: TMessage = {}  # the EventServerInfo that opened or resumed the session

    @classmethod
    async def connect(
        cls,
        addresses: Sequence[tuple[str, int]],
        *,
        application_name: str,
        application_password: str | None = None,
        ssl: tls.SSLContext | None = None,
        connect_timeout: float = 10.0,
        failover_timeout: float = 10.0,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
    ) -> HotStandbyClient:
        """Connect to every server of *addresses* and open a session on the primary.

        Raises NoPrimary when no server is primary within *connect_timeout*,
        TServerError when a server refuses the registration (a wrong password, …),
        ssl.SSLCertVerificationError when a server's certificate is not trusted."""
        client = cls(
            addresses,
            application_name=application_name,
            application_password=application_password,
            ssl=ssl,
            connect_timeout=connect_timeout,
            failover_timeout=failover_timeout,
            reconnect_min=reconnect_min,
            reconnect_max=reconnect_max,
        )
        for member in client._members:
            client._spawn(client._keep(member), f"tclient-keep-{member.name}")
        client._spawn(client._conduct(), "tclient-conductor")
        try:
            async with asyncio.timeout(connect_timeout):
                await client._started
        except TimeoutError:
            await client.close()
            raise NoPrimary(
                f"no primary within {connect_timeout:g} s ({client.describe()})"
            ) from None
        except BaseException:
            await client.close()
            raise
        return client

    async def __aenter__(self) -> HotStandbyClient:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | types.TracebackType | None
    ) -> None:
        await self.close()

    # --- what the application reads ------------------------------------------------------------

    @property
    def primary(self) -> str | None:
        """ "host:port" of the server that holds the session, while it is up."""
        return None if self._session is None else self._session.name

    @property
    def session(self) -> tuple[str, int]:
        """(ClientSessionID, EventSequenceNumber of the last event delivered)."""
        return self._session_id, self._last

    @property
    def last_sequence(self) -> int:
        return self._last

    def describe(self) -> str:
        """Each server and what the client knows of it, e.g. for a log line."""
        return "; ".join(member.describe() for member in self._members)

    async def events(self) -> AsyncIterator[TMessage | Notice]:
        """The session's events and the client's notices, in order, until close()."""
        while (event := await self._queue.get()) is not None:
            yield event
        self._queue.put_nowait(None)

    async def next_event(self) -> TMessage | Notice:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)
            raise ConnectionClosed("the client is closed")
        return event

    async def wait_for(self, name: str, **attributes: Any) -> TMessage:
        """The next event named *name* whose attributes include *attributes*; skips
        others (notices included)."""
        while True:
            event = await self.next_event()
            if not isinstance(event, dict) or event.get("Event") != name:
                continue
            if all(event.get(k) == v for k, v in attributes.items()):
                return event

    # --- requests ------------------------------------------------------------------------------

    async def request(self, request: str, **attributes: Any) -> TMessage:
        """Send *request* to the primary and return the first event that answers it.

        Raises TServerError (EventError), NoPrimary (no primary within
        failover_timeout: not sent), RequestInDoubt (the primary went away before it
        answered), ConnectionClosed (the client was closed)."""
        attributes.pop("ReferenceID", None)  # the client numbers its requests itself
        while True:
            conn = await self._primary()
            pending = self._track(request, conn)
            try:
                conn.send(request, ReferenceID=pending.reference_id, **attributes)
                event = await pending.answer
            except ConnectionClosed:
                if self._closed:
                    raise
                self._lose_on(conn, "the connection closed")  # not sent: try again
                continue
            except _OnBackup:
                log.warning("%s reached a backup: sending it to the primary", request)
                continue
            finally:
                self._pending.pop(pending.reference_id, None)
            self._note_registration(request, attributes, event)
            if event.get("Event") == "EventError":
                raise TServerError(event)
            return event

    async def _primary(self) -> TClient:
        if not self._up.is_set():
            try:
                async with asyncio.timeout(self.failover_timeout):
                    await self._up.wait()
            except TimeoutError:
                raise NoPrimary(
                    f"no primary within {self.failover_timeout:g} s ({self.describe()})"
                ) from None
        if self._closed or self._conn is None:
            raise ConnectionClosed("the client is closed")
        return self._conn

    def _track(self, request: str, conn: TClient) -> _Pending:
        reference_id = next(self._references)
        answer = asyncio.get_running_loop().create_future()
        pending = self._pending[reference_id] = _Pending(request, reference_id, conn, answer)
        return pending

    def _note_registration(self, request: str, attributes: dict[str, Any], event: TMessage) -> None:
        """Remember the DNs registered, to register them again in a new session."""
        dn = str(attributes.get("ThisDN"))
        if request == "RequestRegisterAddress" and event.get("Event") == "EventRegistered":
            self._registrations[dn] = {k: v for k, v in attributes.items() if k != "ThisDN"}
        elif request == "RequestUnregisterAddress" and event.get("Event") != "EventError":
            self._registrations.pop(dn, None)

    # --- the connections -----------------------------------------------------------------------

    async def _keep(self, member: Member) -> None:
        """Keep a watch on *member* whenever the client has no connection there."""
        backoff = Backoff(*self._reconnect)
        loop = asyncio.get_running_loop()
        while True:
            await member.vacant.wait()
            await asyncio.sleep(backoff.delay())
            try:
                watch = await self._dial(member)
            except (TServerError, tls.SSLCertVerificationError) as exc:
                self._refused(member, exc)
                continue
            except UNREACHABLE as exc:
                member.problem = _reason(exc)
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

    async def _dial(self, member: Member, resume: tuple[str, int] | None = None) -> TClient:
        name, password = self._application
        conn = await TClient.connect(
            member.host,
            member.port,
            application_name=name,
            application_password=password,
            ssl=self._ssl,
            connect_timeout=self._connect_timeout,
            resume=resume,
            references=self._references,
        )
        self._conns.add(conn)
        return conn

    async def _hang_up(self, conn: TClient) -> None:
        self._conns.discard(conn)
        await conn.close()

    def _refused(self, member: Member, exc: Exception) -> None:
        member.problem = f"refused: {exc}"
        if not self._started.done():
            self._started.set_exception(exc)
        else:
            log.error("%s refused this client: %s", member.name, exc)

    async def _read(self, member: Member, conn: TClient) -> None:
        try:
            async for event in conn.events():
                if conn is self._conn:
                    self._on_session_event(member, conn, event)
                elif conn is member.conn:
                    self._on_watch_event(member, event)
                # else: a lost session's connection, closing
            self._conns.discard(conn)  # it ended
        finally:
            if conn is self._conn:
                self._lose(f"the connection to {member.name} closed")
            member.gone(conn, "the connection closed")
            self._changed.set()

    def _on_watch_event(self, member: Member, event: TMessage) -> None:
        member.prelude.append(event)
        if event.get("Event") == "EventServerInfo" and "ServerRole" in event:
            member.role = event["ServerRole"]
            self._changed.set()

    def _on_session_event(self, member: Member, conn: TClient, event: TMessage) -> None:
        name, reference = event.get("Event"), event.get("ReferenceID")
        pending = self._pending.get(reference) if reference is not None else None
        if pending is not None and pending.answer.done():
            pending = None
        if pending is not None and name == "EventError" and event.get("ErrorCode") == ON_BACKUP:
            pending.answer.set_exception(_OnBackup())  # not delivered: it did nothing
            self._lose(f"{member.name} answered as the backup of its pair")
            return
        self._deliver(event)
        if pending is not None:
            pending.answer.set_result(event)
        if name != "EventServerInfo":
            return
        if reference is not None and reference == self._boundary:
            self._boundary = None
            self._strand(conn, "the new primary had no answer for it")
        elif reference is None and event.get("ServerRole") == BACKUP:
            self._lose(f"{member.name} serves as backup now")

    def _deliver(self, event: TMessage) -> None:
        sequence = event.get("EventSequenceNumber")
        if sequence is not None:
            if sequence <= self._last:
                log.warning(
                    "not delivered again: %s numbered %d (%d was delivered)",
                    event.get("Event"),
                    sequence,
                    self._last,
                )
                return
            self._last = sequence
        self._queue.put_nowait(event)

    # --- the session ---------------------------------------------------------------------------

    async def _conduct(self) -> None:
        """Move the session to the member that says it is primary, whenever one does."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            primary = next(
                (
                    m
                    for m in self._members
                    if m is not self._session and m.conn is not None and m.role == PRIMARY
                ),
                None,
            )
            if primary is None:
                continue
            if self._session is not None:
                self._lose(f"{primary.name} took over as primary")
            try:
                await self._open(primary)
            except Exception:
                log.exception("could not move the session to %s", primary.name)
                self._try_again()

    async def _open(self, member: Member) -> None:
        """Resume the session on *member*, the primary; or start it there."""
        if not self._started.done():
            self._promote(member, "")
            return
        try:
            conn = await self._dial(member, resume=self.session)
        except TServerError as exc:
            self._not_resumed(member, exc)
            return
        except UNREACHABLE as exc:
            log.warning("cannot resume the session on %s yet: %s", member.name, _reason(exc))
            self._try_again()
            return
        if self._closed or conn.server_info.get("ServerRole") != PRIMARY:
            await self._hang_up(conn)  # it stopped being primary meanwhile
            self._try_again()
            return
        self._adopt(member, conn)

    def _not_resumed(self, member: Member, exc: TServerError) -> None:
        """A refused resume: the session is started afresh, unless it is only still in
        use by a connection the server has not seen close yet (tried again, for
        failover_timeout)."""
        if exc.code != CANNOT_RESUME:
            log.error("%s refused to resume the session: %s", member.name, exc)
            self._try_again()
            return
        lost_for = asyncio.get_running_loop().time() - (self._lost[1] if self._lost else 0.0)
        if "in use" in exc.message and lost_for < self.failover_timeout:
            self._try_again()
            return
        if member.conn is not None and member.role == PRIMARY:
            self._promote(member, exc.message)
        else:
            self._try_again()

    def _try_again(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.01, self._session_backoff.delay()), self._changed.set)

    def _adopt(self, member: Member, conn: TClient) -> None:
        """*conn* resumed the session on *member*: it carries the session from now on."""
        old = member.conn
        member.hold(conn)
        switchover = self._lost is None or self._lost[0] is not member
        self._session, self._conn, self.server_info = member, conn, conn.server_info
        self._boundary = conn.server_info.get("ReferenceID")
        self._session_backoff.reset()
        log.warning(
            "resumed session %s on %s after event %d", self._session_id, member.name, self._last
        )
        self._queue.put_nowait(SessionResumed(member.name, *self.session, switchover))
        self._spawn(self._read(member, conn), f"tclient-session-{member.name}")
        if old is not None:
            self._spawn(self._hang_up(old), "tclient-close")
        self._up.set()

    def _promote(self, member: Member, reason: str) -> None:
        """The watch on *member* becomes the session's connection: a new session."""
        watch = member.conn
        assert watch is not None
        previous = self._session_id
        self._session, self._conn, self.server_info = member, watch, watch.server_info
        self._session_id = str(watch.server_info.get("ClientSessionID", ""))
        self._last, self._boundary = 0, None
        self._session_backoff.reset()
        if self._started.done():
            log.warning("started a new session on %s: %s", member.name, reason)
            registered = tuple(self._registrations)
            self._queue.put_nowait(
                SessionRestarted(member.name, self._session_id, previous, reason, registered)
            )
            self._strand(watch, f"the session could not be resumed ({reason})")
        for event in member.prelude:
            self._deliver(event)
        member.prelude.clear()
        self._register_again(watch)
        self._up.set()
        if not self._started.done():
            self._started.set_result(None)

    def _register_again(self, conn: TClient) -> None:
        """Send the registrations of the lost session on *conn*, before any other request."""
        for dn, attributes in list(self._registrations.items()):
            pending = self._track("RequestRegisterAddress", conn)
            with contextlib.suppress(ConnectionClosed):  # the next session sees to it
                conn.send(
                    "RequestRegisterAddress",
                    ReferenceID=pending.reference_id,
                    ThisDN=dn,
                    **attributes,
                )
            self._spawn(self._registered_again(dn, pending), f"tclient-register-{dn}")

    async def _registered_again(self, dn: str, pending: _Pending) -> None:
        try:
            event = await pending.answer
        except (RequestInDoubt, ConnectionClosed, _OnBackup):
            return  # registered by the session that goes on, or again by the next one
        finally:
            self._pending.pop(pending.reference_id, None)
        if event.get("Event") == "EventError":
            log.error("could not register %s again: %s", dn, event.get("ErrorMessage"))
            self._registrations.pop(dn, None)

    def _lose_on(self, conn: TClient, reason: str) -> None:
        if conn is self._conn:
            self._lose(reason)

    def _lose(self, reason: str) -> None:
        """The session's connection is lost: tell the application, and look for the
        primary again."""
        member, conn = self._session, self._conn
        if member is None or conn is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._session = self._conn = None
        self._boundary = None
        self._lost = (member, loop.time())
        self._up.clear()
        member.gone(conn, reason)  # what else comes on it is not the session's
        log.warning("lost the primary %s: %s", member.name, reason)
        self._queue.put_nowait(PrimaryLost(member.name, reason))
        self._spawn(self._hang_up(conn), "tclient-close")
        loop.call_later(self.failover_timeout, self._give_up)
        self._changed.set()

    def _give_up(self) -> None:
        """failover_timeout after a loss: if no session has been up since, the requests
        still waiting for an answer will not get one."""
        if self._conn is not None or self._lost is None or self._closed:
            return
        if asyncio.get_running_loop().time() >= self._lost[1] + self.failover_timeout - 0.001:
            self._strand(None, f"no primary within {self.failover_timeout:g} s")

    def _strand(self, conn: TClient | None, why: str) -> None:
        """Requests sent on another connection than *conn* and not answered: in doubt."""
        for pending in list(self._pending.values()):
            if pending.conn is not conn and not pending.answer.done():
                error = RequestInDoubt(pending.request, pending.reference_id, why)
                pending.answer.set_exception(error)

    # --- the end -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection; the stream ends.  The server keeps the session for
        its resume-window."""
        if self._closed:
            return
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in list(self._conns):
            await self._hang_up(conn)
        for pending in self._pending.values():
            if not pending.answer.done():
                pending.answer.set_exception(ConnectionClosed("the client is closed"))
        self._session = self._conn = None
        self._up.set()  # requests waiting for a primary see the client closed
        self._queue.put_nowait(None)
        if not self._started.done():
            self._started.cancel()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
