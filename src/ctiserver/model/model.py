"""The server's model of the switch: DNs, calls, parties and agents, driven by CSTA.

The model is pure: `apply(dn, event)` takes one CSTA event as reported on the monitor of
our DN `dn`, `apply_invocation(message)` one routeing invocation, and each returns what
changed as change records (model.changes): values, in the order they happened.  The
requests of the T-Server core change it through the commands below, which return records
too.  It never sends anything and never reads a clock.

The handlers (model.connections, model.transfers, model.queues, model.agents,
model.private) decide; model.state applies.  `replay(records)` applies records a model
emitted elsewhere: a replica fed every record of a primary holds the same state.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from ctiserver.csta.agents import (
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentWorkingAfterCallEvent,
)
from ctiserver.csta.audio import MicrophoneMuteEvent, SpeakerMuteEvent
from ctiserver.csta.call_associated import DigitsGeneratedEvent
from ctiserver.csta.call_information import CallInformationEvent
from ctiserver.csta.escape import PrivateEvent
from ctiserver.csta.events import (
    CallClearedEvent,
    ConferencedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    DivertedEvent,
    EstablishedEvent,
    FailedEvent,
    HeldEvent,
    NetworkReachedEvent,
    OriginatedEvent,
    QueuedEvent,
    RetrievedEvent,
    ServiceInitiatedEvent,
    TransferedEvent,
)
from ctiserver.csta.logical_device import (
    BackInServiceEvent,
    DoNotDisturbEvent,
    ForwardingEvent,
    MessageWaitingEvent,
    OutOfServiceEvent,
)
from ctiserver.csta.schema import Event, Unconfirmed
from ctiserver.csta.voice import PlayEvent, RecordEvent, StopEvent, SuspendRecordEvent
from ctiserver.ids import CallId, ConnId, ConnIdAllocator, DeviceId
from ctiserver.immutable import replace
from ctiserver.model import (
    agents,
    connections,
    features,
    private,
    queues,
    resync,
    supervision,
    tones,
    transfers,
)
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    AgentIntended,
    AgentReservation,
    AgentSessionEnded,
    CallCreated,
    CallForgotten,
    Change,
    ConnIdPromised,
    DnFeature,
    DnFeaturesChanged,
    DnsReconfigured,
    GuestAssociation,
    MonitoringChanged,
    NoAnswerTimed,
    PartyNoted,
    RecordingChanged,
    RecordingEvent,
    RouteDialogueEnded,
    RouteDialogueOpened,
    RouteUsed,
    TreatmentChanged,
    TreatmentEvent,
)
from ctiserver.model.moves import commit, forget_if_unused, remove
from ctiserver.model.resync import SnapshotAgent, SnapshotParty
from ctiserver.model.state import State
from ctiserver.model.states import DnKind
from ctiserver.model.values import (
    Agent,
    AgentIntent,
    Call,
    ConsultPurpose,
    DnFeatures,
    Monitoring,
    Observation,
    Origin,
    Reservation,
    Treatment,
)
from ctiserver.tlib.vocabulary import KVList

log = logging.getLogger(__name__)

PRIVATE_NAMESPACE = "urn:ctiserver:csta:private"
E = TypeVar("E", bound=Event)


class EventTable:
    """Which handler takes which CSTA event: typed as entries are added."""

    def __init__(self) -> None:
        self._entries: dict[type[Event], Callable[[State, DeviceId, Any], None]] = {}

    def add(self, kind: type[E], handler: Callable[[State, DeviceId, E], None]) -> None:
        self._entries[kind] = handler

    def get(self, kind: type[Event]) -> Callable[[State, DeviceId, Any], None] | None:
        return self._entries.get(kind)


HANDLERS = EventTable()
HANDLERS.add(ServiceInitiatedEvent, connections.on_service_initiated)
HANDLERS.add(OriginatedEvent, connections.on_originated)
HANDLERS.add(NetworkReachedEvent, connections.on_network_reached)
HANDLERS.add(DeliveredEvent, connections.on_delivered)
HANDLERS.add(EstablishedEvent, connections.on_established)
HANDLERS.add(HeldEvent, connections.on_held)
HANDLERS.add(RetrievedEvent, connections.on_retrieved)
HANDLERS.add(ConnectionClearedEvent, connections.on_connection_cleared)
HANDLERS.add(CallClearedEvent, connections.on_call_cleared)
HANDLERS.add(FailedEvent, connections.on_failed)
HANDLERS.add(TransferedEvent, transfers.on_transfered)
HANDLERS.add(ConferencedEvent, transfers.on_conferenced)
HANDLERS.add(QueuedEvent, queues.on_queued)
HANDLERS.add(DivertedEvent, queues.on_diverted)
HANDLERS.add(AgentLoggedOnEvent, agents.on_logged_on)
HANDLERS.add(AgentLoggedOffEvent, agents.on_logged_off)
HANDLERS.add(AgentReadyEvent, agents.on_ready)
HANDLERS.add(AgentNotReadyEvent, agents.on_not_ready)
HANDLERS.add(AgentWorkingAfterCallEvent, agents.on_after_call_work)
HANDLERS.add(PrivateEvent, private.on_private_event)
HANDLERS.add(RecordEvent, private.on_record)
HANDLERS.add(SuspendRecordEvent, private.on_suspend)
HANDLERS.add(StopEvent, tones.on_stop)  # a treatment's at a routing point, else a recording's
HANDLERS.add(CallInformationEvent, private.on_call_information)
# supervision (model.supervision): mute, listening, and observers' participation
HANDLERS.add(PrivateEvent, supervision.on_private_event)
HANDLERS.add(MicrophoneMuteEvent, supervision.on_microphone_mute)
HANDLERS.add(SpeakerMuteEvent, supervision.on_speaker_mute)
HANDLERS.add(DigitsGeneratedEvent, tones.on_digits_generated)
HANDLERS.add(PlayEvent, tones.on_play)
HANDLERS.add(DoNotDisturbEvent, features.on_do_not_disturb)
HANDLERS.add(ForwardingEvent, features.on_forwarding)
HANDLERS.add(MessageWaitingEvent, features.on_message_waiting)
HANDLERS.add(OutOfServiceEvent, features.on_out_of_service)
HANDLERS.add(BackInServiceEvent, features.on_back_in_service)


class Model(State):
    def __init__(
        self,
        *,
        dns: Mapping[DeviceId, DnKind],
        conn_ids: ConnIdAllocator,
        consult_user_data: str = "separate",
        private_namespace: str = PRIVATE_NAMESPACE,
    ) -> None:
        super().__init__(dns=dns, conn_ids=conn_ids, consult_user_data=consult_user_data)
        self.private_namespace = private_namespace

    # --- switch events ------------------------------------------------------------------

    def apply(self, dn: DeviceId, event: Event) -> list[Change]:
        """Apply *event* as reported on the monitor of our DN *dn*."""
        handler = HANDLERS.get(type(event))
        if handler is None:
            log.info("%s on %s: not used by the call model", type(event).__name__, dn)
            return []
        data = getattr(event, "private_data", None)
        if data is not None:
            if data.namespace != self.private_namespace:
                event = self._unread(event)
            else:
                private.learn_host(self, dn, data)
        handler(self, dn, event)
        return self._settled()

    def apply_invocation(self, message: Unconfirmed) -> list[Change]:
        """Apply a routeing invocation from the switch (RouteRequest, RouteUsed, …)."""
        data = getattr(message, "private_data", None)
        if data is not None and data.namespace != self.private_namespace:
            message = self._unread(message)
        queues.apply_invocation(self, message)
        return self._settled()

    def resync(
        self,
        snapshot: Mapping[CallId, Iterable[SnapshotParty]],
        scope: Collection[DeviceId] | None = None,
    ) -> list[Change]:
        """Bring the model to the switch's snapshot; see model.resync."""
        resync.resync(self, snapshot, scope)
        return self._settled()

    def resync_agents(self, agents: Mapping[DeviceId, SnapshotAgent | None]) -> list[Change]:
        resync.resync_agents(self, agents)
        return self.take()

    def _settled(self) -> list[Change]:
        """The records of one input, after forgetting the calls it created that none of
        our DNs is in (model.moves, rule 3: such a call is never kept)."""
        if self._created:
            for conn_id in self.take_created():
                forget_if_unused(self, conn_id)
        return self.take()

    def _unread(self, message: Any) -> Any:
        """*message* without its private data, which is in another namespace than ours."""
        log.debug("private data in namespace %r ignored", message.private_data.namespace)
        return dataclasses.replace(message, private_data=None)

    # --- commands from requests ---------------------------------------------------------

    def reconfigure(self, dns: Mapping[DeviceId, DnKind]) -> list[Change]:
        """Take a new DN table; removed DNs leave their calls without a trace."""
        for dn in set(self.dns) - set(dns):
            for call in self.calls_at(dn):
                party = self.party(dn, call.conn_id)
                if party is not None:
                    remove(self, call, party)
        self.emit(DnsReconfigured(dns=dict(dns)))
        for call in self.calls:
            forget_if_unused(self, call.conn_id)
        return self.take()

    def attach(self, conn_id: ConnId, data: KVList, *, replace_all: bool = False) -> list[Change]:
        """Add *data* to the call's UserData (or make it the whole UserData), and to the
        calls that share it (consult-user-data = joint)."""
        call = self._known(conn_id)
        user_data = dict(data) if replace_all else {**call.user_data, **data}
        return self._set_user_data(call, user_data)

    def delete_pair(self, conn_id: ConnId, key: str) -> list[Change]:
        call = self._known(conn_id)
        if key not in call.user_data:
            return []
        return self._set_user_data(call, {k: v for k, v in call.user_data.items() if k != key})

    def _set_user_data(self, call: Call, user_data: KVList) -> list[Change]:
        for each in self.sharing(call):
            if each.user_data != user_data:
                commit(self, each, replace(each, user_data=user_data))
        return self.take()

    def expect_deletion(self, conn_id: ConnId, dropped: DeviceId, by: DeviceId) -> list[Change]:
        """A client asked *by* to drop *dropped* from a conference: say so when it goes."""
        call = self._known(conn_id)
        deleted_by = {**call.deleted_by, dropped: by}
        commit(self, call, replace(call, deleted_by=deleted_by))
        return self.take()

    def intend(self, dn: DeviceId, intent: AgentIntent) -> list[Change]:
        agents.intend(self, dn, intent)
        return self.take()

    def emulate_agent(self, dn: DeviceId, agent: Agent, what: AgentEvent) -> list[Change]:
        """The T-Server sets the agent's state itself (an emulated feature)."""
        agents.emulate(self, dn, agent, what)
        return self.take()

    def time_agent(
        self, dn: DeviceId, until: float | None, after_call_work: str = ""
    ) -> list[Change]:
        """Set the emulated features' timer of the agent on *dn* (None: stop it)."""
        agents.time(self, dn, until, after_call_work)
        return self.take()

    def end_agent_session(self, dn: DeviceId) -> list[Change]:
        """The agent on *dn* no longer belongs to its client's session."""
        agent = self.agent(dn)
        if agent is not None and agent.session:
            self.emit(AgentSessionEnded(dn=dn))
        return self.take()

    def monitor(self, monitoring: Monitoring, *, active: bool = True) -> list[Change]:
        """A supervisor's subscription to an agent's calls starts (or ends)."""
        supervision.monitor(self, monitoring, active=active)
        return self.take()

    def observe(
        self, conn_id: ConnId, supervisor: DeviceId, observation: Observation | None
    ) -> list[Change]:
        """*supervisor* joins the call as an observer (None: no longer)."""
        supervision.observe(self, conn_id, supervisor, observation)
        return self.take()

    def reserve(self, reservation: Reservation, *, reserved: bool = True) -> list[Change]:
        """Reserve an agent for a client (or, not *reserved*, end the reservation)."""
        known = self.reservations.get(reservation.key)
        if reserved or known is not None:
            self.emit(AgentReservation(reservation=known or reservation, reserved=reserved))
        return self.take()

    def time_no_answer(self, dn: DeviceId, conn_id: ConnId, due: float | None) -> list[Change]:
        """The call *conn_id* ringing at *dn* is due an answer by *due* (None: no more)."""
        if self.no_answer_due(dn, conn_id) != due:
            self.emit(NoAnswerTimed(dn=dn, conn_id=conn_id, due=due))
        return self.take()

    def consults_for(self, conn_id: ConnId, purpose: ConsultPurpose) -> list[Change]:
        """The consultation call *conn_id* was made to transfer or to conference."""
        call = self._known(conn_id)
        if call.purpose is not purpose:
            commit(self, call, replace(call, purpose=purpose))
        return self.take()

    def came_from(self, conn_id: ConnId, origin: Origin, user_data: KVList) -> list[Change]:
        """An ISCC transaction brought the call from *origin* with *user_data*."""
        call = self._known(conn_id)
        new = replace(call, origin=origin, user_data={**call.user_data, **user_data})
        commit(self, call, new)
        return self.take()

    def promise(self, dn: DeviceId, conn_id: ConnId | None) -> list[Change]:
        """The next call *dn* makes takes *conn_id* (None: withdraw the promise)."""
        if self.promised(dn) != conn_id:
            self.emit(ConnIdPromised(dn=dn, conn_id=conn_id))
        return self.take()

    def reject_route(self, cross_ref_id: str) -> list[Change]:
        """The router rejected the call waiting in dialogue *cross_ref_id*: the dialogue
        ends, and the routing point's registrants hear EventRouteUsed."""
        dialogue = self.dialogue(cross_ref_id)
        if dialogue is None:
            return []
        self.emit(RouteDialogueEnded(cross_ref_id=cross_ref_id))
        call = self.call(dialogue.conn_id)
        party = self.party(dialogue.routing_point, dialogue.conn_id)
        if call is not None and party is not None:
            self.emit(RouteUsed(call=call, party=party))
        return self.take()

    def route_dnis(self, cross_ref_id: str, dnis: DeviceId | None) -> list[Change]:
        """The router asked the call in dialogue *cross_ref_id* to take DNIS *dnis* when
        the switch routes it (RouteType OverwriteDNIS; None: keep its DNIS)."""
        dialogue = self.dialogue(cross_ref_id)
        if dialogue is not None and dialogue.dnis != dnis:
            self.emit(RouteDialogueOpened(dialogue=replace(dialogue, dnis=dnis)))
        return self.take()

    def resync_features(self, snapshot: Mapping[DeviceId, DnFeatures]) -> list[Change]:
        """Bring the DNs' features to what the switch says they are (model.features)."""
        features.resynced(self, snapshot)
        return self.take()

    def treat(self, treatment: Treatment) -> list[Change]:
        """A client asked the switch for *treatment* (model.tones)."""
        tones.requested(self, treatment)
        return self.take()

    def drop_treatment(self, conn_id: ConnId) -> list[Change]:
        """The switch refused the call's treatment."""
        tones.dropped(self, conn_id)
        return self.take()

    def treatment_due(self, conn_id: ConnId) -> list[Change]:
        """The DURATION of the call's treatment is over."""
        tones.duration_over(self, conn_id)
        return self.take()

    def relinked(self, conn_id: ConnId, origin: Origin) -> list[Change]:
        """The call's instance at its origin site is another call there now (ISCC)."""
        call = self._known(conn_id)
        if call.origin != origin:
            commit(self, call, replace(call, origin=origin))
        return self.take()

    def cleared_by(self, conn_id: ConnId, dn: DeviceId) -> list[Change]:
        """*dn* had the switch clear the call whole: it released it (ReleasingParty)."""
        call = self.call(conn_id)
        if call is not None and call.cleared_by != dn:
            commit(self, call, replace(call, cleared_by=dn))
        return self.take()

    def forget(self, conn_id: ConnId) -> list[Change]:
        """Drop a call the switch no longer has (stuck-call clean-up): its parties leave
        without events."""
        call = self._known(conn_id)
        for party in list(self.parties(conn_id).values()):
            remove(self, call, party)
        if self.call(conn_id) is not None:
            self.emit(CallForgotten(conn_id=conn_id))
        return self.take()

    def _known(self, conn_id: ConnId) -> Call:
        call = self.call(conn_id)
        if call is None:
            raise KeyError(f"no call {conn_id}")
        return call

    # --- replicas -----------------------------------------------------------------------

    def replay(self, records: Iterable[Change]) -> None:
        """Apply records another model emitted, in their order."""
        for record in records:
            self.evolve(record)

    def restart(self, records: Iterable[Change]) -> None:
        """Forget every call, agent and dialogue, and take *records* instead (a replica
        that starts again from another model's as_records())."""
        State.__init__(
            self, dns=self.dns, conn_ids=self.conn_ids, consult_user_data=self.consult_user_data
        )
        self.replay(records)

    def as_records(self) -> list[Change]:
        """Records that rebuild this model's state in an empty model (a replica's start)."""
        return [DnsReconfigured(dns=dict(self.dns)), *self._call_records(), *self._dn_records()]

    def _call_records(self) -> list[Change]:
        """The calls, their parties, routing dialogues, recordings and treatments."""
        records: list[Change] = []
        for call in self.calls:
            records.append(CallCreated(call=call))
            for party in self.parties(call.conn_id).values():
                records.append(PartyNoted(call=call, party=party))
        for dialogue in self._routes.values():
            records.append(RouteDialogueOpened(dialogue=dialogue))
        for recording in self._recordings.values():
            records.append(RecordingChanged(recording=recording, what=RecordingEvent.STARTED))
        for dn, conn_id in self._promises.items():
            records.append(ConnIdPromised(dn=dn, conn_id=conn_id))
        for treatment in self._treatments.values():
            records.append(TreatmentChanged(treatment=treatment, what=TreatmentEvent.REQUESTED))
        return records

    def _dn_records(self) -> list[Change]:
        """The agents and what the T-Server keeps of them, guests, the DNs' features."""
        records: list[Change] = []
        for dn, agent in self.agents.items():
            records.append(AgentChanged(dn=dn, agent=agent, what=AgentEvent.LOGGED_IN))
        for dn, intent in self._intents.items():
            records.append(AgentIntended(dn=dn, intent=intent))
        for guest, host in self._hosts.items():
            records.append(GuestAssociation(guest=guest, host=host, associated=True, learnt=True))
        for (dn, conn_id), due in self._no_answer.items():
            records.append(NoAnswerTimed(dn=dn, conn_id=conn_id, due=due))
        for reservation in self._reservations.values():
            records.append(AgentReservation(reservation=reservation, reserved=True))
        for monitoring in self._monitorings.values():
            records.append(MonitoringChanged(monitoring=monitoring, active=True))
        for dn, settings in self._features.items():
            records.append(DnFeaturesChanged(dn=dn, features=settings, what=DnFeature.DND))
        return records
