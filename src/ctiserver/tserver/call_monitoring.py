"""Call monitoring: the call-based events of the calls a client asked for
(RequestStartCallMonitoring, RequestStopCallMonitoring; docs/protocol.md, Call monitoring).

- A subscription is a registration of the name `#ConnID` in ModeMonitor (as
  RequestRegisterAll's `*`, tserver.queries), so that the client's session keeps it: a
  resumed session and the new primary of a pair have it back, the journal carries it.
- Starting one answers with the call as it is: EventCallCreated, then EventCallPartyAdded
  for each party, all with the request's ReferenceID.
- From then on every change record about the call tells its watchers: a party new to
  them is EventCallPartyAdded, one in another state EventCallPartyState, one gone
  EventCallPartyDeleted, one that a transfer or conference moved EventCallPartyMoved (to
  the watchers of both calls); the call's own attributes EventCallDataChanged; its end
  EventCallDeleted (RefCallUUID: the call it merged into), and the subscriptions end.
- A consultation made from a watched call is watched by the same clients: they hear of
  it as created (OrigCallUUID: the call it consults), as the requester would.
- Nothing goes to the switch: every call the server knows is at one of its DNs, whose
  device monitors report each of its connections; the call-based events are the model's
  changes told another way.

What the watchers were told of each watched call (its attributes, its parties' states)
is kept here: it is what the next change is compared with.  It is made from the model
when a subscription starts, and made again when this server becomes the primary of a
pair (the subscriptions came in the journal; what was told is what the model holds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ctiserver.clock import Instant
from ctiserver.errors import LinkDown
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.model.changes import (
    CallChange,
    CallForgotten,
    CallsMerged,
    PartyAbandoned,
    PartyChange,
    PartyMoved,
    PartyReleased,
    Releasing,
)
from ctiserver.model.values import Call, Party
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import CallState, RegisterMode, TMessage
from ctiserver.tserver.errors import InvalidAttribute, RequestRefused
from ctiserver.tserver.events import (
    PARTY_STATES,
    ack_event,
    call_data,
    call_deleted,
    call_party,
    call_uuid,
    party_uuid,
)
from ctiserver.tserver.port import Core, CoreSettings, Queries, RequestContext, Requester
from ctiserver.tserver.registry import Registry

PREFIX: Final = "#"
# CallStates of a party that left by moving the call on itself (tserver.events)
_MOVED_ON = (
    CallState.TRANSFERRED,
    CallState.CONFERENCED,
    CallState.REDIRECTED,
    CallState.FORWARDED,
)


def subscription(conn_id: ConnId) -> DeviceId:
    """The name a client registers to watch call *conn_id*."""
    return DeviceId(f"{PREFIX}{conn_id}")


class CallNotMonitored(RequestRefused):
    """No such call at a DN of this server (or not at the DN named)."""

    code = TError.INV_CONNID


class AlreadyMonitored(RequestRefused):
    code = TError.IN_SAME_STATE


# --- the requests ------------------------------------------------------------------------------


def start_call_monitoring(core: Core, ctx: RequestContext) -> None:
    """ConnID: the call to watch; ThisDN (optional, needed by an application with a DN
    scope): a DN the call must be at."""
    conn_id = ConnId(ctx.message["ConnID"])
    dn = ctx.message.get("ThisDN")
    if not core.link_connected:
        raise LinkDown("the link to the switch is down: the server cannot follow the call")
    call = core.model.call(conn_id)
    if call is None:
        raise CallNotMonitored(f"no call {conn_id} is at a DN of this server")
    if dn is not None and dn not in core.model.parties(conn_id):
        raise CallNotMonitored(f"call {conn_id} is not at DN {dn}")
    if core.mode(ctx.client, subscription(conn_id)) is not None:
        raise AlreadyMonitored(f"this client monitors call {conn_id} already")
    core.start_call_monitoring(ctx, conn_id)


def stop_call_monitoring(core: Core, ctx: RequestContext) -> None:
    conn_id = ConnId(ctx.message["ConnID"])
    if core.mode(ctx.client, subscription(conn_id)) is None:
        raise InvalidAttribute(f"this client does not monitor call {conn_id}")
    core.stop_call_monitoring(ctx, conn_id)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestStartCallMonitoring": start_call_monitoring,
    "RequestStopCallMonitoring": stop_call_monitoring,
}


# --- following the model -----------------------------------------------------------------------


@dataclass(slots=True)
class View:
    """What the watchers of a call were told of it."""

    call: Call
    parties: dict[DeviceId, str]  # DN -> PartyState told
    merged_into: ConnId | None = None


class Host(Protocol):
    @property
    def settings(self) -> CoreSettings: ...

    @property
    def model(self) -> Queries: ...

    @property
    def registry(self) -> Registry: ...

    def register(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None: ...

    def drop_subscription(self, client: ClientId, name: DeviceId) -> None: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...

    def reply(self, ctx: RequestContext, event: TMessage) -> None: ...


class CallMonitor:
    def __init__(self, host: Host) -> None:
        self._host = host
        self._model = host.model
        self._server = host.settings.name
        # the watched calls: while there are none, the core does not call tell()
        self.views: dict[ConnId, View] = {}
        self._tellers: dict[type[Any], Callable[[Any, Instant], None]] = {
            kind: self._left if kind.LEAVES else self._party
            for kind in PartyChange.__subclasses__()
        }
        self._tellers.update(
            {
                kind: self._call_changed
                for kind in CallChange.__subclasses__()
                if kind is not CallsMerged
            }
        )
        self._tellers[PartyMoved] = self._moved
        self._tellers[CallsMerged] = self._merged
        self._tellers[CallForgotten] = self._forgotten

    def tell(self, change: Any, at: Instant) -> None:
        """Tell the watchers of the calls *change* is about (a record of any kind)."""
        teller = self._tellers.get(type(change))
        if teller is not None:
            teller(change, at)

    # --- subscriptions -----------------------------------------------------------------------

    def start(self, ctx: RequestContext, conn_id: ConnId) -> None:
        """*ctx*'s client watches the call (checked): it is answered with the call."""
        self._host.register(ctx.client, subscription(conn_id), RegisterMode.MODE_MONITOR)
        view = self.views.get(conn_id) or self._view(conn_id)
        for event in self._snapshot(view):
            self._host.reply(ctx, event)

    def stop(self, ctx: RequestContext, conn_id: ConnId) -> None:
        self._host.drop_subscription(ctx.client, subscription(conn_id))
        if not self._watchers(conn_id):
            self.views.pop(conn_id, None)
        self._host.reply(ctx, ack_event(None, conn_id))

    def rebuild(self) -> None:
        """The views of every watched call, from the model (a new primary of a pair)."""
        self.views.clear()
        for name in self._host.registry.names(PREFIX):
            conn_id = ConnId(name[len(PREFIX) :])
            if self._model.call(conn_id) is not None:
                self._view(conn_id)
                continue
            for client in self._host.registry.clients_of(name):  # ended meanwhile
                self._host.drop_subscription(client, name)

    def _view(self, conn_id: ConnId) -> View:
        call = self._model.call(conn_id)
        assert call is not None
        present = self._model.present(conn_id)
        view = View(call, {party.dn: PARTY_STATES[party.state] for party in present})
        self.views[conn_id] = view
        return view

    def _snapshot(self, view: View) -> list[TMessage]:
        """The call as it is: EventCallCreated and an EventCallPartyAdded per party."""
        call = view.call
        events = [call_data("EventCallCreated", self._server, call)]
        for dn, state in view.parties.items():
            event = call_party("EventCallPartyAdded", self._server, call.conn_id, dn, state)
            party = self._model.party(dn, call.conn_id)
            if party is not None and party.added_by is not None:
                event["CtrlParty"] = party.added_by
            events.append(event)
        return events

    def _watchers(self, conn_id: ConnId) -> list[ClientId]:
        return self._host.registry.clients_of(subscription(conn_id))

    def _send(self, event: TMessage, conn_id: ConnId, at: Instant) -> None:
        watchers = self._watchers(conn_id)
        if watchers:
            self._host.send(event, watchers, at)

    # --- calls -------------------------------------------------------------------------------

    def _call_changed(self, change: CallChange, at: Instant) -> None:
        """The call as the model holds it now, not as the record has it: the records of
        one switch event come after the model took them all, so the first tells the
        watchers of them all (GenEM: several changes may be reported in one event)."""
        conn_id = change.call.conn_id
        call = self._model.call(conn_id)
        if call is None:
            return
        view = self.views.get(conn_id)
        if view is None:
            if call.previous_conn_id in self.views:
                self._consultation(call, call.previous_conn_id, at)
            return
        told, view.call = view.call, call
        if _data(told) != _data(call):
            self._send(call_data("EventCallDataChanged", self._server, call), conn_id, at)

    def _consultation(self, call: Call, consulted: ConnId, at: Instant) -> None:
        """A consultation of a watched call: its watchers watch it too."""
        watchers = self._watchers(consulted)
        for client in watchers:
            self._host.register(client, subscription(call.conn_id), RegisterMode.MODE_MONITOR)
        for event in self._snapshot(self._view(call.conn_id)):
            self._host.send(event, watchers, at)

    def _merged(self, change: CallsMerged, at: Instant) -> None:
        merged = self.views.get(change.merged)
        if merged is not None:
            merged.merged_into = change.call.conn_id
        self._call_changed(change, at)

    def _forgotten(self, change: CallForgotten, at: Instant) -> None:
        """The call ended (or merged into another): its watchers' subscriptions end."""
        view = self.views.pop(change.conn_id, None)
        if view is None:
            return
        call = view.call
        ctrl = call.cleared_by or call.released_by
        event = call_deleted(self._server, call.conn_id, ctrl, view.merged_into)
        self._send(event, call.conn_id, at)
        name = subscription(call.conn_id)
        for client in self._host.registry.clients_of(name):
            self._host.drop_subscription(client, name)

    # --- parties -----------------------------------------------------------------------------

    def _party(self, change: PartyChange, at: Instant) -> None:
        """The party as the model holds it now (see _call_changed)."""
        conn_id, dn = change.call.conn_id, change.party.dn
        view = self.views.get(conn_id)
        party = self._model.party(dn, conn_id)
        if view is None or party is None:  # it left: its leaving record follows
            return
        if not party.present:  # its connection is cleared
            if not self._model.is_ours(dn):  # (one of our DNs says so itself, and who)
                self._gone(view, party, None, at)
            return
        state = PARTY_STATES[party.state]
        told = view.parties.get(party.dn)
        if told == state:
            return
        view.parties[party.dn] = state
        name = "EventCallPartyAdded" if told is None else "EventCallPartyState"
        event = call_party(name, self._server, conn_id, party.dn, state)
        if told is None and party.added_by is not None:
            event["CtrlParty"] = party.added_by
        self._send(event, conn_id, at)

    def _left(self, change: PartyChange, at: Instant) -> None:
        view = self.views.get(change.call.conn_id)
        if view is not None:
            self._gone(view, change.party, _releaser(change), at)

    def _gone(self, view: View, party: Party, ctrl: DeviceId | None, at: Instant) -> None:
        conn_id = view.call.conn_id
        if view.parties.pop(party.dn, None) is None:
            return
        event = call_party("EventCallPartyDeleted", self._server, conn_id, party.dn, None)
        if ctrl is not None:
            event["CtrlParty"] = ctrl
        self._send(event, conn_id, at)

    def _moved(self, change: PartyMoved, at: Instant) -> None:
        """A transfer or conference moved the party from call `source` into `call`."""
        party, source, target = change.party, change.source, change.call.conn_id
        left, joined = self.views.get(source), self.views.get(target)
        if left is None and joined is None:
            return
        state = PARTY_STATES[party.state]
        if left is not None:
            left.parties.pop(party.dn, None)
            left.merged_into = target
        if joined is not None:
            joined.parties[party.dn] = state
        event = call_party("EventCallPartyMoved", self._server, source, party.dn, state)
        event["PartyUUID"] = party_uuid(self._server, target, party.dn)  # its own, there
        event["NewCallUUID"] = call_uuid(self._server, target)
        event["NewConnID"] = target
        watchers = dict.fromkeys((*self._watchers(source), *self._watchers(target)))
        if watchers:
            self._host.send(event, watchers, at)


def _data(call: Call) -> tuple[object, ...]:
    """What EventCallDataChanged reports of a call."""
    return (
        call.call_id,
        call.call_type,
        call.calling,
        call.called,
        call.user_data,
        call.network_call_id,
    )


def _releaser(change: PartyChange) -> DeviceId | None:
    """Who released the call as *change*'s party left it (CtrlParty), when known: as
    Extensions ReleasingParty says it (tserver.events), by name."""
    party, call = change.party, change.call
    if not isinstance(change, PartyReleased | PartyAbandoned):
        return None
    if change.call_state in _MOVED_ON:
        return party.dn
    deciding = call.deleted_by.get(party.dn) or call.cleared_by
    if deciding is not None:
        return deciding
    if change.releasing is Releasing.LOCAL:
        return party.dn
    if change.releasing is Releasing.REMOTE:
        return call.released_by
    return None
