"""ISCC between two real servers with security settings: the sites' shared secret and
mutual TLS, wired from the configuration, and the receiving site's user-data-limit."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from ctiserver.app.config import IsccPeer
from tests.integration.certificates import make_certificates
from tests.integration.conftest import SiteFactory, expect, within
from tests.integration.sites import joined, plan_a, plan_b


def with_secret(peers: dict[str, IsccPeer], secret: str) -> dict[str, IsccPeer]:
    return {name: dataclasses.replace(peer, secret=secret) for name, peer in peers.items()}


async def test_sites_sharing_a_secret_link_up_and_serve(make_site: SiteFactory) -> None:
    b = plan_b()
    b.peers = with_secret(b.peers, "shared between A and B")
    site_b = await make_site(**b.settings(listen_trunks=True))
    a = plan_a(site_b)
    a.peers = with_secret(a.peers, "shared between A and B")
    site_a = await make_site(**a.settings(listen_trunks=False))
    await joined(site_a, "AB", "SiteB", site_b)
    client = await site_a.client("7001")
    answer = await client.request(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7105", Location="SiteB",
        XRouteType="Route",
    )  # fmt: skip
    assert answer["AccessNumber"] == "95100"


async def test_user_data_over_the_receiving_sites_limit_is_refused(make_site: SiteFactory) -> None:
    site_b = await make_site(
        **plan_b().settings(listen_trunks=True), options={"user_data_limit": 64}
    )
    site_a = await make_site(**plan_a(site_b).settings(listen_trunks=False))
    await joined(site_a, "AB", "SiteB", site_b)
    client = await site_a.client("7001")
    reference = client.send(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7105", Location="SiteB",
        XRouteType="Route", UserData={"notes": "x" * 100},
    )  # fmt: skip
    error = await expect(client, "EventError", ErrorCode=1018, ReferenceID=reference)
    assert "limit of 64 bytes" in error["ErrorMessage"]
    answer = await client.request(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7105",
        Location="SiteB",
        XRouteType="Route",
        UserData={"case": "A-17"},
    )
    assert answer["AccessNumber"] == "95100"  # the refused one reserved nothing


async def test_sites_on_mutual_tls_link_up_and_refuse_plaintext(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """[server] tls-cert, tls-key, tls-client-ca and tls-ca on both sites: the ISCC link
    comes up over mutual TLS, and B's ISCC port answers no plaintext hello."""
    certificates = make_certificates(tmp_path)
    tls = {
        "tls_cert": certificates.server.cert,
        "tls_key": certificates.server.key,
        "tls_client_ca": certificates.ca,
        "tls_ca": certificates.ca,
    }
    b = plan_b().settings(listen_trunks=True)
    b["server"] |= tls
    site_b = await make_site(**b)
    a = plan_a(site_b).settings(listen_trunks=False)
    a["server"] |= tls
    site_a = await make_site(**a)
    await joined(site_a, "AB", "SiteB", site_b)
    peering = site_b.service.runtime.peering
    assert peering is not None
    assert site_b.service.iscc_address is not None
    reader, writer = await asyncio.open_connection(*site_b.service.iscc_address)
    writer.write(b'{"type":"hello","location":"SiteA","server":"plain"}\n')
    assert await within(reader.read()) == b""  # closed, never greeted
    writer.close()
    assert peering.connected == ["SiteA"]  # the TLS link stays
