"""call-models.md §§ 10-11 through sockets: routing points and ACD queues with agents."""

from __future__ import annotations

from ctiserver.app.config import AcdQueueSettings, RoutingPointSettings
from ctiserver.ids import DeviceId
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet, within
from tests.integration.scenarios import talking

A, B, D = "7001", "7002", "7004"
RP, Q = "5000", "8001"


async def routing_site(
    make_site: SiteFactory, *, route_timeout: float = 30.0, default: str | None = "7005"
) -> Site:
    points = {
        DeviceId(RP): RoutingPointSettings(
            route_timeout, None if default is None else DeviceId(default)
        )
    }
    return await make_site(site={"routing_points": points})


async def test_route_a_call_from_a_routing_point(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router, d = await site.client(A), await site.client(RP), await site.client(D)
    dialing = await a.make_call(A, RP, user_data={"intent": "sales"})
    c1 = dialing["ConnID"]
    await expect(a, "EventDialing", ConnID=c1, OtherDN=RP)
    await expect(
        router,
        "EventRouteRequest",
        ConnID=c1,
        ThisDN=RP,
        ThisQueue=RP,
        OtherDN=A,
        ANI=A,
        DNIS=RP,
        UserData={"intent": "sales"},
        CallType="Internal",
    )
    used = await router.route_call(RP, c1, D, RouteType="Default")
    check(
        used,
        "EventRouteUsed",
        ConnID=c1,
        ThisDN=RP,
        ThisQueue=RP,
        ThirdPartyDN=D,
        ThirdPartyDNRole="Destination",
    )
    await expect(router, "EventRouteUsed")
    await expect(
        d, "EventRinging", ConnID=c1, ThisQueue=RP, OtherDN=A, UserData={"intent": "sales"}
    )
    await d.answer_call(D, c1)
    await expect(d, "EventEstablished", ConnID=c1)
    await expect(a, "EventEstablished", ConnID=c1, OtherDN=D)
    await quiet(router)
    await d.release_call(D, c1)
    await expect(a, "EventReleased", ConnID=c1)
    assert site.service.runtime.view.call_count() == 0  # nothing kept of the call


async def test_no_router_answer_routes_by_default(make_site: SiteFactory) -> None:
    site = await routing_site(make_site, route_timeout=0.3)
    a, router, e = await site.client(A), await site.client(RP), await site.client("7005")
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(router, "EventRouteRequest", ConnID=c1)
    await expect(router, "EventRouteUsed", ConnID=c1, ThirdPartyDN="7005", ReferenceID=None)
    await expect(e, "EventRinging", ConnID=c1, ThisQueue=RP)


async def test_an_invalid_destination_is_an_error_and_the_call_stays(
    make_site: SiteFactory,
) -> None:
    site = await routing_site(make_site)
    a, router, d = await site.client(A), await site.client(RP), await site.client(D)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(router, "EventRouteRequest")
    reference = router.send("RequestRouteCall", ThisDN=RP, ConnID=c1, OtherDN="9999")
    await expect(router, "EventError", ErrorCode=1153, ReferenceID=reference)
    used = await router.route_call(RP, c1, D)
    check(used, "EventRouteUsed", ThirdPartyDN=D)
    await expect(router, "EventRouteUsed")
    await expect(d, "EventRinging", ConnID=c1)


async def test_reject_gives_the_caller_busy(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router = await site.client(A), await site.client(RP)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(a, "EventDialing")
    await expect(router, "EventRouteRequest")
    used = await router.route_call(RP, c1, RouteType="Reject")
    check(used, "EventRouteUsed", ConnID=c1)
    await expect(router, "EventRouteUsed")
    await expect(a, "EventDestinationBusy", ConnID=c1)
    await a.release_call(A, c1)
    await expect(a, "EventReleased")
    await quiet(router)


async def test_caller_abandoning_at_the_routing_point(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router = await site.client(A), await site.client(RP)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(router, "EventRouteRequest")
    await a.release_call(A, c1)
    await expect(router, "EventAbandoned", ConnID=c1, ThisDN=RP, ThisQueue=RP)


async def test_a_consultation_to_a_routing_point_carries_previous_conn_id(
    make_site: SiteFactory,
) -> None:
    site = await routing_site(make_site)
    a, b, router = await site.client(A), await site.client(B), await site.client(RP)
    c1 = await talking(a, b, A, B)
    await b.initiate_transfer(B, c1, RP)
    request = await expect(
        router, "EventRouteRequest", PreviousConnID=c1, CallType="Consult", OtherDN=B
    )
    assert request["ConnID"] != c1


# --- ACD queue --------------------------------------------------------------------------------


async def queue_site(make_site: SiteFactory, wrap_up: float = 0.0) -> Site:
    return await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(wrap_up)}})


async def test_agent_login_ready_not_ready_logout(make_site: SiteFactory) -> None:
    site = await queue_site(make_site)
    d = await site.client(D)
    login = await d.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    check(
        login,
        "EventAgentLogin",
        ThisDN=D,
        AgentID="1001",
        ThisQueue=Q,
        AgentWorkMode="ManualIn",
        Extensions={},
    )
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentNotReady", AgentID="1001", ReferenceID=login["ReferenceID"])
    check(await d.agent_ready(D), "EventAgentReady", AgentWorkMode="ManualIn")
    await expect(d, "EventAgentReady")
    not_ready = await d.agent_not_ready(D, "AuxWork", Reasons={"ReasonCode": "Break"})
    check(not_ready, "EventAgentNotReady", AgentWorkMode="AuxWork")
    await expect(d, "EventAgentNotReady")
    info = await d.query_address(D, "AgentStatus")
    assert info["InfoStatus"] == "NotReady"
    await expect(d, "EventAddressInfo")
    registered = await d.register_address(D)
    assert registered["AgentID"] == "1001"
    await expect(d, "EventRegistered")
    check(await d.agent_logout(D), "EventAgentLogout", AgentID="1001", ThisQueue=Q)
    await expect(d, "EventAgentLogout")
    reference = d.send("RequestAgentReady", ThisDN=D)
    await expect(d, "EventError", ErrorCode=1707, ReferenceID=reference)


async def test_auto_in_login_is_ready_and_a_second_agent_is_refused(make_site: SiteFactory) -> None:
    site = await queue_site(make_site)
    d = await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentReady", AgentWorkMode="AutoIn")
    reference = d.send("RequestAgentLogin", ThisDN=D, AgentID="1002", ThisQueue=Q)
    await expect(d, "EventError", ErrorCode=1706, ReferenceID=reference)
    again = await d.agent_login(D, "1001", queue=Q)
    check(again, "EventAgentLogin", AgentID="1001")


async def test_a_call_to_the_queue_goes_to_the_ready_agent(make_site: SiteFactory) -> None:
    site = await queue_site(make_site)
    a, queue, d = await site.client(A), await site.client(Q), await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentReady")
    c1 = (await a.make_call(A, Q))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1, OtherDN=Q)
    await expect(queue, "EventQueued", ConnID=c1, ThisDN=Q, ThisQueue=Q, OtherDN=A)
    await expect(queue, "EventDiverted", ConnID=c1, ThisDN=Q, ThirdPartyDN=D)
    await expect(d, "EventRinging", ConnID=c1, ThisQueue=Q, OtherDN=A, AgentID="1001")
    await d.answer_call(D, c1)
    await expect(d, "EventEstablished")
    await expect(a, "EventEstablished", OtherDN=D)
    await a.release_call(A, c1)
    await expect(d, "EventReleased", ConnID=c1)
    await quiet(d)  # wrap-up-time 0: the agent stays ready, no agent events
    assert site.service.runtime.view.call_count() == 0  # nothing kept of the call


async def test_a_waiting_call_is_abandoned_at_the_queue(make_site: SiteFactory) -> None:
    site = await queue_site(make_site)
    a, queue = await site.client(A), await site.client(Q)
    c1 = (await a.make_call(A, Q))["ConnID"]
    await expect(queue, "EventQueued", ConnID=c1)
    info = await queue.query_address(Q, "NumberOfCallsInQueue")
    assert info["InfoStatus"] == "1"
    await expect(queue, "EventAddressInfo")
    await a.release_call(A, c1)
    await expect(queue, "EventAbandoned", ConnID=c1, ThisDN=Q, ThisQueue=Q)


async def test_wrap_up_after_an_acd_call(make_site: SiteFactory) -> None:
    site = await queue_site(make_site, wrap_up=0.3)
    a, d = await site.client(A), await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    await expect(d, "EventAgentLogin")
    await expect(d, "EventAgentReady")
    c1 = (await a.make_call(A, Q))["ConnID"]
    await expect(d, "EventRinging", ConnID=c1)
    await d.answer_call(D, c1)
    await expect(d, "EventEstablished")
    await d.release_call(D, c1)
    await expect(d, "EventReleased")
    await expect(d, "EventAgentNotReady", AgentWorkMode="AfterCallWork", ReferenceID=None)
    await within(expect(d, "EventAgentReady", ReferenceID=None))
