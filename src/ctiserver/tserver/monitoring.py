"""Call supervision as the T-Server does it (docs/supervision.md): supervisors'
subscriptions to agents' calls, and the supervisor joining each call it monitors.

- A subscription (RequestMonitorNextCall) is told to the supervisor's and the agent's
  registrants (EventMonitoringNextCall), and so is its end (EventMonitoringCancelled):
  by request, by a new subscription of the same supervisor, after its one call
  (OneCall), or when either DN's agent logs out.
- When the monitored agent is talking in a call (it answered, or its call was answered;
  at once for a call it is in when the subscription starts, unless intrusion-enabled is
  off), the supervisor is added to the call with SingleStepConferenceCall: silently
  (participationType silent) for MonitorMode mute, heard by the agent alone for coach,
  heard by all for connect (docs/pbxsim.md § 4.15).  It joins as an observer: its
  events have ThisDNRole Observer and CallState Bridged, and the agent alone hears of it
  (EventPartyAdded, EventPartyDeleted).  monitor-internal-calls and
  monitor-consult-calls say which calls are monitored.
- With MonitorScope agent, the supervisor leaves the call when the agent does.
- EventMuteOn/Off and EventListenDisconnected/Reconnected tell what the switch reports
  of mute and listening (model.supervision).

The subscriptions and the calls' observers are in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.csta.call_control import ClearConnection, ParticipationType, SingleStepConferenceCall
from ctiserver.csta.schema import Request
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.model.changes import (
    AgentChanged,
    AgentEvent,
    Change,
    ListenChanged,
    MuteChanged,
    PartyChange,
    PartyEstablished,
    PartyRang,
)
from ctiserver.model.model import Model
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call, Monitoring, Observation, Party
from ctiserver.tlib.vocabulary import CallType, DNRole, TMessage
from ctiserver.tserver.correlation import Correlator
from ctiserver.tserver.port import CoreSettings, Requester


class Host(Protocol):
    @property
    def settings(self) -> CoreSettings: ...

    correlator: Correlator

    def change(self, changes: list[Change], at: Instant) -> None: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...

    def clients_of(self, dn: DeviceId) -> list[ClientId]: ...

    def to_switch_alone(self, message: Request) -> None: ...


def monitoring_event(name: str, monitoring: Monitoring) -> TMessage:
    """EventMonitoringNextCall or EventMonitoringCancelled."""
    return {
        "Event": name,
        "ThisDN": monitoring.supervisor,
        "OtherDN": monitoring.agent,
        "MonitorNextCallType": monitoring.kind,
        "Extensions": {"MonitorMode": monitoring.mode, "MonitorScope": monitoring.scope},
    }


class Supervision:
    def __init__(self, host: Host, model: Model) -> None:
        self._host = host
        self._model = model
        self._options = host.settings.supervision
        self._before: dict[type[Any], Callable[[Any, Instant], None]] = {
            PartyEstablished: self._established,
            AgentChanged: self._agent_changed,
        }

    # --- subscriptions -----------------------------------------------------------------

    def start(self, monitoring: Monitoring, at: Instant, answering: Requester) -> None:
        """A subscription, which replaces the supervisor's earlier one."""
        earlier = self._model.monitorings.get(monitoring.supervisor)
        if earlier is not None and earlier != monitoring:
            self.end(earlier, at)
        self._host.change(self._model.monitor(monitoring), at)
        self._tell("EventMonitoringNextCall", monitoring, at, answering)
        if self._options.intrusion_enabled:
            for call in self._model.calls_at(monitoring.agent):
                party = self._model.party(monitoring.agent, call.conn_id)
                if party is not None and party.state is PartyState.ESTABLISHED:
                    self._invite(monitoring, call, party, at)
                    break

    def end(self, monitoring: Monitoring, at: Instant, answering: Requester | None = None) -> None:
        self._host.change(self._model.monitor(monitoring, active=False), at)
        self._tell("EventMonitoringCancelled", monitoring, at, answering)

    def _tell(
        self, name: str, monitoring: Monitoring, at: Instant, answering: Requester | None
    ) -> None:
        clients = {
            *self._host.clients_of(monitoring.supervisor),
            *self._host.clients_of(monitoring.agent),
        }
        self._host.send(
            monitoring_event(name, monitoring), sorted(clients), at, answering=answering
        )

    # --- following the model ----------------------------------------------------------

    def before(self, kind: type[Change]) -> list[Callable[[Any, Instant], None]]:
        """What to do when a change of *kind* is about to be told."""
        acts: list[Callable[[Any, Instant], None]] = []
        if kind in self._before:
            acts.append(self._before[kind])
        if issubclass(kind, PartyChange) and kind.LEAVES:
            acts.append(self._left)
        return acts

    def after(self, kind: type[Change]) -> list[Callable[[Any, Instant], None]]:
        """What to do once a change of *kind* was told: what follows it is told after."""
        return [self._rang] if kind is PartyRang else []

    def _established(self, change: PartyEstablished, at: Instant) -> None:
        if not self._model.monitorings:
            return
        party = change.party
        monitoring = self._model.monitoring_of(party.dn)
        call = self._model.call(change.call.conn_id)
        if monitoring is not None and call is not None:
            self._invite(monitoring, call, party, at)

    def _invite(self, monitoring: Monitoring, call: Call, agent: Party, at: Instant) -> None:
        supervisor = monitoring.supervisor
        if call.observers or supervisor in self._model.parties(call.conn_id):
            return
        if not self._monitored(call, agent):
            return
        observation = Observation(monitoring.mode, monitoring.scope)
        self._host.change(self._model.observe(call.conn_id, supervisor, observation), at)
        self._host.to_switch_alone(self._join(call, agent.dn, supervisor, monitoring.mode))

    def _monitored(self, call: Call, agent: Party) -> bool:
        """monitor-internal-calls, monitor-consult-calls."""
        if call.call_type is CallType.CONSULT:
            consult = self._options.monitor_consult_calls
            role = agent.role
            return consult == "all" or (consult, role) in (
                ("dest", DNRole.DESTINATION),
                ("orig", DNRole.ORIGINATION),
            )
        external = call.call_type in (CallType.INBOUND, CallType.OUTBOUND)
        return external or self._options.monitor_internal_calls

    def _join(
        self, call: Call, agent: DeviceId, supervisor: DeviceId, mode: str
    ) -> SingleStepConferenceCall:
        participation = ParticipationType.ACTIVE if mode == "connect" else ParticipationType.SILENT
        data = None
        if mode == "coach":
            namespace = self._host.settings.private_namespace
            data = PrivateData(namespace, (PrivateElement("coach", "true"),))
        return SingleStepConferenceCall(
            active_call=ConnectionID(call.call_id, agent),
            device_to_join=supervisor,
            participation_type=participation,
            private_data=data,
        )

    def _rang(self, change: PartyRang, at: Instant) -> None:
        """A supervisor joined a call: a OneCall subscription is used up."""
        party = change.party
        if party.role is not DNRole.OBSERVER:
            return
        monitoring = self._model.monitorings.get(party.dn)
        if monitoring is not None and monitoring.kind == "OneCall":
            self.end(monitoring, at)

    def _left(self, change: PartyChange, at: Instant) -> None:
        """An observer left: the call is observed no more.  An agent left a call whose
        observer watches it with scope agent: the observer goes too."""
        party, conn_id = change.party, change.call.conn_id
        if party.dn in change.call.observers:
            self._host.change(self._model.observe(conn_id, party.dn, None), at)
            return
        call = self._model.call(conn_id)
        if call is None or not call.observers:
            return
        for supervisor, observation in call.observers.items():
            observer = self._model.party(supervisor, conn_id)
            watching = observer is not None and observer.added_by == party.dn
            if watching and observation.scope == "agent" and observer is not None:
                request = ClearConnection(
                    connection_to_be_cleared=ConnectionID(call.call_id, supervisor)
                )
                self._host.to_switch_alone(request)

    def _agent_changed(self, change: AgentChanged, at: Instant) -> None:
        """An agent logging out ends the subscriptions its DN is in."""
        if change.what is not AgentEvent.LOGGED_OUT:
            return
        for monitoring in list(self._model.monitorings.values()):
            if change.dn in (monitoring.supervisor, monitoring.agent):
                self.end(monitoring, at)

    # --- telling the switch's reports --------------------------------------------------

    def mute_changed(self, change: MuteChanged, at: Instant) -> None:
        event = _about_call(
            "EventMuteOn" if change.muted else "EventMuteOff", change.call, change.dn
        )
        if change.mode:
            event["Extensions"] = {"MonitorMode": change.mode}
        self._answer(event, change.dn, change.call.conn_id, at)

    def listen_changed(self, change: ListenChanged, at: Instant) -> None:
        name = "EventListenReconnected" if change.listening else "EventListenDisconnected"
        call = change.call
        for party in self._model.present(call.conn_id):
            if self._model.is_ours(party.dn):
                event = _about_call(name, call, party.dn)
                event["OtherDN"] = change.dn
                self._answer(event, party.dn, call.conn_id, at)

    def _answer(self, event: TMessage, dn: DeviceId, conn_id: ConnId, at: Instant) -> None:
        answering = self._host.correlator.answer(dn, conn_id, event["Event"])
        self._host.send(event, self._host.clients_of(dn), at, answering=answering)


def _about_call(name: str, call: Call, dn: DeviceId) -> TMessage:
    return {"Event": name, "ThisDN": dn, "ConnID": call.conn_id, "CallID": call.call_id}
