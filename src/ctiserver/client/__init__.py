"""The Python SDK (docs/sdk.md): TClient, one connection to one server; HotStandbyClient,
one session kept on the primary of a hot-standby pair (or across reconnections to one
server); the notices and errors they give the application."""

from __future__ import annotations

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.client.pair import HotStandbyClient
from ctiserver.client.switchover import (
    Counts,
    NoPrimary,
    Notice,
    PrimaryLost,
    RequestInDoubt,
    SessionRestarted,
    SessionResumed,
)

__all__ = [
    "ConnectionClosed",
    "Counts",
    "HotStandbyClient",
    "NoPrimary",
    "Notice",
    "PrimaryLost",
    "RequestInDoubt",
    "SessionRestarted",
    "SessionResumed",
    "TClient",
    "TServerError",
]
