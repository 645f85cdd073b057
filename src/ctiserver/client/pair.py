"""HotStandbyClient: one T-Library session carried across the members of a hot-standby
pair (DESIGN.md § 7), or across lost connections to a single server (docs/sdk.md).

    async with await HotStandbyClient.connect(
        [("tserver-a", 7000), ("tserver-b", 7000)], application_name="desk"
    ) as client:
        await client.register_address("7001")
        async for event in client.events():
            ...

It connects to every server, keeps the session on the primary and moves it when the
primary changes (client.failover), telling the application in its event stream
(PrimaryLost, then SessionResumed or SessionRestarted: client.switchover).  Within a
session every event is delivered once, in order, none skipped (client.stream).  A
request goes to the primary once: an answer replayed by a new primary answers it, and
without one it raises RequestInDoubt; only a request refused with EventError 58 (it
reached a backup, which did nothing) is sent again, to the primary
(client.outstanding).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl as tls
import types
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.client.failover import Failover
from ctiserver.client.members import Member
from ctiserver.client.outstanding import OnBackup, Outstanding
from ctiserver.client.requests import TRequests
from ctiserver.client.stream import EventStream
from ctiserver.client.switchover import Counts, NoPrimary, Notice
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)


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
        """Prefer connect(), which also starts the client and waits for its session."""
        if not addresses:
            raise ValueError("HotStandbyClient needs the address of at least one server")
        self._application = (application_name, application_password)
        self._ssl = ssl
        self._connect_timeout = connect_timeout
        self._counts = Counts()
        self._stream = EventStream(self._counts)
        self._outstanding = Outstanding(itertools.count(1), self._counts)  # one numbering
        self._failover = Failover(
            [Member(host, port) for host, port in addresses],
            self._dial,
            self._stream,
            self._outstanding,
            failover_timeout=failover_timeout,
            reconnect=(reconnect_min, reconnect_max),
        )

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
        client._failover.start()
        try:
            async with asyncio.timeout(connect_timeout):
                await client._failover.started
        except TimeoutError:
            await client.close()
            raise NoPrimary(
                f"no primary within {connect_timeout:g} s ({client.describe()})"
            ) from None
        except BaseException:
            await client.close()
            raise
        return client

    async def _dial(self, member: Member, resume: tuple[str, int] | None) -> TClient:
        name, password = self._application
        return await TClient.connect(
            member.host,
            member.port,
            application_name=name,
            application_password=password,
            ssl=self._ssl,
            connect_timeout=self._connect_timeout,
            resume=resume,
            references=self._outstanding.references,
        )

    async def __aenter__(self) -> HotStandbyClient:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | types.TracebackType | None
    ) -> None:
        await self.close()

    # --- what the application reads ------------------------------------------------------------

    @property
    def server_info(self) -> TMessage:
        """The EventServerInfo that opened or last resumed the session."""
        return self._failover.server_info

    @property
    def primary(self) -> str | None:
        """ "host:port" of the server that holds the session, while it is up."""
        session = self._failover.session
        return None if session is None else session.name

    @property
    def session(self) -> tuple[str, int]:
        """(ClientSessionID, EventSequenceNumber of the last event delivered)."""
        return self._failover.session_id, self._stream.last

    @property
    def last_sequence(self) -> int:
        return self._stream.last

    @property
    def counts(self) -> Counts:
        """What happened to the session so far (events delivered, switchovers, …): a
        copy, for a monitor or a benchmark to compare."""
        return self._counts.copy()

    @property
    def failover_timeout(self) -> float:
        return self._failover.failover_timeout

    def describe(self) -> str:
        """Each server and what the client knows of it, e.g. for a log line."""
        return self._failover.describe()

    def events(self) -> AsyncIterator[TMessage | Notice]:
        """The session's events and the client's notices, in order, until close()."""
        return self._stream.events()

    async def next_event(self) -> TMessage | Notice:
        """The next event or notice; raises ConnectionClosed once the client is closed."""
        return await self._stream.next_event()

    async def wait_for(self, name: str, **attributes: Any) -> TMessage:
        """The next event named *name* whose attributes include *attributes*; skips
        others, notices included."""
        return await self._stream.wait_for(name, **attributes)

    # --- requests ------------------------------------------------------------------------------

    async def request(self, request: str, **attributes: Any) -> TMessage:
        """Send *request* to the primary and return the first event that answers it.

        Raises TServerError (EventError), NoPrimary (no primary within
        failover_timeout: not sent), RequestInDoubt (the primary went away before it
        answered, and its successor has no answer), ConnectionClosed (closed)."""
        attributes.pop("ReferenceID", None)  # the client numbers its requests itself
        while True:
            conn = await self._primary()
            pending = self._outstanding.track(request, conn)
            try:
                conn.send(request, ReferenceID=pending.reference_id, **attributes)
                event = await pending.answer
            except ConnectionClosed:
                if self._failover.closed:
                    raise
                self._failover.lose_on(conn, "the connection closed")  # not sent: again
                continue
            except OnBackup:
                log.warning("%s reached a backup: sending it to the primary", request)
                self._counts.resent += 1
                continue
            finally:
                self._outstanding.forget(pending)
            self._note_registration(request, attributes, event)
            if event.get("Event") == "EventError":
                raise TServerError(event)
            return event

    async def _primary(self) -> TClient:
        failover = self._failover
        if not failover.up.is_set():
            try:
                async with asyncio.timeout(failover.failover_timeout):
                    await failover.up.wait()
            except TimeoutError:
                raise NoPrimary(
                    f"no primary within {failover.failover_timeout:g} s ({self.describe()})"
                ) from None
        if failover.closed or failover.conn is None:
            raise ConnectionClosed("the client is closed")
        return failover.conn

    def _note_registration(self, request: str, attributes: dict[str, Any], event: TMessage) -> None:
        """Remember the DNs registered, to register them again in a new session."""
        registrations = self._failover.registrations
        dn = str(attributes.get("ThisDN"))
        if request == "RequestRegisterAddress" and event.get("Event") == "EventRegistered":
            registrations[dn] = {k: v for k, v in attributes.items() if k != "ThisDN"}
        elif request == "RequestUnregisterAddress" and event.get("Event") != "EventError":
            registrations.pop(dn, None)

    # --- the end -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection; the stream ends.  The server keeps the session for its
        resume-window."""
        if self._failover.closed:
            return
        await self._failover.close()
        self._outstanding.fail(ConnectionClosed("the client is closed"))
        self._stream.end()
