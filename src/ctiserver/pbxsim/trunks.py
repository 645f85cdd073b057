"""The asyncio shell of the trunks: TCP links between simulated switches.

One TrunkLinks per switch.  It accepts the links other switches dial (at
`trunk_listen`), and for each trunk with a peer it keeps one link dialled: when the link
drops or cannot be made it dials again, after 0.1 s at first and up to 5 s between
tries, until stopped.  Each link runs a TrunkSession (ctiserver.pbxsim.trunk_protocol):
once both hellos are through the switch hears of it (Switch.trunk_up), every call
message goes to Switch.trunk_message, and when it ends, Switch.trunk_down clears its
calls.  A link accepted here serves the local trunk its hello names, if there is one;
otherwise it only brings calls in.

Rules:
- The switch's outcomes are performed by the PbxListener (`perform`); this module only
  moves bytes and reports links.
- A link that breaks the protocol fatally, or does not read what it is sent, is closed;
  the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from ctiserver.doors.admission import Admission, remote_host
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.errors import RemoteProtocolError
from ctiserver.pbxsim.config import parse_address
from ctiserver.pbxsim.outcome import Outcome, TrunkLinkId
from ctiserver.pbxsim.switch import Switch
from ctiserver.pbxsim.trunk_protocol import NEED_DATA, Hello, TrunkMessage, TrunkSession

_log = logging.getLogger(__name__)
_troubles = RateLimitedLog(_log)
MAX_TRUNK_LINKS: Final = 16  # in all, and 8 from one address: a switch has few trunks
_READ_SIZE: Final = 65536
_MAX_BUFFERED: Final = 8 * 1024 * 1024
RETRY: Final = (0.1, 5.0)  # seconds between dialling attempts: first, most


class _Link:
    """One TCP connection of a trunk, from its first byte to its close.  What is sent in
    one turn of the loop goes out in one write at its end."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        session: TrunkSession,
        trunk: str | None,
        loop: asyncio.AbstractEventLoop,
    ):
        self.writer = writer
        self.session = session
        self.dialled = trunk is not None  # this end dialled it, for *trunk*
        self.trunk = trunk  # the local trunk it serves, once known
        self.link_id: TrunkLinkId | None = None
        self._loop = loop
        self._pending: list[bytes] = []

    @property
    def peer(self) -> str:
        return str(self.writer.get_extra_info("peername"))

    def send(self, message: TrunkMessage) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(self.session.send(message))

    def close(self) -> None:
        """Close once what was sent is written."""
        self.flush()
        self.writer.close()

    def flush(self) -> None:
        data, self._pending = b"".join(self._pending), []
        if not data or self.writer.is_closing():
            return
        self.writer.write(data)
        if self.writer.transport.get_write_buffer_size() > _MAX_BUFFERED:
            _log.warning("dropping trunk link %s: it does not read what it is sent", self.peer)
            self.writer.transport.abort()


class TrunkLinks:
    """The trunk links of one switch.

    Args:
        switch: the switch the links belong to.
        perform: performs an Outcome of the switch (the PbxListener's job).
        retry: seconds between dialling attempts, first and most.
    """

    def __init__(
        self,
        switch: Switch,
        perform: Callable[[Outcome], None],
        *,
        retry: tuple[float, float] = RETRY,
    ) -> None:
        self._switch = switch
        self._perform = perform
        self._retry = retry
        settings = switch.config.settings
        self._names = {trunk.name for trunk in settings.trunks}
        self._peers: dict[str, tuple[str, int]] = {
            trunk.name: parse_address(trunk.peer) for trunk in settings.trunks if trunk.peer
        }
        listen = settings.trunk_listen
        self._listen = (listen.host, listen.port) if listen is not None else None
        self._server: asyncio.Server | None = None
        self._diallers: dict[str, asyncio.Task[None]] = {}
        self._kicks: dict[str, asyncio.Event] = {}
        self._links: dict[TrunkLinkId, _Link] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # kept: asking costs a syscall
        self.admission: Admission[asyncio.StreamWriter] = Admission(
            "pbxsim trunk", total=MAX_TRUNK_LINKS, per_address=MAX_TRUNK_LINKS // 2
        )

    @property
    def address(self) -> tuple[str, int] | None:
        """Where trunks are accepted, while started (None if nowhere)."""
        if self._server is None:
            return None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> tuple[str, int] | None:
        """Listen (if configured) and dial every trunk with a peer."""
        self._loop = asyncio.get_running_loop()
        if self._listen is not None:
            self._server = await asyncio.start_server(self._accept, *self._listen)
            address = self.address
            assert address is not None
            self._listen = address  # a restart binds the same port
        for name in self._peers:
            self._dial(name)
        return self.address

    async def stop(self) -> None:
        """Stop dialling and accepting, and close every link (its calls are cleared)."""
        diallers, self._diallers = list(self._diallers.values()), {}
        for task in diallers:
            task.cancel()
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in self._links.values():
            link.close()
        await asyncio.gather(*diallers, *self._handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def connect(self, name: str, host: str, port: int) -> None:
        """Set (or change) where trunk *name* dials, and dial there now.

        Raises:
            KeyError: the switch has no trunk *name*.
        """
        if name not in self._names:
            raise KeyError(f"no trunk {name!r}")
        self._peers[name] = (host, port)
        for link in list(self._links.values()):
            if link.trunk == name and link.dialled:
                link.close()  # the dialler sees it end and dials the new peer
                self._ended(link)  # down from now on, not when the close is through
        if name in self._diallers:
            self._kicks[name].set()
        else:
            self._dial(name)

    def send(self, link_id: TrunkLinkId, message: TrunkMessage) -> None:
        """Send *message* on *link_id*; a link that is gone already drops it."""
        link = self._links.get(link_id)
        if link is not None:
            link.send(message)

    def up(self, name: str) -> bool:
        """Whether trunk *name* has a link that is up."""
        return any(link.trunk == name for link in self._links.values())

    async def wait(self, name: str, *, up: bool = True) -> None:
        """Wait until trunk *name* is up (or down)."""
        while self.up(name) != up:
            await self._changed.wait()

    # --- dialling -------------------------------------------------------------------------

    def _dial(self, name: str) -> None:
        self._kicks[name] = asyncio.Event()
        self._diallers[name] = asyncio.create_task(self._keep_dialled(name), name=f"trunk-{name}")

    async def _keep_dialled(self, name: str) -> None:
        delay = self._retry[0]
        while True:
            host, port = self._peers[name]
            self._kicks[name].clear()
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                _log.info("trunk %s cannot reach %s:%d: %s", name, host, port, exc)
            else:
                delay = self._retry[0]
                await self._serve_link(reader, writer, name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicks[name].wait(), delay)
            delay = min(delay * 2, self._retry[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._server is None:  # accepted just as stop() began
            writer.close()
            return
        address = remote_host(writer.get_extra_info("peername"))
        if not self.admission.admit(address, writer, pending=False).admitted:
            writer.transport.abort()
            return
        self._handlers.add(task)
        try:
            await self._serve_link(reader, writer, None)
        finally:
            self.admission.release(writer)
            self._handlers.discard(task)

    # --- one link -------------------------------------------------------------------------

    async def _serve_link(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trunk: str | None
    ) -> None:
        session = TrunkSession(switch=self._switch.config.name, trunk=trunk)
        link = _Link(writer, session, trunk, self._loop or asyncio.get_running_loop())
        try:
            if trunk is not None:
                writer.write(session.send(session.hello()))
            while not writer.is_closing():
                data = await reader.read(_READ_SIZE)
                session.receive_data(data)
                if not self._take_messages(link):
                    return
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError) as exc:
            _log.info("trunk link %s broke: %s", link.peer, exc)
        finally:
            self._ended(link)
            link.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _take_messages(self, link: _Link) -> bool:
        """Hand what came in to the switch; False when the link is over."""
        while True:
            try:
                message = link.session.next_message()
            except RemoteProtocolError as exc:
                if exc.fatal:
                    _log.info("trunk link %s ends: %s", link.peer, exc)
                    return False
                _troubles.warning(link.peer, "trunk link %s: %s", link.peer, exc)
                continue
            if message is NEED_DATA:
                return True
            if isinstance(message, Hello):
                self._opened(link, message)
            elif link.link_id is not None:
                now = self._now()
                self._perform(self._switch.trunk_message(link.link_id, message, now=now))

    def _opened(self, link: _Link, hello: Hello) -> None:
        if hello.switch == self._switch.config.name:
            _log.warning(
                "trunk link %s: the peer is also named %r; network call ids may clash",
                link.peer,
                hello.switch,
            )
        if link.trunk is None:  # accepted: answer, and serve the trunk it names, if ours
            link.writer.write(link.session.send(link.session.hello()))
            link.trunk = hello.trunk if hello.trunk in self._names else None
        now = self._now()
        link.link_id, outcome = self._switch.trunk_up(link.trunk, hello.switch, now=now)
        self._links[link.link_id] = link
        _log.info("trunk link %s up: %s, peer %s", link.peer, link.trunk or "inbound", hello.switch)
        self._notify()
        self._perform(outcome)

    def _ended(self, link: _Link) -> None:
        if link.link_id is None or self._links.pop(link.link_id, None) is None:
            return
        _log.info("trunk link %s down", link.peer)
        self._notify()
        self._perform(self._switch.trunk_down(link.link_id, now=self._now()))

    def _now(self) -> float:
        return (self._loop or asyncio.get_running_loop()).time()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
