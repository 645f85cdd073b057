"""What every client listener (T-Library TCP, WebSocket /tlib) shares: its door's
admission, the bound on all client buffers, and each connection's limits.

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

from ctiserver.doors.admission import Admission, Evictable
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.server.buffers import BufferBudget

log = logging.getLogger(__name__)

DEFAULT_MAX_BUFFER = 16 << 20
DEFAULT_BUFFERS = 256 << 20
DEFAULT_REGISTER_TIMEOUT = 10.0
DEFAULT_REQUESTS_PER_TURN = 4
REGISTERED = "registered (RequestRegisterClient)"  # a connection's proof at the door


@dataclass(slots=True)
class ClientLimits:
    """Args:
    admission: the listener's connection caps; a connection is pending there until it
        registers.
    budget: shared by every client listener of the server.
    max_buffer: unsent bytes after which one client is disconnected.
    register_timeout: seconds a connection has to register.
    requests_per_turn: requests taken from one connection per event-loop turn; the
        rest wait, with reading paused, so that one client cannot starve the others.
    ssl: the listener's TLS context, if any.
    """

    admission: Admission[Evictable]
    budget: BufferBudget = field(default_factory=lambda: BufferBudget(DEFAULT_BUFFERS))
    max_buffer: int = DEFAULT_MAX_BUFFER
    register_timeout: float = DEFAULT_REGISTER_TIMEOUT
    requests_per_turn: int = DEFAULT_REQUESTS_PER_TURN
    ssl: ssl.SSLContext | None = None
    log: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log))

    def registration_deadline(
        self, registered: Callable[[], bool], close: Callable[[str], None], address: str
    ) -> asyncio.TimerHandle:
        """Close the connection unless *registered* by the deadline."""

        def due() -> None:
            if not registered():
                self.log.log(
                    logging.INFO,
                    address,
                    "closing a connection from %s: it did not register within %g s",
                    address,
                    self.register_timeout,
                )
                close(f"did not register within {self.register_timeout:g} s")

        return asyncio.get_running_loop().call_later(self.register_timeout, due)


def default_limits(listener: str = "client") -> ClientLimits:
    """Limits for a listener built without a configuration (tests, embedding)."""
    return ClientLimits(Admission(listener, total=1000, per_address=100, proof=REGISTERED))
