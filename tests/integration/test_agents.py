"""Agents through real sockets: the Reasons and ReasonCode of a NotReady reach every
registrant of the DN, stay in the DN's status, reach the switch, and show on the
dashboard (its live page, and its view of the core after a reload)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from ctiserver.app.config import AcdQueueSettings
from ctiserver.http.supervision_feed import read_core
from ctiserver.ids import DeviceId
from tests.integration.conftest import SiteFactory, expect, quiet
from tests.integration.dashboard_page import Page

D, Q = "7004", "8001"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_a_not_ready_reason_end_to_end(
    make_site: SiteFactory, session: aiohttp.ClientSession
) -> None:
    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    assert site.service.http_address is not None
    page = await Page.open(session, site.service.http_address)
    desk, supervisor = await site.client(D), await site.client(D, name="supervisor")
    await desk.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    for client in (desk, supervisor):
        await expect(client, "EventAgentLogin")
        await expect(client, "EventAgentReady")
    reasons = {"ReasonCode": "Lunch", "note": "back at two"}
    reference = desk.send(
        "RequestAgentNotReady",
        ThisDN=D,
        AgentWorkMode="AuxWork",
        Reasons=reasons,
        Extensions={"ReasonCode": 42},
    )
    expected = {
        "ThisDN": D,
        "AgentID": "1001",
        "AgentWorkMode": "AuxWork",
        "ThisQueue": Q,
        "Reasons": reasons,
        "Extensions": {"ReasonCode": "42"},
    }
    await expect(desk, "EventAgentNotReady", ReferenceID=reference, **expected)
    await expect(supervisor, "EventAgentNotReady", ReferenceID=None, **expected)
    await quiet(supervisor)
    switch = site.service.embedded.switch.view()  # type: ignore[union-attr]
    agent = switch.agent("1001")
    assert agent is not None
    assert agent.reason_code == "42"
    info = await supervisor.query_address(D, "AgentStatus")
    assert info["InfoStatus"] == "NotReady"
    assert info["Extensions"]["ReasonCode"] == "42"
    assert info["Extensions"]["Reasons"] == reasons
    state = await page.until(lambda s: s["agents"][D]["reason"] == "Lunch", "the reason shown")
    assert state["agents"][D]["state"] == "NotReady"
    (loaded,) = read_core(site.service.runtime).agents  # what a reload loads from the core
    assert (loaded.dn, loaded.state, loaded.reason) == (D, "NotReady", "Lunch")
    await desk.agent_ready(D)
    await page.until(lambda s: s["agents"][D]["reason"] is None, "a Ready clears it")


async def test_two_routers_reserve_the_same_agent(make_site: SiteFactory) -> None:
    site = await make_site()
    first, second = await site.client(name="router-1"), await site.client(name="router-2")
    low = first.send("RequestReserveAgent", ThisDN=D, AgentID="1001", Priority=1)
    high = second.send("RequestReserveAgent", AgentID="1001", Priority=2, Timeout=60000)
    await expect(second, "EventAgentReserved", ReferenceID=high, AgentID="1001", ThisDN=None)
    lost = await expect(first, "EventError", ReferenceID=low, ErrorCode=1700, ThisDN=D)
    assert lost["ErrorMessage"] == f"DN {D}, agent 1001 was reserved for another request"
    cancel = first.send("RequestReserveAgent", AgentID="1001", Timeout=0)
    await expect(first, "EventError", ReferenceID=cancel, ErrorCode=53)
    cancel = second.send("RequestReserveAgent", AgentID="1001", Timeout=0)
    await expect(second, "EventACK", ReferenceID=cancel)
    again = first.send("RequestReserveAgent", ThisDN=D)
    await expect(first, "EventAgentReserved", ReferenceID=again, ThisDN=D)
    await quiet(second)


async def test_an_idle_reason_through_sockets(make_site: SiteFactory) -> None:
    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    desk, supervisor = await site.client(D), await site.client(D, name="supervisor")
    await desk.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    for client in (desk, supervisor):
        await expect(client, "EventAgentLogin")
        await expect(client, "EventAgentNotReady")
    reference = desk.send("RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=12)
    told = {"ThisDN": D, "AgentID": "1001", "AgentWorkMode": "AuxWork", "ThisQueue": Q}
    told["Extensions"] = {"ReasonCode": "12"}
    await expect(desk, "EventAgentNotReady", ReferenceID=reference, **told)
    await expect(supervisor, "EventAgentNotReady", ReferenceID=None, **told)
    agent = site.service.embedded.switch.view().agent("1001")  # type: ignore[union-attr]
    assert agent is not None
    assert agent.reason_code == "12"
    await desk.agent_ready(D)
    await expect(supervisor, "EventAgentReady")
    refused = desk.send("RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=12)
    await expect(desk, "EventAgentReady")
    await expect(desk, "EventError", ErrorCode=53, ReferenceID=refused)
    await quiet(supervisor)
