"""The Python asyncio client SDK: T-Library over JSON lines on TCP.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl as tls
import types
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ctiserver.errors import CtiError
from ctiserver.tlib.vocabulary import KVList, TMessage

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


class TClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._references = itertools.count(1)
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
    ) -> TClient:
        """Connect and register as a client; `server_info` holds the EventServerInfo.

        *resume* is (ClientSessionID, LastEventSequenceNumber) of an earlier connection's
        session: the server gives its registrations back and sends the events after that
        number before its EventServerInfo.  Raises TServerError when the server refuses
        the registration, OSError or ssl.SSLError when it cannot be reached."""
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=READ_LIMIT, ssl=ssl)
            client = cls(reader, writer)
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

    # --- one method per request ---------------------------------------------------------

    async def query_server(self) -> TMessage:
        return await self.request("RequestQueryServer")

    async def register_address(self, dn: str, **attributes: Any) -> TMessage:
        return await self.request("RequestRegisterAddress", ThisDN=dn, **attributes)

    async def unregister_address(self, dn: str) -> TMessage:
        return await self.request("RequestUnregisterAddress", ThisDN=dn)

    async def query_address(self, dn: str, info_type: str = "AddressStatus") -> TMessage:
        return await self.request("RequestQueryAddress", ThisDN=dn, InfoType=info_type)

    async def make_call(
        self,
        dn: str,
        destination: str | None,
        *,
        user_data: KVList | None = None,
        **attributes: Any,
    ) -> TMessage:
        if user_data is not None:
            attributes["UserData"] = user_data
        return await self.request("RequestMakeCall", ThisDN=dn, **_to(destination), **attributes)

    async def answer_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestAnswerCall", ThisDN=dn, ConnID=conn_id)

    async def release_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestReleaseCall", ThisDN=dn, ConnID=conn_id)

    async def clear_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestClearCall", ThisDN=dn, ConnID=conn_id)

    async def hold_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestHoldCall", ThisDN=dn, ConnID=conn_id)

    async def retrieve_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestRetrieveCall", ThisDN=dn, ConnID=conn_id)

    async def initiate_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestInitiateTransfer", ThisDN=dn, ConnID=conn_id, **_to(destination), **attributes
        )

    async def complete_transfer(self, dn: str, conn_id: str, transfer_conn_id: str) -> TMessage:
        return await self.request(
            "RequestCompleteTransfer", ThisDN=dn, ConnID=conn_id, TransferConnID=transfer_conn_id
        )

    async def mute_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestMuteTransfer", ThisDN=dn, ConnID=conn_id, **_to(destination), **attributes
        )

    async def single_step_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestSingleStepTransfer",
            ThisDN=dn,
            ConnID=conn_id,
            **_to(destination),
            **attributes,
        )

    async def initiate_conference(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestInitiateConference",
            ThisDN=dn,
            ConnID=conn_id,
            **_to(destination),
            **attributes,
        )

    async def complete_conference(self, dn: str, conn_id: str, conference_conn_id: str) -> TMessage:
        return await self.request(
            "RequestCompleteConference",
            ThisDN=dn,
            ConnID=conn_id,
            ConferenceConnID=conference_conn_id,
        )

    async def single_step_conference(
        self, dn: str, conn_id: str, destination: str, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestSingleStepConference",
            ThisDN=dn,
            ConnID=conn_id,
            OtherDN=destination,
            **attributes,
        )

    async def delete_from_conference(self, dn: str, conn_id: str, party: str) -> TMessage:
        return await self.request(
            "RequestDeleteFromConference", ThisDN=dn, ConnID=conn_id, OtherDN=party
        )

    async def alternate_call(self, dn: str, held_conn_id: str, active_conn_id: str) -> TMessage:
        return await self.request(
            "RequestAlternateCall", ThisDN=dn, ConnID=held_conn_id, TransferConnID=active_conn_id
        )

    async def reconnect_call(self, dn: str, held_conn_id: str, active_conn_id: str) -> TMessage:
        return await self.request(
            "RequestReconnectCall", ThisDN=dn, ConnID=held_conn_id, TransferConnID=active_conn_id
        )

    async def redirect_call(self, dn: str, conn_id: str, destination: str) -> TMessage:
        return await self.request(
            "RequestRedirectCall", ThisDN=dn, ConnID=conn_id, OtherDN=destination
        )

    async def route_call(
        self, routing_point: str, conn_id: str, destination: str | None = None, **attributes: Any
    ) -> TMessage:
        if destination is not None:
            attributes["OtherDN"] = destination
        return await self.request(
            "RequestRouteCall", ThisDN=routing_point, ConnID=conn_id, **attributes
        )

    async def agent_login(
        self,
        dn: str,
        agent_id: str,
        *,
        queue: str | None = None,
        work_mode: str = "ManualIn",
        **attributes: Any,
    ) -> TMessage:
        if queue is not None:
            attributes["ThisQueue"] = queue
        return await self.request(
            "RequestAgentLogin", ThisDN=dn, AgentID=agent_id, AgentWorkMode=work_mode, **attributes
        )

    async def agent_logout(self, dn: str) -> TMessage:
        return await self.request("RequestAgentLogout", ThisDN=dn)

    async def agent_ready(self, dn: str, **attributes: Any) -> TMessage:
        return await self.request("RequestAgentReady", ThisDN=dn, **attributes)

    async def agent_not_ready(
        self, dn: str, work_mode: str = "AuxWork", **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestAgentNotReady", ThisDN=dn, AgentWorkMode=work_mode, **attributes
        )

    async def attach_user_data(self, dn: str, conn_id: str, user_data: KVList) -> TMessage:
        return await self.request(
            "RequestAttachUserData", ThisDN=dn, ConnID=conn_id, UserData=user_data
        )

    async def update_user_data(self, dn: str, conn_id: str, user_data: KVList) -> TMessage:
        return await self.request(
            "RequestUpdateUserData", ThisDN=dn, ConnID=conn_id, UserData=user_data
        )

    async def delete_pair(self, dn: str, conn_id: str, key: str) -> TMessage:
        return await self.request("RequestDeletePair", ThisDN=dn, ConnID=conn_id, Key=key)

    async def delete_user_data(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestDeleteUserData", ThisDN=dn, ConnID=conn_id)

    async def query_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestQueryCall", ThisDN=dn, ConnID=conn_id)


def _to(destination: str | None) -> dict[str, str]:
    """OtherDN, unless the request leaves it to another site (ISCC: Location)."""
    return {} if destination is None else {"OtherDN": destination}
