"""Admission at a listener's door: how many connections it holds, in all and from one
address (DESIGN.md § 8, "limits on every door").

Every listener (T-Library TCP, HTTP and WebSocket, ISCC, pbxsim's CSTA) owns one
Admission and asks it on each accepted connection; a refused connection is closed at
once, and the refusals are logged at most once per address per interval.  Caps below
the process's file-descriptor limit keep one noisy source from locking everyone out.
"""

from __future__ import annotations

import ipaddress
import logging

from ctiserver.doors.lograte import DEFAULT_INTERVAL, RateLimitedLog

log = logging.getLogger(__name__)


class Admission:
    def __init__(
        self, listener: str, *, total: int, per_address: int, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.listener = listener
        self.total = total
        self.per_address = per_address
        self.refused = 0
        self._count = 0
        self._by_address: dict[str, int] = {}
        self._log = RateLimitedLog(log, interval=interval)

    @property
    def count(self) -> int:
        return self._count

    def admit(self, address: str) -> bool:
        """Take a connection from *address*, or refuse it (and say so, rate limited)."""
        held = self._by_address.get(address, 0)
        if self._count >= self.total:
            return self._refuse(address, f"it holds {self.total} connections (max-connections)")
        if held >= self.per_address:
            return self._refuse(
                address, f"{address} holds {held} of them (max-connections-per-address)"
            )
        self._count += 1
        self._by_address[address] = held + 1
        return True

    def release(self, address: str) -> None:
        held = self._by_address.get(address, 0)
        if held <= 0:
            return
        self._count -= 1
        if held == 1:
            del self._by_address[address]
        else:
            self._by_address[address] = held - 1

    def _refuse(self, address: str, why: str) -> bool:
        self.refused += 1
        self._log.warning(
            address, "%s listener refused a connection from %s: %s", self.listener, address, why
        )
        return False


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
