"""The servers HotStandbyClient connects to, as it sees them: for each address, the one
connection it keeps there (a watch, or the connection that carries the session), the
role that server last said it has (EventServerInfo ServerRole), the events a watch
received (they open the session if the watch becomes its connection), and the back-off
between attempts to reach it."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass, field

from ctiserver.client.connection import TClient
from ctiserver.tlib.vocabulary import TMessage

PRELUDE = 100  # events a watch keeps (it has no DNs: server-wide events only)


class Backoff:
    """Delays between attempts: none for the first, then from *low* doubling up to
    *high*, each shortened or lengthened by up to a quarter so that many clients do not
    come back at the same instant."""

    def __init__(self, low: float, high: float) -> None:
        self.low = low
        self.high = high
        self._next = 0.0

    def delay(self) -> float:
        delay = self._next
        self._next = min(self.high, max(self.low, delay * 2))
        return delay * random.uniform(0.75, 1.25)

    def reset(self) -> None:
        self._next = 0.0


@dataclass(eq=False)
class Member:
    """One server: one member of a pair, or the single server."""

    host: str
    port: int
    conn: TClient | None = None
    role: str | None = None  # its last ServerRole, while its watch is connected
    problem: str = "not reached yet"  # why it is not connected, when it is not
    prelude: deque[TMessage] = field(default_factory=lambda: deque(maxlen=PRELUDE))
    vacant: asyncio.Event = field(default_factory=asyncio.Event)  # set while conn is None

    def __post_init__(self) -> None:
        self.vacant.set()

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    def watch(self, conn: TClient) -> None:
        """*conn* is the watch on this server, registered just now."""
        self.conn = conn
        self.role = conn.server_info.get("ServerRole")
        self.prelude.clear()
        self.problem = ""
        self.vacant.clear()

    def hold(self, conn: TClient) -> None:
        """*conn*, a connection that resumed the session here, is the one kept."""
        self.conn = conn
        self.role = conn.server_info.get("ServerRole")
        self.vacant.clear()

    def gone(self, conn: TClient, problem: str) -> bool:
        """*conn* closed: True if it was the one kept here (a new one is wanted)."""
        if self.conn is not conn:
            return False
        self.conn = None
        self.role = None
        self.problem = problem
        self.vacant.set()
        return True

    def describe(self) -> str:
        if self.conn is None:
            return f"{self.name}: {self.problem}"
        return f"{self.name}: {self.role or 'connected'}"
