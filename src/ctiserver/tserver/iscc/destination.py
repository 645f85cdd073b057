"""ISCC at the destination: reserving access resources and recognising the calls that
arrive on them (docs/iscc.md).

A Reserve takes an access resource for `timeout` seconds (the DN itself, an external
routing point, or a DNIS from the pool, as the transaction type says).  A call arriving
there that matches (iscc.transactions) takes the transaction's UserData and its origin
(the LastTransfer* attributes) before its first event is built, is linked to the
origin's call, and, at a routing point, is routed on to the target by the server itself.

Rules:
1. A peer's requests are bounded: at most `max_reservations_per_peer` reservations.
2. A call that reaches a DN waiting for a transaction matched by network call id, before
   the origin has said which id that is, waits (its events are held, in order) until the
   origin says, or `network_call_id_wait` passes; then its events go out, with the
   transaction's data if it matched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.csta.routeing import RouteSelect
from ctiserver.ids import ConnId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.settings import IsccSettings
from ctiserver.iscc.transactions import (
    TRANSACTION_TYPES,
    CallFacts,
    Link,
    MatchKey,
    Reservation,
    Resource,
    Token,
    Transactions,
    TransactionType,
    transaction_type,
)
from ctiserver.model.changes import CallQueued, PartyChange, PartyRang, RouteRequested
from ctiserver.model.states import DnKind
from ctiserver.model.values import Call, Origin
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import CallType, KVList
from ctiserver.tserver.iscc import agent_hold
from ctiserver.tserver.iscc.refusals import Refusal
from ctiserver.tserver.port import Core

log = logging.getLogger(__name__)

_ARRIVING = (PartyRang, CallQueued, RouteRequested)


class Arrivals(Protocol):
    """What the destination needs of the core besides its handler verbs."""

    def came_from(
        self, conn_id: ConnId, origin: Origin, user_data: KVList, at: Instant
    ) -> None: ...


class Linker(Protocol):
    def link(self, conn_id: ConnId, link: Link) -> None: ...


@dataclass(slots=True)
class Parked:
    """A call held back by rule 2: its changes, in order, until `until`."""

    until: float
    changes: list[PartyChange] = field(default_factory=list)


class DestinationSide:
    def __init__(
        self,
        core: Core,
        arrivals: Arrivals,
        settings: IsccSettings,
        table: Transactions,
        links: Linker,
    ) -> None:
        self._core = core
        self._arrivals = arrivals
        self._settings = settings
        self._location = core.settings.location  # this site: the switch's name
        self._table = table
        self._links = links
        self._parked: dict[ConnId, Parked] = {}
        self._released: list[PartyChange] = []
        self._let_go: set[ConnId] = set()  # released once: never held again

    # --- reserving ------------------------------------------------------------------------

    def reserve(self, origin: str, message: p.Reserve, at: Instant) -> p.PeerMessage:
        """Take an access resource for *origin*'s transaction (and for a ReserveAgent,
        hold its agent reserved: tserver.iscc.agent_hold): Reserved or Refused."""
        with_agent = isinstance(message, p.ReserveAgent)
        try:
            kind = self._served(message.xroute)
            self._bounded(origin)
            if isinstance(message, p.ReserveAgent):
                target, agent = agent_hold.named_agent(self._core.model, message, self._location)
            else:
                target = self._target(message.dn, kind)
            resource = self._resource(kind, target)
            if isinstance(message, p.ReserveAgent):
                until = at.wall + self._settings.timeout
                agent_hold.hold(self._core, origin, message, (target, agent.agent_id), until, at)
        except Refusal as refusal:
            return p.Refused(xid=message.xid, code=refusal.code, message=refusal.message)
        token = self._token(kind, message.digits)
        self._table.add_reservation(
            Reservation(
                xid=message.xid,
                origin=origin,
                xroute=kind.xroute,
                resource=resource,
                target=target,
                user_data=dict(message.user_data),
                origin_conn_id=message.origin_conn_id,
                origin_dn=message.origin_dn,
                ani=message.ani,
                token=token,
                deadline=at.monotonic + self._settings.timeout,
                first=(message.first_location, message.first_conn_id, message.first_dn),
                holds_agent=with_agent,
            )
        )
        return p.Reserved(xid=message.xid, resource=resource, token=token)

    def _served(self, name: str) -> TransactionType:
        kind = transaction_type(name)
        if kind is None or kind.xroute not in self._settings.cast_types:
            raise Refusal(
                TError.ISCC_BAD_XACTION_TYPE, f"transaction type {name} is not served here"
            )
        return kind

    def _bounded(self, origin: str) -> None:
        """Rule 1."""
        held = sum(1 for location, _xid in self._table.reservations if location == origin)
        if held >= self._settings.max_reservations_per_peer:
            raise Refusal(TError.NO_FREE_CDNS, f"{origin} holds {held} reservations already")

    def _token(self, kind: TransactionType, digits: str) -> str:
        if kind.token is Token.GENERATED:
            return self._table.token()
        if kind.token is Token.DIGITS:
            return digits if digits.isdigit() and len(digits) <= 32 else self._table.token()
        return ""

    def _target(self, dn: str, kind: TransactionType) -> DeviceId:
        if not dn and kind.other_dn_optional and self._settings.default_dn is not None:
            dn = self._settings.default_dn
        if not dn:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                "no destination DN was given and there is no default-dn",
            )
        if self._core.model.kind(DeviceId(dn)) is None:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                f"DN {dn[:64]} is not configured at {self._location}",
            )
        if kind.routed_again and self._core.model.kind(DeviceId(dn)) is not DnKind.ROUTING_POINT:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                f"{kind.xroute} sends a call to a routing point to be routed again; "
                f"{dn} is not one",
            )
        return DeviceId(dn)

    def _resource(self, kind: TransactionType, target: DeviceId) -> DeviceId:
        if kind.through_routing_points:
            pool = (
                self._settings.dnis_pool
                if kind.resource is Resource.DNIS_POOL
                else self._settings.external_routing_points
            )
            if not pool:
                raise Refusal(
                    TError.ISCC_ACCS_RESOURCE_NOT_CONFIGURED,
                    f"no access resources for {kind.xroute} at {self._location}",
                )
            taken = {r.resource for r in self._table.reservations.values()}
            free = next((dn for dn in pool if dn not in taken), None)
            if free is None:
                raise Refusal(
                    TError.NO_FREE_CDNS, f"every access resource for {kind.xroute} is in use"
                )
            return free
        if kind.match is MatchKey.ARRIVAL and any(
            TRANSACTION_TYPES[r.xroute].match is MatchKey.ARRIVAL
            for r in self._table.holding(target)
        ):
            raise Refusal(
                TError.NO_FREE_CDNS, f"DN {target} already waits for a {kind.xroute} call"
            )
        return target

    def cancel(self, origin: str, xid: str, at: Instant) -> None:
        reservation = self._table.reservations.pop((origin, xid), None)
        if reservation is not None:
            self._ended(reservation, at)
        self._core.to_peer(origin, p.Cancelled(xid=xid))

    def _ended(self, reservation: Reservation, at: Instant) -> None:
        """*reservation* is over (matched, cancelled, expired, its origin gone)."""
        if reservation.holds_agent:
            agent_hold.release(self._core, reservation.origin, reservation.xid, at)

    # --- arriving calls --------------------------------------------------------------------

    def arrived(self, change: PartyChange, at: Instant) -> bool:
        """Before *change*'s event is built: does an ISCC transaction claim its call?
        Returns False when the event is not to be sent now (held by rule 2, or a call
        at an external routing point that the server routes on by itself)."""
        parked = self._parked.get(change.call.conn_id)
        if parked is not None:
            parked.changes.append(change)
            return False
        if not isinstance(change, _ARRIVING):
            return True
        call = self._core.model.call(change.call.conn_id) or change.call
        from_afar = call.call_type is not CallType.INTERNAL or bool(call.network_call_id)
        if call.origin is not None or not from_afar:
            return True
        reservation = self._table.match(
            _facts(call, change.party.dn), once=self._settings.match_call_once
        )
        if reservation is None:
            if call.conn_id not in self._let_go and self._awaits_network_call_id(
                change.party.dn, call
            ):
                self._parked[call.conn_id] = Parked(
                    at.monotonic + self._settings.network_call_id_wait, [change]
                )
                return False
            return True
        self._claim(call, reservation, change.party.dn, at)
        if (
            isinstance(change, RouteRequested)
            and TRANSACTION_TYPES[reservation.xroute].through_routing_points
        ):
            self._route_on(call, change.party.dn, reservation.target)
            return False
        return True

    def _awaits_network_call_id(self, dn: DeviceId, call: Call) -> bool:
        """Rule 2: a transaction waits here for a call it will know by an id not yet told."""
        return any(
            TRANSACTION_TYPES[r.xroute].match is MatchKey.NETWORK_CALL_ID and not r.network_call_id
            for r in self._table.holding(dn)
        )

    def _claim(self, call: Call, reservation: Reservation, at_dn: DeviceId, at: Instant) -> None:
        origin = Origin(
            reservation.origin,
            reservation.origin_conn_id,
            reservation.origin_dn,
            *reservation.first,
        )
        self._arrivals.came_from(call.conn_id, origin, reservation.user_data, at)
        link = Link(
            reservation.origin, reservation.origin_conn_id, reservation.origin_dn, reservation.xid
        )
        self._links.link(call.conn_id, link)
        del self._table.reservations[reservation.origin, reservation.xid]
        self._ended(reservation, at)
        matched = p.Matched(xid=reservation.xid, conn_id=call.conn_id, dn=reservation.target)
        self._core.to_peer(reservation.origin, matched)
        log.info(
            "call %s at %s matched ISCC transaction %s from %s",
            call.conn_id,
            at_dn,
            reservation.xid,
            reservation.origin,
        )

    def _route_on(self, call: Call, point: DeviceId, target: DeviceId) -> None:
        dialogue = self._core.model.dialogue_for(point, call.conn_id)
        if dialogue is None:
            return
        select = RouteSelect(
            route_register_req_id=dialogue.register_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            route_selected=target,
        )
        self._core.to_switch_alone(select)

    # --- late facts from the origin ---------------------------------------------------------

    def started(self, origin: str, message: p.Started) -> bool:
        """The origin's ConnID of a transaction's call; False if the call is here already
        (the links then learn it: Relinked)."""
        reservation = self._table.reservations.get((origin, message.xid))
        if reservation is None:
            return False
        reservation.origin_conn_id = message.conn_id
        return True

    def identified(self, origin: str, message: p.CallIdentified, at: Instant) -> None:
        """The network call id of a transaction's call: a call held for it may go on."""
        reservation = self._table.identified(origin, message.xid, message.network_call_id)
        if reservation is None:
            return
        for conn_id in list(self._parked):
            call = self._core.model.call(conn_id)
            if call is not None and call.network_call_id == message.network_call_id:
                parked = self._parked[conn_id]
                first = parked.changes[0].party.dn
                found = self._table.match(_facts(call, first), once=self._settings.match_call_once)
                if found is not None:
                    self._claim(call, found, first, at)
                self._release(conn_id)

    def take_released(self) -> list[PartyChange]:
        """Changes held by rule 2 that may now be published, in order."""
        released, self._released = self._released, []
        return released

    def _release(self, conn_id: ConnId) -> None:
        parked = self._parked.pop(conn_id, None)
        if parked is not None:
            self._let_go.add(conn_id)
            self._released.extend(parked.changes)

    # --- time and peers -------------------------------------------------------------------

    def expired(self, reservations: list[Reservation], at: Instant) -> None:
        for reservation in reservations:
            self._ended(reservation, at)
            if reservation.origin == self._location:
                continue
            message = f"the call did not arrive within {self._settings.timeout:g} s"
            code = TError.ISCC_TRANSACTION_TIME_EXPIRED
            failed = p.Failed(xid=reservation.xid, code=code, message=message)
            self._core.to_peer(reservation.origin, failed)
        for conn_id, parked in list(self._parked.items()):
            if parked.until <= at.monotonic or not self._still_awaited(conn_id):
                self._release(conn_id)
        self._let_go = {c for c in self._let_go if self._core.model.call(c) is not None}

    def _still_awaited(self, conn_id: ConnId) -> bool:
        parked = self._parked[conn_id]
        call = self._core.model.call(conn_id)
        return call is not None and self._awaits_network_call_id(parked.changes[0].party.dn, call)

    def peer_down(self, location: str, at: Instant) -> None:
        for key in [
            k
            for k, r in self._table.reservations.items()
            if r.origin == location and r.matched is None
        ]:
            self._ended(self._table.reservations.pop(key), at)

    def next_deadline(self) -> float | None:
        first = self._table.next_reservation_deadline()
        times = [parked.until for parked in self._parked.values()]
        if first is not None:
            times.append(first)
        return min(times) if times else None


def _facts(call: Call, at: DeviceId) -> CallFacts:
    return CallFacts(
        conn_id=call.conn_id,
        at=at,
        ani=call.ani,
        dnis=call.dnis,
        uui=call.uui,
        network_call_id=call.network_call_id,
        already_matched=call.origin is not None,
    )
