"""The states of DNs, parties and agents, and which moves between party states are legal.

A party is one DN's part in one call, in T-Library terms (Dialing, Ringing, …), which
is finer than ECMA-269's LocalConnectionState: a connected originator that has not been
answered is Dialing, not Talking.  The switch reports the state; PARTY_TRANSITIONS only
*checks* a report, and the model logs an impossible move rather than refusing it
(the switch reports the state; the table only checks it).
"""

from __future__ import annotations

import enum
from typing import Final


class DnKind(enum.Enum):
    """What a configured directory number is; decides its AddressType."""

    EXTENSION = "DN"
    ACD_QUEUE = "Queue"
    ROUTING_POINT = "RouteDN"


class AgentStatus(enum.Enum):
    """An agent's state as the T-Library's AgentStatus names it."""

    READY = "Ready"
    NOT_READY = "NotReady"
    AFTER_CALL_WORK = "AfterCallWork"


class PartyState(enum.Enum):
    INITIATED = "initiated"  # off hook, nothing dialled yet
    DIALING = "dialing"  # calling out, not answered
    RINGING = "ringing"  # alerting here
    QUEUED = "queued"  # waiting on a queue or routing point
    ESTABLISHED = "established"  # talking
    HELD = "held"
    FAILED = "failed"  # the call failed (busy, invalid number); hearing a tone


S = PartyState

PARTY_TRANSITIONS: Final[frozenset[tuple[PartyState, PartyState]]] = frozenset(
    {
        (S.INITIATED, S.DIALING),
        (S.INITIATED, S.FAILED),
        (S.DIALING, S.ESTABLISHED),
        (S.DIALING, S.FAILED),
        (S.DIALING, S.HELD),
        (S.RINGING, S.ESTABLISHED),
        (S.QUEUED, S.ESTABLISHED),
        (S.ESTABLISHED, S.HELD),
        (S.HELD, S.ESTABLISHED),
    }
)


def is_legal(old: PartyState, new: PartyState) -> bool:
    return old is new or (old, new) in PARTY_TRANSITIONS
