"""The connections between CTI servers of different sites (asyncio).

Every pair of sites has one connection: the site whose location name sorts first dials
the other (and dials again `reconnect-tout` seconds after losing it); the other accepts.
The first message each way is Hello; a connection from a location that is not a
configured peer, or that speaks another version of the protocol, is closed.

A peer must then prove who it is (docs/security.md): with a `secret` shared by the two
sites, each side sends a Proof over the other's fresh nonce (iscc.protocol.prove); with
TLS, the dialer checks the listener's certificate and name, and a listener that
requires client certificates checks that the dialer's certificate names the peer's
configured host.  A connection that fails is closed, logged (rate limited), and never
displaces the connection already up with that peer.  Without a secret or certificates
nothing is proven, so a second connection claiming a site that is connected is refused
until the first is gone (a peer that restarts reconnects once its old connection
closes, or once supervision drops it).  The listener caps its connections, in all and
per address; when it is full, a newcomer evicts the oldest connection still in its
greeting (no hello and proof yet) rather than being refused (doors.admission).
ADDP-style supervision: with nothing received for `addp-timeout` seconds a side sends
Poll, and a connection silent for twice that is dropped.  Messages go to the hooks;
`send()` writes to a peer when it is connected: what is sent to one peer in one turn of
the loop goes out in one write at its end.

Every message in and out goes to the trace (iscc.trace) when somebody traces, and is
counted in PeerCounters for /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ctiserver.doors.address import Address
from ctiserver.doors.admission import Admission, remote_host
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.doors.tls import peer_names
from ctiserver.errors import RemoteProtocolError
from ctiserver.iscc.protocol import (
    NEED_DATA,
    VERSION,
    Hello,
    IsccConnection,
    PeerMessage,
    Poll,
    PollReply,
    Proof,
    proof_matches,
    prove,
)
from ctiserver.iscc.settings import IsccSettings
from ctiserver.iscc.trace import trace_peer_message
from ctiserver.logs.trace import Tracer

log = logging.getLogger(__name__)
troubles = RateLimitedLog(log)

READ_SIZE = 1 << 16


class PeerHooks(Protocol):
    def on_peer_up(self, location: str) -> None: ...

    def on_peer_down(self, location: str) -> None: ...

    def on_peer_incompatible(self, location: str, version: str) -> None: ...

    def on_peer_message(self, location: str, message: PeerMessage) -> None: ...


@dataclass(slots=True)
class PeerCounters:
    """What happened between this site and the others since the server started."""

    messages: dict[tuple[str, str, str], int] = field(default_factory=dict)  # site, in|out, type
    connects: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    protocol_errors: dict[str, int] = field(default_factory=dict)
    unsent: dict[str, int] = field(default_factory=dict)  # to a site that was not connected

    def count(self, table: dict[Any, int], key: Any) -> None:
        table[key] = table.get(key, 0) + 1


@dataclass(frozen=True, slots=True)
class PeeringTls:
    """The TLS of the connections between sites, built from [server]'s files
    (app.security): none of it without them."""

    listener: ssl.SSLContext | None = None
    dialer: ssl.SSLContext | None = None
    client_certificates: bool = False  # the listener requires them (mutual TLS)


class PeerConnection:
    """One open connection to one peer, after both Hellos."""

    def __init__(
        self,
        location: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stream: IsccConnection,
        *,
        tracer: Tracer,
        counters: PeerCounters,
    ) -> None:
        self.location = location
        self._reader, self._writer, self._stream = reader, writer, stream
        self._loop = asyncio.get_running_loop()
        self._outgoing: list[bytes] = []  # written in one write at the end of the turn
        self._tracer = tracer
        self._counters = counters
        self.last_heard = time.monotonic()
        self._polls = 0
        self.close_reason = ""

    def send(self, message: PeerMessage) -> None:
        self._counters.count(self._counters.messages, (self.location, "out", message.TYPE))
        if self._tracer.active:
            trace_peer_message(self._tracer, "out", self.location, message)
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(self._stream.send(message))

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if data and not self._writer.is_closing():
            self._writer.write(data)

    def close(self) -> None:
        self._ended("closed by this server")
        self._flush()
        self._writer.close()

    def _ended(self, reason: str) -> None:
        if not self.close_reason:
            self.close_reason = reason

    async def run(self, hooks: PeerHooks, addp_timeout: float) -> None:
        supervisor = asyncio.create_task(self._supervise(addp_timeout))
        try:
            self._drain(hooks)  # what came with the greeting
            while data := await self._reader.read(READ_SIZE):
                self.last_heard = time.monotonic()
                self._stream.receive_data(data)
                self._drain(hooks)
            self._ended(f"{self.location} closed the connection")
        except OSError as exc:
            self._ended(f"reading from {self.location} failed: {exc.strerror or exc}")
        finally:
            supervisor.cancel()
            self.close()

    def _drain(self, hooks: PeerHooks) -> None:
        while True:
            try:
                message = self._stream.next_message()
            except RemoteProtocolError as exc:
                self._counters.count(self._counters.protocol_errors, self.location)
                troubles.warning(self.location, "ISCC peer %s: %s", self.location, exc)
                continue
            if message is NEED_DATA:
                return
            self._counters.count(self._counters.messages, (self.location, "in", message.TYPE))
            if self._tracer.active:
                trace_peer_message(self._tracer, "in", self.location, message)
            if isinstance(message, Poll):
                self.send(PollReply(id=message.id))
            elif not isinstance(message, (PollReply, Hello)):
                hooks.on_peer_message(self.location, message)

    async def _supervise(self, addp_timeout: float) -> None:
        """Poll when the peer is quiet; drop it when it stays silent."""
        while True:
            await asyncio.sleep(addp_timeout / 2)
            silence = time.monotonic() - self.last_heard
            if silence > 2 * addp_timeout:
                self._ended(f"{self.location} was silent for {silence:.1f} s (addp-timeout)")
                self.close()
                return
            if silence > addp_timeout / 2:
                self._polls += 1
                self.send(Poll(id=self._polls))


class Peering:
    def __init__(
        self,
        settings: IsccSettings,
        hooks: PeerHooks,
        *,
        location: str,
        server: str,
        tls: PeeringTls | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """*settings* are [iscc] whole; *location* is this site's (the switch's name),
        *server* this server's name, both told to each peer in Hello."""
        self.settings = settings
        self.location, self.server = location, server
        self.tls = tls or PeeringTls()
        self._hooks = hooks
        self._tracer = tracer or Tracer()
        self.counters = PeerCounters()
        self._connections: dict[str, PeerConnection] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.admission: Admission[asyncio.StreamWriter] = Admission(
            "ISCC",
            total=settings.max_connections,
            per_address=settings.max_connections_per_address,
            proof="said hello and authenticated",
        )

    @property
    def connected(self) -> list[str]:
        return list(self._connections)

    def send(self, location: str, message: PeerMessage) -> bool:
        connection = self._connections.get(location)
        if connection is None:
            self.counters.count(self.counters.unsent, location)
            log.warning(
                "ISCC: %s to %s not sent: that site is not connected", message.TYPE, location
            )
            return False
        connection.send(message)
        return True

    async def start(self) -> tuple[str, int] | None:
        """Listen for peers that dial us; returns the address bound, if any."""
        if self.settings.listen is None:
            return None
        host, port = self.settings.listen.host, self.settings.listen.port
        tls = self.tls.listener
        self._server = await asyncio.start_server(
            self._accepted,
            host,
            port,
            ssl=tls,
            ssl_handshake_timeout=self.settings.hello_timeout if tls is not None else None,
        )
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def run(self) -> None:
        """Dial the peers whose location sorts after ours, and serve, until cancelled."""
        dials = [
            asyncio.create_task(self._dial(location, peer.address), name=f"iscc-{location}")
            for location, peer in self.settings.peers.items()
            if self.location < location
        ]
        try:
            await asyncio.gather(*dials, asyncio.Event().wait())
        finally:
            for task in dials:
                task.cancel()
            await self.stop()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.close()
        for task in list(self._tasks):
            task.cancel()

    async def _dial(self, location: str, address: Address) -> None:
        while True:
            try:
                async with asyncio.timeout(self.settings.hello_timeout):
                    reader, writer = await asyncio.open_connection(
                        address.host, address.port, ssl=self.tls.dialer
                    )
            except (OSError, TimeoutError, ssl.SSLError) as exc:
                log.debug("ISCC: cannot reach %s at %s (%s)", location, address, exc)
            else:
                await self._serve(reader, writer, expected=location)
            await asyncio.sleep(self.settings.reconnect_timeout)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = remote_host(writer.get_extra_info("peername"))
        verdict = self.admission.admit(address, writer)
        if verdict.evicted is not None:
            log.debug("ISCC: %s", self.admission.eviction)
            verdict.evicted.transport.abort()  # in its greeting: it has said nothing yet
        if not verdict.admitted:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer, expected=None)
        finally:
            self.admission.release(writer)
            if task is not None:
                self._tasks.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, expected: str | None
    ) -> None:
        stream = IsccConnection()
        nonce = secrets.token_hex(16)
        hello = Hello(location=self.location, server=self.server, nonce=nonce)
        writer.write(stream.send(hello))
        greeting = await self._greeting(reader, stream, expected)
        if greeting is None or not await self._authenticated(
            reader, writer, stream, greeting, nonce, dialed=expected is not None
        ):
            writer.close()
            return
        self.admission.proven(writer)  # (a connection dialed is not the door's)
        location = greeting.location
        previous = self._connections.get(location)
        if previous is not None and not self._proven(location, dialed=expected is not None):
            address = remote_host(writer.get_extra_info("peername"))
            self._refused(location, address, "that site is connected, and this one proved nothing")
            writer.close()
            return
        connection = PeerConnection(
            location, reader, writer, stream, tracer=self._tracer, counters=self.counters
        )
        if previous is not None:
            previous.close()
        self._connections[location] = connection
        self.counters.count(self.counters.connects, location)
        log.info("ISCC link to %s is up", location)
        self._hooks.on_peer_up(location)
        try:
            await connection.run(self._hooks, self.settings.addp_timeout)
        finally:
            if self._connections.get(location) is connection:
                del self._connections[location]
                self._report_drop(connection)
                self._hooks.on_peer_down(location)

    def _report_drop(self, connection: PeerConnection) -> None:
        self.counters.count(self.counters.drops, connection.location)
        reason = connection.close_reason
        level = logging.INFO if reason == "closed by this server" else logging.WARNING
        log.log(level, "ISCC link to %s is down: %s", connection.location, reason)

    async def _greeting(
        self, reader: asyncio.StreamReader, stream: IsccConnection, expected: str | None
    ) -> Hello | None:
        """The peer's Hello, if it comes from a location we know (and expect)."""
        message = await self._next(reader, stream)
        return None if message is None else self._known(message, expected)

    async def _next(
        self, reader: asyncio.StreamReader, stream: IsccConnection
    ) -> PeerMessage | None:
        """The next message during the greeting (None: none in time, or a bad one)."""
        with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
            async with asyncio.timeout(self.settings.hello_timeout):
                while True:
                    try:
                        message = stream.next_message()
                    except RemoteProtocolError as exc:
                        troubles.warning("greeting", "ISCC: bad greeting: %s", exc)
                        return None
                    if message is not NEED_DATA:
                        return message
                    data = await reader.read(READ_SIZE)
                    if not data:
                        return None
                    stream.receive_data(data)
        return None

    async def _authenticated(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stream: IsccConnection,
        greeting: Hello,
        nonce: str,
        *,
        dialed: bool,
    ) -> bool:
        """Whether the peer proves it is the location it greeted as (see the docstring)."""
        location, challenge = greeting.location, greeting.nonce
        address = remote_host(writer.get_extra_info("peername"))
        if not dialed and not self._certificate_names(writer, location):
            return self._refused(location, address, "its certificate does not name the peer's host")
        secret = self._secret(location)
        if not secret:
            return True
        if not challenge:
            return self._refused(
                location, address, "it sent no nonce, so it cannot prove the secret"
            )
        mine = self.location
        writer.write(
            stream.send(
                Proof(
                    mac=prove(
                        secret, sender=mine, receiver=location, challenge=challenge, nonce=nonce
                    )
                )
            )
        )
        answer = await self._next(reader, stream)
        if isinstance(answer, Proof) and proof_matches(
            answer, secret, sender=location, receiver=mine, challenge=nonce, nonce=challenge
        ):
            return True
        return self._refused(
            location, address, "its proof of the shared secret is wrong or missing"
        )

    def _proven(self, location: str, *, dialed: bool) -> bool:
        """Whether a connection that got this far proved its peer's identity (a secret,
        or TLS certificates): only such a one may replace a connection that is up."""
        if self._secret(location):
            return True
        if dialed:
            return self.tls.dialer is not None
        return self.tls.client_certificates

    def _secret(self, location: str) -> str:
        """The secret shared with *location* ("" when none, or not a peer)."""
        peer = self.settings.peers.get(location)
        return peer.secret if peer is not None else ""

    def _certificate_names(self, writer: asyncio.StreamWriter, location: str) -> bool:
        """With client certificates required, the dialer's must name the peer's host."""
        if not self.tls.client_certificates:
            return True
        host = self.settings.peers[location].address.host
        return host in peer_names(writer.get_extra_info("peercert"))

    def _refused(self, location: str, address: str, why: str) -> bool:
        troubles.warning(
            f"auth:{address}",
            "ISCC: refused a connection from %s claiming to be %s: %s",
            address,
            location,
            why,
        )
        return False

    def _known(self, message: PeerMessage, expected: str | None) -> Hello | None:
        if not isinstance(message, Hello):
            log.warning("ISCC: a peer began with %s instead of hello", message.TYPE)
            return None
        if message.version != VERSION:
            log.error(
                "ISCC: %s (%s) speaks %s; this server speaks %s",
                message.location,
                message.server,
                message.version,
                VERSION,
            )
            if message.location in self.settings.peers:
                self._hooks.on_peer_incompatible(message.location, message.version)
            return None
        if message.location not in self.settings.peers or expected not in (None, message.location):
            log.warning(
                "ISCC: %s (%s) is not a configured peer here", message.location, message.server
            )
            return None
        return message
