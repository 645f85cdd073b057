"""What one input to the switch produced, as data for the asyncio shell to perform.

The switch never writes to a socket or starts a timer itself.  Every input (a message
from an association, a phone action, a timer firing) returns an Outcome: an ordered
list of effects.  The shell performs them in order:

    Reply        answer the request that was handled (always the first effect)
    Send         a message to one association: an event, an unconfirmed routeing
                 invocation, or a request of the switch's own (SystemStatus)
    UseEdition   from now on write this ECMA-323 edition on that association
    Close        close that association's connection (after what was sent to it)
    StartTimer   call Switch.fire(timer, now) at monotonic time `at`
    TrunkSend    a trunk protocol message to one trunk link
    RecordingEnded  a recording is over: append its line to the recordings file

A timer is never cancelled by the shell: the switch ignores a timer that no longer
stands, so stale timers are harmless.

Refused is how the switch says no.  It is raised before anything has changed, and
becomes the CSTAErrorCode of the request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import Event, Message, Request, Response, Unconfirmed
from ctiserver.errors import CtiError
from ctiserver.pbxsim.trunk_protocol import TrunkMessage

AssociationId = NewType("AssociationId", int)
TrunkLinkId = NewType("TrunkLinkId", int)


class Refused(CtiError):
    """The switch refused an input; nothing changed.

    Attributes:
        category: the CSTAErrorCode category.
        value: the value within the category, as spelled on the wire.
    """

    def __init__(self, category: ErrorCategory, value: str) -> None:
        super().__init__(f"{category.value}: {value}")
        self.category = category
        self.value = value

    def error_code(self) -> CSTAErrorCode:
        return CSTAErrorCode(category=self.category, value=self.value)


class TimerKind(enum.Enum):
    ROUTE_TIMEOUT = "route-timeout"  # key: routingCrossRefID
    WRAP_UP = "wrap-up"  # key: agent id
    SESSION_EXPIRY = "session-expiry"  # key: association id
    TREATMENT = "treatment"  # key: the treatment's id (pbxsim.treatments)
    NO_ANSWER = "no-answer"  # key: callID@station (pbxsim.forwarding)
    ALERT_TIME = "alert-time"  # key: callID of a predictive call (pbxsim.predictive)


@dataclass(frozen=True, slots=True)
class Timer:
    kind: TimerKind
    key: str


@dataclass(frozen=True, slots=True)
class Reply:
    message: Response | CSTAErrorCode


@dataclass(frozen=True, slots=True)
class Send:
    association: AssociationId
    message: Event | Unconfirmed | Request


@dataclass(frozen=True, slots=True)
class UseEdition:
    association: AssociationId
    edition: str


@dataclass(frozen=True, slots=True)
class Close:
    association: AssociationId


@dataclass(frozen=True, slots=True)
class StartTimer:
    at: float
    timer: Timer


@dataclass(frozen=True, slots=True)
class TrunkSend:
    link: TrunkLinkId
    message: TrunkMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingEnded:
    """A recording's whole life, in the switch's (monotonic) time.

    Attributes:
        reason: "requested" (Stop) or "call ended" (its connection left the call).
    """

    message: str
    device: str
    calls: tuple[str, ...]
    started: float
    suspended: tuple[float, ...]
    resumed: tuple[float, ...]
    stopped: float
    reason: str


Effect = Reply | Send | UseEdition | Close | StartTimer | TrunkSend | RecordingEnded


@dataclass(frozen=True, slots=True)
class Outcome:
    effects: tuple[Effect, ...] = ()

    @property
    def response(self) -> Response | CSTAErrorCode | None:
        """The answer to the request handled, if there was one."""
        for effect in self.effects:
            if isinstance(effect, Reply):
                return effect.message
        return None

    def sent_to(self, association: AssociationId) -> tuple[Message, ...]:
        """What was sent to *association*, in order (the reply excluded)."""
        return tuple(
            effect.message
            for effect in self.effects
            if isinstance(effect, Send) and effect.association == association
        )

    @property
    def timers(self) -> tuple[StartTimer, ...]:
        return tuple(effect for effect in self.effects if isinstance(effect, StartTimer))

    def trunk_sent(self, link: TrunkLinkId) -> tuple[TrunkMessage, ...]:
        """What was sent on trunk link *link*, in order."""
        return tuple(
            effect.message
            for effect in self.effects
            if isinstance(effect, TrunkSend) and effect.link == link
        )

    @property
    def recordings(self) -> tuple[RecordingEnded, ...]:
        return tuple(effect for effect in self.effects if isinstance(effect, RecordingEnded))

    @property
    def closed(self) -> tuple[AssociationId, ...]:
        return tuple(effect.association for effect in self.effects if isinstance(effect, Close))
