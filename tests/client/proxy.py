"""A TCP relay on 127.0.0.1 between a client and a server, that a test breaks the way
networks break: it cuts every connection, refuses new ones, holds back what one side
sends (it is then lost if the connection goes), goes silent (a partition: the client
sees no close when the server goes away), or forwards to another server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses


@dataclasses.dataclass(eq=False)
class Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.client.close()
        self.server.close()


class Proxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.refusing = False
        self.silent = False  # when the server goes, the client is not told
        self.held_down: list[bytes] = []  # from the server, held back
        self.holding_down = False
        self.holding_up = False  # what the client sends is held back (and lost)
        self.held_up: list[bytes] = []
        self.links: list[Link] = []
        self.stale: list[asyncio.StreamWriter] = []  # to servers, of clients dropped
        self.accepted = 0
        self._accepting = asyncio.Event()
        self._held = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[:2]  # type: ignore[no-any-return]

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        self.cut()
        self.drop_stale()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Close every connection at once; what is held back is lost."""
        for link in self.links:
            link.close()
        self.links.clear()
        self.held_down.clear()
        self.held_up.clear()

    def drop_clients(self) -> None:
        """Close the clients' side only: the server still holds their connections (as
        when a client's network goes and the server has not noticed yet)."""
        for link in self.links:
            for task in link.tasks:
                task.cancel()
            link.client.close()
            self.stale.append(link.server)
        self.links.clear()

    def drop_stale(self) -> None:
        """The server notices at last: the connections of dropped clients close."""
        for server in self.stale:
            server.close()
        self.stale.clear()

    async def held_lines(self, count: int, *, up: bool = False) -> None:
        """Until *count* lines from the server (from the client: *up*) are held back."""
        held = self.held_up if up else self.held_down
        while b"".join(held).count(b"\n") < count:
            self._held.clear()
            await self._held.wait()

    async def accepted_at_least(self, count: int) -> None:
        while self.accepted < count:
            self._accepting.clear()
            await self._accepting.wait()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._accepting.set()
        if self.refusing:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        link = Link(writer, up_writer)
        self.links.append(link)
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link, up=True)),
            asyncio.create_task(self._pump(up_reader, writer, link, up=False)),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link, *, up: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if up and self.holding_up:
                    self.held_up.append(data)
                    self._held.set()
                elif not up and self.holding_down:
                    self.held_down.append(data)
                    self._held.set()
                else:
                    writer.write(data)
        if not up and self.silent:
            return  # the server went away; the client hears nothing
        if link in self.links:
            self.links.remove(link)
        link.close()
