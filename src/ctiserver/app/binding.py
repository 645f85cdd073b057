"""Starting a listener, with the one line an operator reads when its port cannot be had:
the address, the reason, what to do, and the configuration key that sets it."""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable
from typing import Final, TypeVar

from ctiserver.doors.address import Address
from ctiserver.errors import StartupError

T = TypeVar("T")

PBXSIM: Final = ("[pbxsim] csta-listen, trunk-listen", "the simulated PBX's links and trunks")
CLIENTS: Final = ("[server] client-listen", "T-Library clients")
HTTP: Final = ("[server] http-listen", "HTTP")
ISCC: Final = ("[iscc] listen", "ISCC peers")


async def bind(starting: Awaitable[T], where: tuple[str, str], listen: Address | None) -> T:
    """Await a listener's start.  Raises StartupError when its port cannot be had."""
    try:
        return await starting
    except OSError as exc:
        key, what = where
        problem = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
        hint = (
            "stop the program that uses it, or choose another port"
            if exc.errno == errno.EADDRINUSE
            else "check the address"
        )
        raise StartupError(
            f"cannot listen for {what} on {listen}: {problem}; {hint} ({key})"
        ) from None
