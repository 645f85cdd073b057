"""ISCC at the origin: a request that moves a call to another site (docs/iscc.md).

A request with a `Location` other than ours (RequestRouteCall, RequestMakeCall,
RequestInitiateTransfer, RequestInitiateConference, RequestMuteTransfer,
RequestSingleStepTransfer), or RequestGetAccessNumber, asks the destination for an
access resource (Reserve); RequestReserveAgentAndGetAccessNumber asks for one and for
its agent to be held reserved (ReserveAgent), and is answered as RequestGetAccessNumber.
With the resource, prefixed by the access code that reaches that site's switch, the core
carries the request out as if OtherDN were that number, with the transaction's UUI
token on the call when its type needs one.

Rules:
1. Before the request is carried out, a refusal, a silent or absent peer ends it: for a
   request on a call (a route, a transfer, a consultation of a call), the client gets
   EventRemoteConnectionFailed naming that call (docs/iscc.md); a request with no
   call yet (RequestMakeCall, RequestGetAccessNumber) is refused with EventError and
   the ISCC code, before any call exists.
2. A request that creates a call (MakeCall, a consultation) has its ConnID chosen before
   the Reserve (the model's promise), so the destination knows the origin's ConnID
   before the call can reach it.
3. Once carried out, the destination's word (Matched, Failed, the call lost on its way)
   is told as EventRemoteConnectionSuccess or EventRemoteConnectionFailed, with the
   ConnID of the moving call, and never before the request's own first event here
   (EventDialing, EventReleased, EventRouteUsed): whichever of the two comes last sends
   it.  If the request itself fails, its EventError is all the client hears.
"""

from __future__ import annotations

import logging
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.settings import IsccSettings
from ctiserver.iscc.transactions import (
    ANSWERING,
    ANSWERS,
    FROM_TLIB,
    ON_A_CALL,
    PURPOSES,
    TRANSACTION_TYPES,
    Outcome,
    Outgoing,
    Purpose,
    Stage,
    Token,
    Transactions,
    TransactionType,
    XRoute,
    site_of,
    transaction_type,
)
from ctiserver.model.changes import (
    DestinationBusy,
    PartyAbandoned,
    PartyChange,
    PartyReleased,
)
from ctiserver.model.values import Call
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import CallState, XRouteType
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.events import access_number, access_number_cancelled, remote_connection
from ctiserver.tserver.iscc.destination import DestinationSide
from ctiserver.tserver.iscc.links import CallLinks
from ctiserver.tserver.iscc.refusals import IsccRefused, error_code
from ctiserver.tserver.port import Core, RequestContext

log = logging.getLogger(__name__)

MAX_ACCESS_NUMBER = 64  # longer than any dialling plan; a longer resource is a broken peer


class Origins(Protocol):
    """What the origin side needs of the core besides its handler verbs."""

    def carry_out(self, ctx: RequestContext, purpose: Purpose, to: Destination) -> None: ...

    def new_conn_id(self) -> ConnId: ...


class Peers(Protocol):
    """Which peers are up (kept by the site)."""

    def why_down(self, location: str) -> tuple[TError, str] | None: ...


class OriginSide:
    def __init__(
        self,
        core: Core,
        origins: Origins,
        settings: IsccSettings,
        table: Transactions,
        peers: Peers,
        destination: DestinationSide,
        links: CallLinks,
    ) -> None:
        self._core = core
        self._links = links
        self._origins = origins
        self._settings = settings
        self._location = core.settings.location  # this site: the switch's name
        self._table = table
        self._peers = peers
        self._destination = destination
        self._contexts: dict[str, RequestContext] = {}

    # --- starting a transaction -----------------------------------------------------------

    def start(self, ctx: RequestContext) -> None:
        """A call-moving request, or RequestGetAccessNumber, for another site (or, for
        RequestGetAccessNumber, with no Location or ours: this site's number)."""
        location = site_of(str(ctx.message.get("Location") or self._location))
        purpose = PURPOSES.get(ctx.name) or ANSWERS[ctx.name]
        if purpose is Purpose.RESERVE_AGENT and not ctx.message.keys() & {"OtherDN", "AgentID"}:
            raise InvalidAttribute(f"{ctx.name} names the agent: OtherDN, AgentID or both")
        if purpose in ANSWERING and location == self._location:
            self._own_access_number(ctx, purpose)
            return
        if location not in self._settings.peers:
            raise IsccRefused(
                TError.NO_SUCH_SERVER, f"no ISCC peer is configured for location {location}"
            )
        outgoing = self._outgoing(ctx, location, purpose)
        self._table.add_outgoing(outgoing)
        self._contexts[outgoing.xid] = ctx
        down = self._peers.why_down(location)
        if down is not None:
            self._refused(outgoing, *down, ctx.at)
            return
        self._core.to_peer(location, self._reserve(outgoing))

    def _outgoing(self, ctx: RequestContext, location: str, purpose: Purpose) -> Outgoing:
        this_dn = controlled_dn(self._core, ctx)
        call = self._call_of(ctx, this_dn, purpose)
        kind = self._kind(ctx)
        target = str(ctx.message.get("OtherDN", ""))
        if kind.returns_call:  # back where the call came from, whether OtherDN is given or not
            came_from = self._return_dn(call, location, kind.xroute)
            target = target or came_from
        user_data = dict(call.user_data) if call is not None else {}
        user_data.update(ctx.message.get("UserData") or {})
        moving = call.conn_id if call is not None and purpose in ON_A_CALL else None
        if purpose not in ANSWERING and moving is None:
            moving = self._origins.new_conn_id()  # rule 2
        return Outgoing(
            xid=self._table.new_xid(),
            location=location,
            xroute=kind.xroute,
            purpose=purpose,
            client=ctx.client,
            reference_id=ctx.reference_id,
            this_dn=this_dn,
            target=target,
            conn_id=call.conn_id if call is not None else None,
            user_data=user_data,
            digits=str(user_data.get(self._settings.direct_digits_key, "")),
            ani=_presented_number(call, purpose, this_dn),
            deadline=ctx.at.monotonic + self._settings.request_timeout,
            request=ctx.name,
            moved_call=moving,
            first=call.origin.first
            if call is not None and call.origin is not None
            else ("", "", ""),
            agent_id=str(ctx.message.get("AgentID", "")),
            place=str(ctx.message.get("Place", "")),
        )

    def cancel(self, ctx: RequestContext) -> None:
        """RequestCancelReqGetAccessNumber: XReferenceID names the request to cancel."""
        wanted = ctx.message["XReferenceID"]
        outgoing = next(
            (o for o in self._table.outgoing.values() if self._cancellable(o, ctx.client, wanted)),
            None,
        )
        if outgoing is None:
            raise IsccRefused(TError.BAD_REQUEST, f"no RequestGetAccessNumber {wanted} is pending")
        self._end(outgoing)
        self._core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))
        self._core.reply(ctx, access_number_cancelled(wanted))

    @staticmethod
    def _cancellable(outgoing: Outgoing, client: ClientId, reference_id: int) -> bool:
        mine = outgoing.client == client and outgoing.reference_id == reference_id
        return mine and outgoing.purpose in ANSWERING

    def _own_access_number(self, ctx: RequestContext, purpose: Purpose) -> None:
        """RequestGetAccessNumber (or RequestReserveAgentAndGetAccessNumber) for this
        very site: one of our own resources (and our agent held reserved)."""
        this_dn = controlled_dn(self._core, ctx)
        reserve = p.Reserve(
            xid=self._table.new_xid(),
            xroute=self._kind(ctx).xroute.value,
            dn=str(ctx.message.get("OtherDN", "")),
            origin_conn_id=str(ctx.message.get("ConnID", "")),
            origin_dn=this_dn,
            user_data=dict(ctx.message.get("UserData") or {}),
        )
        if purpose is Purpose.RESERVE_AGENT:
            agent_id, place = str(ctx.message.get("AgentID", "")), str(ctx.message.get("Place", ""))
            reserve = p.ReserveAgent.of(reserve, agent_id=agent_id, place=place)
        answer = self._destination.reserve(self._location, reserve, ctx.at)
        if isinstance(answer, p.Refused):
            raise IsccRefused(error_code(answer.code), answer.message)
        assert isinstance(answer, p.Reserved)
        event = access_number(answer.resource, this_dn, ctx.message.get("ConnID"))
        self._core.reply(ctx, event)

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

    def _call_of(self, ctx: RequestContext, dn: DeviceId, purpose: Purpose) -> Call | None:
        if purpose in ANSWERING and "ConnID" not in ctx.message:
            return None
        if purpose is Purpose.MAKE_CALL:
            return None
        call, _party = call_at(self._core, ctx, dn)
        if purpose is Purpose.ROUTE and self._core.model.dialogue_for(dn, call.conn_id) is None:
            raise IsccRefused(
                TError.BAD_REQUEST, f"call {call.conn_id} is not waiting for a route at {dn}"
            )
        return call

    def _kind(self, ctx: RequestContext) -> TransactionType:
        asked = ctx.message.get("XRouteType")
        extension = (ctx.message.get("Extensions") or {}).get("iscc-xaction-type")
        kind: TransactionType | None = None
        if asked is not None and asked != XRouteType.DEFAULT:
            kind = FROM_TLIB.get(XRouteType(asked))
        elif isinstance(extension, str):
            kind = transaction_type(extension)
        elif self._settings.cast_types:
            kind = TRANSACTION_TYPES[self._settings.cast_types[0]]
        if kind is None:
            raise IsccRefused(
                TError.ISCC_BAD_XACTION_TYPE,
                f"{asked or extension} is not a transaction type ISCC serves",
            )
        if kind.xroute not in self._settings.cast_types:
            raise IsccRefused(
                TError.ISCC_BAD_XACTION_TYPE,
                f"transaction type {kind.xroute} is not allowed here (cast-type)",
            )
        return kind

    @staticmethod
    def _reserve(outgoing: Outgoing) -> p.Reserve:
        reserve = p.Reserve(
            xid=outgoing.xid,
            xroute=outgoing.xroute.value,
            dn=outgoing.target,
            origin_conn_id=outgoing.moved_call or outgoing.conn_id or "",
            origin_dn=outgoing.this_dn,
            ani=outgoing.ani,
            user_data=outgoing.user_data,
            digits=outgoing.digits,
            first_location=outgoing.first[0],
            first_conn_id=outgoing.first[1],
            first_dn=outgoing.first[2],
        )
        if outgoing.purpose is Purpose.RESERVE_AGENT:
            return p.ReserveAgent.of(reserve, agent_id=outgoing.agent_id, place=outgoing.place)
        return reserve

    # --- the destination's answers -------------------------------------------------------

    def reserved(self, location: str, message: p.Reserved, at: Instant) -> None:
        outgoing = self._table.outgoing.get(message.xid)
        if (
            outgoing is None
            or outgoing.location != location
            or outgoing.stage is not Stage.REQUESTED
        ):
            self._core.to_peer(location, p.Cancel(xid=message.xid))
            return
        number = self._settings.peers[location].access_code + message.resource
        if not _dialable(number):
            self._refused(
                outgoing, TError.NO_ACCESS_NUMBER, "the peer gave an unusable access number", at
            )
            self._core.to_peer(location, p.Cancel(xid=message.xid))
            return
        outgoing.access_number = number
        outgoing.token = message.token
        outgoing.stage = Stage.RESERVED
        outgoing.deadline = at.monotonic + self._settings.timeout + self._settings.request_timeout
        self._table.outgoing_due(outgoing)
        self._carry_out(outgoing)

    def _carry_out(self, outgoing: Outgoing) -> None:
        """Do what the client asked, with the access number as the destination."""
        ctx = self._contexts[outgoing.xid]
        if outgoing.purpose in ANSWERING:
            self._core.reply(
                ctx,
                access_number(outgoing.access_number, outgoing.this_dn, outgoing.conn_id),
            )
            return
        to = Destination(
            DeviceId(outgoing.access_number),
            self._uui(outgoing),
            xid=outgoing.xid,
            conn_id=None if outgoing.purpose in ON_A_CALL else outgoing.moved_call,
        )
        try:
            self._origins.carry_out(ctx, outgoing.purpose, to)
        except Exception as exc:  # the request is refused here: its EventError says why
            self._end(outgoing)
            self._core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))
            self._core.refuse(ctx, exc)

    def _uui(self, outgoing: Outgoing) -> PrivateData | None:
        kind = _kind_of(outgoing)
        if kind.token in (Token.NONE, Token.NETWORK_CALL_ID) or not outgoing.token:
            return None
        element = PrivateElement("uui", outgoing.token)
        return PrivateData(self._core.settings.private_namespace, (element,))

    def moved(self, xid: str, conn_id: ConnId) -> None:
        """The call the transaction moves now exists here (bound to its request)."""
        outgoing = self._table.outgoing.get(xid)
        if outgoing is not None and outgoing.moved_call != conn_id:
            outgoing.moved_call = conn_id
            self._core.to_peer(outgoing.location, p.Started(xid=xid, conn_id=conn_id))

    def answered(self, xid: str, conn_id: ConnId, at: Instant) -> None:
        """The request carried out had an event here; the first about the moving call
        lets the destination's word be told (rule 3)."""
        outgoing = self._table.outgoing.get(xid)
        if outgoing is not None and not outgoing.answered and conn_id == outgoing.moved_call:
            outgoing.answered = True
            self._tell_if_due(outgoing, at)

    def request_failed(self, xid: str, at: Instant) -> None:
        """The request carried out got EventError: the transaction ends quietly."""
        outgoing = self._table.outgoing.get(xid)
        if outgoing is not None and outgoing.stage is Stage.RESERVED:
            self._end(outgoing)
            self._core.to_peer(outgoing.location, p.Cancel(xid=xid))

    def matched(self, location: str, message: p.Matched, at: Instant) -> None:
        """The destination matched the call (the links have joined it to its instance)."""
        outgoing = self._table.outgoing.get(message.xid)
        if outgoing is None or outgoing.location != location:
            return
        outgoing.outcome = Outcome(far_conn_id=message.conn_id)
        if outgoing.purpose in ANSWERING:
            self._end(outgoing)
            return
        self._tell_if_due(outgoing, at)

    def failed(self, location: str, xid: str, code: int, message: str, at: Instant) -> None:
        """Refused or Failed from the destination."""
        outgoing = self._table.outgoing.get(xid)
        if outgoing is not None and outgoing.location == location:
            self._refused(outgoing, code, message, at)

    def _refused(self, outgoing: Outgoing, code: int, message: str, at: Instant) -> None:
        log.info("ISCC transaction %s to %s failed: %s", outgoing.xid, outgoing.location, message)
        if outgoing.stage is Stage.REQUESTED:  # rule 1
            ctx = self._contexts.get(outgoing.xid)
            if outgoing.conn_id is not None and outgoing.purpose not in ANSWERING:
                outgoing.outcome, outgoing.answered = Outcome(code=code, message=message), True
                outgoing.moved_call = outgoing.conn_id
                self._tell_if_due(outgoing, at)
                return
            self._end(outgoing)
            if ctx is not None:
                self._core.refuse(ctx, IsccRefused(error_code(code), message))
            return
        if outgoing.purpose in ANSWERING:
            self._end(outgoing)  # the client has its number; the reservation lapsed
            return
        outgoing.outcome = Outcome(code=code, message=message)
        self._tell_if_due(outgoing, at)

    def _tell_if_due(self, outgoing: Outgoing, at: Instant) -> None:
        """Rule 3: the outcome, once the request has had its own first event."""
        if outgoing.outcome is None or not outgoing.answered:
            return
        conn_id = outgoing.moved_call or outgoing.conn_id
        assert conn_id is not None  # a call that moves has one (rules 1 and 2)
        event = remote_connection(outgoing.outcome.matched, outgoing.this_dn, conn_id)
        event["ReferenceID"] = outgoing.reference_id
        self._end(outgoing)
        self._core.send(event, (outgoing.client,), at)

    def _end(self, outgoing: Outgoing) -> None:
        outgoing.stage = Stage.DONE
        self._table.outgoing.pop(outgoing.xid, None)
        self._contexts.pop(outgoing.xid, None)
        if outgoing.moved_call is not None:  # kept to relay to where it went, it may go now
            self._links.settle(outgoing.moved_call)

    def in_flight(self, conn_id: ConnId) -> bool:
        """A transaction is moving call *conn_id* to another site and has not ended."""
        return bool(self._moving(conn_id))

    # --- watching the moving call ---------------------------------------------------------

    def watch(self, change: PartyChange, at: Instant) -> None:
        """After a call event: a call lost on its way fails its transactions."""
        if not _lost(change):
            return
        for outgoing in self._moving(change.call.conn_id):
            reason = f"the call was lost on its way ({type(change).__name__})"
            self._refused(outgoing, TError.REMOTE_LINK_DISCONNECTED, reason, at)
            self._core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))

    def route_refused(self, call: Call, at: Instant) -> bool:
        """The switch would not route *call* to an access number: the transaction fails."""
        moving = [o for o in self._moving(call.conn_id) if o.purpose is Purpose.ROUTE]
        for outgoing in moving:
            outgoing.answered = True
            self._refused(
                outgoing,
                TError.REMOTE_LINK_DISCONNECTED,
                "the switch could not reach the destination site",
                at,
            )
            self._core.to_peer(outgoing.location, p.Cancel(xid=outgoing.xid))
        return bool(moving)

    def identified_call(self, call: Call) -> None:
        """The switch named *call*'s network call id: tell the destination waiting for it."""
        for outgoing in self._moving(call.conn_id):
            if _kind_of(outgoing).token is Token.NETWORK_CALL_ID and not outgoing.token:
                outgoing.token = call.network_call_id
                message = p.CallIdentified(xid=outgoing.xid, network_call_id=call.network_call_id)
                self._core.to_peer(outgoing.location, message)

    def _moving(self, conn_id: ConnId) -> list[Outgoing]:
        """The transactions waiting for *conn_id* to be matched at their destination."""
        return [
            o
            for o in self._table.outgoing.values()
            if conn_id in (o.moved_call, o.conn_id) and o.stage is Stage.RESERVED
        ]

    # --- time and peers -------------------------------------------------------------------

    def expired(self, outgoing: list[Outgoing], at: Instant) -> None:
        for item in outgoing:
            message = f"no answer from {item.location} in time"
            self._refused(item, TError.ISCC_TRANSACTION_TIME_EXPIRED, message, at)
            self._core.to_peer(item.location, p.Cancel(xid=item.xid))

    def peer_down(self, location: str, at: Instant) -> None:
        for outgoing in [o for o in self._table.outgoing.values() if o.location == location]:
            message = f"the CTI server of {location} went away"
            self._refused(outgoing, TError.REMOTE_SERVER_DISCONNECTED, message, at)

    def next_deadline(self) -> float | None:
        return self._table.next_outgoing_deadline()


def _kind_of(outgoing: Outgoing) -> TransactionType:
    return TRANSACTION_TYPES[outgoing.xroute]


def _dialable(number: str) -> bool:
    return 0 < len(number) <= MAX_ACCESS_NUMBER and number.isprintable() and " " not in number


def _presented_number(call: Call | None, purpose: Purpose, this_dn: DeviceId) -> str:
    """The calling number the call shows at the destination: a call that is routed or
    single-step transferred keeps its caller; a new call (consultation, …) is this DN's."""
    if purpose in ON_A_CALL and call is not None and call.calling:
        return str(call.calling)
    return this_dn


def _lost(change: PartyChange) -> bool:
    """A change that means the call will not reach the other site."""
    if isinstance(change, (PartyAbandoned, DestinationBusy)):
        return True
    return isinstance(change, PartyReleased) and change.call_state is CallState.OK
