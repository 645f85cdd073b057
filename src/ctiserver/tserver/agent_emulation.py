"""Emulated agent features: what the T-Server does for agents where the switch has no
such feature (docs/agents.md; the options are tserver.feature_options.AgentOptions).

- After-call work (wrap-up-time): when an agent that is Ready leaves a business call it
  answered, and is in no other, it is NotReady (AfterCallWork) for wrap-up-time
  seconds, Extensions WrapUpTime saying how long ("untimed": until it asks for Ready).
  EventAgentNotReady comes before the call's EventReleased.  A requested AfterCallWork
  ends after wrap-up-time too (timed-acw-in-idle).
- Legal guard (legal-guard-time): after the after-call work, or after the business
  call when there is none, the agent is NotReady (AgentWorkMode LegalGuard) for
  legal-guard-time seconds before it is Ready again.
- Logout, or NotReady, when the client that logged the agent in unregisters its DN or
  its session ends (agent-logout-on-unreg, agent-notready-on-unreg).
- No answer (agent-no-answer-timeout, -action, -overflow): a call that rings at an
  agent that long is acted on: the agent is set NotReady or logged out, and the call
  goes back where it came from, is released, or goes to another DN.

Every state lives in the model as values (Agent.until, Agent.session, the no-answer
timers), so that the backup of a pair carries on where the primary stopped.  The switch
is told of each emulated state (SetAgentState), so that it offers the agent no ACD call
meanwhile; the agent events it reports then change nothing (model.agents, rule 3).
Times in the model are wall times; a timer that comes due while the link is down waits
for the link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.csta.call_control import ClearConnection, DeflectCall
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.schema import Request
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    Change,
    PartyChange,
    PartyEstablished,
    PartyRang,
    PartyReleased,
)
from ctiserver.model.model import Model
from ctiserver.model.states import AgentStatus, DnKind, PartyState
from ctiserver.model.values import Agent, Call, Party
from ctiserver.tlib.vocabulary import AgentWorkMode, CallType, KVList
from ctiserver.tserver.agents import set_agent_state
from ctiserver.tserver.events import WRAP_UP_TIME, wrap_up_value
from ctiserver.tserver.feature_options import UNTIMED, AgentOptions
from ctiserver.tserver.port import CoreSettings

_TALKED = (PartyState.ESTABLISHED, PartyState.HELD)
_DISTRIBUTING = (DnKind.ACD_QUEUE, DnKind.ROUTING_POINT)


class Host(Protocol):
    """What the emulation needs of the core."""

    @property
    def settings(self) -> CoreSettings: ...

    @property
    def link_connected(self) -> bool: ...

    def change(self, changes: list[Change], at: Instant) -> None: ...

    def to_switch_alone(self, message: Request) -> None: ...

    def session_open(self, session: str) -> bool: ...


# The kinds of call event whose Extensions an agent feature adds to (call_extensions).
EXTENDED: frozenset[type[PartyChange]] = frozenset({PartyEstablished})


class AgentEmulation:
    def __init__(self, host: Host, model: Model) -> None:
        self._host = host
        self._model = model
        self._options: AgentOptions = host.settings.agents
        self._before: dict[type[Change], Callable[[Change, Instant], None]] = {
            PartyReleased: self._released,  # type: ignore[dict-item]
            AgentChanged: self._agent_changed,  # type: ignore[dict-item]
        }

    # --- following the model -------------------------------------------------------------

    def before(self, kind: type[Change]) -> list[Callable[[Any, Instant], None]]:
        """What to do when a change of *kind* is about to be told: act first on what it
        means for an agent."""
        acts: list[Callable[[Any, Instant], None]] = []
        if kind in self._before:
            acts.append(self._before[kind])
        if self._options.no_answer:  # without the option no timer is ever set
            if kind is PartyRang:
                acts.append(self._rang)
            if issubclass(kind, PartyChange):
                acts.append(self._answered)
        return acts

    def _answered(self, change: PartyChange, at: Instant) -> None:
        """A call that rang at an agent rings there no more: its no-answer timer stops."""
        if not self._model.no_answer:
            return
        party, conn_id = change.party, change.call.conn_id
        ringing = party.state is PartyState.RINGING and not change.LEAVES
        if not ringing and self._model.no_answer_due(party.dn, conn_id) is not None:
            self._host.change(self._model.time_no_answer(party.dn, conn_id, None), at)

    def _released(self, change: PartyReleased, at: Instant) -> None:
        party, dn = change.party, change.party.dn
        agent = self._model.agent(dn)
        if agent is None or agent.status is not AgentStatus.READY or party.state not in _TALKED:
            return
        if not self._business(change.call, party) or self._in_business_call(dn, change.call):
            return
        wrap_up = self._options.after_call_work(agent.wrap_up_time)
        if wrap_up:
            until = None if wrap_up == UNTIMED else at.wall + int(wrap_up)
            working = AgentWorkMode.AFTER_CALL_WORK
            moved = self._moved(agent, AgentStatus.AFTER_CALL_WORK, working, until, wrap_up)
            self._emulate(dn, moved, ReqAgentState.WORKING_AFTER_CALL, at)
        elif self._options.legal_guard_time > 0:
            self._legal_guard(dn, agent, ReqAgentState.NOT_READY, at)

    def _legal_guard(
        self, dn: DeviceId, agent: Agent, switch_state: ReqAgentState | None, at: Instant
    ) -> None:
        until = at.wall + self._options.legal_guard_time
        guard = self._moved(agent, AgentStatus.NOT_READY, AgentWorkMode.LEGAL_GUARD, until, "")
        self._emulate(dn, guard, switch_state, at)

    def _moved(
        self,
        agent: Agent,
        status: AgentStatus,
        mode: AgentWorkMode,
        until: float | None,
        wrap_up: str,
    ) -> Agent:
        return replace(
            agent,
            status=status,
            work_mode=mode,
            reasons={},
            reason_code="",
            until=until,
            after_call_work=wrap_up,
        )

    def _emulate(
        self, dn: DeviceId, agent: Agent, switch_state: ReqAgentState | None, at: Instant
    ) -> None:
        self._host.change(self._model.emulate_agent(dn, agent, AgentEvent.NOT_READY), at)
        if switch_state is not None:
            self._to_switch(dn, agent, switch_state)

    def _to_switch(self, dn: DeviceId, agent: Agent, state: ReqAgentState) -> None:
        namespace = self._host.settings.private_namespace
        self._host.to_switch_alone(set_agent_state(dn, state, agent.agent_id, "", namespace))

    def _business(self, call: Call, party: Party) -> bool:
        """Calls from an ACD queue or a routing point; inbound or outbound ones as the
        options say."""
        if self._model.kind(party.this_queue) in _DISTRIBUTING:
            return True
        if call.call_type is CallType.INBOUND:
            return self._options.inbound_bsns_calls
        return call.call_type is CallType.OUTBOUND and self._options.outbound_bsns_calls

    def _in_business_call(self, dn: DeviceId, leaving: Call) -> bool:
        for call in self._model.calls_at(dn):
            party = self._model.party(dn, call.conn_id)
            if call.conn_id == leaving.conn_id or party is None:
                continue
            if party.state in _TALKED and self._business(call, party):
                return True
        return False

    def _agent_changed(self, change: AgentChanged, at: Instant) -> None:
        """A requested AfterCallWork is timed too (timed-acw-in-idle)."""
        agent = change.agent
        if agent.status is not AgentStatus.AFTER_CALL_WORK or agent.until is not None:
            return
        wrap_up = self._options.after_call_work(agent.wrap_up_time)
        if self._options.timed_acw_in_idle and wrap_up and wrap_up != UNTIMED:
            until = at.wall + int(wrap_up)
            self._host.change(self._model.time_agent(change.dn, until, wrap_up), at)

    def call_extensions(self, change: PartyChange, call: Call) -> KVList:
        """Extensions WrapUpTime on EventEstablished of a business call at an agent: the
        after-call work it will have (not on EventRinging: it may change meanwhile)."""
        if type(change) is not PartyEstablished:
            return {}
        agent = self._model.agent(change.party.dn)
        if agent is None or not self._business(call, change.party):
            return {}
        wrap_up = self._options.after_call_work(agent.wrap_up_time)
        return {WRAP_UP_TIME: wrap_up_value(wrap_up)} if wrap_up else {}

    def _rang(self, change: PartyRang, at: Instant) -> None:
        dn = change.party.dn
        if self._model.agent(dn) is not None:  # (asked only with agent-no-answer)
            due = at.wall + self._options.agent_no_answer_timeout
            self._host.change(self._model.time_no_answer(dn, change.call.conn_id, due), at)

    # --- time ----------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """The earliest wall time something is due (timers wait while the link is down)."""
        if not self._host.link_connected:
            return None
        timers, no_answer = self._model.agent_timers, self._model.no_answer
        if not timers and not no_answer:
            return None
        return min((*timers.values(), *no_answer.values()))

    def tick(self, at: Instant) -> None:
        if not self._host.link_connected:
            return
        for dn, until in list(self._model.agent_timers.items()):
            agent = self._model.agent(dn)
            if agent is not None and until <= at.wall:
                self._ended(dn, agent, at)
        for (dn, conn_id), due in list(self._model.no_answer.items()):
            if due <= at.wall:
                self._no_answer(dn, conn_id, at)

    def _ended(self, dn: DeviceId, agent: Agent, at: Instant) -> None:
        """An emulated after-call work or legal guard is over."""
        guarding = agent.work_mode is AgentWorkMode.LEGAL_GUARD
        if not guarding and self._options.legal_guard_time > 0:
            self._legal_guard(dn, agent, None, at)  # the switch has it not ready already
            return
        self._host.change(self._model.time_agent(dn, None), at)
        self._to_switch(dn, agent, ReqAgentState.READY)

    def _no_answer(self, dn: DeviceId, conn_id: ConnId, at: Instant) -> None:
        self._host.change(self._model.time_no_answer(dn, conn_id, None), at)
        party, call = self._model.party(dn, conn_id), self._model.call(conn_id)
        if party is None or call is None or party.state is not PartyState.RINGING:
            return
        agent = self._model.agent(dn)
        action = self._options.agent_no_answer_action
        if agent is not None and action == "notready" and agent.status is AgentStatus.READY:
            self._to_switch(dn, agent, ReqAgentState.NOT_READY)
        elif agent is not None and action == "logout":
            self._to_switch(dn, agent, ReqAgentState.LOGGED_OFF)
        self._overflow(party, ConnectionID(call.call_id, dn))

    def _overflow(self, party: Party, ringing: ConnectionID) -> None:
        overflow = self._options.agent_no_answer_overflow
        if overflow == "release":
            self._host.to_switch_alone(ClearConnection(connection_to_be_cleared=ringing))
            return
        destination = party.this_queue if overflow == "recall" else DeviceId(overflow)
        if overflow != "none" and destination is not None:
            request = DeflectCall(call_to_be_diverted=ringing, new_destination=destination)
            self._host.to_switch_alone(request)

    # --- the agent's client ----------------------------------------------------------------

    def unregistered(self, session: str, dn: DeviceId, at: Instant) -> None:
        """A client of *session* unregistered *dn*."""
        agent = self._model.agent(dn)
        if agent is not None and session and agent.session == session:
            self._client_gone(dn, agent, at)

    def sessions_closed(self, at: Instant) -> None:
        """Some sessions ended: the agents they logged in lose their client."""
        for dn, agent in list(self._model.agents.items()):
            if agent.session and not self._host.session_open(agent.session):
                self._client_gone(dn, agent, at)

    def _client_gone(self, dn: DeviceId, agent: Agent, at: Instant) -> None:
        options = self._options
        if not (options.agent_logout_on_unreg or options.agent_notready_on_unreg):
            return
        if not self._host.link_connected:
            return  # tried again when the link is back (link_up)
        self._host.change(self._model.end_agent_session(dn), at)
        if options.agent_logout_on_unreg:
            self._to_switch(dn, agent, ReqAgentState.LOGGED_OFF)
        elif agent.status is AgentStatus.READY:
            self._to_switch(dn, agent, ReqAgentState.NOT_READY)

    def link_up(self, at: Instant) -> None:
        """What waited for the link: due timers, agents whose client has gone."""
        self.tick(at)
        self.sessions_closed(at)
