"""Agents as a supervisor sees them: who is logged in on which DN for which queue, in
which state and since when, with the reason of a NotReady and the calls handled.

The agent events (EventAgentLogin, EventAgentReady, EventAgentNotReady,
EventAgentLogout) set an agent's own state: Ready, NotReady or AfterCallWork (a
NotReady whose AgentWorkMode is AfterCallWork).  A call at the agent's DN shows over it:
the agent is OnCall (ringing, talking, held or dialling) until the DN has no call, and
then is back in its own state.  `since` is when the state shown last changed.

Rules:
1. The reason of a NotReady is the event's `Reasons` ReasonCode, else its `Extensions`
   ReasonCode, else the first pair of `Reasons`; a Ready clears it.
2. Calls handled are the calls answered at the agent's DN (EventEstablished with
   ThisDNRole Destination) since the agent logged in.
3. A login repeated by the same agent changes nothing (genesys-tlib.md § 1.6).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Final

from ctiserver.supervision.core_snapshot import SnapshotAgent
from ctiserver.tlib.vocabulary import TMessage

AGENT_STATES: Final = ("Ready", "OnCall", "NotReady", "AfterCallWork")
AGENT_EVENTS: Final = frozenset(
    {"EventAgentLogin", "EventAgentLogout", "EventAgentReady", "EventAgentNotReady"}
)


@dataclass(slots=True)
class Agent:
    dn: str
    agent_id: str
    queue: str | None
    own: str  # Ready, NotReady or AfterCallWork
    work_mode: str
    since: float
    reason: str | None = None
    handled: int = 0
    call: str | None = None  # the state of the DN's call, shown over `own`

    @property
    def state(self) -> str:
        return "OnCall" if self.call is not None else self.own

    def row(self) -> dict[str, Any]:
        return {
            "agent": self.agent_id,
            "queue": self.queue,
            "state": self.state,
            "call": self.call,
            "reason": self.reason,
            "mode": self.work_mode,
            "since": round(self.since, 1),
            "handled": self.handled,
        }


def reason_of(event: TMessage) -> str | None:
    """Rule 1."""
    reasons, extensions = event.get("Reasons") or {}, event.get("Extensions") or {}
    for found in (reasons.get("ReasonCode"), extensions.get("ReasonCode")):
        if isinstance(found, str | int):
            return str(found)
    for key, value in reasons.items():
        return f"{key}={value}" if isinstance(value, str | int) else key
    return None


class AgentBoard:
    """The agents by DN, and how many are in each state per queue."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.per_queue: dict[str, collections.Counter[str]] = {}

    def counts(self) -> collections.Counter[str]:
        return collections.Counter(agent.state for agent in self.agents.values())

    def apply(self, event: TMessage, at: float) -> Agent | None:
        """Take one agent event; returns the agent it changed (gone from `agents` when
        it logged out), or None when it changed nothing."""
        name, dn = event.get("Event"), event.get("ThisDN")
        agent = self.agents.get(dn) if dn is not None else None
        if dn is None or name not in AGENT_EVENTS:
            return None
        if name == "EventAgentLogin":
            return self._login(dn, agent, event, at)
        if agent is None:
            return None
        if name == "EventAgentLogout":
            self._count(agent, -1)
            del self.agents[dn]
            return agent
        mode = event.get("AgentWorkMode", agent.work_mode)
        if name == "EventAgentReady":
            self._set(agent, "Ready", mode, None, at)
        elif mode == "AfterCallWork":
            self._set(agent, "AfterCallWork", mode, reason_of(event), at)
        else:
            self._set(agent, "NotReady", mode, reason_of(event), at)
        return agent

    def _login(self, dn: str, agent: Agent | None, event: TMessage, at: float) -> Agent | None:
        agent_id = event.get("AgentID", "")
        if agent is not None and agent.agent_id == agent_id:
            return None  # rule 3
        if agent is not None:
            self._count(agent, -1)
        agent = Agent(
            dn, agent_id, event.get("ThisQueue"), "NotReady", event.get("AgentWorkMode", ""), at
        )
        self.agents[dn] = agent
        self._count(agent, +1)
        return agent

    def _set(self, agent: Agent, own: str, mode: str, reason: str | None, at: float) -> None:
        shown = agent.state
        self._count(agent, -1)
        agent.own, agent.work_mode, agent.reason = own, mode, reason
        self._count(agent, +1)
        if agent.state != shown:
            agent.since = at

    def on_call(self, dn: str, call: str | None, at: float) -> Agent | None:
        """The DN's call state changed (None: no call); returns the agent if it shows."""
        agent = self.agents.get(dn)
        if agent is None or agent.call == call:
            return None
        shown = agent.state
        self._count(agent, -1)
        agent.call = call
        self._count(agent, +1)
        if agent.state != shown:
            agent.since = at
        return agent

    def answered(self, dn: str) -> Agent | None:
        """A call was answered at *dn* (rule 2)."""
        agent = self.agents.get(dn)
        if agent is not None:
            agent.handled += 1
        return agent

    def load(self, agent: SnapshotAgent, at: float) -> Agent:
        known = self.agents.get(agent.dn)
        if known is not None and known.agent_id == agent.agent_id:
            shown = (known.own, known.work_mode, known.reason)
            if shown != (agent.state, agent.work_mode, agent.reason):
                self._set(known, agent.state, agent.work_mode, agent.reason, at)
            return known
        if known is not None:
            self._count(known, -1)
        loaded = Agent(
            agent.dn, agent.agent_id, agent.queue, agent.state, agent.work_mode, at, agent.reason
        )
        self.agents[agent.dn] = loaded
        self._count(loaded, +1)
        return loaded

    def drop(self, dn: str) -> Agent | None:
        agent = self.agents.pop(dn, None)
        if agent is not None:
            self._count(agent, -1)
        return agent

    def _count(self, agent: Agent, step: int) -> None:
        if agent.queue is None:
            return
        counter = self.per_queue.setdefault(agent.queue, collections.Counter())
        counter[agent.state] += step
        if counter[agent.state] <= 0:
            del counter[agent.state]
