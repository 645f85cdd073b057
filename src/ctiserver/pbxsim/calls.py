"""Calls and their connections, the legal moves of a connection, and what rides on a
connection: its recording, a treatment played to it at a routing device, and, for the
far end of a trunk call, its trunk leg.

A call has a callID and one connection per device in it, kept in the order the devices
joined.  A connection's state is ECMA-269's LocalConnectionState.  Every state change
of a connection goes through CONNECTION_TRANSITIONS: a move that is not in the table is
refused with the CSTA error the table's REFUSALS name for that move.

The far end of a trunk call is a connection too.  Its deviceID is "NUMBER@LEG" (the
number it is known by here, and the network call id of its trunk leg), which is never a
number of this switch, so it cannot be confused with a local device; events name it by
its number (Connection.shown()).

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
from ctiserver.csta.types import CallCharacteristics, ConnectionID
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim.outcome import Refused, TrunkLinkId


class Move(enum.Enum):
    ORIGINATE = enum.auto()  # the caller's dialling is done
    ANSWER = enum.auto()
    HOLD = enum.auto()
    RETRIEVE = enum.auto()
    FAIL = enum.auto()  # the called party is busy, unknown, or the call was blocked
    CONFERENCE = enum.auto()  # the conferencing party rejoins its held call
    FAR_END_ALERTING = enum.auto()  # the far end of a trunk call rings


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
    (S.INITIATED, M.FAR_END_ALERTING): S.ALERTING,  # only the far end of a trunk call
    (S.INITIATED, M.ANSWER): S.CONNECTED,  # a trunk's far end answered without ringing
}

_STATE: Final = (ErrorCategory.STATE_INCOMPATIBILITY, "invalidConnectionState")
REFUSALS: Final[Mapping[Move, tuple[ErrorCategory, str]]] = {
    M.ORIGINATE: _STATE,
    M.ANSWER: (ErrorCategory.STATE_INCOMPATIBILITY, "noCallToAnswer"),
    M.HOLD: (ErrorCategory.STATE_INCOMPATIBILITY, "noActiveCall"),
    M.RETRIEVE: (ErrorCategory.STATE_INCOMPATIBILITY, "noHeldCall"),
    M.FAIL: _STATE,
    M.CONFERENCE: _STATE,
    M.FAR_END_ALERTING: _STATE,
}


def next_state(state: LocalConnectionState, move: Move) -> LocalConnectionState:
    """The state after *move*.  Raises Refused if the move is not legal from *state*."""
    try:
        return CONNECTION_TRANSITIONS[state, move]
    except KeyError:
        raise Refused(*REFUSALS[move]) from None


class RecordingState(enum.Enum):
    RECORDING = "recording"
    SUSPENDED = "suspended"


@dataclass(slots=True, eq=False)
class Recording:
    """A recording of one connection (docs/pbxsim.md § 8.2).  Times are the switch's.

    `calls` lists every callID the recording was part of: a transfer moves it with its
    connection to the call that survives.
    """

    message: str
    device: DeviceId
    started: float
    calls: list[CallId]
    state: RecordingState = RecordingState.RECORDING
    suspended: list[float] = field(default_factory=list)
    resumed: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Collection:
    """What ends a treatment's collection of digits: *num_chars* digits, the *flush_char*
    (not collected), or *timeout* seconds without a digit."""

    num_chars: int | None
    flush_char: str
    timeout: float | None


@dataclass(slots=True, eq=False)
class Treatment:
    """A message played to a call waiting at a routing device (docs/pbxsim.md § 8.5).
    Times are the switch's; `ends` is None for a message that plays until stopped."""

    treatment_id: str
    message: str
    ends: float | None
    announcements: tuple[str, ...] = ()
    announcing_until: float | None = None  # while an announcement plays
    collection: Collection | None = None
    collect_until: float | None = None  # the collection's timeout, from the last digit
    digits: str = ""
    interrupted: bool = False  # digits cut the announcement short


@dataclass(slots=True, eq=False)
class Leg:
    """One trunk leg: the far end of a call, across a trunk link.

    Attributes:
        link: the trunk link that carries it.
        network_call_id: the leg's id, the same at both ends and unique across sites.
        call_id: the local call the far end's connection is in (a transfer changes it).
        device: the far end's connection deviceID in that call ("NUMBER@LEG").
        outbound: True where the leg was dialled (the far end terminates it).
        cause: why the call went out (newCall, consultation, …): the cause of the
            events that report the far end's progress.
        alerted, answered: what an inbound leg has told the far end so far.
    """

    link: TrunkLinkId
    network_call_id: str
    call_id: CallId
    device: DeviceId
    outbound: bool
    cause: EventCause = EventCause.NEW_CALL
    alerted: bool = False
    answered: bool = False


@dataclass(slots=True, eq=False)
class Connection:
    """One device's part in one call, and how the call reached it.

    `calling`, `called`, `last_redirection` and `answer_cause` are what the DeliveredEvent
    said, repeated by the EstablishedEvent when the device answers.  `acd_group` is the
    group that distributed the call here; `answered` tells wrap-up that it was talked on.
    `number` is what events call the device when it is not its deviceID (the far end of
    a trunk call); `fail_cause` says why the connection went to fail.  `participation`
    is how a device that joined by SingleStepConferenceCall takes part (docs/pbxsim.md
    § 4.15): heard by all (active), by nobody (silent), or by `coached` alone (coach).
    """

    device: DeviceId
    state: LocalConnectionState
    calling: DeviceId | None = None
    called: DeviceId | None = None
    last_redirection: DeviceId | None = None
    answer_cause: EventCause = EventCause.NEW_CALL
    acd_group: DeviceId | None = None
    answered: bool = False
    number: DeviceId | None = None
    fail_cause: EventCause | None = None
    recording: Recording | None = None
    leg: Leg | None = None
    participation: str = "active"  # active, silent (hears only) or coach (heard by one)
    coached: DeviceId | None = None  # the one device that hears a coach
    treatment: Treatment | None = None

    def shown(self) -> DeviceId:
        """The device as events name it: its number."""
        return self.number if self.number is not None else self.device

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
    uui: str = ""
    network_call_id: str = ""
    network_calling: DeviceId | None = None
    network_called: DeviceId | None = None
    account_code: str = ""
    trunk: DeviceId | None = None  # the trunk it came in on (associatedCallingDevice)
    characteristics: CallCharacteristics | None = None  # priority, direct agent, assist
    predictive: bool = False  # a MakePredictiveCall's, its called party not answered yet

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

    def shown(self, device: DeviceId) -> DeviceId:
        """How events name the party *device* of this call."""
        return self.connections[device].shown()

    def party(self, number: DeviceId) -> Connection | None:
        """The first party that events name *number*."""
        return next((conn for conn in self.connections.values() if conn.shown() == number), None)
