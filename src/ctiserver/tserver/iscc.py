"""ISCC in the T-Server core: moving calls and their data between sites (genesys-tlib.md
§ 3, call-models.md § 14).

Origin side.  A request with a `Location` other than ours (RequestRouteCall,
RequestMakeCall, RequestInitiateTransfer, RequestInitiateConference,
RequestMuteTransfer, RequestSingleStepTransfer), or RequestGetAccessNumber, asks the
destination site for an access resource (Reserve).  With the resource, prefixed by the
access code that reaches that site's switch, the request is carried out locally as if
OtherDN were that number, with the transaction's UUI token on the call when its type
needs one.  The destination says Matched when the call arrives (the client gets
EventRemoteConnectionSuccess) or Failed; a refusal, a silent peer, the peer going down
or the call being lost on the way end in EventRemoteConnectionFailed (EventError for
RequestGetAccessNumber), and free the resource.

Destination side.  A Reserve takes an access resource for `timeout` seconds.  An
arriving call that matches (transactions module) takes the transaction's UserData before
its first event is built, remembers where it came from (LastTransfer* attributes), and
is routed on from an external routing point or DNIS.  Calls matched across sites are
linked: a UserData change at either site is sent to the other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctiserver.clock import Instant
from ctiserver.csta.routeing import RouteSelect
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.errors import CtiError
from ctiserver.ids import ConnId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.transactions import (
    ALIASES,
    BY_NETWORK_CALL_ID,
    BY_UUI,
    FROM_TLIB,
    RETURNING,
    THROUGH_ROUTING_POINTS,
    USE_DEFAULT_DN,
    CallFacts,
    Link,
    Outgoing,
    Purpose,
    Refusal,
    Reservation,
    Stage,
    Transactions,
    XRoute,
)
from ctiserver.model.call import Call, Origin
from ctiserver.model.changes import (
    CallQueued,
    Change,
    DestinationBusy,
    PartyAbandoned,
    PartyChange,
    PartyRang,
    PartyReleased,
    RouteRequested,
)
from ctiserver.model.queues import dialogue_for
from ctiserver.model.states import DnKind
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import CallState, CallType, KVList, TMessage, XRouteType
from ctiserver.tserver import calls, routing, transfers
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import RequestRefused
from ctiserver.tserver.userdata import announce_remote

if TYPE_CHECKING:
    from ctiserver.tserver.core import RequestContext, TServerCore

log = logging.getLogger(__name__)

PURPOSES: Mapping[str, Purpose] = {
    "RequestRouteCall": Purpose.ROUTE,
    "RequestMakeCall": Purpose.MAKE_CALL,
    "RequestInitiateTransfer": Purpose.CONSULT_TRANSFER,
    "RequestInitiateConference": Purpose.CONSULT_CONFERENCE,
    "RequestMuteTransfer": Purpose.MUTE_TRANSFER,
    "RequestSingleStepTransfer": Purpose.SINGLE_STEP_TRANSFER,
}
_ON_A_CALL = {
    Purpose.ROUTE,
    Purpose.CONSULT_TRANSFER,
    Purpose.CONSULT_CONFERENCE,
    Purpose.MUTE_TRANSFER,
    Purpose.SINGLE_STEP_TRANSFER,
}


@dataclass(frozen=True, slots=True)
class PeerSettings:
    access_code: str = ""  # dialled before a resource number to reach the peer's switch


@dataclass(frozen=True, slots=True)
class IsccSettings:
    location: str
    peers: Mapping[str, PeerSettings] = field(default_factory=dict)
    cast_types: tuple[XRoute, ...] = tuple(XRoute)
    request_timeout: float = 20.0
    timeout: float = 60.0
    default_dn: DeviceId | None = None
    match_call_once: bool = True
    direct_digits_key: str = "CDT_Track_Num"
    external_routing_points: tuple[DeviceId, ...] = ()
    dnis_pool: tuple[DeviceId, ...] = ()
    private_namespace: str = "urn:ctiserver:csta:private"


@dataclass(frozen=True, slots=True)
class SendToPeer:
    location: str
    message: p.PeerMessage


class IsccRefused(RequestRefused):
    """A request with a Location that cannot even be started, with its ISCC code."""

    def __init__(self, code: TError, message: str) -> None:
        super().__init__(message)
        self.code = code


class Iscc:
    def __init__(self, core: TServerCore, settings: IsccSettings) -> None:
        self.core = core
        self.settings = settings
        self.table = Transactions(settings.location)
        self.up: set[str] = set()
        self.incompatible: dict[str, str] = {}  # location -> the protocol version it spoke
        self._contexts: dict[str, RequestContext] = {}

    # --- origin: starting a transaction ---------------------------------------------------

    def is_remote(self, location: Any) -> bool:
        return isinstance(location, str) and site_of(location) != self.settings.location

    def start(self, ctx: RequestContext) -> None:
        """A call-moving request, or RequestGetAccessNumber, for another site."""
        location = site_of(ctx.message["Location"])
        purpose = PURPOSES.get(ctx.name, Purpose.ANSWER)
        if purpose is Purpose.ANSWER and location == self.settings.location:
            self._own_access_number(ctx)
            return
        self._check_peer(location)
        if purpose is Purpose.ANSWER and location not in self.up:
            raise IsccRefused(*self._why_down(location))
        this_dn = controlled_dn(self.core, ctx)
        call = self._call_of(ctx, this_dn, purpose)
        xroute = self._xroute(ctx)
        target = str(ctx.message.get("OtherDN", ""))
        if xroute in RETURNING:
            target = target or self._return_dn(call, location, xroute)
        user_data = dict(call.user_data) if call is not None else {}
        user_data.update(ctx.message.get("UserData") or {})
        outgoing = Outgoing(
            xid=self.table.new_xid(),
            location=location,
            xroute=xroute,
            purpose=purpose,
            client=ctx.client,
            reference_id=ctx.reference_id,
            this_dn=this_dn,
            target=target,
            conn_id=call.conn_id if call is not None else None,
            user_data=user_data,
            digits=str(user_data.get(self.settings.direct_digits_key, "")),
            ani=_presented_number(call, purpose, this_dn),
            deadline=ctx.at.monotonic + self.settings.request_timeout,
            request=ctx.name,
            moved_call=call.conn_id
            if purpose in (Purpose.ROUTE, Purpose.SINGLE_STEP_TRANSFER) and call
            else None,
        )
        self.table.outgoing[outgoing.xid] = outgoing
        self._contexts[outgoing.xid] = ctx
        if location not in self.up:  # remote down: the call cannot move (call-models § 14)
            self._fail(outgoing, *self._why_down(location), ctx.at)
            return
        self.core.to_peer(location, self._reserve(outgoing))

    def cancel(self, ctx: RequestContext) -> None:
        """RequestCancelReqGetAccessNumber: XReferenceID names the request to cancel."""
        wanted = ctx.message["XReferenceID"]
        outgoing = next(
            (
                o
                for o in self.table.outgoing.values()
                if o.client == ctx.client
                and o.reference_id == wanted
                and o.purpose is Purpose.ANSWER
            ),
            None,
        )
        if outgoing is None:
            raise IsccRefused(TError.BAD_REQUEST, f"no RequestGetAccessNumber {wanted} is pending")
        self._end(outgoing)
        self.core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))
        event: TMessage = {"Event": "EventReqGetAccessNumberCanceled", "XReferenceID": wanted}
        self.core.reply(ctx, event)

    def _own_access_number(self, ctx: RequestContext) -> None:
        """RequestGetAccessNumber for this very site: one of our own resources."""
        this_dn = controlled_dn(self.core, ctx)
        xroute = self._xroute(ctx)
        reserve = p.Reserve(
            xid=self.table.new_xid(),
            xroute=xroute.value,
            dn=str(ctx.message.get("OtherDN", "")),
            origin_conn_id=str(ctx.message.get("ConnID", "")),
            origin_dn=this_dn,
            user_data=dict(ctx.message.get("UserData") or {}),
        )
        answer = self._reserve_resource(self.settings.location, reserve, ctx.at)
        if isinstance(answer, p.Refused):
            raise IsccRefused(_error_code(answer.code), answer.message)
        assert isinstance(answer, p.Reserved)
        event: TMessage = {
            "Event": "EventAnswerAccessNumber",
            "AccessNumber": answer.resource,
            "ThisDN": this_dn,
        }
        if "ConnID" in ctx.message:
            event["ConnID"] = ctx.message["ConnID"]
        self.core.reply(ctx, event)

    def _return_dn(self, call: Call | None, location: str, xroute: XRoute) -> str:
        """pullback and reroute: the call goes back where it came from."""
        if call is None:
            raise IsccRefused(TError.BAD_REQUEST, f"{xroute} moves a call: ConnID is missing")
        if call.origin is None or site_of(call.origin.location) != location:
            came = "here" if call.origin is None else call.origin.location
            raise IsccRefused(
                TError.ISCC_BAD_ORIGIN_LOCATION,
                f"{xroute} returns a call to its origin; call {call.conn_id} came from {came}",
            )
        return call.origin.dn

    def _why_down(self, location: str) -> tuple[TError, str]:
        version = self.incompatible.get(location)
        if version is not None:
            message = f"the CTI server of {location} speaks another ISCC protocol ({version})"
            return TError.WRONG_PROTOCOL_VERSION, message
        return TError.REMOTE_SERVER_DISCONNECTED, f"the CTI server of {location} is not connected"

    def _check_peer(self, location: str) -> None:
        """A location we know of; whether it is up decides the answer later."""
        if location not in self.settings.peers:
            raise IsccRefused(
                TError.NO_SUCH_SERVER, f"no ISCC peer is configured for location {location}"
            )

    def _call_of(self, ctx: RequestContext, dn: DeviceId, purpose: Purpose) -> Call | None:
        if purpose in _ON_A_CALL or "ConnID" in ctx.message:
            call, _party = call_at(self.core, ctx, dn)
            if purpose is Purpose.ROUTE and dialogue_for(self.core.model, dn, call.conn_id) is None:
                raise IsccRefused(
                    TError.BAD_REQUEST, f"call {call.conn_id} is not waiting for a route at {dn}"
                )
            return call
        return None

    def _xroute(self, ctx: RequestContext) -> XRoute:
        asked = ctx.message.get("XRouteType")
        extension = (ctx.message.get("Extensions") or {}).get("iscc-xaction-type")
        xroute: XRoute | None = self.settings.cast_types[0]
        if asked is not None and asked != XRouteType.DEFAULT:
            xroute = FROM_TLIB.get(XRouteType(asked))
        elif isinstance(extension, str):
            xroute = _named(extension)
        if xroute is None:
            raise IsccRefused(
                TError.ISCC_BAD_XACTION_TYPE,
                f"{asked or extension} is not a transaction type ISCC serves",
            )
        if xroute not in self.settings.cast_types:
            raise IsccRefused(
                TError.ISCC_BAD_XACTION_TYPE,
                f"transaction type {xroute} is not allowed here (cast-type)",
            )
        return xroute

    def _reserve(self, outgoing: Outgoing) -> p.Reserve:
        return p.Reserve(
            xid=outgoing.xid,
            xroute=outgoing.xroute.value,
            dn=outgoing.target,
            origin_conn_id=outgoing.conn_id or "",
            origin_dn=outgoing.this_dn,
            ani=outgoing.ani,
            user_data=outgoing.user_data,
            digits=outgoing.digits,
        )

    # --- origin: the destination's answers -----------------------------------------------

    def _reserved(self, location: str, message: p.Reserved, at: Instant) -> None:
        outgoing = self.table.outgoing.get(message.xid)
        if (
            outgoing is None
            or outgoing.location != location
            or outgoing.stage is not Stage.REQUESTED
        ):
            self.core.to_peer(location, p.Cancel(xid=message.xid))
            return
        peer = self.settings.peers[location]
        outgoing.access_number = peer.access_code + message.resource
        outgoing.token = message.token
        outgoing.stage = Stage.RESERVED
        outgoing.deadline = at.monotonic + self.settings.timeout + self.settings.request_timeout
        try:
            self._carry_out(outgoing)
        except CtiError as exc:
            self._fail(outgoing, TError.BAD_REQUEST, f"the call could not be sent: {exc}", at)

    def _carry_out(self, outgoing: Outgoing) -> None:
        """Do what the client asked, with the access number as the destination."""
        ctx = self._contexts[outgoing.xid]
        if outgoing.purpose is Purpose.ANSWER:
            event: TMessage = {
                "Event": "EventAnswerAccessNumber",
                "AccessNumber": outgoing.access_number,
                "ThisDN": outgoing.this_dn,
            }
            if outgoing.conn_id is not None:
                event["ConnID"] = outgoing.conn_id
            self.core.reply(ctx, event)
            return
        to = Destination(
            DeviceId(outgoing.access_number),
            self._uui(outgoing),
            on_bind=lambda call: self._moved(outgoing, call),
        )
        handlers: dict[Purpose, Any] = {
            Purpose.ROUTE: routing.route_call,
            Purpose.MAKE_CALL: calls.make_call,
            Purpose.CONSULT_TRANSFER: transfers.initiate_transfer,
            Purpose.CONSULT_CONFERENCE: transfers.initiate_conference,
            Purpose.MUTE_TRANSFER: transfers.mute_transfer,
            Purpose.SINGLE_STEP_TRANSFER: transfers.single_step_transfer,
        }
        handlers[outgoing.purpose](self.core, ctx, to)

    def _uui(self, outgoing: Outgoing) -> PrivateData | None:
        if outgoing.xroute not in BY_UUI or not outgoing.token:
            return None
        return PrivateData(
            self.settings.private_namespace, (PrivateElement("uui", outgoing.token),)
        )

    def _moved(self, outgoing: Outgoing, call: Call) -> None:
        """The call the transaction moves now exists here: tell the destination its ConnID."""
        outgoing.moved_call = call.conn_id
        self.core.to_peer(outgoing.location, p.Started(xid=outgoing.xid, conn_id=call.conn_id))

    def _matched(self, location: str, message: p.Matched, at: Instant) -> None:
        outgoing = self.table.outgoing.get(message.xid)
        if outgoing is None or outgoing.location != location:
            return
        linked = outgoing.moved_call or outgoing.conn_id
        if linked is not None:
            link = Link(location, message.conn_id, outgoing.this_dn, outgoing.xid)
            self.table.link(linked, link)
        if outgoing.purpose is not Purpose.ANSWER:
            self._tell(outgoing, "EventRemoteConnectionSuccess", at)
        self._end(outgoing)

    def _fail(self, outgoing: Outgoing, code: TError | int, message: str, at: Instant) -> None:
        ctx = self._contexts.get(outgoing.xid)
        self._end(outgoing)
        log.info("ISCC transaction %s to %s failed: %s", outgoing.xid, outgoing.location, message)
        if outgoing.purpose is Purpose.ANSWER:
            if outgoing.access_number:
                return  # the client has its number; the reservation simply lapsed
            if ctx is not None:
                self.core.refuse(ctx, IsccRefused(_error_code(code), message))
            return
        self._tell(outgoing, "EventRemoteConnectionFailed", at)

    def _tell(self, outgoing: Outgoing, name: str, at: Instant) -> None:
        event: TMessage = {
            "Event": name,
            "ThisDN": outgoing.this_dn,
            "ReferenceID": outgoing.reference_id,
        }
        conn_id = outgoing.moved_call or outgoing.conn_id
        if conn_id is not None:
            event["ConnID"] = conn_id
        self.core.send(event, (outgoing.client,), at)

    def _end(self, outgoing: Outgoing) -> None:
        outgoing.stage = Stage.DONE
        self.table.outgoing.pop(outgoing.xid, None)
        self._contexts.pop(outgoing.xid, None)

    # --- destination ------------------------------------------------------------------------

    def _reserve_resource(self, origin: str, message: p.Reserve, at: Instant) -> p.PeerMessage:
        try:
            xroute = _named(message.xroute)
            if xroute is None or xroute not in self.settings.cast_types:
                raise Refusal(
                    TError.ISCC_BAD_XACTION_TYPE,
                    f"transaction type {message.xroute} is not served here",
                )
            target = self._target(message.dn, xroute)
            resource = self._resource(xroute, target)
        except Refusal as refusal:
            return p.Refused(xid=message.xid, code=refusal.code, message=refusal.message)
        token = ""
        if xroute in BY_UUI and xroute is not XRoute.DIRECT_DIGITS:
            token = self.table.token()
        elif xroute is XRoute.DIRECT_DIGITS:
            token = message.digits if message.digits.isdigit() else self.table.token()
        self.table.reservations[origin, message.xid] = Reservation(
            xid=message.xid,
            origin=origin,
            xroute=xroute,
            resource=resource,
            target=target,
            user_data=dict(message.user_data),
            origin_conn_id=message.origin_conn_id,
            origin_dn=message.origin_dn,
            ani=message.ani,
            token=token,
            deadline=at.monotonic + self.settings.timeout,
        )
        return p.Reserved(xid=message.xid, resource=resource, token=token)

    def _target(self, dn: str, xroute: XRoute) -> DeviceId:
        if not dn and xroute in USE_DEFAULT_DN and self.settings.default_dn is not None:
            dn = self.settings.default_dn
        if not dn:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                "no destination DN was given and there is no default-dn",
            )
        kind = self.core.model.dns.get(DeviceId(dn))
        if kind is None:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                f"DN {dn} is not configured at {self.settings.location}",
            )
        if xroute is XRoute.REROUTE and kind is not DnKind.ROUTING_POINT:
            raise Refusal(
                TError.ISCC_BAD_DESTINATION_DN,
                f"reroute sends a call to a routing point to be routed again; {dn} is not one",
            )
        return DeviceId(dn)

    def _resource(self, xroute: XRoute, target: DeviceId) -> DeviceId:
        if xroute in THROUGH_ROUTING_POINTS:
            pool = (
                self.settings.dnis_pool
                if xroute is XRoute.DNIS_POOL
                else self.settings.external_routing_points
            )
            if not pool:
                raise Refusal(
                    TError.ISCC_ACCS_RESOURCE_NOT_CONFIGURED,
                    f"no access resources for {xroute} at {self.settings.location}",
                )
            taken = {r.resource for r in self.table.reservations.values()}
            free = next((dn for dn in pool if dn not in taken), None)
            if free is None:
                raise Refusal(TError.NO_FREE_CDNS, f"every access resource for {xroute} is in use")
            return free
        if xroute is XRoute.DIRECT_NOTOKEN and any(
            r.xroute is XRoute.DIRECT_NOTOKEN for r in self.table.holding(target)
        ):
            raise Refusal(
                TError.NO_FREE_CDNS, f"DN {target} already waits for a direct-notoken call"
            )
        return target

    def arrived(self, change: Change, at: Instant) -> bool:
        """Before *change*'s event is built: does an ISCC transaction claim its call?

        Returns False when the event should not be sent (a call at an external routing
        point that the server routes on by itself)."""
        if not isinstance(change, (PartyRang, CallQueued, RouteRequested)):
            return True
        call = change.call
        from_afar = call.call_type is not CallType.INTERNAL or bool(call.network_call_id)
        if call.origin is not None or not from_afar:
            return True
        facts = CallFacts(
            conn_id=call.conn_id,
            at=change.party.dn,
            ani=call.ani,
            dnis=call.dnis,
            uui=call.uui,
            network_call_id=call.network_call_id,
            already_matched=call.origin is not None,
        )
        reservation = self.table.match(facts, once=self.settings.match_call_once)
        if reservation is None:
            return True
        self._claim(call, reservation, change.party.dn)
        if isinstance(change, RouteRequested) and reservation.xroute in THROUGH_ROUTING_POINTS:
            self._route_on(call, change.party.dn, reservation.target, at)
            return False
        return True

    def _claim(self, call: Call, reservation: Reservation, at_dn: DeviceId) -> None:
        call.user_data.update(reservation.user_data)
        call.origin = Origin(reservation.origin, reservation.origin_conn_id, reservation.origin_dn)
        self.table.link(
            call.conn_id,
            Link(
                reservation.origin,
                reservation.origin_conn_id,
                reservation.origin_dn,
                reservation.xid,
            ),
        )
        del self.table.reservations[reservation.origin, reservation.xid]
        self.core.to_peer(
            reservation.origin,
            p.Matched(xid=reservation.xid, conn_id=call.conn_id, dn=reservation.target),
        )
        log.info(
            "call %s at %s matched ISCC transaction %s from %s",
            call.conn_id,
            at_dn,
            reservation.xid,
            reservation.origin,
        )

    def _route_on(self, call: Call, point: DeviceId, target: DeviceId, at: Instant) -> None:
        dialogue = dialogue_for(self.core.model, point, call.conn_id)
        if dialogue is None:
            return
        select = RouteSelect(
            route_register_req_id=dialogue.register_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
            route_selected=target,
        )
        self.core.to_switch_alone(select)

    def _started(self, origin: str, message: p.Started) -> None:
        """The origin's ConnID of a transaction's call, whether it has arrived yet or not."""
        reservation = self.table.reservations.get((origin, message.xid))
        if reservation is not None:
            reservation.origin_conn_id = message.conn_id
            return
        self._relink(origin, message.xid, message.conn_id)

    def _relink(self, location: str, xid: str, conn_id: str) -> None:
        """The other end of the link made by *xid* is *conn_id* at *location* now."""
        for ours, old in self.table.relink(location, xid, conn_id):
            call = self.core.model.call(ours)
            if call is None or call.origin is None:
                continue
            if (call.origin.location, call.origin.conn_id) == (location, old.conn_id):
                call.origin = Origin(location, conn_id, call.origin.dn)

    def _identified(self, origin: str, message: p.CallIdentified, at: Instant) -> None:
        """A late network call id: the call may be here already."""
        reservation = self.table.identified(origin, message.xid, message.network_call_id)
        if reservation is None:
            return
        for call in self.core.model.calls_at(reservation.resource):
            if call.network_call_id == message.network_call_id and call.origin is None:
                self._claim(call, reservation, reservation.resource)
                announce_remote(self.core, call, DeviceId(reservation.origin_dn), at)
                return

    # --- UserData across sites ------------------------------------------------------------

    def data_changed(self, call: Call, by: DeviceId, *, told_by: str = "") -> None:
        """A change of a linked call's UserData: tell the other sites (but *told_by*)."""
        self._send_data(call.conn_id, call.user_data, by, told_by)

    def _send_data(self, conn_id: ConnId, data: KVList, by: str, told_by: str) -> None:
        for link in self.table.links_of(conn_id):
            if link.location != told_by:
                message = p.DataChanged(conn_id=link.conn_id, user_data=dict(data), by=by)
                self.core.to_peer(link.location, message)

    def _data_from_peer(self, location: str, message: p.DataChanged, at: Instant) -> None:
        """Another site changed a linked call's UserData: here too, and on to the rest."""
        call = self.core.model.call(ConnId(message.conn_id))
        if call is None:
            self._relay(location, message)
            return
        if call.user_data == message.user_data:
            return
        call.user_data.clear()
        call.user_data.update(message.user_data)
        announce_remote(self.core, call, DeviceId(message.by), at)
        self.data_changed(call, DeviceId(message.by), told_by=location)

    def _relay(self, location: str, message: p.DataChanged) -> None:
        """A call gone from here still joins two sites: pass their changes on."""
        conn_id = ConnId(message.conn_id)
        relayed = self.table.relays.get(conn_id)
        if relayed is None or relayed == message.user_data:
            return
        self.table.relays[conn_id] = dict(message.user_data)
        self._send_data(conn_id, message.user_data, message.by, location)

    # --- watching calls and time ----------------------------------------------------------

    def watch(self, change: Change, at: Instant) -> None:
        """After a change: calls lost on their way, links following a transfer."""
        if not isinstance(change, PartyChange):
            return
        call = change.call
        if not _lost(change):
            return
        for outgoing in self._moving(call):
            reason = f"the call was lost on its way ({type(change).__name__})"
            self._fail(outgoing, TError.REMOTE_LINK_DISCONNECTED, reason, at)
            self.core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))

    def merged(self, merged: ConnId, call: Call) -> None:
        """A transfer joined *merged* into *call*: a link to another site follows."""
        for link in self.table.merge_links(merged, call.conn_id):
            if link.xid:
                self.core.to_peer(link.location, p.Relinked(xid=link.xid, conn_id=call.conn_id))

    def route_refused(self, call: Call, at: Instant) -> bool:
        """The switch would not route *call* to an access number: the transaction fails."""
        moving = [o for o in self._moving(call) if o.purpose is Purpose.ROUTE]
        for outgoing in moving:
            self._fail(
                outgoing,
                TError.REMOTE_LINK_DISCONNECTED,
                "the switch could not reach the destination site",
                at,
            )
            self.core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))
        return bool(moving)

    def identified_call(self, call: Call) -> None:
        """The switch named *call*'s network call id: tell the destination waiting for it."""
        for outgoing in self._moving(call):
            if outgoing.xroute in BY_NETWORK_CALL_ID and not outgoing.token:
                outgoing.token = call.network_call_id
                identified = p.CallIdentified(
                    xid=outgoing.xid, network_call_id=call.network_call_id
                )
                self.core.to_peer(outgoing.location, identified)

    def _moving(self, call: Call) -> list[Outgoing]:
        """The transactions waiting for *call* to be matched at their destination."""
        return [
            o
            for o in self.table.outgoing.values()
            if call.conn_id in (o.moved_call, o.conn_id) and o.stage is Stage.RESERVED
        ]

    def forget(self, conn_id: ConnId) -> None:
        """Our call *conn_id* ended here: the sites it is linked to forget us."""
        for link in self.table.call_ended(conn_id):
            self.core.to_peer(link.location, p.Unlinked(conn_id=link.conn_id, far_conn_id=conn_id))

    def tick(self, at: Instant) -> None:
        outgoing, reservations = self.table.expired(at.monotonic)
        for item in outgoing:
            self._fail(
                item,
                TError.ISCC_TRANSACTION_TIME_EXPIRED,
                f"no answer from {item.location} in time",
                at,
            )
            self.core.to_peer(item.location, p.Cancel(xid=item.xid))
        for reservation in reservations:
            if reservation.origin == self.settings.location:
                continue
            message = f"the call did not arrive within {self.settings.timeout:g} s"
            self.core.to_peer(
                reservation.origin,
                p.Failed(
                    xid=reservation.xid, code=TError.ISCC_TRANSACTION_TIME_EXPIRED, message=message
                ),
            )

    # --- the peers --------------------------------------------------------------------------

    def peer_up(self, location: str) -> None:
        self.up.add(location)
        self.incompatible.pop(location, None)

    def peer_incompatible(self, location: str, version: str) -> None:
        if location not in self.up:  # not an impostor beside the real one
            self.incompatible[location] = version

    def peer_down(self, location: str, at: Instant) -> None:
        self.up.discard(location)
        self.incompatible.pop(location, None)
        self.table.location_down(location)
        for outgoing in [o for o in self.table.outgoing.values() if o.location == location]:
            self._fail(
                outgoing,
                TError.REMOTE_SERVER_DISCONNECTED,
                f"the CTI server of {location} went away",
                at,
            )
        for key in [
            k
            for k, r in self.table.reservations.items()
            if r.origin == location and r.matched is None
        ]:
            del self.table.reservations[key]

    def received(self, location: str, message: p.PeerMessage, at: Instant) -> None:
        match message:
            case p.Reserve():
                self.core.to_peer(location, self._reserve_resource(location, message, at))
            case p.Reserved():
                self._reserved(location, message, at)
            case (
                p.Refused(xid=xid, code=code, message=text)
                | p.Failed(xid=xid, code=code, message=text)
            ):
                outgoing = self.table.outgoing.get(xid)
                if outgoing is not None and outgoing.location == location:
                    self._fail(outgoing, code, text, at)
            case p.Cancel(xid=xid):
                self.table.reservations.pop((location, xid), None)
                self.core.to_peer(location, p.Cancelled(xid=xid))
            case p.CallIdentified():
                self._identified(location, message, at)
            case p.Started():
                self._started(location, message)
            case p.Unlinked(conn_id=conn_id, far_conn_id=far_conn_id):
                self.table.unlink(ConnId(conn_id), location, far_conn_id)
            case p.Relinked(xid=xid, conn_id=conn_id):
                self._relink(location, xid, conn_id)
            case p.Matched():
                self._matched(location, message, at)
            case p.DataChanged():
                self._data_from_peer(location, message, at)


def site_of(location: str) -> str:
    """A Location is `<SwitchName>` or `<T-Server name>@<SwitchName>` (genesys-tlib.md § 1.4)."""
    return location.rpartition("@")[2]


def _error_code(code: TError | int) -> TError:
    try:
        return TError(code)
    except ValueError:
        return TError.REMOTE_SERVER_ERROR


def _named(name: str) -> XRoute | None:
    try:
        return ALIASES.get(name) or XRoute(name)
    except ValueError:
        return None


def _presented_number(call: Call | None, purpose: Purpose, this_dn: DeviceId) -> str:
    """The calling number the call shows at the destination: a call that is routed or
    single-step transferred keeps its caller; a new call (consultation, …) is this DN's."""
    keeps_caller = purpose in (Purpose.ROUTE, Purpose.SINGLE_STEP_TRANSFER)
    if keeps_caller and call is not None and call.calling:
        return str(call.calling)
    return this_dn


def _lost(change: PartyChange) -> bool:
    """A change that means the call will not reach the other site."""
    if isinstance(change, (PartyAbandoned, DestinationBusy)):
        return True
    return isinstance(change, PartyReleased) and change.call_state is CallState.OK
