"""A small CSTA application for the listener tests: a CstaSession over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TypeVar

from ctiserver.csta.schema import Event, Message, Request
from ctiserver.csta.session import NEED_DATA, CstaSession, Inbound, Role
from ctiserver.csta.system import RequestSystemStatus, SystemStatus, SystemStatusResponse
from ctiserver.ids import InvokeId

TIMEOUT = 5.0
M = TypeVar("M", bound=Message)


class Client:
    """Reads what the switch sends; keeps events apart so requests can wait for replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.session = CstaSession(Role.COMPUTING_FUNCTION)
        self.inbox: list[Inbound] = []
        self.raw = bytearray()

    @classmethod
    async def connect(cls, address: tuple[str, int], *, receive_buffer: int = 0) -> Client:
        sock = None
        if receive_buffer:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, address)
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer)

    async def greeted(self) -> SystemStatus:
        """Take the switch's SystemStatus and answer it, as an implicit-style application."""
        inbound = await self.next()
        assert isinstance(inbound.message, SystemStatus), inbound
        self.send_raw(self.session.send_response(inbound.invoke_id, SystemStatusResponse()))
        return inbound.message

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def request(self, request: Request) -> Message:
        invoke_id, data = self.session.send_request(request)
        self.send_raw(data)
        return await self.reply(invoke_id)

    async def reply(self, invoke_id: InvokeId) -> Message:
        while True:
            for inbound in self.inbox:
                if inbound.invoke_id == invoke_id and not isinstance(inbound.message, Event):
                    self.inbox.remove(inbound)
                    return inbound.message
            await self._read()

    async def next(self) -> Inbound:
        """The next message, whatever it is."""
        while not self.inbox:
            await self._read()
        return self.inbox.pop(0)

    async def expect(self, cls: type[M]) -> M:
        """Skip to the next message of *cls* (events of other kinds are dropped)."""
        while True:
            inbound = await self.next()
            if isinstance(inbound.message, cls):
                return inbound.message

    async def events(self, count: int) -> list[Event]:
        found: list[Event] = []
        while len(found) < count:
            inbound = await self.next()
            if isinstance(inbound.message, Event):
                found.append(inbound.message)
        return found

    async def closed(self) -> bool:
        """Wait until the switch closes the connection."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while data := await self.reader.read(65536):
                    self.raw += data
        except ConnectionResetError:
            pass  # closed with our last bytes unread: the kernel says so with a reset
        await self.close()
        return True

    async def _read(self) -> None:
        async with asyncio.timeout(TIMEOUT):
            data = await self.reader.read(65536)
        if not data:
            raise ConnectionError("the switch closed the connection")
        self.raw += data
        self.session.receive_data(data)
        while (inbound := self.session.next_message()) is not NEED_DATA:
            self.inbox.append(inbound)

    def reserve(self) -> InvokeId:
        """An invoke id the session will accept a reply under, for a hand-made frame."""
        invoke_id, _ = self.session.send_request(RequestSystemStatus())
        return invoke_id

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
