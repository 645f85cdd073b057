"""Two or three sites for ISCC tests: each a CTI server with its embedded pbxsim, the
switches joined by trunks, the servers by ISCC, all on 127.0.0.1 with ports 0.

SiteA: extensions 7001-7010, routing point 5000, ACD queue 8001; dials SiteB with 9.
SiteB: extensions 7101-7110, routing point 5001, external routing points 5100-5103,
       DNIS pool 6000-6003, ACD queue 8101; dials SiteA with 8 and SiteC with 4.
SiteC: extensions 7201-7210, external routing points 5200-5201; dials SiteB with 3.

Trunk AB joins A and B (A dials it), trunk BC joins B and C (B dials it).  On ISCC the
lower location dials the higher, so a site starts after the sites it dials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctiserver.app.config import AcdQueueSettings, IsccPeer, IsccSettings, RoutingPointSettings
from ctiserver.doors.address import Address
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import Trunk
from tests.integration.conftest import Site, SiteFactory, within

ANY = Address("127.0.0.1", 0)
NOWHERE = Address("127.0.0.1", 1)  # a peer that dials us; we never dial it
TIMERS = {"request_timeout": 2.0, "timeout": 3.0, "reconnect_timeout": 0.05, "addp_timeout": 1.0}


def numbers(first: int, count: int, kind: DnKind) -> dict[DeviceId, DnKind]:
    return {DeviceId(str(first + n)): kind for n in range(count)}


@dataclass
class Plan:
    """What one site is: its DNs, and how it reaches the others."""

    location: str
    extensions: int  # the first of ten
    routing_points: tuple[int, ...] = ()
    external_routing_points: tuple[int, ...] = ()
    dnis_pool: tuple[int, ...] = ()
    queue: int | None = None
    trunks: tuple[Trunk, ...] = ()
    peers: dict[str, IsccPeer] = field(default_factory=dict)

    def settings(self, *, listen_trunks: bool, **iscc: Any) -> dict[str, Any]:
        """The sections of this site's configuration (for make_site), with *iscc*'s
        settings changed."""
        points = self.routing_points + self.external_routing_points + self.dnis_pool
        dns = numbers(self.extensions, 10, DnKind.EXTENSION)
        dns |= {DeviceId(str(n)): DnKind.ROUTING_POINT for n in points}
        queues = {}
        if self.queue is not None:
            dns[DeviceId(str(self.queue))] = DnKind.ACD_QUEUE
            queues[DeviceId(str(self.queue))] = AcdQueueSettings(0.0)
        settings = {
            "external_routing_points": tuple(
                DeviceId(str(n)) for n in self.external_routing_points
            ),
            "dnis_pool": tuple(DeviceId(str(n)) for n in self.dnis_pool),
            **TIMERS,
            **iscc,
        }
        return {
            "switch": {"name": self.location},
            "server": {"name": f"tserver-{self.location[-1].lower()}"},
            "site": {
                "dns": dns,
                "routing_points": {DeviceId(str(n)): RoutingPointSettings(60.0) for n in points},
                "acd_queues": queues,
                "agent_logins": tuple(str(2001 + n) for n in range(5)),
            },
            "pbxsim": {"trunk_listen": ANY if listen_trunks else None, "trunks": self.trunks},
            "iscc": IsccSettings(listen=ANY, peers=self.peers, **settings),
        }


def trunk_to(site: Site) -> Address:
    address = site.service.embedded.trunk_address  # type: ignore[union-attr]
    assert address is not None
    return Address(*address)


def iscc_of(site: Site) -> Address:
    assert site.service.iscc_address is not None
    return Address(*site.service.iscc_address)


def plan_b(*, site_c: Site | None = None) -> Plan:
    trunks = [Trunk(name="AB", prefix="8")]
    peers = {"SiteA": IsccPeer(NOWHERE, "8")}
    if site_c is not None:
        trunks.append(Trunk(name="BC", prefix="4", peer=str(trunk_to(site_c))))
        peers["SiteC"] = IsccPeer(iscc_of(site_c), "4")
    return Plan(
        "SiteB",
        7101,
        routing_points=(5001,),
        external_routing_points=(5100, 5101, 5102, 5103),
        dnis_pool=(6000, 6001, 6002, 6003),
        queue=8101,
        trunks=tuple(trunks),
        peers=peers,
    )


def plan_a(site_b: Site, *, ani_prefix: str = "") -> Plan:
    return Plan(
        "SiteA",
        7001,
        routing_points=(5000,),
        queue=8001,
        trunks=(Trunk(name="AB", prefix="9", peer=str(trunk_to(site_b)), ani_prefix=ani_prefix),),
        peers={"SiteB": IsccPeer(iscc_of(site_b), "9")},
    )


def plan_c() -> Plan:
    return Plan(
        "SiteC",
        7201,
        external_routing_points=(5200, 5201),
        trunks=(Trunk(name="BC", prefix="3"),),
        peers={"SiteB": IsccPeer(NOWHERE, "3")},
    )


async def joined(dialler: Site, trunk: str, location: str, other: Site) -> None:
    """Wait until *dialler*'s trunk and ISCC link to *other* (at *location*) are up."""
    await within(dialler.service.embedded.listener.wait_trunk(trunk))  # type: ignore[union-attr]
    await within(dialler.service.runtime.peer_ready(location).wait())
    here = dialler.service.config.switch.name
    await within(other.service.runtime.peer_ready(here).wait())


async def two_sites(
    make_site: SiteFactory,
    a_iscc: dict[str, Any] | None = None,
    b_iscc: dict[str, Any] | None = None,
) -> tuple[Site, Site]:
    """SiteA and SiteB, trunk and ISCC link up."""
    a_iscc = dict(a_iscc or {})
    ani_prefix = a_iscc.pop("ani_prefix", "")
    site_b = await make_site(**plan_b().settings(listen_trunks=True, **(b_iscc or {})))
    a = plan_a(site_b, ani_prefix=ani_prefix)
    site_a = await make_site(**a.settings(listen_trunks=False, **a_iscc))
    await joined(site_a, "AB", "SiteB", site_b)
    return site_a, site_b


async def three_sites(make_site: SiteFactory) -> tuple[Site, Site, Site]:
    """SiteA - SiteB - SiteC in a chain: A and C reach each other only through B."""
    site_c = await make_site(**plan_c().settings(listen_trunks=True))
    site_b = await make_site(**plan_b(site_c=site_c).settings(listen_trunks=True))
    site_a = await make_site(**plan_a(site_b).settings(listen_trunks=False))
    await joined(site_b, "BC", "SiteC", site_c)
    await joined(site_a, "AB", "SiteB", site_b)
    return site_a, site_b, site_c
