"""The model's tables: read by queries, changed only by applying change records.

State holds the values of model.values in a few tables indexed the ways the server asks
for them.  evolve() applies one change record; it is the only code that changes a
table, so that a replica applying the same records in the same order holds the same
state (`value()` compares two).  emit() is what the deciding code (the handlers) uses:
evolve, and keep the record for the caller.

Rules:
1. A call's parties are kept beside it, by ConnID; `calls_at` indexes the calls each of
   our DNs is in, in the order it joined them.
2. The switch's callID indexes a call until the call ends or the switch renames it.
3. Nothing here decides anything: a record is applied as it says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from ctiserver.ids import AgentId, CallId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.immutable import replace
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    AgentIntended,
    AgentReservation,
    AgentSessionEnded,
    AgentTimed,
    CallChange,
    CallForgotten,
    Change,
    ConnIdPromised,
    DnFeaturesChanged,
    DnsReconfigured,
    GuestAssociation,
    MonitoringChanged,
    NoAnswerTimed,
    PartyChange,
    PartyMoved,
    PredictiveCallMade,
    RecordingChanged,
    RecordingEvent,
    RouteDialogueEnded,
    RouteDialogueOpened,
    TreatmentChanged,
    TreatmentEvent,
)
from ctiserver.model.states import DnKind
from ctiserver.model.values import (
    Agent,
    AgentIntent,
    Call,
    DnFeatures,
    Monitoring,
    Party,
    Recording,
    Reservation,
    RouteDialogue,
    Treatment,
    TreatmentStatus,
)

log = logging.getLogger(__name__)

C = TypeVar("C")
NO_FEATURES: Final = DnFeatures()


class ChangeTable:
    """Which function applies which kind of record: a typed dispatch table whose
    entries are checked as they are added; a missing entry is an error."""

    def __init__(self) -> None:
        self._entries: dict[type[Any], Callable[[State, Any], None]] = {}

    def add(self, kind: type[C], apply: Callable[[State, C], None]) -> None:
        self._entries[kind] = apply

    def __call__(self, state: State, change: Change) -> None:
        self.step(type(change))(state, change)

    def step(self, kind: type[Any]) -> Callable[[State, Any], None]:
        """The function that applies records of *kind* (found once, then cached)."""
        apply = self._entries.get(kind)
        if apply is None:
            apply = self._entries[kind] = _STEPS[kind] = self._inherited(kind)
        return apply

    def _inherited(self, kind: type[Any]) -> Callable[[State, Any], None]:
        """The step of the nearest base class that has one (cached by the caller)."""
        for base in kind.__mro__[1:]:
            if base in self._entries:
                return self._entries[base]
        raise TypeError(f"no evolve step for {kind.__name__}")


class State:
    def __init__(
        self,
        *,
        dns: Mapping[DeviceId, DnKind],
        conn_ids: ConnIdAllocator,
        consult_user_data: str = "separate",
    ) -> None:
        self.conn_ids = conn_ids  # not state: each member allocates its own (ids.py)
        self.consult_user_data = consult_user_data
        self._dns: dict[DeviceId, DnKind] = dict(dns)
        self._calls: dict[ConnId, Call] = {}
        self._parties: dict[ConnId, dict[DeviceId, Party]] = {}
        self._by_call_id: dict[CallId, ConnId] = {}
        self._calls_at: dict[DeviceId, dict[ConnId, None]] = {dn: {} for dn in dns}
        self._agents: dict[DeviceId, Agent] = {}
        self._agent_timers: dict[DeviceId, float] = {}  # Agent.until of those that have one
        self._intents: dict[DeviceId, AgentIntent] = {}
        self._hosts: dict[DeviceId, DeviceId] = {}
        self._recordings: dict[str, Recording] = {}
        self._routes: dict[str, RouteDialogue] = {}
        self._promises: dict[DeviceId, ConnId] = {}
        self._predictive: dict[ConnId, DeviceId] = {}  # PredictiveCallMade: -> the called
        self._no_answer: dict[tuple[DeviceId, ConnId], float] = {}  # -> wall time due
        self._reservations: dict[str, Reservation] = {}  # by Reservation.key
        self._monitorings: dict[DeviceId, Monitoring] = {}  # by supervisor
        self._monitoring_of: dict[DeviceId, Monitoring] | None = {}  # by agent; None: to make
        self._treatments: dict[ConnId, Treatment] = {}  # by the call treated
        self._treatment_timers: dict[ConnId, float] = {}  # Treatment.due of applied ones
        self._features: dict[DeviceId, DnFeatures] = {}  # DNs with a feature set
        self._records: list[Change] = []
        self._created: list[ConnId] = []  # calls created since take_created()

    # --- records ------------------------------------------------------------------------

    def emit(self, change: Change) -> None:
        """Apply *change* and keep it for take()."""
        step = _STEPS.get(type(change)) or EVOLVE.step(type(change))
        step(self, change)
        self._records.append(change)

    def evolve(self, change: Change) -> None:
        """Apply *change* (a record from this model or another)."""
        EVOLVE(self, change)

    def created(self, conn_id: ConnId) -> None:
        """Note a call the deciding code created (see take_created)."""
        self._created.append(conn_id)

    def take_created(self) -> list[ConnId]:
        """The calls created since the last take_created()."""
        created, self._created = self._created, []
        return created

    def take(self) -> list[Change]:
        """The records emitted since the last take()."""
        records, self._records = self._records, []
        return records

    # --- queries: DNs -------------------------------------------------------------------

    @property
    def dns(self) -> Mapping[DeviceId, DnKind]:
        return self._dns

    def is_ours(self, dn: DeviceId | None) -> bool:
        return dn is not None and dn in self._dns

    def kind(self, dn: DeviceId | None) -> DnKind | None:
        return None if dn is None else self._dns.get(dn)

    # --- queries: calls -----------------------------------------------------------------

    def call(self, conn_id: ConnId) -> Call | None:
        return self._calls.get(conn_id)

    def call_by_call_id(self, call_id: CallId) -> Call | None:
        conn_id = self._by_call_id.get(call_id)
        return None if conn_id is None else self._calls[conn_id]

    @property
    def calls(self) -> list[Call]:
        return list(self._calls.values())

    def calls_at(self, dn: DeviceId) -> list[Call]:
        return [self._calls[conn_id] for conn_id in self._calls_at.get(dn, ())]

    def parties(self, conn_id: ConnId) -> Mapping[DeviceId, Party]:
        """The parties of call *conn_id*, in the order they joined."""
        return self._parties.get(conn_id, {})

    def party(self, dn: DeviceId, conn_id: ConnId) -> Party | None:
        return self._parties.get(conn_id, {}).get(dn)

    def present(self, conn_id: ConnId) -> list[Party]:
        return [p for p in self._parties.get(conn_id, {}).values() if p.present]

    def others(self, conn_id: ConnId, dn: DeviceId) -> list[Party]:
        """The parties still present other than *dn*, in the order they joined."""
        return [p for p in self._parties.get(conn_id, {}).values() if p.present and p.dn != dn]

    def has_others(self, conn_id: ConnId, dn: DeviceId) -> bool:
        """Whether a party other than *dn* is still present."""
        return any(p.present and p.dn != dn for p in self._parties.get(conn_id, {}).values())

    def has_ours(self, conn_id: ConnId) -> bool:
        return any(dn in self._dns for dn in self._parties.get(conn_id, ()))

    def sharing(self, call: Call) -> list[Call]:
        """*call* and the calls that share its user data (consult-user-data = joint)."""
        shared = [self._calls[c] for c in call.shares_data_with if c in self._calls]
        return [call, *shared]

    # --- queries: agents, private features, routeing -------------------------------------

    def agent(self, dn: DeviceId) -> Agent | None:
        return self._agents.get(dn)

    @property
    def agents(self) -> Mapping[DeviceId, Agent]:
        return self._agents

    @property
    def agent_timers(self) -> Mapping[DeviceId, float]:
        """When each agent with a timed state (emulated after-call work, legal guard)
        leaves it: Agent.until, kept apart so that finding the next one does not visit
        every agent after every event."""
        return self._agent_timers

    def agent_id_at(self, dn: DeviceId) -> AgentId | None:
        agent = self._agents.get(dn)
        return None if agent is None else agent.agent_id

    def intent(self, dn: DeviceId) -> AgentIntent | None:
        return self._intents.get(dn)

    def no_answer_due(self, dn: DeviceId, conn_id: ConnId) -> float | None:
        """When the call *conn_id* ringing at *dn* is due an answer (agent-no-answer-*)."""
        return self._no_answer.get((dn, conn_id))

    @property
    def no_answer(self) -> Mapping[tuple[DeviceId, ConnId], float]:
        return self._no_answer

    @property
    def monitorings(self) -> Mapping[DeviceId, Monitoring]:
        """The supervisors' subscriptions to agents' calls, by supervisor."""
        return self._monitorings

    def monitoring_of(self, agent: DeviceId) -> Monitoring | None:
        """The subscription to *agent*'s calls, if a supervisor has one."""
        by_agent = self._monitoring_of
        if by_agent is None:  # made again after a change, not on every call event
            by_agent = self._monitoring_of = {}
            for monitoring in self._monitorings.values():
                by_agent.setdefault(monitoring.agent, monitoring)
        return by_agent.get(agent)

    @property
    def reservations(self) -> Mapping[str, Reservation]:
        """The agents reserved (RequestReserveAgent), by Reservation.key."""
        return self._reservations

    def host_of(self, guest: DeviceId) -> DeviceId | None:
        return self._hosts.get(guest)

    def guests_of(self, host: DeviceId) -> list[DeviceId]:
        return [guest for guest, its_host in self._hosts.items() if its_host == host]

    def recording(self, key: str) -> Recording | None:
        return self._recordings.get(key)

    def recording_of(self, dn: DeviceId, conn_id: ConnId) -> Recording | None:
        for recording in self._recordings.values():
            if recording.dn == dn and recording.conn_id == conn_id:
                return recording
        return None

    def promised(self, dn: DeviceId | None) -> ConnId | None:
        """The ConnID promised to the next call *dn* makes, if any."""
        return None if dn is None else self._promises.get(dn)

    def predictive_to(self, conn_id: ConnId) -> DeviceId | None:
        """The number a MakePredictiveCall dialled, if it made the call (else None)."""
        return self._predictive.get(conn_id)

    def dialogue(self, cross_ref_id: str) -> RouteDialogue | None:
        return self._routes.get(cross_ref_id)

    def dialogue_for(self, point: DeviceId, conn_id: ConnId) -> RouteDialogue | None:
        """The open routeing dialogue for a call at a routing point."""
        for dialogue in self._routes.values():
            if dialogue.routing_point == point and dialogue.conn_id == conn_id:
                return dialogue
        return None

    def treatment(self, conn_id: ConnId) -> Treatment | None:
        """The treatment of call *conn_id* at a routing point, if it has one."""
        return self._treatments.get(conn_id)

    @property
    def treatments(self) -> list[Treatment]:
        return list(self._treatments.values())

    @property
    def treatment_timers(self) -> Mapping[ConnId, float]:
        """When each applied treatment with a DURATION is over, kept apart so that
        finding the next one does not visit every treatment after every event."""
        return self._treatment_timers

    def features(self, dn: DeviceId) -> DnFeatures:
        """What the switch reported of *dn*'s features (none set, if nothing)."""
        return self._features.get(dn) or NO_FEATURES

    @property
    def dns_with_features(self) -> Mapping[DeviceId, DnFeatures]:
        return self._features

    def value(self) -> dict[str, Any]:
        """Everything this state holds, as plain comparable values (for replicas)."""
        return {
            "dns": dict(self._dns),
            "calls": dict(self._calls),
            "parties": {c: dict(p) for c, p in self._parties.items()},
            "by_call_id": dict(self._by_call_id),
            "calls_at": {dn: list(calls) for dn, calls in self._calls_at.items()},
            "agents": dict(self._agents),
            "intents": dict(self._intents),
            "hosts": dict(self._hosts),
            "recordings": dict(self._recordings),
            "routes": dict(self._routes),
            "promises": dict(self._promises),
            "predictive": dict(self._predictive),
            "no_answer": dict(self._no_answer),
            "reservations": dict(self._reservations),
            "monitorings": dict(self._monitorings),
            "treatments": dict(self._treatments),
            "features": dict(self._features),
        }

    # --- evolve steps (one per kind of record) ------------------------------------------

    def _promise(self, change: ConnIdPromised) -> None:
        if change.conn_id is None:
            self._promises.pop(change.dn, None)
        else:
            self._promises[change.dn] = change.conn_id

    def _predictive_made(self, change: PredictiveCallMade) -> None:
        if change.conn_id in self._calls:
            self._predictive[change.conn_id] = change.called

    def _put_call(self, change: CallChange) -> None:
        call = change.call
        if call.calling is not None and self._promises.get(call.calling) == call.conn_id:
            del self._promises[call.calling]  # the promise is kept
        old = self._calls.get(call.conn_id)
        stale = old.call_id if old is not None and old.call_id != call.call_id else None
        if stale is not None and self._by_call_id.get(stale) == call.conn_id:
            del self._by_call_id[stale]
        self._calls[call.conn_id] = call
        self._parties.setdefault(call.conn_id, {})
        if call.call_id:
            self._by_call_id[call.call_id] = call.conn_id

    def _forget(self, change: CallForgotten) -> None:
        conn_id = change.conn_id
        call = self._calls.pop(conn_id, None)
        if call is None:
            return
        if self._predictive:
            self._predictive.pop(conn_id, None)
        if self._by_call_id.get(call.call_id) == conn_id:
            del self._by_call_id[call.call_id]
        for dn in self._parties.pop(conn_id, {}):
            self._calls_at.get(dn, {}).pop(conn_id, None)
        for other in call.shares_data_with:
            shared = self._calls.get(other)
            if shared is not None:
                self._calls[other] = _unshared(shared, conn_id)
        for cross_ref in [r for r, d in self._routes.items() if d.conn_id == conn_id]:
            del self._routes[cross_ref]
        for timed in [k for k in self._no_answer if k[1] == conn_id]:
            del self._no_answer[timed]
        self._put_treatment(conn_id, None)

    def _put_party(self, change: PartyChange) -> None:
        conn_id, party = change.call.conn_id, change.party
        if isinstance(change, PartyMoved):
            self._remove_party(change.source, party.dn)
        if change.LEAVES:
            self._remove_party(conn_id, party.dn)
            return
        self._parties.setdefault(conn_id, {})[party.dn] = party
        if party.dn in self._calls_at:
            self._calls_at[party.dn][conn_id] = None

    def _remove_party(self, conn_id: ConnId, dn: DeviceId) -> None:
        self._parties.get(conn_id, {}).pop(dn, None)
        self._calls_at.get(dn, {}).pop(conn_id, None)

    def _open_dialogue(self, change: RouteDialogueOpened) -> None:
        self._routes[change.dialogue.cross_ref_id] = change.dialogue

    def _end_dialogue(self, change: RouteDialogueEnded) -> None:
        self._routes.pop(change.cross_ref_id, None)

    def _set_agent(self, change: AgentChanged) -> None:
        self._put_agent(change.dn, None if change.what is AgentEvent.LOGGED_OUT else change.agent)

    def _set_intent(self, change: AgentIntended) -> None:
        if change.intent is None:
            self._intents.pop(change.dn, None)
        else:
            self._intents[change.dn] = change.intent

    def _time_agent(self, change: AgentTimed) -> None:
        agent = self._agents.get(change.dn)
        if agent is not None:
            timed = replace(agent, until=change.until, after_call_work=change.after_call_work)
            self._put_agent(change.dn, timed)

    def _end_session(self, change: AgentSessionEnded) -> None:
        agent = self._agents.get(change.dn)
        if agent is not None:
            self._put_agent(change.dn, replace(agent, session=""))

    def _put_agent(self, dn: DeviceId, agent: Agent | None) -> None:
        if agent is None:
            self._agents.pop(dn, None)
        else:
            self._agents[dn] = agent
        if agent is None or agent.until is None:
            self._agent_timers.pop(dn, None)
        else:
            self._agent_timers[dn] = agent.until

    def _time_no_answer(self, change: NoAnswerTimed) -> None:
        if change.due is None:
            self._no_answer.pop((change.dn, change.conn_id), None)
        else:
            self._no_answer[change.dn, change.conn_id] = change.due

    def _reserve(self, change: AgentReservation) -> None:
        reservation = change.reservation
        if change.reserved:
            self._reservations[reservation.key] = reservation
        else:
            self._reservations.pop(reservation.key, None)

    def _monitor(self, change: MonitoringChanged) -> None:
        monitoring = change.monitoring
        self._monitoring_of = None
        if change.active:
            self._monitorings[monitoring.supervisor] = monitoring
        else:
            self._monitorings.pop(monitoring.supervisor, None)

    def _associate(self, change: GuestAssociation) -> None:
        if change.associated:
            self._hosts[change.guest] = change.host
        else:
            self._hosts.pop(change.guest, None)

    def _record(self, change: RecordingChanged) -> None:
        recording = change.recording
        if change.what is RecordingEvent.STOPPED:
            self._recordings.pop(recording.key, None)
        else:
            self._recordings[recording.key] = recording

    def _treat(self, change: TreatmentChanged) -> None:
        treatment = change.treatment
        if change.what in (TreatmentEvent.ENDED, TreatmentEvent.DROPPED):
            if self._treatments.get(treatment.conn_id) == treatment:
                self._put_treatment(treatment.conn_id, None)
        else:
            self._put_treatment(treatment.conn_id, treatment)

    def _put_treatment(self, conn_id: ConnId, treatment: Treatment | None) -> None:
        if treatment is None:
            self._treatments.pop(conn_id, None)
        else:
            self._treatments[conn_id] = treatment
        applied = treatment is not None and treatment.status is TreatmentStatus.APPLIED
        due = treatment.due if applied and treatment is not None else None
        if due is None:
            self._treatment_timers.pop(conn_id, None)
        else:
            self._treatment_timers[conn_id] = due

    def _set_features(self, change: DnFeaturesChanged) -> None:
        if change.features == NO_FEATURES:
            self._features.pop(change.dn, None)
        else:
            self._features[change.dn] = change.features

    def _reconfigure(self, change: DnsReconfigured) -> None:
        for dn in set(self._dns) - set(change.dns):
            self._calls_at.pop(dn, None)
            self._put_agent(dn, None)
            self._intents.pop(dn, None)
            for gone in [s for s, m in self._monitorings.items() if dn in (s, m.agent)]:
                del self._monitorings[gone]
                self._monitoring_of = None
            self._features.pop(dn, None)
        for dn in change.dns:
            self._calls_at.setdefault(dn, {})
        self._dns = dict(change.dns)


def _unshared(call: Call, gone: ConnId) -> Call:
    return replace(call, shares_data_with=call.shares_data_with - {gone})


_STEPS: dict[type[Any], Callable[[State, Any], None]] = {}  # every kind met so far
EVOLVE = ChangeTable()
EVOLVE.add(CallChange, State._put_call)
EVOLVE.add(ConnIdPromised, State._promise)
EVOLVE.add(PredictiveCallMade, State._predictive_made)
EVOLVE.add(CallForgotten, State._forget)
EVOLVE.add(PartyChange, State._put_party)
EVOLVE.add(RouteDialogueOpened, State._open_dialogue)
EVOLVE.add(RouteDialogueEnded, State._end_dialogue)
EVOLVE.add(AgentChanged, State._set_agent)
EVOLVE.add(AgentIntended, State._set_intent)
EVOLVE.add(AgentTimed, State._time_agent)
EVOLVE.add(AgentSessionEnded, State._end_session)
EVOLVE.add(NoAnswerTimed, State._time_no_answer)
EVOLVE.add(AgentReservation, State._reserve)
EVOLVE.add(MonitoringChanged, State._monitor)
EVOLVE.add(GuestAssociation, State._associate)
EVOLVE.add(RecordingChanged, State._record)
EVOLVE.add(DnsReconfigured, State._reconfigure)
EVOLVE.add(TreatmentChanged, State._treat)
EVOLVE.add(DnFeaturesChanged, State._set_features)
