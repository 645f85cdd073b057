"""Two (or three) sites for ISCC tests: each a CTI server with its embedded pbxsim, the
switches joined by trunks, the servers by ISCC, all on 127.0.0.1 with ports 0.

SiteA: extensions 7001-7010, routing point 5000, ACD queue 8001; dials SiteB with 9.
SiteB: extensions 7101-7110, external routing points 5100-5103, DNIS pool 6000-6003,
       ACD queue 8101; dials SiteA with 8.
"""

from __future__ import annotations

from typing import Any

from ctiserver.app.config import (
    AcdQueueSettings,
    Address,
    IsccConfig,
    IsccPeer,
    RoutingPointSettings,
    TrunkConfig,
)
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from tests.integration.conftest import Site, SiteFactory, within

ANY = Address("127.0.0.1", 0)
NOWHERE = Address("127.0.0.1", 1)  # a peer that dials us; we never dial it


def numbers(first: int, count: int, kind: DnKind) -> dict[DeviceId, DnKind]:
    return {DeviceId(str(first + n)): kind for n in range(count)}


def site_b_settings(**iscc: Any) -> dict[str, Any]:
    dns = numbers(7101, 10, DnKind.EXTENSION)
    dns |= numbers(5100, 4, DnKind.ROUTING_POINT) | numbers(6000, 4, DnKind.ROUTING_POINT)
    dns[DeviceId("8101")] = DnKind.ACD_QUEUE
    points = {
        dn: RoutingPointSettings(60.0, None) for dn, k in dns.items() if k is DnKind.ROUTING_POINT
    }
    settings = {
        "external_routing_points": tuple(DeviceId(str(5100 + n)) for n in range(4)),
        "dnis_pool": tuple(DeviceId(str(6000 + n)) for n in range(4)),
        "request_timeout": 2.0,
        "timeout": 3.0,
        "reconnect_timeout": 0.05,
        "addp_timeout": 1.0,
        **iscc,
    }
    return {
        "switch_name": "SiteB",
        "server_name": "tserver-b",
        "dns": dns,
        "routing_points": points,
        "acd_queues": {DeviceId("8101"): AcdQueueSettings(0.0)},
        "agent_logins": tuple(str(2001 + n) for n in range(5)),
        "trunk_listen": ANY,
        "trunks": {"toA": TrunkConfig(prefix="8")},
        "iscc": IsccConfig(listen=ANY, peers={"SiteA": IsccPeer(NOWHERE, "8")}, **settings),
    }


def site_a_settings(site_b: Site, *, ani_prefix: str = "", **iscc: Any) -> dict[str, Any]:
    trunk = site_b.service.embedded.trunk_address  # type: ignore[union-attr]
    peer = site_b.service.iscc_address
    assert trunk is not None
    assert peer is not None
    dns = numbers(7001, 10, DnKind.EXTENSION) | {
        DeviceId("5000"): DnKind.ROUTING_POINT,
        DeviceId("8001"): DnKind.ACD_QUEUE,
    }
    settings = {
        "request_timeout": 2.0,
        "timeout": 3.0,
        "reconnect_timeout": 0.05,
        "addp_timeout": 1.0,
        **iscc,
    }
    return {
        "switch_name": "SiteA",
        "server_name": "tserver-a",
        "dns": dns,
        "routing_points": {DeviceId("5000"): RoutingPointSettings(60.0, None)},
        "trunks": {"toB": TrunkConfig(prefix="9", peer=Address(*trunk), ani_prefix=ani_prefix)},
        "iscc": IsccConfig(listen=ANY, peers={"SiteB": IsccPeer(Address(*peer), "9")}, **settings),
    }


async def two_sites(
    make_site: SiteFactory,
    a_iscc: dict[str, Any] | None = None,
    b_iscc: dict[str, Any] | None = None,
) -> tuple[Site, Site]:
    """SiteA and SiteB, trunk and ISCC link up."""
    site_b = await make_site(**site_b_settings(**(b_iscc or {})))
    site_a = await make_site(**site_a_settings(site_b, **(a_iscc or {})))
    await within(site_a.service.embedded.listener.wait_trunk("toB"))  # type: ignore[union-attr]
    await within(site_a.service.runtime.peer_ready("SiteB").wait())
    await within(site_b.service.runtime.peer_ready("SiteA").wait())
    return site_a, site_b
