"""ISCC transactions as pure bookkeeping: what each site remembers of a call moving
between sites, and the matching rules (docs/iscc.md).

At the origin, an Outgoing transaction waits for the destination's access resource,
then for its call to be matched there.  At the destination, a Reservation holds an
access resource until its call arrives and is matched, or until `timeout`.

Matching an arriving call at the destination, by transaction type:

    route, dnis-pool        the call reaches the reserved routing point (ERP, or DNIS)
    route-uui               the same, and its UUI is the reservation's token
    direct-uui, direct-digits   the call reaches the DN and its UUI is the token
    direct-ani              the call reaches the DN from the origin's number (ANI)
    direct-callid, direct-network-callid   the call's network call id is the one the
                            origin reported after dialling (CallIdentified)
    direct-notoken          the first call to reach the DN
    pullback, reroute       the call comes back to the site it came from, its UUI the
                            token (reroute: to a routing point, to be routed again)

A matched call is linked to its instances at other sites (`links`, one per transaction
that moved it), for UserData propagation.  A call that has left this switch's DNs but
links two other sites (A -> here -> C, transferred on) stays as a relay: their UserData
changes pass through it until one of them says its instance ended.  With
match-call-once, a call is matched at most once.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import KVList, XRouteType


class XRoute(enum.StrEnum):
    ROUTE = "route"
    ROUTE_UUI = "route-uui"
    DIRECT_CALLID = "direct-callid"
    DIRECT_ANI = "direct-ani"
    DIRECT_UUI = "direct-uui"
    DIRECT_NOTOKEN = "direct-notoken"
    DIRECT_DIGITS = "direct-digits"
    DNIS_POOL = "dnis-pool"
    PULLBACK = "pullback"
    REROUTE = "reroute"
    DIRECT_NETWORK_CALLID = "direct-network-callid"


class MatchKey(enum.Enum):
    """What the destination matches an arriving call by (besides where it arrives)."""

    ARRIVAL = "arrival"  # the first call to reach the reserved resource
    UUI = "uui"  # its user-to-user information is the transaction's token
    ANI = "ani"  # it presents the origin's number
    NETWORK_CALL_ID = "network-call-id"  # the id the origin reports after dialling


class Token(enum.Enum):
    """Where the transaction's token comes from."""

    NONE = "none"
    GENERATED = "generated"  # the destination makes one and the origin sends it as UUI
    DIGITS = "digits"  # the origin's direct-digits-key value (or, lacking it, generated)
    NETWORK_CALL_ID = "network-call-id"  # learnt by the origin once the call is dialled


class Resource(enum.Enum):
    """The access resource the destination reserves."""

    DN = "dn"  # the destination DN itself
    EXTERNAL_ROUTING_POINT = "external-routing-point"  # from [iscc] route-dn
    DNIS_POOL = "dnis-pool"  # from [iscc] dnis-pool


@dataclass(frozen=True, slots=True)
class TransactionType:
    """One ISCC transaction type: how the call crosses and how it is recognised."""

    xroute: XRoute
    tlib: XRouteType  # its T-Library XRouteType
    aliases: tuple[str, ...]
    match: MatchKey
    token: Token
    resource: Resource
    returns_call: bool  # the call goes back to the site it came from (OtherDN: its DN there)
    other_dn_optional: bool  # without OtherDN the destination's default-dn is used
    routed_again: bool = False  # OtherDN must be a routing point there (reroute)

    @property
    def through_routing_points(self) -> bool:
        """The call reaches a routing point there and is routed on to the target."""
        return self.resource is not Resource.DN


def _row(
    xroute: XRoute,
    tlib: XRouteType,
    match: MatchKey,
    token: Token = Token.NONE,
    resource: Resource = Resource.DN,
    *,
    aliases: tuple[str, ...] = (),
    returns_call: bool = False,
    other_dn_optional: bool = True,
    routed_again: bool = False,
) -> tuple[XRoute, TransactionType]:
    row = TransactionType(
        xroute, tlib, aliases, match, token, resource, returns_call, other_dn_optional, routed_again
    )
    return xroute, row


X, T, M, K, R = XRoute, XRouteType, MatchKey, Token, Resource
ERP, DNIS = R.EXTERNAL_ROUTING_POINT, R.DNIS_POOL
# The Genesys types, their XRouteType numbers and aliases, and which use default-dn.
TRANSACTION_TYPES: Final[Mapping[XRoute, TransactionType]] = dict(
    [
        _row(X.ROUTE, T.ROUTE, M.ARRIVAL, K.NONE, ERP, aliases=("route-notoken",)),
        _row(X.ROUTE_UUI, T.ROUTE_UUI, M.UUI, K.GENERATED, ERP),
        _row(X.DIRECT_CALLID, T.DIRECT, M.NETWORK_CALL_ID, K.NETWORK_CALL_ID, aliases=("direct",)),
        _row(X.DIRECT_NETWORK_CALLID, T.DIRECT_NETWORK_CALL_ID, M.NETWORK_CALL_ID,
             K.NETWORK_CALL_ID),
        _row(X.DIRECT_UUI, T.DIRECT_UUI, M.UUI, K.GENERATED),
        _row(X.DIRECT_ANI, T.DIRECT_ANI, M.ANI),
        _row(X.DIRECT_NOTOKEN, T.DIRECT_NO_TOKEN, M.ARRIVAL),
        _row(X.DIRECT_DIGITS, T.DIRECT_DIGITS, M.UUI, K.DIGITS),
        _row(X.DNIS_POOL, T.DNIS_POOLING, M.ARRIVAL, K.NONE, DNIS, other_dn_optional=False),
        _row(X.PULLBACK, T.PULL_BACK, M.UUI, K.GENERATED, returns_call=True,
             other_dn_optional=False),
        _row(X.REROUTE, T.REROUTE, M.UUI, K.GENERATED, returns_call=True, other_dn_optional=False,
             routed_again=True),
    ]
)  # fmt: skip
FROM_TLIB: Final[Mapping[XRouteType, TransactionType]] = {
    row.tlib: row for row in TRANSACTION_TYPES.values()
}


def transaction_type(name: str) -> TransactionType | None:
    """The type a name or alias stands for (cast-type, Extensions iscc-xaction-type)."""
    for row in TRANSACTION_TYPES.values():
        if name == row.xroute.value or name in row.aliases:
            return row
    return None


class Purpose(enum.Enum):
    """What the origin does with the access number."""

    ANSWER = "answer"  # RequestGetAccessNumber: give it to the client
    RESERVE_AGENT = "reserve-agent"  # RequestReserveAgentAndGetAccessNumber: the same, and
    # the agent at the destination is held reserved until the transaction ends
    ROUTE = "route"  # RequestRouteCall
    MAKE_CALL = "make-call"
    CONSULT_TRANSFER = "consult-transfer"
    CONSULT_CONFERENCE = "consult-conference"
    MUTE_TRANSFER = "mute-transfer"
    SINGLE_STEP_TRANSFER = "single-step-transfer"


# The requests that move a call to another site when they name a Location (§ 3.2).
PURPOSES: Final[Mapping[str, Purpose]] = {
    "RequestRouteCall": Purpose.ROUTE,
    "RequestMakeCall": Purpose.MAKE_CALL,
    "RequestInitiateTransfer": Purpose.CONSULT_TRANSFER,
    "RequestInitiateConference": Purpose.CONSULT_CONFERENCE,
    "RequestMuteTransfer": Purpose.MUTE_TRANSFER,
    "RequestSingleStepTransfer": Purpose.SINGLE_STEP_TRANSFER,
}
# Purposes whose request acts on a call that exists (the others create one).
ON_A_CALL: Final = frozenset({Purpose.ROUTE, Purpose.SINGLE_STEP_TRANSFER})
# The requests that only ask for an access number, which the client dials itself.
ANSWERS: Final[Mapping[str, Purpose]] = {
    "RequestGetAccessNumber": Purpose.ANSWER,
    "RequestReserveAgentAndGetAccessNumber": Purpose.RESERVE_AGENT,
}
ANSWERING: Final = frozenset(ANSWERS.values())


def agent_holder(origin: str, xid: str) -> str:
    """Who holds an agent reserved by transaction *xid* of *origin*, as the model's
    Reservation.holder says it (marked, so that no client's ClientSessionID is taken
    for it)."""
    return f"iscc:{origin}:{xid}"


def site_of(location: str) -> str:
    """A Location is `<SwitchName>` or `<T-Server name>@<SwitchName>` (docs/iscc.md)."""
    return location.rpartition("@")[2]


class Stage(enum.Enum):
    REQUESTED = "requested"  # waiting for the destination's access resource
    RESERVED = "reserved"  # the request was carried out with the number; the call is on its way
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a transaction ended at the destination: matched there (its ConnID) or not."""

    far_conn_id: str | None = None
    code: int = 0
    message: str = ""

    @property
    def matched(self) -> bool:
        return self.far_conn_id is not None


@dataclass(slots=True, kw_only=True)
class Outgoing:
    xid: str
    location: str
    xroute: XRoute
    purpose: Purpose
    client: ClientId
    reference_id: int
    this_dn: DeviceId
    target: str  # the DN at the destination ("" for its default-dn)
    conn_id: ConnId | None = None  # the call at the origin
    user_data: KVList = field(default_factory=dict)
    digits: str = ""
    ani: str = ""  # the number the call presents at the destination
    stage: Stage = Stage.REQUESTED
    access_number: str = ""
    token: str = ""
    deadline: float = 0.0
    request: str = ""  # the T-Library request, for messages
    moved_call: ConnId | None = None  # the origin call that crosses (a new one: promised)
    answered: bool = False  # the request carried out has had its first event here
    outcome: Outcome | None = None  # the destination's word, told once answered
    first: tuple[str, str, str] = ("", "", "")  # where the call's journey began, if not here
    agent_id: str = ""  # RESERVE_AGENT: the agent to hold reserved there
    place: str = ""


@dataclass(slots=True, kw_only=True)
class Reservation:
    xid: str
    origin: str
    xroute: XRoute
    resource: DeviceId  # the DN, routing point or DNIS reserved
    target: DeviceId  # where the call goes in the end
    user_data: KVList
    origin_conn_id: str
    origin_dn: str
    ani: str = ""
    token: str = ""
    network_call_id: str = ""
    deadline: float = 0.0
    matched: ConnId | None = None
    first: tuple[str, str, str] = ("", "", "")  # where the call's journey began
    holds_agent: bool = False  # an agent is reserved for it (agent_holder)


@dataclass(frozen=True, slots=True)
class Link:
    """One of our calls, and its instance at another site."""

    location: str
    conn_id: str
    origin_dn: str = ""
    xid: str = ""  # the transaction that linked them


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the destination knows of an arriving call, for matching."""

    conn_id: ConnId
    at: DeviceId
    ani: str | None
    dnis: str | None
    uui: str
    network_call_id: str
    already_matched: bool


class Refusal(Exception):
    def __init__(self, code: TError, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Transactions:
    def __init__(self, location: str) -> None:
        self.location = location
        self.outgoing: dict[str, Outgoing] = {}
        self.reservations: dict[tuple[str, str], Reservation] = {}
        self.links: dict[ConnId, list[Link]] = {}
        self.relays: dict[ConnId, KVList] = {}  # calls gone here, with the data last relayed
        self.in_flight: set[ConnId] = set()  # relays waiting for a transaction to end
        self._serial = itertools.count(1)
        # (deadline, xid) of outgoing transactions and (deadline, (origin, xid)) of
        # reservations, each a heap: one entry per deadline set; an entry whose
        # transaction ended, or whose deadline moved, lingers until it reaches the top
        self._outgoing_due: list[tuple[float, str]] = []
        self._reservations_due: list[tuple[float, tuple[str, str]]] = []

    def new_xid(self) -> str:
        return f"{self.location}:{next(self._serial)}"

    def token(self) -> str:
        """A token of digits for UUI or digit matching, unique at this site."""
        return f"{next(self._serial) % 10**8:08d}"

    def add_outgoing(self, outgoing: Outgoing) -> None:
        self.outgoing[outgoing.xid] = outgoing
        self.outgoing_due(outgoing)

    def outgoing_due(self, outgoing: Outgoing) -> None:
        """*outgoing*'s deadline was set: the next deadline may be sooner."""
        heapq.heappush(self._outgoing_due, (outgoing.deadline, outgoing.xid))

    def add_reservation(self, reservation: Reservation) -> None:
        key = reservation.origin, reservation.xid
        self.reservations[key] = reservation
        heapq.heappush(self._reservations_due, (reservation.deadline, key))

    def next_outgoing_deadline(self) -> float | None:
        """The first deadline of an outgoing transaction still going, without a scan."""
        heap, outgoing = self._outgoing_due, self.outgoing
        while heap:
            deadline, xid = heap[0]
            item = outgoing.get(xid)
            if item is not None and item.stage is not Stage.DONE and item.deadline == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    def next_reservation_deadline(self) -> float | None:
        """The first deadline of a reservation still unmatched, without a scan."""
        heap, reservations = self._reservations_due, self.reservations
        while heap:
            deadline, key = heap[0]
            item = reservations.get(key)
            if item is not None and item.matched is None and item.deadline == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    # --- destination ---------------------------------------------------------------------

    def holding(self, resource: DeviceId) -> list[Reservation]:
        return [
            r for r in self.reservations.values() if r.resource == resource and r.matched is None
        ]

    def match(self, facts: CallFacts, *, once: bool) -> Reservation | None:
        """The reservation an arriving call belongs to, if any (see the module rules)."""
        if once and facts.already_matched:
            return None
        for reservation in self.holding(facts.at):
            if _matches(reservation, facts):
                reservation.matched = facts.conn_id
                return reservation
        return None

    def identified(self, origin: str, xid: str, network_call_id: str) -> Reservation | None:
        reservation = self.reservations.get((origin, xid))
        if reservation is not None:
            reservation.network_call_id = network_call_id
        return reservation

    def expired(self, now: float) -> tuple[list[Outgoing], list[Reservation]]:
        """Remove and return what is past its deadline."""
        outgoing = [
            o for o in self.outgoing.values() if o.stage is not Stage.DONE and o.deadline <= now
        ]
        for item in outgoing:
            del self.outgoing[item.xid]
        reservations = [
            r for r in self.reservations.values() if r.matched is None and r.deadline <= now
        ]
        for reservation in reservations:
            del self.reservations[reservation.origin, reservation.xid]
        return outgoing, reservations

    # --- links ----------------------------------------------------------------------------

    def link(self, conn_id: ConnId, link: Link) -> None:
        """Link our call *conn_id* to another site's instance; one link per transaction."""
        links = self.links.setdefault(conn_id, [])
        links[:] = [old for old in links if (old.location, old.xid) != (link.location, link.xid)]
        links.append(link)

    def links_of(self, conn_id: ConnId) -> list[Link]:
        return self.links.get(conn_id, [])

    def merge_links(self, merged: ConnId, into: ConnId) -> list[Link]:
        """A transfer or conference joined call *merged* into *into*: its links follow."""
        moved = self.links.pop(merged, [])
        for link in moved:
            self.link(into, link)
        return moved

    def relink(self, location: str, xid: str, conn_id: str) -> list[tuple[ConnId, Link]]:
        """The far end of the links made by *xid* is now *conn_id* at *location*.

        Returns our calls whose link changed, each with its link as it was."""
        changed: list[tuple[ConnId, Link]] = []
        for ours, links in self.links.items():
            for n, old in enumerate(links):
                if old.location == location and old.xid == xid:
                    links[n] = Link(location, conn_id, old.origin_dn, xid)
                    changed.append((ours, old))
        return changed

    def unlink(self, conn_id: ConnId, location: str, far_conn_id: str) -> None:
        """The instance *far_conn_id* at *location* of our call *conn_id* ended."""
        if conn_id not in self.links:
            return  # forgotten already (both ends said so at once)
        links = [
            link
            for link in self.links.get(conn_id, [])
            if (link.location, link.conn_id) != (location, far_conn_id)
        ]
        self.links[conn_id] = links
        waiting = conn_id in self.in_flight
        if conn_id in self.relays and not waiting and _sites(links) < 2:
            self.forget_call(conn_id)

    def call_ended(self, conn_id: ConnId, *, in_flight: bool = False) -> list[Link]:
        """Our call ended here.  Returns the links to tell; one that joins two other
        sites stays as a relay instead, and nothing is told yet.  So does one that is
        *in_flight* to another site (a transaction moves it there): it will join two."""
        links = self.links_of(conn_id)
        if in_flight or _sites(links) >= 2:
            self.relays.setdefault(conn_id, {})
            if in_flight:
                self.in_flight.add(conn_id)
            return []
        self.forget_call(conn_id)
        return links

    def settle(self, conn_id: ConnId) -> list[Link]:
        """The transaction that was moving relayed call *conn_id* ended (matched, and
        linked, or not): if the relay joins fewer than two sites now, it goes, and
        returns the links to tell."""
        self.in_flight.discard(conn_id)
        if conn_id not in self.relays or _sites(self.links_of(conn_id)) >= 2:
            return []
        links = self.links_of(conn_id)
        self.forget_call(conn_id)
        return links

    def location_down(self, location: str) -> None:
        """No relay through a site that went away."""
        for conn_id in list(self.relays):
            self.unlink_all(conn_id, location)

    def unlink_all(self, conn_id: ConnId, location: str) -> None:
        for link in [link for link in self.links_of(conn_id) if link.location == location]:
            self.unlink(conn_id, location, link.conn_id)

    def forget_call(self, conn_id: ConnId) -> None:
        self.links.pop(conn_id, None)
        self.relays.pop(conn_id, None)
        self.in_flight.discard(conn_id)
        for key in [k for k, r in self.reservations.items() if r.matched == conn_id]:
            del self.reservations[key]


def _sites(links: list[Link]) -> int:
    """How many distinct instances elsewhere *links* name."""
    return len({(link.location, link.conn_id) for link in links})


def _matches(reservation: Reservation, facts: CallFacts) -> bool:
    match TRANSACTION_TYPES[reservation.xroute].match:
        case MatchKey.ARRIVAL:
            return True
        case MatchKey.ANI:
            return bool(facts.ani) and facts.ani == reservation.ani
        case MatchKey.UUI:
            return bool(facts.uui) and facts.uui == reservation.token
        case MatchKey.NETWORK_CALL_ID:
            known = facts.network_call_id
            return bool(known) and known == reservation.network_call_id
