"""Admission at a listener's door: how many connections it holds, in all and from one
address, and which one gives way when it is full (DESIGN.md § 8, "limits on every door").

Every listener (T-Library TCP, HTTP and WebSocket, ISCC, pbxsim's CSTA) owns one
Admission and asks it on each accepted connection.  A connection is *pending* until it
proves itself (a T-Library client registers, an HTTP connection presents a whole
request, an ISCC peer authenticates); then it is *proven*.  When the listener holds
`total` connections, a newcomer evicts the oldest pending one instead of being refused,
so idle or half-open connections cannot lock real clients out however many addresses
they come from: only when every connection held is proven is the newcomer refused.  An
address over its own cap is refused whatever the total.  The shell closes the connection
that the verdict names; refusals and evictions are counted and logged, rate limited.

Pure: no sockets, no clock; the shells key connections by any hashable object of theirs.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ctiserver.doors.lograte import DEFAULT_INTERVAL, RateLimitedLog

log = logging.getLogger(__name__)

K = TypeVar("K")


class Evictable(Protocol):
    """A connection that a fuller door may close to make room for another."""

    def evict(self, reason: str) -> None:
        """Close at once, saying *reason* to the peer where the protocol can."""


@dataclass(frozen=True, slots=True)
class Verdict(Generic[K]):
    """admitted: whether the newcomer is taken.  evicted: a pending connection the
    shell must close now (Admission.eviction says why); it is no longer counted."""

    admitted: bool
    evicted: K | None = None


class Admission(Generic[K]):
    def __init__(
        self,
        listener: str,
        *,
        total: int,
        per_address: int,
        proof: str = "proved itself",
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        """*proof* completes "the oldest connection that had not …" in the log."""
        self.listener = listener
        self.total = total
        self.per_address = per_address
        self.proof = proof
        self.refused = 0
        self.evicted = 0
        self._held: dict[K, str] = {}
        self._pending: dict[K, None] = {}  # in the order they became pending: oldest first
        self._by_address: dict[str, int] = {}
        self._log = RateLimitedLog(log, interval=interval)

    @property
    def count(self) -> int:
        return len(self._held)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def eviction(self) -> str:
        """Why an evicted connection was closed (for its peer and the shell's log)."""
        return f"the {self.listener} listener is full and this connection had not {self.proof}"

    def admit(self, address: str, connection: K, *, pending: bool = True) -> Verdict[K]:
        """Take *connection* from *address* (pending unless told otherwise), evicting
        the oldest pending connection if the listener is full; or refuse it."""
        held = self._by_address.get(address, 0)
        if held >= self.per_address:
            why = f"{address} holds {held} of them (max-connections-per-address)"
            return self._refuse(address, why)
        evicted = None
        if len(self._held) >= self.total:
            evicted = next(iter(self._pending), None)
            if evicted is None:
                why = f"it holds {self.total} connections that all {self.proof} (max-connections)"
                return self._refuse(address, why)
            self._evict(evicted, address)
        self._held[connection] = address
        self._by_address[address] = self._by_address.get(address, 0) + 1  # after any eviction
        if pending:
            self._pending[connection] = None
        return Verdict(True, evicted)

    def proven(self, connection: K) -> None:
        """*connection* proved itself: it is never evicted (while it stays proven)."""
        self._pending.pop(connection, None)

    def waiting(self, connection: K) -> None:
        """*connection* waits to prove itself again (an HTTP connection kept alive
        between requests): evictable, after every connection pending before it."""
        if connection in self._held:
            self._pending.pop(connection, None)
            self._pending[connection] = None

    def release(self, connection: K) -> None:
        """*connection* is gone (nothing happens if it was evicted or never taken)."""
        address = self._held.pop(connection, None)
        if address is None:
            return
        self._pending.pop(connection, None)
        held = self._by_address[address]
        if held == 1:
            del self._by_address[address]
        else:
            self._by_address[address] = held - 1

    def _evict(self, connection: K, newcomer: str) -> None:
        address = self._held[connection]
        self.release(connection)
        self.evicted += 1
        self._log.warning(
            "evicted",
            "%s listener is full (max-connections = %d): closed the oldest connection "
            "that had not %s, from %s, to admit one from %s",
            self.listener,
            self.total,
            self.proof,
            address,
            newcomer,
        )

    def _refuse(self, address: str, why: str) -> Verdict[K]:
        self.refused += 1
        self._log.warning(
            address, "%s listener refused a connection from %s: %s", self.listener, address, why
        )
        return Verdict(False)


def remote_host(peername: object) -> str:
    """The host part of a transport's peername ('?' when there is none)."""
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return "?"


def is_loopback(host: str) -> bool:
    """Whether *host* (an address or a name) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
