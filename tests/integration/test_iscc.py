"""ISCC through sockets (call-models.md § 14): two servers with their switches joined by
trunks move calls and their UserData between sites."""

from __future__ import annotations

from tests.integration.conftest import SiteFactory, check, expect
from tests.integration.sites import two_sites


async def test_route_a_call_to_another_site(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    caller, router = await site_a.client("7001"), await site_a.client("5000")
    agent = await site_b.client("7101")
    c1 = (await caller.make_call("7001", "5000", user_data={"case": "A-17"}))["ConnID"]
    await expect(router, "EventRouteRequest", ConnID=c1)
    used = await router.route_call("5000", c1, "7101", Location="SiteB")
    check(used, "EventRouteUsed", ConnID=c1, ThirdPartyDN="95100")
    await expect(router, "EventRouteUsed")
    ringing = await expect(
        agent,
        "EventRinging",
        ThisDN="7101",
        UserData={"case": "A-17"},
        LastTransferConnID=c1,
        LastTransferHomeLocation="SiteA",
        CallType="Inbound",
    )
    success = await expect(
        router,
        "EventRemoteConnectionSuccess",
        ConnID=c1,
        ThisDN="5000",
        ReferenceID=used["ReferenceID"],
    )
    assert set(success) == {
        "Event",
        "ConnID",
        "ThisDN",
        "ReferenceID",
        "Server",
        "EventSequenceNumber",
        "time",
    }
    await agent.answer_call("7101", ringing["ConnID"])
    await expect(agent, "EventEstablished")
