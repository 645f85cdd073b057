"""MakeCallType and RouteType through sockets (docs/protocol.md, RequestMakeCall and
Routing): each honoured by the switch or refused with EventError 53 that says why."""

from __future__ import annotations

from ctiserver.app.config import RoutingPointSettings
from ctiserver.ids import DeviceId
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet

A, B, D = "7001", "7002", "7004"
RP, Q = "5000", "8001"


async def routing_site(make_site: SiteFactory) -> Site:
    points = {DeviceId(RP): RoutingPointSettings(30.0, DeviceId("7005"))}
    return await make_site(site={"routing_points": points})


async def test_a_direct_agent_call_rings_the_agent_with_its_agent_id(site: Site) -> None:
    a, d = await site.client(A), await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentReady")
    dialing = await a.make_call(A, D, MakeCallType="DirectAgent")
    c1 = dialing["ConnID"]
    check(dialing, "EventDialing", ThisDN=A, OtherDN=D, ThisDNRole="Origination")
    await expect(a, "EventDialing", ConnID=c1)
    await expect(d, "EventRinging", ConnID=c1, ThisDN=D, OtherDN=A, AgentID="1001", DNIS=D)


async def test_make_call_types_refused_say_why(site: Site) -> None:
    a = await site.client(A)
    reference = a.send("RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType="DirectAgent")
    await expect(
        a,
        "EventError",
        ReferenceID=reference,
        ErrorCode=1707,
        ErrorMessage=f"MakeCallType DirectAgent: no agent is logged in at {B}",
    )
    reference = a.send("RequestMakeCall", ThisDN=A, OtherDN=B, MakeCallType="SupervisorAssist")
    error = await expect(a, "EventError", ReferenceID=reference, ErrorCode=1140)
    assert error["ErrorMessage"].endswith(
        "MakeCallType SupervisorAssist needs an agent logged in at ThisDN"
    )
    await quiet(a)


async def test_overwrite_dnis(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router, d = await site.client(A), await site.client(RP), await site.client(D)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(router, "EventRouteRequest", ConnID=c1, DNIS=RP)
    used = await router.route_call(RP, c1, D, RouteType="OverwriteDNIS")
    check(used, "EventRouteUsed", ConnID=c1, ThirdPartyDN=D, ThirdPartyDNRole="Destination")
    await expect(router, "EventRouteUsed", ConnID=c1)
    await expect(d, "EventRinging", ConnID=c1, ThisQueue=RP, ANI=A, DNIS=D)


async def test_route_types_refused_say_why(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router = await site.client(A), await site.client(RP)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(router, "EventRouteRequest", ConnID=c1)
    for route_type, code in (("Announcement", 53), ("PostFeature", 53), ("Unknown", 53)):
        reference = router.send(
            "RequestRouteCall", ThisDN=RP, ConnID=c1, OtherDN=D, RouteType=route_type
        )
        error = await expect(router, "EventError", ReferenceID=reference, ErrorCode=code)
        assert error["ErrorMessage"].startswith(f"RouteType {route_type}")
    reference = router.send(
        "RequestRouteCall", ThisDN=RP, ConnID=c1, OtherDN="1009", RouteType="AgentID"
    )
    await expect(
        router,
        "EventError",
        ReferenceID=reference,
        ErrorCode=1707,
        ErrorMessage="RouteType AgentID: agent 1009 is not logged in on any DN",
    )
    d = await site.client(D)
    await d.agent_login(D, "1009", queue=Q, work_mode="AutoIn")
    used = await router.route_call(RP, c1, "1009", RouteType="AgentID")
    check(used, "EventRouteUsed", ConnID=c1, ThirdPartyDN=D)
    await expect(router, "EventRouteUsed", ConnID=c1)
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentReady")
    await expect(d, "EventRinging", ConnID=c1, AgentID="1009", ThisQueue=RP)
