"""How an action element is answered: the result events a strategy waits for, and the one
mapping from T-Library EventError codes to their `error` values.

Every action is answered exactly once, by `<prefix>.done` or `error.<prefix>`
(reference/orchestration.md § 1.3-1.4): voice actions use `voice.<action>`, the common
interaction actions `<redirect>` and `<terminate>` use `interaction.<action>`, and
`<queue:submit>` uses `queue.submit`, the dialog (treatment) actions `dialog.<action>`.
Each event carries `requestid` and `interactionid`; an error also carries `error` (an
ErrorValue) and `description`.

Rule: `error_value()` is the only place a T-Library code becomes an error value.  Codes
are grouped by who is at fault: the acting DN (invalidsource), the destination
(invaliddestination), the state of the call (invalidstate), the server or its switch
(invalidserver), the clock (timeout); anything else is unknown.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from ctiserver.scxml.events import Event
from ctiserver.scxml.values import Value
from ctiserver.tlib.errors import TError


class Action(enum.Enum):
    """The action elements, valued by the prefix of their result events."""

    CREATECALL = "voice.createcall"
    HOLD = "voice.hold"
    RETRIEVE = "voice.retrieve"
    CONSULTATION = "voice.consultation"
    ALTERNATE = "voice.alternate"
    RECONNECT = "voice.reconnect"
    CONFERENCE = "voice.conference"
    TRANSFER = "voice.transfer"
    REDIRECT = "interaction.redirect"
    TERMINATE = "interaction.terminate"
    SUBMIT = "queue.submit"
    FETCH = "session.fetch"
    PLAYSOUND = "dialog.playsound"
    PLAY = "dialog.play"
    COLLECT = "dialog.collect"
    PLAYANDCOLLECT = "dialog.playandcollect"

    @property
    def done(self) -> str:
        return f"{self.value}.done"

    @property
    def error(self) -> str:
        return f"error.{self.value}"


class ErrorValue(enum.StrEnum):
    """The `error` field of an error event."""

    TIMEOUT = "timeout"
    INVALID_SOURCE = "invalidsource"
    INVALID_DESTINATION = "invaliddestination"
    INVALID_SERVER = "invalidserver"
    INVALID_STATE = "invalidstate"
    CANCELLED = "cancelled"  # a treatment: routed, replaced or stopped before its end
    UNKNOWN = "unknown"


E = ErrorValue
_BY_CODE: Final[Mapping[int, ErrorValue]] = {
    # The acting DN: not registered by us, seized by another client, not configured, or
    # refused by the switch as the calling or specified device.
    TError.NOT_REGISTERED: E.INVALID_SOURCE,
    TError.RESOURCE_SEIZED: E.INVALID_SOURCE,
    TError.NOT_CONFIGURED: E.INVALID_SOURCE,
    TError.CSTA_INVALID_CALLING_DEVICE: E.INVALID_SOURCE,
    TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE: E.INVALID_SOURCE,
    TError.CSTA_PRIVILEGE_VIOLATION_CALLING_DEVICE: E.INVALID_SOURCE,
    TError.CSTA_INVALID_DEVICE_IDENTIFIER: E.INVALID_SOURCE,
    # The destination.
    TError.INVALID_CALLED_DN: E.INVALID_DESTINATION,
    TError.CSTA_INVALID_CALLED_DEVICE: E.INVALID_DESTINATION,
    TError.CSTA_INVALID_FORWARDING_DESTINATION: E.INVALID_DESTINATION,
    TError.CSTA_PRIVILEGE_VIOLATION_CALLED_DEVICE: E.INVALID_DESTINATION,
    TError.CSTA_INVALID_DESTINATION: E.INVALID_DESTINATION,
    # The call is not in a state that allows the request.
    TError.IN_SAME_STATE: E.INVALID_STATE,
    TError.INV_CONNID: E.INVALID_STATE,
    TError.CSTA_REQUEST_INCOMPATIBLE_WITH_OBJECT: E.INVALID_STATE,
    TError.CSTA_INVALID_CALL_IDENTIFIER: E.INVALID_STATE,
    TError.CSTA_INVALID_CONNECTION_IDENTIFIER: E.INVALID_STATE,
    TError.CSTA_INVALID_ALLOCATION_STATE: E.INVALID_STATE,
    TError.CSTA_CONFERENCE_MEMBER_LIMIT_EXCEEDED: E.INVALID_STATE,
    TError.SOFT_AGENT_ALREADY_LOGGED_IN: E.INVALID_STATE,
    TError.SOFT_AGENT_NOT_LOGGED_IN: E.INVALID_STATE,
    # The server, or the switch behind it.
    TError.NO_SWITCH: E.INVALID_SERVER,
    TError.OUT_OF_SERVICE: E.INVALID_SERVER,
    TError.CSTA_RESOURCE_OUT_OF_SERVICE: E.INVALID_SERVER,
    TError.CSTA_NETWORK_OUT_OF_SERVICE: E.INVALID_SERVER,
    TError.TIMEOUT: E.TIMEOUT,
}
# ECMA-269 § 12.2.6: the stateIncompatibility class (1160-1169 here), every value.
_STATE_RANGE: Final = range(TError.CSTA_STATE_INCOMPATIBILITY, TError.CSTA_SYSTEM_RESOURCE)
# ISCC (1000-1021): another site's server could not be reached or refused.
_ISCC_RANGE: Final = range(TError.NO_SUCH_SERVER, TError.ISCC_BAD_DESTINATION_DN + 1)


def error_value(code: int) -> ErrorValue:
    """The error value for an EventError's ErrorCode."""
    found = _BY_CODE.get(code)
    if found is not None:
        return found
    if code in _STATE_RANGE:
        return E.INVALID_STATE
    if code in _ISCC_RANGE:
        return E.INVALID_SERVER
    return E.UNKNOWN


def done_event(action: Action, request_id: str, interaction_id: str, **extra: Value) -> Event:
    """`<prefix>.done` with requestid, interactionid and any *extra* fields."""
    data: dict[str, Value] = {"requestid": request_id, "interactionid": interaction_id}
    data.update(extra)
    return Event(name=action.done, data=data)


def error_event(
    action: Action,
    request_id: str,
    interaction_id: str,
    error: ErrorValue,
    description: str,
    **extra: Value,
) -> Event:
    """`error.<prefix>` with requestid, interactionid, error, description and any
    *extra* fields."""
    data: dict[str, Value] = {
        "requestid": request_id,
        "interactionid": interaction_id,
        "error": error.value,
        "description": description,
    }
    data.update(extra)
    return Event(name=action.error, data=data)
