"""The Python asyncio client SDK on one connection: T-Library over JSON lines on TCP.

    async with await TClient.connect("127.0.0.1", 7000, application_name="desk") as client:
        await client.register_address("7001")
        dialing = await client.make_call("7001", "7002", user_data={"case": "A-17"})
        async for event in client.events():
            ...

Over TLS, pass an `ssl.SSLContext` as asyncio does (`ssl=`); a server that admits only
authenticated applications needs `application_password`.

Each request method sends the request under a fresh ReferenceID and returns the first
event that carries it, or raises TServerError when that event is EventError.  Every
event, answers included, also goes to the `events()` stream, in arrival order.

One connection to one server: for a hot-standby pair, or to carry on across a lost
connection, client.pair.HotStandbyClient keeps the session going (docs/sdk.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl as tls
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson

from ctiserver.client.requests import TRequests
from ctiserver.errors import CtiError
from ctiserver.tlib.vocabulary import TMessage

READ_LIMIT = 16 << 20


class TServerError(CtiError):
    """The server answered a request with EventError."""

    def __init__(self, event: TMessage) -> None:
        self.event = event
        self.code = event.get("ErrorCode", 0)
        self.message = event.get("ErrorMessage", "")
        super().__init__(f"EventError {self.code}: {self.message}")


class ConnectionClosed(CtiError):
    """The server closed the connection."""


class TClient(TRequests):
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        references: Iterator[int] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._references = itertools.count(1) if references is None else references
        self._answers: dict[int, asyncio.Future[TMessage]] = {}
        self._events: asyncio.Queue[TMessage | None] = asyncio.Queue()
        self._closed = False
        self._task = asyncio.create_task(self._read(), name="tclient-reader")
        self.server_info: TMessage = {}
        self.last_sequence = 0  # the EventSequenceNumber of the last event received

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        application_name: str,
        application_password: str | None = None,
        ssl: tls.SSLContext | None = None,
        connect_timeout: float = 10.0,
        resume: tuple[str, int] | None = None,
        references: Iterator[int] | None = None,
    ) -> TClient:
        """Connect and register as a client; `server_info` holds the EventServerInfo.

        *resume* is (ClientSessionID, LastEventSequenceNumber) of an earlier connection's
        session: the server gives its registrations back and sends the events after that
        number before its EventServerInfo.  Raises TServerError when the server refuses
        the registration, OSError or ssl.SSLError when it cannot be reached.

        *references* gives the ReferenceIDs of this connection's requests (by default
        1, 2, 3, …): clients that share one keep their ReferenceIDs unique across
        connections."""
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=READ_LIMIT, ssl=ssl)
            client = cls(reader, writer, references)
            credentials: dict[str, Any] = {"ApplicationName": application_name}
            if application_password is not None:
                credentials["ApplicationPassword"] = application_password
            if resume is not None:
                credentials["ClientSessionID"], credentials["LastEventSequenceNumber"] = resume
            try:
                client.server_info = await client.request("RequestRegisterClient", **credentials)
            except BaseException:
                await client.close()
                raise
        return client

    @property
    def session(self) -> tuple[str, int] | None:
        """What resumes this client's session on a new connection (`connect(resume=)`)."""
        sid = self.server_info.get("ClientSessionID")
        return None if sid is None else (sid, self.last_sequence)

    async def __aenter__(self) -> TClient:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | types.TracebackType | None
    ) -> None:
        await self.close()

    # --- generic ------------------------------------------------------------------------

    def send(self, request: str, **attributes: Any) -> int:
        """Send a request without waiting; returns its ReferenceID."""
        if self._closed:
            raise ConnectionClosed("the connection to the server is closed")
        reference_id = attributes.pop("ReferenceID", None) or next(self._references)
        message = {"Request": request, "ReferenceID": reference_id, **attributes}
        self._writer.write(orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE))
        return int(reference_id)

    async def request(self, request: str, **attributes: Any) -> TMessage:
        """Send a request and return the first event that answers it."""
        reference_id = self.send(request, **attributes)
        answer = self._answers[reference_id] = asyncio.get_running_loop().create_future()
        try:
            event: TMessage = await answer
        finally:
            self._answers.pop(reference_id, None)
        if event["Event"] == "EventError":
            raise TServerError(event)
        return event

    async def events(self) -> AsyncIterator[TMessage]:
        """Every event, in the order the server sent them; ends when the connection does."""
        while (event := await self._events.get()) is not None:
            yield event

    async def next_event(self) -> TMessage:
        event = await self._events.get()
        if event is None:
            raise ConnectionClosed("the server closed the connection")
        return event

    async def wait_for(self, name: str, **attributes: Any) -> TMessage:
        """The next event named *name* whose attributes include *attributes*; skips others."""
        while True:
            event = await self.next_event()
            if event["Event"] == name and all(event.get(k) == v for k, v in attributes.items()):
                return event

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()

    async def _read(self) -> None:
        try:
            while line := await self._reader.readline():
                event: TMessage = orjson.loads(line)
                self.last_sequence = event.get("EventSequenceNumber", self.last_sequence)
                reference_id = event.get("ReferenceID")
                answer = self._answers.get(reference_id) if reference_id else None
                if answer is not None and not answer.done():
                    answer.set_result(event)
                self._events.put_nowait(event)
        except (ConnectionError, OSError):
            pass
        finally:
            self._closed = True
            self._writer.close()  # the server is gone: give the socket back now
            self._events.put_nowait(None)
            for answer in self._answers.values():
                if not answer.done():
                    answer.set_exception(ConnectionClosed("the server closed the connection"))
