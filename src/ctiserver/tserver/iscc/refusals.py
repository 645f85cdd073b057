"""ISCC's refusals: of a request at the origin (EventError with an ISCC code), and of a
Reserve at the destination (Refused), with one conversion of a peer's code."""

from __future__ import annotations

from ctiserver.iscc.transactions import Refusal
from ctiserver.tlib.errors import TError
from ctiserver.tserver.errors import RequestRefused


class IsccRefused(RequestRefused):
    """A request with a Location that cannot be done, with its ISCC code."""

    def __init__(self, code: TError, message: str) -> None:
        super().__init__(message)
        self.code = code


def error_code(code: TError | int) -> TError:
    """A code a peer sent, as ours (one we do not know is REMOTE_SERVER_ERROR)."""
    try:
        return TError(code)
    except ValueError:
        return TError.REMOTE_SERVER_ERROR


__all__ = ["IsccRefused", "Refusal", "error_code"]
