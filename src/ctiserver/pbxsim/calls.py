"""Calls and their connections, and the legal moves of a connection.

A call has a callID and one connection per device in it, kept in the order the devices
joined.  A connection's state is ECMA-269's LocalConnectionState.  Every state change
of a connection goes through CONNECTION_TRANSITIONS: a move that is not in the table is
refused with the CSTA error the table's REFUSALS name for that move.

Rule: check a move with next_state() before changing anything, so that a refused
request leaves the switch as it was.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim.outcome import Refused


class Move(enum.Enum):
    ORIGINATE = enum.auto()  # the caller's dialling is done
    ANSWER = enum.auto()
    HOLD = enum.auto()
    RETRIEVE = enum.auto()
    FAIL = enum.auto()  # the called party is busy, unknown, or the call was blocked
    CONFERENCE = enum.auto()  # the conferencing party rejoins its held call


S, M = LocalConnectionState, Move

# Every legal move of a connection that stays in its call.  Connections leave a call
# (cleared, diverted, transferred away) from any state.
CONNECTION_TRANSITIONS: Final[Mapping[tuple[LocalConnectionState, Move], LocalConnectionState]] = {
    (S.INITIATED, M.ORIGINATE): S.CONNECTED,
    (S.ALERTING, M.ANSWER): S.CONNECTED,
    (S.CONNECTED, M.HOLD): S.HOLD,
    (S.HOLD, M.RETRIEVE): S.CONNECTED,
    (S.CONNECTED, M.FAIL): S.FAIL,
    (S.HOLD, M.CONFERENCE): S.CONNECTED,
}

_STATE: Final = (ErrorCategory.STATE_INCOMPATIBILITY, "invalidConnectionState")
REFUSALS: Final[Mapping[Move, tuple[ErrorCategory, str]]] = {
    M.ORIGINATE: _STATE,
    M.ANSWER: (ErrorCategory.STATE_INCOMPATIBILITY, "noCallToAnswer"),
    M.HOLD: (ErrorCategory.STATE_INCOMPATIBILITY, "noActiveCall"),
    M.RETRIEVE: (ErrorCategory.STATE_INCOMPATIBILITY, "noHeldCall"),
    M.FAIL: _STATE,
    M.CONFERENCE: _STATE,
}


def next_state(state: LocalConnectionState, move: Move) -> LocalConnectionState:
    """The state after *move*.  Raises Refused if the move is not legal from *state*."""
    try:
        return CONNECTION_TRANSITIONS[state, move]
    except KeyError:
        raise Refused(*REFUSALS[move]) from None


@dataclass(slots=True, eq=False)
class Connection:
    """One device's part in one call, and how the call reached it.

    `calling`, `called`, `last_redirection` and `answer_cause` are what the DeliveredEvent
    said, repeated by the EstablishedEvent when the device answers.  `acd_group` is the
    group that distributed the call here; `answered` tells wrap-up that it was talked on.
    """

    device: DeviceId
    state: LocalConnectionState
    calling: DeviceId | None = None
    called: DeviceId | None = None
    last_redirection: DeviceId | None = None
    answer_cause: EventCause = EventCause.NEW_CALL
    acd_group: DeviceId | None = None
    answered: bool = False

    def move(self, move: Move) -> None:
        self.state = next_state(self.state, move)
        if self.state is S.CONNECTED:
            self.answered = True


@dataclass(slots=True, eq=False)
class Call:
    call_id: CallId
    calling: DeviceId
    called: DeviceId
    correlator_data: str = ""
    connections: dict[DeviceId, Connection] = field(default_factory=dict)

    def id_of(self, device: DeviceId) -> ConnectionID:
        return ConnectionID(call_id=self.call_id, device_id=device)

    def add(self, connection: Connection) -> None:
        self.connections[connection.device] = connection

    def remove(self, device: DeviceId) -> Connection:
        return self.connections.pop(device)

    def others(self, device: DeviceId) -> Iterator[Connection]:
        """The connections of every device but *device*, in joining order."""
        return (conn for conn in self.connections.values() if conn.device != device)

    def first_other(self, device: DeviceId) -> DeviceId | None:
        return next((conn.device for conn in self.others(device)), None)
