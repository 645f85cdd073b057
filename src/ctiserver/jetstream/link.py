"""The server's one connection to NATS JetStream (DESIGN.md § 7, `[nats]`), shared by
the hot-standby pair (ctiserver.ha) and the event stream (ctiserver.jetstream.export).

The link connects in the background and keeps trying (a server must start, and serve
alone, while NATS is away); once connected, nats-py reconnects by itself.  Whoever uses
the link hears each change (`on_change(True/False)`) and reads `up`.  Every loss and
return of NATS is logged once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from ctiserver.jetstream import connection

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NatsSettings:
    """`[nats]`: where JetStream is (one or several URLs of one cluster)."""

    urls: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    connect_timeout: float = 2.0
    reconnect_wait: float = 0.25  # between attempts, once connected
    request_timeout: float = 2.0  # of a JetStream call (a publish's acknowledgement)


class NatsLink:
    def __init__(self, settings: NatsSettings, *, name: str) -> None:
        self.settings = settings
        self._name = name
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self._up = False
        self._closing = False
        self._told = False  # that NATS is not reachable, before it was ever reached
        self.connected = asyncio.Event()  # set while NATS is reachable

    @property
    def up(self) -> bool:
        return self._up

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context (only once the link has connected)."""
        if self._js is None:
            raise ConnectionError("not connected to NATS yet")
        return self._js

    @property
    def client(self) -> Client:
        if self._client is None:
            raise ConnectionError("not connected to NATS yet")
        return self._client

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call *listener* with True when NATS is reachable again, False when lost."""
        self._listeners.append(listener)

    async def run(self) -> None:
        """Connect, retrying until it works; then nats-py keeps the connection.  Runs
        until cancelled, and closes the connection then."""
        try:
            await self._connect()
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def _connect(self) -> None:
        wait = self.settings.reconnect_wait
        while True:
            client = Client()
            try:
                await connection.connect(
                    client,
                    servers=list(self.settings.urls),
                    name=self._name,
                    connect_timeout=max(1, round(self.settings.connect_timeout)),
                    reconnect_time_wait=self.settings.reconnect_wait,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    disconnected_cb=self._lost,
                    reconnected_cb=self._back,
                    error_cb=self._error,
                    ping_interval=2,
                    max_outstanding_pings=2,
                )
            except (OSError, TimeoutError, nats.errors.Error) as exc:
                await self._error(exc)
                await connection.close(client)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 2.0)
                continue
            self._client = client
            self._js = client.jetstream(timeout=self.settings.request_timeout)
            log.info(
                "connected to NATS at %s",
                client.connected_url.netloc if client.connected_url else "?",
            )
            self._changed(True)
            return

    async def _lost(self) -> None:
        if self._up and not self._closing:
            log.warning("lost the connection to NATS; reconnecting")
            self._changed(False)

    async def _back(self) -> None:
        log.info("NATS is back")
        self._changed(True)

    async def _error(self, exc: Exception) -> None:
        """nats-py's errors, each failed attempt among them: the first while NATS was
        never reached is said (nats-py tries again by itself), the others are logged
        for debugging."""
        if self._client is None and not self._told and not self._closing:
            self._told = True
            log.warning(
                "NATS at %s is not reachable (%s); trying again",
                ", ".join(self.settings.urls),
                exc or type(exc).__name__,
            )
        else:
            log.debug("NATS: %s", exc)

    def _changed(self, up: bool) -> None:
        self._up = up
        if up:
            self.connected.set()
        else:
            self.connected.clear()
        for listener in self._listeners:
            try:
                listener(up)
            except Exception:
                log.exception("a NATS link listener failed")

    async def close(self) -> None:
        self._closing = True
        client, self._client, self._js = self._client, None, None
        if client is not None:
            await connection.close(client)
        if self._up:
            self._changed(False)
