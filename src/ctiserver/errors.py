"""The roots of every exception ctiserver raises on purpose, named by who is at fault.

Rule 1: a codec raises LocalProtocolError when *we* ask it for something the protocol
forbids (a bug on our side), and RemoteProtocolError when the *peer* sent something
malformed or out of order.
Rule 2: exceptions that cross a boundary carry the data needed to act on them.
Rule 3: clients never see these classes; tserver.errors maps them to T-Library codes.
"""

from __future__ import annotations


class CtiError(Exception):
    """Root of every exception this package raises on purpose."""


class ProtocolError(CtiError):
    """A wire protocol was broken, by us or by the peer."""


class LocalProtocolError(ProtocolError):
    """*We* asked a codec for something the protocol forbids: a bug on our side."""


class RemoteProtocolError(ProtocolError):
    """The *peer* sent something malformed or out of order.

    Attributes:
        fatal: True when the byte stream can no longer be trusted (the framing is lost),
            so the connection must be dropped; False when only one message was bad and
            the connection can go on.
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class LinkDown(CtiError):
    """The switch link is not up, so the request was never sent (safe to retry)."""


class ServiceError(CtiError):
    """The switch refused a request with a CSTA error (the request *was* delivered).

    Attributes:
        category: the UniversalFailure choice, e.g. ``stateIncompatibility``.
        value: the value within that category, e.g. ``invalidConnectionState``.
    """

    def __init__(self, category: str, value: str) -> None:
        super().__init__(f"{category}: {value}")
        self.category = category
        self.value = value


class ConfigError(CtiError):
    """A configuration file is invalid; the message names the file, line and key."""


class StartupError(CtiError):
    """A command could not start (a port is taken, the switch refused, …); the message
    names the problem and what to do, in one line."""
