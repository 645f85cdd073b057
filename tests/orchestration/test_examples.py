"""The strategies of examples/strategies/, run as users run them: the demo site with the
orchestration server embedded (`ctiserver run --orchestrate`), and files named in
`[orchestration.strategy]`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ctiserver.app.config import with_orchestration
from ctiserver.client.connection import TClient
from ctiserver.orchestration.settings import DEMO_DIRECTORY, EXAMPLES
from tests.integration.conftest import Site, expect, site_config, start_site, stop_site, within
from tests.orchestration.conftest import Orchestrate

CALLER, AGENT_DN, SUPERVISOR, RP, Q = "7001", "7004", "7010", "5000", "8001"


async def ready_agent(site: Site) -> TClient:
    agent = await site.client(AGENT_DN)
    await agent.agent_login(AGENT_DN, "1001", queue=Q, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    return agent


@pytest.fixture
async def demo_site() -> AsyncIterator[Site]:
    """The demo site as `ctiserver run --orchestrate` starts it (on free ports)."""
    site, task = await start_site(with_orchestration(site_config()))
    orchestration = site.service.orchestration
    assert orchestration is not None
    await within(orchestration.ready.wait())
    yield site
    await stop_site(site, task)


async def test_the_demo_routes_calls_to_a_ready_agent(demo_site: Site) -> None:
    agent = await ready_agent(demo_site)
    caller = await demo_site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP))["ConnID"]
    await expect(agent, "EventRinging", ConnID=conn_id, ThisQueue=RP, OtherDN=CALLER)


async def test_the_demo_routes_by_skill_and_language(demo_site: Site) -> None:
    sales = await ready_agent(demo_site)  # 1001: sales 8, English
    support = await demo_site.client("7005")
    await support.agent_login("7005", "1004", queue=Q, work_mode="AutoIn")  # support 8, French
    await expect(support, "EventAgentLogin")
    await expect(support, "EventAgentReady")
    caller = await demo_site.client(CALLER)
    wanted = {"service": "support", "lang": "fr"}
    conn_id = (await caller.make_call(CALLER, RP, user_data=wanted))["ConnID"]
    await expect(support, "EventRinging", ConnID=conn_id, ThisQueue=RP)
    other = await demo_site.client("7002")
    conn_id = (await other.make_call("7002", RP))["ConnID"]  # sales, English by default
    await expect(sales, "EventRinging", ConnID=conn_id, ThisQueue=RP)


async def test_the_demo_plays_music_until_an_agent_is_free(demo_site: Site) -> None:
    point = await demo_site.client(RP)
    caller = await demo_site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP))["ConnID"]
    await expect(point, "EventRouteRequest", ConnID=conn_id)
    parms = {"MUSIC_DN": "on-hold"}
    await expect(point, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="Music", TreatmentParms=parms)  # fmt: skip
    agent = await ready_agent(demo_site)
    await expect(point, "EventRouteUsed", ConnID=conn_id, ThirdPartyDN=AGENT_DN)
    await expect(agent, "EventRinging", ConnID=conn_id, ThisQueue=RP)


async def test_route_to_agent_overflows_to_the_acd_queue(orchestrate: Orchestrate) -> None:
    # The example with its 8 s wait for an agent made 0.2 s.
    text = (EXAMPLES / "route-to-agent.scxml").read_text()
    assert 'timeout="8"' in text
    rig = await orchestrate({RP: text.replace('timeout="8"', 'timeout="0.2"')})
    queue = await rig.site.client(Q)
    caller = await rig.site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP))["ConnID"]
    await expect(queue, "EventQueued", ConnID=conn_id, ThisDN=Q)
    agent = await ready_agent(rig.site)
    await within(agent.wait_for("EventRinging", ConnID=conn_id, ThisQueue=Q))


async def test_consult_and_transfer(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({}, strategies={RP: str(EXAMPLES / "consult-and-transfer.scxml")})
    agent = await ready_agent(rig.site)
    supervisor = await rig.site.client(SUPERVISOR)
    caller = await rig.site.client(CALLER)
    c1 = (await caller.make_call(CALLER, RP, user_data={"talk": 0}))["ConnID"]
    await expect(agent, "EventRinging", ConnID=c1)
    await agent.answer_call(AGENT_DN, c1)
    consult = await expect(supervisor, "EventRinging", CallType="Consult", PreviousConnID=c1)
    await supervisor.answer_call(SUPERVISOR, consult["ConnID"])
    await expect(supervisor, "EventEstablished", ConnID=consult["ConnID"])
    await expect(supervisor, "EventPartyChanged", ConnID=c1, OtherDN=CALLER)
    await within(agent.wait_for("EventReleased", ConnID=c1, CallState="Transferred"))


async def test_conference(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({}, strategies={RP: str(EXAMPLES / "conference.scxml")})
    agent = await ready_agent(rig.site)
    supervisor = await rig.site.client(SUPERVISOR)
    caller = await rig.site.client(CALLER)
    c1 = (await caller.make_call(CALLER, RP))["ConnID"]
    await expect(agent, "EventRinging", ConnID=c1)
    await agent.answer_call(AGENT_DN, c1)
    consult = await expect(supervisor, "EventRinging", CallType="Consult", PreviousConnID=c1)
    await supervisor.answer_call(SUPERVISOR, consult["ConnID"])
    await within(caller.wait_for("EventPartyAdded", ConnID=c1, OtherDN=SUPERVISOR))


async def test_skills_routing_overflows_to_the_acd_queue(orchestrate: Orchestrate) -> None:
    text = (EXAMPLES / "skills-routing.scxml").read_text()
    assert 'timeout="4"' in text
    assert 'timeout="6"' in text
    quick = text.replace('timeout="4"', 'timeout="0.1"').replace('timeout="6"', 'timeout="0.1"')
    rig = await orchestrate({RP: quick}, directory=DEMO_DIRECTORY)
    queue = await rig.site.client(Q)
    caller = await rig.site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP, user_data={"service": "support"}))["ConnID"]
    assert await rig.log("call") == "7001 wants support in en; waiting already: 0"
    await expect(queue, "EventQueued", ConnID=conn_id, ThisDN=Q)
