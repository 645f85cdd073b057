"""A TCP proxy between one member and NATS, that a test can cut and heal: a network
partition of that member alone.  Cut, it drops every connection and stops listening
(new connections are refused); healed, it listens on the same port again."""

from __future__ import annotations

import asyncio
import contextlib


class Proxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self.address: tuple[str, int] = ("127.0.0.1", 0)

    @property
    def url(self) -> str:
        return f"nats://{self.address[0]}:{self.address[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, *self.address, reuse_address=True)
        self.address = self._server.sockets[0].getsockname()[:2]

    async def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            _drop(writer)

    async def heal(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _drop(writer)
            return
        self._pipes |= {writer, up_writer}
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self._pipes -= {writer, up_writer}
            for end in (writer, up_writer):
                _drop(end)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        _drop(writer)


def _drop(writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()
    writer.close()
