"""From change records to T-Library events for the registrants of each DN.

A party change becomes the call event of its name for `party.dn` (tserver.events), with
the Extensions the private features add; the requester whose request it answers gets
its ReferenceID (tserver.correlation).  An agent change becomes an agent event, a
private change EventPrivateInfo, a UserData change EventAttachedDataChanged for every
party of the calls concerned.  Records that only keep the model right (PartyNoted,
CallChanged, …) publish nothing, except what ISCC and request binding learn from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.model.changes import (
    AccountCodeEntered,
    AgentChanged,
    CallCreated,
    CallsMerged,
    Change,
    GuestAssociation,
    NetworkCallIdLearned,
    PartyChange,
    PartyNoted,
    PrivateChange,
    RecordingChanged,
    RouteRefused,
)
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver import notices
from ctiserver.tserver.correlation import NO_CALL, Correlator, Pending
from ctiserver.tserver.emulated import EXTENDED, Features
from ctiserver.tserver.errors import RouteNotTaken
from ctiserver.tserver.events import (
    EVENT_NAMES,
    HOST_DN,
    agent_event,
    call_uuid,
    event_for,
    private_answer,
    private_info,
    user_data_event,
)
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import CoreSettings, Queries, Requester

HOT_DESK, HOT_DESK_CANCEL, ACCOUNT_CODE = 1, 2, 501


class Host(Protocol):
    """What publishing needs of the core."""

    @property
    def settings(self) -> CoreSettings: ...

    @property
    def model(self) -> Queries: ...

    correlator: Correlator
    iscc: Iscc | None
    features: Features

    def clients_of(self, dn: DeviceId) -> list[ClientId]: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...

    def bind(self, pending: Pending, call: Call, at: Instant) -> None: ...

    def attach(self, conn_id: ConnId, data: Any, at: Instant, *, clear: bool = False) -> bool: ...

    def answer_error(self, pending: Pending, error: BaseException, at: Instant) -> None: ...

    def call_offered(self, change: PartyChange, at: Instant) -> None: ...


class Publisher:
    def __init__(self, host: Host) -> None:
        self._host = host
        self._model = host.model  # the same object for the core's life
        self._settings = host.settings
        self._clients_of = host.clients_of
        # What tells of each kind of record; the kinds not here tell nobody.
        self._tellers: dict[type[Any], Callable[[Any, Instant], None]] = {
            CallCreated: self._created,
            CallsMerged: self._merged,
            NetworkCallIdLearned: self._identified,
            AgentChanged: self._agent_changed,
            RouteRefused: self._route_refused,
            GuestAssociation: self._private_change,
            RecordingChanged: self._private_change,
            AccountCodeEntered: self._private_change,
            **dict.fromkeys(EVENT_NAMES, self._party_changed),
            PartyNoted: self._noted,
            **notices.tellers(host),  # DTMF, treatments, DN features
        }

    def add(self, kind: type[Any], teller: Callable[[Any, Instant], None]) -> None:
        """Let *teller* tell of the records of *kind* (a feature's own records)."""
        self._tellers[kind] = teller

    def teller(self, kind: type[Change]) -> Callable[[Any, Instant], None] | None:
        """Who tells of the records of *kind*, if anyone does."""
        return self._tellers.get(kind)

    def publish(self, change: Change, at: Instant) -> None:
        """Tell whoever must know of *change*."""
        teller = self._tellers.get(type(change))
        if teller is not None:
            teller(change, at)

    def _noted(self, change: PartyNoted, at: Instant) -> None:
        """A party of a device not ours (a trunk's far end ringing): nobody is told, but a
        mute transfer may wait for it."""
        self._host.call_offered(change, at)

    def _created(self, change: CallCreated, at: Instant) -> None:
        call = change.call
        pending = self._host.correlator.binding_for(call.call_id, call.calling)
        if pending is not None:
            self._host.bind(pending, call, at)

    def _merged(self, change: CallsMerged, at: Instant) -> None:
        if self._host.iscc is not None:
            self._host.iscc.links.merged(change.merged, change.call.conn_id)

    def _identified(self, change: NetworkCallIdLearned, at: Instant) -> None:
        if self._host.iscc is not None:
            self._host.iscc.origin.identified_call(change.call)

    def _agent_changed(self, change: AgentChanged, at: Instant) -> None:
        host = self._host
        event = agent_event(change)
        answering = host.correlator.answer(change.dn, NO_CALL, event["Event"])
        host.send(event, host.clients_of(change.dn), at, answering=answering)

    def _party_changed(self, change: PartyChange, at: Instant) -> None:
        host, iscc, call, dn = self._host, self._host.iscc, change.call, change.party.dn
        if iscc is not None and not iscc.destination.arrived(change, at):
            return
        call = self._model.call(call.conn_id) or call  # ISCC may have given it data just now
        event = event_for(change, call)
        event["CallUUID"] = call_uuid(self._settings.name, call.conn_id)
        self._decorate(event, call, change.party)
        added = host.features.call_extensions(change, call) if type(change) in EXTENDED else None
        if added:
            event["Extensions"] = {**(event.get("Extensions") or {}), **added}
        pending = host.correlator.answer(dn, call.conn_id, event["Event"])
        host.send(event, self._clients_of(dn), at, answering=pending)
        host.call_offered(change, at)
        if iscc is not None:
            if pending is not None and pending.xid is not None:
                iscc.origin.answered(pending.xid, call.conn_id, at)
            iscc.links.party_changed(change, event["Event"])
            iscc.origin.watch(change, at)
            if self._model.call(call.conn_id) is None:
                iscc.call_ended(call.conn_id)

    def _route_refused(self, change: RouteRefused, at: Instant) -> None:
        host, call, point = self._host, change.call, change.party.dn
        pending = host.correlator.waiting_at(point, call.conn_id, "RequestRouteCall")
        if pending is not None:
            host.correlator.finish(pending.token)
        if host.iscc is not None and host.iscc.origin.route_refused(call, at):
            return
        if pending is not None:
            refusal = RouteNotTaken(f"the switch could not route call {call.conn_id} there")
            host.answer_error(pending, refusal, at)

    def _decorate(self, event: TMessage, call: Call, party: Party) -> None:
        """Extensions a call event adds: the guest's host, the account code (`ext`)."""
        settings = self._settings.options
        extensions: dict[str, Any] = {}
        host_dn = self._model.host_of(party.dn)
        if host_dn is not None:
            extensions[HOST_DN] = host_dn
        if settings.accode_data == "ext" and call.account_code:
            extensions[settings.accode_name] = call.account_code
        if extensions:
            event["Extensions"] = {**(event.get("Extensions") or {}), **extensions}

    # --- private features -----------------------------------------------------------------

    def _private_change(self, change: PrivateChange, at: Instant) -> None:
        """EventPrivateInfo for what the switch reported of its private features."""
        match change:
            case GuestAssociation(guest=guest, host=host_dn, associated=associated, learnt=False):
                number = HOT_DESK if associated else HOT_DESK_CANCEL
                self._private(guest, NO_CALL, private_info(number, guest, OtherDN=host_dn), at)
            case RecordingChanged(recording=recording, what=what):
                dn, conn_id = recording.dn, recording.conn_id
                self._private(dn, conn_id, private_info(int(what), dn, ConnID=conn_id), at)
            case AccountCodeEntered():
                self._account_code(change, at)

    def _private(self, dn: DeviceId, conn_id: ConnId, event: TMessage, at: Instant) -> None:
        host = self._host
        answering = host.correlator.answer(dn, conn_id, private_answer(event["PrivateMsgID"]))
        host.send(event, host.clients_of(dn), at, answering=answering)

    def _account_code(self, change: AccountCodeEntered, at: Instant) -> None:
        host, settings, call = self._host, self._host.settings.options, change.call
        if settings.accode_privateservice:
            extensions = {settings.accode_name: change.code}
            event = private_info(
                ACCOUNT_CODE, change.dn, ConnID=call.conn_id, Extensions=extensions
            )
            self._private(change.dn, call.conn_id, event, at)
        current = host.model.call(call.conn_id)
        in_data = current is not None and current.user_data.get(settings.accode_name) == change.code
        if settings.accode_data == "udata" and current is not None and not in_data:
            host.attach(call.conn_id, {settings.accode_name: change.code}, at)
            self.user_data_changed(call.conn_id, change.dn, at)

    # --- UserData -------------------------------------------------------------------------

    def user_data_changed(
        self,
        conn_id: ConnId,
        by: DeviceId,
        at: Instant,
        *,
        answering: Requester | None = None,
        told_by: str = "",
        sharing: bool = True,
    ) -> None:
        """EventAttachedDataChanged to every registrant of every DN on the calls concerned
        (the call, and those sharing its data unless not *sharing*), and the change to
        the sites the call is linked to (but *told_by*)."""
        host = self._host
        call = host.model.call(conn_id)
        if call is None:
            return
        for shared in host.model.sharing(call) if sharing else [call]:
            for party in host.model.parties(shared.conn_id).values():
                if not host.model.is_ours(party.dn):
                    continue
                event = user_data_event(shared, party.dn, by, party)
                mine = shared is call and party.dn == by
                host.send(
                    event, host.clients_of(party.dn), at, answering=answering if mine else None
                )
            if host.iscc is not None:
                host.iscc.links.data_changed(shared, by, told_by=told_by)
