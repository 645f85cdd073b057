"""ISCC transactions as pure bookkeeping: what each site remembers of a call moving
between sites, and the matching rules (genesys-tlib.md § 3.1).

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
import itertools
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


ALIASES: Final = {"direct": XRoute.DIRECT_CALLID, "route-notoken": XRoute.ROUTE}
FROM_TLIB: Final = {
    XRouteType.ROUTE: XRoute.ROUTE,
    XRouteType.DIRECT: XRoute.DIRECT_CALLID,
    XRouteType.REROUTE: XRoute.REROUTE,
    XRouteType.DIRECT_UUI: XRoute.DIRECT_UUI,
    XRouteType.DIRECT_ANI: XRoute.DIRECT_ANI,
    XRouteType.DIRECT_NO_TOKEN: XRoute.DIRECT_NOTOKEN,
    XRouteType.DNIS_POOLING: XRoute.DNIS_POOL,
    XRouteType.DIRECT_DIGITS: XRoute.DIRECT_DIGITS,
    XRouteType.PULL_BACK: XRoute.PULLBACK,
    XRouteType.ROUTE_UUI: XRoute.ROUTE_UUI,
    XRouteType.DIRECT_NETWORK_CALL_ID: XRoute.DIRECT_NETWORK_CALLID,
}
THROUGH_ROUTING_POINTS: Final = frozenset({XRoute.ROUTE, XRoute.ROUTE_UUI, XRoute.DNIS_POOL})
BY_UUI: Final = frozenset(
    {XRoute.ROUTE_UUI, XRoute.DIRECT_UUI, XRoute.DIRECT_DIGITS, XRoute.PULLBACK, XRoute.REROUTE}
)
BY_NETWORK_CALL_ID: Final = frozenset({XRoute.DIRECT_CALLID, XRoute.DIRECT_NETWORK_CALLID})
# Types that send a call back to the site it came from.
RETURNING: Final = frozenset({XRoute.PULLBACK, XRoute.REROUTE})
# Types whose destination DN is optional (default-dn), genesys-tlib.md § 3.2.
USE_DEFAULT_DN: Final = frozenset(
    {
        XRoute.ROUTE, XRoute.ROUTE_UUI, XRoute.DIRECT_CALLID, XRoute.DIRECT_NETWORK_CALLID,
        XRoute.DIRECT_UUI, XRoute.DIRECT_NOTOKEN, XRoute.DIRECT_DIGITS, XRoute.DIRECT_ANI,
    }
)  # fmt: skip


class Purpose(enum.Enum):
    """What the origin does with the access number."""

    ANSWER = "answer"  # RequestGetAccessNumber: give it to the client
    ROUTE = "route"  # RequestRouteCall
    MAKE_CALL = "make-call"
    CONSULT_TRANSFER = "consult-transfer"
    CONSULT_CONFERENCE = "consult-conference"
    MUTE_TRANSFER = "mute-transfer"
    SINGLE_STEP_TRANSFER = "single-step-transfer"


class Stage(enum.Enum):
    REQUESTED = "requested"  # waiting for the destination's access resource
    RESERVED = "reserved"  # the number is known; the call is on its way
    DONE = "done"


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
    moved_call: ConnId | None = None  # the origin call that crosses (consultation, …)


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
        self._serial = itertools.count(1)

    def new_xid(self) -> str:
        return f"{self.location}:{next(self._serial)}"

    def token(self) -> str:
        """A token of digits for UUI or digit matching, unique at this site."""
        return f"{next(self._serial) % 10**8:08d}"

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
        if conn_id in self.relays and _sites(links) < 2:
            self.forget_call(conn_id)

    def call_ended(self, conn_id: ConnId) -> list[Link]:
        """Our call ended here.  Returns the links to tell; one that joins two other
        sites stays as a relay instead, and nothing is told yet."""
        links = self.links_of(conn_id)
        if _sites(links) >= 2:
            self.relays.setdefault(conn_id, {})
            return []
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
        for key in [k for k, r in self.reservations.items() if r.matched == conn_id]:
            del self.reservations[key]


def _sites(links: list[Link]) -> int:
    """How many distinct instances elsewhere *links* name."""
    return len({(link.location, link.conn_id) for link in links})


def _matches(reservation: Reservation, facts: CallFacts) -> bool:
    match reservation.xroute:
        case XRoute.ROUTE | XRoute.DNIS_POOL | XRoute.DIRECT_NOTOKEN:
            return True
        case XRoute.DIRECT_ANI:
            return bool(facts.ani) and facts.ani == reservation.ani
        case xroute if xroute in BY_UUI:
            return bool(facts.uui) and facts.uui == reservation.token
        case xroute if xroute in BY_NETWORK_CALL_ID:
            return (
                bool(facts.network_call_id) and facts.network_call_id == reservation.network_call_id
            )
    return False
