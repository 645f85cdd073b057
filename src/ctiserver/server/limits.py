"""What every client listener (T-Library TCP, WebSocket /tlib) shares: its door's
settings (`[server]`'s keys of the client door, ClientDoorSettings, read whole from the
configuration), its admission, the bound on all client buffers, and each connection's
limits.

Also the registration deadline: a connection that has not registered (a successful,
authenticated RequestRegisterClient) within `register-timeout` seconds is closed, so
idle connections cannot pile up; and until it registers, it is the first to give way
when the listener is full (doors.admission).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from ssl import SSLContext  # the field ssl hides the module in the class's body

from ctiserver.doors.admission import Admission, Evictable
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.server.buffers import BufferBudget

log = logging.getLogger(__name__)

DEFAULT_MAX_BUFFER = 16 << 20
DEFAULT_BUFFERS = 256 << 20
DEFAULT_REGISTER_TIMEOUT = 10.0
DEFAULT_REQUESTS_PER_TURN = 4
REGISTERED = "registered (RequestRegisterClient)"  # a connection's proof at the door


@dataclass(frozen=True, slots=True)
class ClientDoorSettings:
    """`[server]`'s keys of the client door (docs/configuration.md, docs/security.md).

    Attributes:
        max_connections: `max-connections`, the listener's cap on connections.
        max_connections_per_address: `max-connections-per-address`.
        max_client_buffer: `max-client-buffer`, unsent bytes after which one client is
            disconnected.
        max_client_buffers: `max-client-buffers`, what all clients' buffers may hold
            together (the budget every client listener shares).
        register_timeout: `register-timeout`, seconds a connection has to register.
        requests_per_turn: `requests-per-turn`, requests taken from one connection per
            event-loop turn; the rest wait, with reading paused, so that one client
            cannot starve the others.
    """

    max_connections: int = 1000
    max_connections_per_address: int = 100
    max_client_buffer: int = DEFAULT_MAX_BUFFER
    max_client_buffers: int = DEFAULT_BUFFERS
    register_timeout: float = DEFAULT_REGISTER_TIMEOUT
    requests_per_turn: int = DEFAULT_REQUESTS_PER_TURN


@dataclass(slots=True)
class ClientLimits:
    """Args:
    admission: the listener's connection caps; a connection is pending there until it
        registers.
    settings: the door's settings, whole.
    budget: shared by every client listener of the server.
    ssl: the listener's TLS context, if any.
    """

    admission: Admission[Evictable]
    settings: ClientDoorSettings = field(default_factory=ClientDoorSettings)
    budget: BufferBudget = field(default_factory=lambda: BufferBudget(DEFAULT_BUFFERS))
    ssl: ssl.SSLContext | None = None
    log: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log))

    @classmethod
    def of(
        cls,
        listener: str,
        settings: ClientDoorSettings,
        *,
        budget: BufferBudget,
        tls: SSLContext | None = None,
        log_repeat_interval: float = 10.0,
    ) -> ClientLimits:
        """The limits of the client listener named *listener*, with *settings* whole;
        *log_repeat_interval* is `[server]`'s, which every door shares."""
        admission: Admission[Evictable] = Admission(
            listener,
            total=settings.max_connections,
            per_address=settings.max_connections_per_address,
            proof=REGISTERED,
            interval=log_repeat_interval,
        )
        return cls(admission, settings, budget, tls)

    def registration_deadline(
        self, registered: Callable[[], bool], close: Callable[[str], None], address: str
    ) -> asyncio.TimerHandle:
        """Close the connection unless *registered* by the deadline."""
        timeout = self.settings.register_timeout

        def due() -> None:
            if not registered():
                self.log.log(
                    logging.INFO,
                    address,
                    "closing a connection from %s: it did not register within %g s",
                    address,
                    timeout,
                )
                close(f"did not register within {timeout:g} s")

        return asyncio.get_running_loop().call_later(timeout, due)


def default_limits(listener: str = "client") -> ClientLimits:
    """Limits for a listener built without a configuration (tests, embedding)."""
    settings = ClientDoorSettings()
    return ClientLimits.of(listener, settings, budget=BufferBudget(settings.max_client_buffers))
