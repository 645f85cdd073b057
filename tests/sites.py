"""Several sites in memory: each a pure harness (tests/wire.py), the T-Server core and its
own pbxsim switch; the switches joined by trunks, the cores by ISCC, as in production.

What one site sends another (a trunk message, an ISCC message) waits in one queue and
is carried in the order it was sent; ISCC messages go through the peer protocol's codec
(ctiserver.iscc.protocol) as bytes.  Nothing runs an event loop; time is told to every
site at once.  Every action goes through Sites, which carries what it caused until all
is quiet:

    sites = Sites(SITE_A, SITE_B)
    a = sites["SiteA"].client("7001")
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN="7001", OtherDN="7101", Location="SiteB")

SiteA: extensions 7001-7005, routing point 5000, ACD queue 8001; dials SiteB with 9.
SiteB: extensions 7101-7105, routing point 5001, external routing points 5100-5101,
       DNIS pool 6000-6001, ACD queue 8101, default DN 7105; dials SiteA with 8, SiteC
       with 4.
SiteC: extensions 7201-7205, external routing point 5200; dials SiteB with 3.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ctiserver.doors.address import Address
from ctiserver.ids import ClientId, DeviceId
from ctiserver.iscc.protocol import NEED_DATA, IsccConnection, PeerMessage
from ctiserver.iscc.settings import IsccPeer, IsccSettings
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, PbxsimSettings, RoutingPoint, Trunk
from ctiserver.pbxsim.outcome import TrunkLinkId, TrunkSend
from ctiserver.pbxsim.phone import PhoneAction
from ctiserver.tserver.port import CoreSettings, SendToPeer
from tests.wire import Wire

TIMERS = {"request_timeout": 2.0, "timeout": 3.0}
NOWHERE = Address("127.0.0.1", 1)  # the peers' servers: in memory here, never dialled


@dataclass(frozen=True)
class Plan:
    """One site: its DNs, and the prefix its switch dials to reach each other site."""

    location: str
    first: int  # the first of five extensions
    prefixes: Mapping[str, str]
    routing_point: str | None = None
    queue: str | None = None
    external_routing_points: tuple[str, ...] = ()
    dnis_pool: tuple[str, ...] = ()
    default_dn: str | None = None
    agents: tuple[str, ...] = ()
    access_codes: Mapping[str, str] | None = None  # what ISCC dials (default: the prefixes)
    extra: Mapping[str, Any] = field(default_factory=dict)  # more IsccSettings

    @property
    def stations(self) -> list[str]:
        return [str(self.first + n) for n in range(5)]

    @property
    def points(self) -> list[str]:
        point = [self.routing_point] if self.routing_point else []
        return [*point, *self.external_routing_points, *self.dnis_pool]

    def pbx(self) -> PbxConfig:
        return PbxConfig(
            name=self.location,
            stations=tuple(self.stations),
            acd_groups=(AcdGroup(number=self.queue),) if self.queue else (),
            routing_points=tuple(RoutingPoint(number=n, route_timeout=60.0) for n in self.points),
            agents=self.agents,
            settings=PbxsimSettings(
                trunks=tuple(
                    Trunk(name=self.location + other, prefix=prefix)
                    for other, prefix in self.prefixes.items()
                )
            ),
        )

    def dns(self) -> dict[DeviceId, DnKind]:
        dns = {DeviceId(n): DnKind.EXTENSION for n in self.stations}
        dns |= {DeviceId(n): DnKind.ROUTING_POINT for n in self.points}
        if self.queue:
            dns[DeviceId(self.queue)] = DnKind.ACD_QUEUE
        return dns

    def iscc(self, **options: Any) -> IsccSettings:
        return IsccSettings(
            peers={
                other: IsccPeer(NOWHERE, code)
                for other, code in (self.access_codes or self.prefixes).items()
            },
            external_routing_points=tuple(DeviceId(n) for n in self.external_routing_points),
            dnis_pool=tuple(DeviceId(n) for n in self.dnis_pool),
            default_dn=DeviceId(self.default_dn) if self.default_dn else None,
            **{**TIMERS, **self.extra, **options},
        )


SITE_A = Plan("SiteA", 7001, {"SiteB": "9"}, routing_point="5000", queue="8001")
SITE_B = Plan(
    "SiteB",
    7101,
    {"SiteA": "8", "SiteC": "4"},
    routing_point="5001",
    queue="8101",
    external_routing_points=("5100", "5101"),
    dnis_pool=("6000", "6001"),
    default_dn="7105",
    agents=("2001",),
)
SITE_C = Plan("SiteC", 7201, {"SiteB": "3"}, external_routing_points=("5200",))


class Sites:
    def __init__(self, *plans: Plan, **iscc_options: Any) -> None:
        self.queue: deque[tuple[Wire, TrunkSend | SendToPeer]] = deque()
        self.wires: dict[str, Wire] = {}
        for number, plan in enumerate(plans):
            settings = CoreSettings(name=f"tserver-{plan.location[-1].lower()}", location=plan.location)  # fmt: skip
            wire = Wire(
                settings=settings,
                pbx=plan.pbx(),
                dns=plan.dns(),
                iscc=plan.iscc(**iscc_options),
                wall=1_795_000_000.0 + 3600 * number,  # each server its own ConnIDs
            )
            wire.leaving = self.queue
            self.wires[plan.location] = wire
        self.links: dict[tuple[str, TrunkLinkId], tuple[str, TrunkLinkId]] = {}
        self.streams: dict[tuple[str, str], IsccConnection] = {}  # (from, to): the bytes
        self.held: dict[tuple[str, str], list[bytes]] = {}  # (from, to): held back
        self.holding: dict[tuple[str, str], tuple[type[PeerMessage], ...]] = {}
        for plan in plans:
            for other in plan.prefixes:
                if other in self.wires:
                    self._trunk(plan.location, other)
                    self.peer_up(plan.location, other)
        self.pump()

    def __getitem__(self, location: str) -> Wire:
        return self.wires[location]

    # --- what people do -------------------------------------------------------------------

    def ask(self, location: str, client: ClientId, request: str, **attributes: Any) -> int:
        reference = self.wires[location].ask(client, request, **attributes)
        self.pump()
        return reference

    def phone(self, location: str, action: PhoneAction) -> None:
        self.wires[location].phone(action)
        self.pump()

    def advance(self, seconds: float) -> None:
        for wire in self.wires.values():
            wire.advance(seconds)
            self.pump()

    def peer_up(self, here: str, there: str) -> None:
        """The ISCC connection between *here* and *there* is up (both hear of it)."""
        for one, other in ((here, there), (there, here)):
            self.streams[other, one] = IsccConnection()
            wire = self.wires[one]
            wire.perform(wire.core.peer_up(other, wire.now()))

    def peer_down(self, here: str, there: str) -> None:
        """The ISCC connection between *here* and *there* breaks."""
        for one, other in ((here, there), (there, here)):
            self.streams.pop((other, one), None)
            wire = self.wires[one]
            wire.perform(wire.core.peer_down(other, wire.now()))
        self.pump()

    def hold(self, here: str, there: str, *kinds: type[PeerMessage]) -> None:
        """Messages from *here* to *there* (of *kinds*, or all) wait until let_go(), as
        on a slow network; held for ever, they are lost."""
        self.held.setdefault((here, there), [])
        self.holding[here, there] = kinds

    def let_go(self, here: str, there: str) -> None:
        """What was held from *here* to *there* arrives now, in order."""
        self.holding.pop((here, there), None)
        for data in self.held.pop((here, there), []):
            self._to_peer(here, there, data)
        self.pump()

    # --- carrying -------------------------------------------------------------------------

    def pump(self) -> None:
        """Carry what the sites send each other until nothing more is on its way."""
        while self.queue:
            sender, item = self.queue.popleft()
            here = sender.core.settings.location
            match item:
                case TrunkSend(link=link, message=message):
                    there, their_link = self.links[here, link]
                    self.wires[there].trunk_message(their_link, message)
                case SendToPeer(location=there, message=message):
                    data = IsccConnection.send(message)
                    kinds = self.holding.get((here, there))
                    if kinds is not None and (not kinds or isinstance(message, kinds)):
                        self.held[here, there].append(data)
                    else:
                        self._to_peer(here, there, data)

    def _to_peer(self, here: str, there: str, data: bytes) -> None:
        stream = self.streams.get((here, there))
        if stream is None:
            return  # the connection is down: the message is lost
        stream.receive_data(data)
        wire = self.wires[there]
        while (message := stream.next_message()) is not NEED_DATA:
            wire.perform(wire.core.peer_message(here, message, wire.now()))

    def _trunk(self, dialler: str, other: str) -> None:
        """The trunk *dialler* dials to reach *other*, up at both ends."""
        at_dialler, outcome = self.wires[dialler].switch.trunk_up(
            dialler + other, other, now=self.wires[dialler].monotonic
        )
        assert not outcome.effects
        at_other, outcome = self.wires[other].switch.trunk_up(
            None, dialler, now=self.wires[other].monotonic
        )
        assert not outcome.effects
        self.links[dialler, at_dialler] = (other, at_other)
        self.links[other, at_other] = (dialler, at_dialler)
