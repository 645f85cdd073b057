"""ACD agents as data: who may log in, where they are, and the legal moves of their state.

AGENT_TRANSITIONS is the whole agent state machine.  Requested moves come from
SetAgentState (ECMA-269 § 22.1.10); two more are the switch's own: an ACD call that
ends at the agent's station starts wrap-up, and the wrap-up time elapsing ends it.
A move missing from the table is refused with operation/invalidAgentState.

Being on a call is not an agent state here: a ready agent whose station is busy is
simply not offered ACD calls (see SwitchState.busy).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.csta.enumerations import AgentState, ReqAgentState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.ids import AgentId, DeviceId
from ctiserver.pbxsim.outcome import Refused


class AgentStatus(enum.Enum):
    LOGGED_OFF = "loggedOff"
    NOT_READY = "notReady"
    READY = "ready"
    WORKING_AFTER_CALL = "workingAfterCall"


class AgentTrigger(enum.Enum):
    LOG_ON = enum.auto()
    LOG_OFF = enum.auto()
    SET_READY = enum.auto()
    SET_NOT_READY = enum.auto()
    SET_WORKING_AFTER_CALL = enum.auto()
    ACD_CALL_ENDED = enum.auto()
    WRAP_UP_ELAPSED = enum.auto()


A, T = AgentStatus, AgentTrigger
_LOGGED_ON: Final = (A.NOT_READY, A.READY, A.WORKING_AFTER_CALL)

AGENT_TRANSITIONS: Final[Mapping[tuple[AgentStatus, AgentTrigger], AgentStatus]] = {
    (A.LOGGED_OFF, T.LOG_ON): A.NOT_READY,
    **{(state, T.LOG_OFF): A.LOGGED_OFF for state in _LOGGED_ON},
    **{(state, T.SET_READY): A.READY for state in _LOGGED_ON},
    **{(state, T.SET_NOT_READY): A.NOT_READY for state in _LOGGED_ON},
    **{(state, T.SET_WORKING_AFTER_CALL): A.WORKING_AFTER_CALL for state in _LOGGED_ON},
    (A.READY, T.ACD_CALL_ENDED): A.WORKING_AFTER_CALL,
    (A.WORKING_AFTER_CALL, T.WRAP_UP_ELAPSED): A.READY,
}

TRIGGER_FOR_REQUEST: Final[Mapping[ReqAgentState, AgentTrigger]] = {
    ReqAgentState.LOGGED_ON: T.LOG_ON,
    ReqAgentState.LOGGED_OFF: T.LOG_OFF,
    ReqAgentState.READY: T.SET_READY,
    ReqAgentState.NOT_READY: T.SET_NOT_READY,
    ReqAgentState.WORKING_AFTER_CALL: T.SET_WORKING_AFTER_CALL,
}

CSTA_AGENT_STATE: Final[Mapping[AgentStatus, AgentState]] = {
    A.LOGGED_OFF: AgentState.AGENT_NULL,
    A.NOT_READY: AgentState.AGENT_NOT_READY,
    A.READY: AgentState.AGENT_READY,
    A.WORKING_AFTER_CALL: AgentState.AGENT_WORKING_AFTER_CALL,
}


def next_status(status: AgentStatus, trigger: AgentTrigger) -> AgentStatus:
    """The status after *trigger*.  Raises Refused if the move is not legal."""
    try:
        return AGENT_TRANSITIONS[status, trigger]
    except KeyError:
        raise Refused(ErrorCategory.OPERATION, "invalidAgentState") from None


@dataclass(slots=True, eq=False)
class Agent:
    """One configured agent id.

    Attributes:
        device: the station the agent is logged on at, while logged on.
        group: the ACD group the agent logged on to; None serves every group.
        idle_since: when the agent last became free for an ACD call, with a sequence
            number that orders agents who became free at the same moment.
        reason_code: the reason of its state, given with SetAgentState in private data
            (`reasonCode`, docs/pbxsim.md § 8) and reported on its agent events.
    """

    agent_id: AgentId
    password: str | None = None
    status: AgentStatus = AgentStatus.LOGGED_OFF
    device: DeviceId | None = None
    group: DeviceId | None = None
    idle_since: tuple[float, int] = (0.0, 0)
    reason_code: str = ""  # why it is in its state, when the request said (private data)

    def serves(self, group: DeviceId) -> bool:
        return self.group is None or self.group == group
