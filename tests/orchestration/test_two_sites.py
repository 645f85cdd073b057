"""A call from another site (over a trunk, so its caller is no DN of this server) reaches
a routing point with a strategy: the session routes it, follows it although it cannot
follow the caller, and sees it go."""

from __future__ import annotations

from tests.integration.conftest import SiteFactory, expect, within
from tests.integration.sites import two_sites
from tests.orchestration.conftest import Orchestrate, flow

B_POINT, B_AGENT_DN, B_QUEUE = "5001", "7104", "8101"
ROUTE = flow(
    f"""<state id="routing">
        <onentry><queue:submit requestid="_data.reqid" targets="'{B_QUEUE}.GA'" timeout="3"/>
        </onentry>
      </state>"""
)


async def test_a_call_from_another_site_is_routed_and_followed(
    make_site: SiteFactory, orchestrate: Orchestrate
) -> None:
    site_a, site_b = await two_sites(make_site)
    rig = await orchestrate.against(
        site_b.address,
        {B_POINT: ROUTE},
        site=site_b,
        register=tuple(site_b.service.config.site.dns),
    )
    agent = await site_b.client(B_AGENT_DN)
    await agent.agent_login(B_AGENT_DN, "2001", queue=B_QUEUE, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await site_a.client("7001")
    dialing = await caller.make_call("7001", "9" + B_POINT)
    name, data = await rig.outcome()
    assert (name, data["resource"]) == ("queue.submit.done", B_AGENT_DN)
    ringing = await expect(agent, "EventRinging", ThisQueue=B_POINT)
    assert ringing["CallType"] == "Inbound"
    await agent.answer_call(B_AGENT_DN, ringing["ConnID"])
    await within(caller.wait_for("EventEstablished", ConnID=dialing["ConnID"]))
    await caller.release_call("7001", dialing["ConnID"])
    assert await rig.outcome() == ("interaction.deleted", {"interactionid": ringing["ConnID"]})
