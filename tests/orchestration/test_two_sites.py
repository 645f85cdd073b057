"""A call from another site (over a trunk, so its caller is no DN of this server) reaches
a routing point with a strategy: the session routes it, follows it although it cannot
follow the caller, and sees it go."""

from __future__ import annotations

from typing import Any

from ctiserver.orchestration.settings import Endpoint
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


SUBMIT = flow(
    """<state id="routing">
        <onentry><queue:submit requestid="_data.reqid" targets="_data.targets" timeout="3"/>
        </onentry>
      </state>"""
).replace('<data id="consult"/>', '<data id="consult"/><data id="targets"/>')


def submitting(targets: str) -> str:
    return SUBMIT.replace('<data id="targets"/>', f'<data id="targets" expr="{targets}"/>')


async def both(make_site: SiteFactory, orchestrate: Orchestrate, targets: str) -> tuple[Any, ...]:
    """SiteA and SiteB, and an orchestration server connected to both, serving SiteA's
    routing point 5000 with a strategy that submits its call to *targets*."""
    site_a, site_b = await two_sites(make_site)
    servers = (Endpoint(*site_a.address, "SiteA"), Endpoint(*site_b.address, "SiteB"))
    dns = (*site_a.service.config.site.dns, *site_b.service.config.site.dns)
    rig = await orchestrate.against(
        site_a.address, {"5000": submitting(targets)}, site=site_a, servers=servers, register=dns
    )
    return site_a, site_b, rig


async def test_an_agent_at_another_site_gets_the_call_and_its_data(
    make_site: SiteFactory, orchestrate: Orchestrate
) -> None:
    site_a, site_b, rig = await both(make_site, orchestrate, "['2001.A']")
    agent = await site_b.client(B_AGENT_DN)
    await agent.agent_login(B_AGENT_DN, "2001", queue=B_QUEUE, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await site_a.client("7001")
    dialing = await caller.make_call("7001", "5000", user_data={"case": "A-17"})
    name, data = await rig.outcome()
    assert (name, data["resource"], data["location"]) == ("queue.submit.done", B_AGENT_DN, "SiteB")
    assert data["targetselected"] == "2001@SiteB.A"
    ringing = await expect(agent, "EventRinging")
    assert ringing["UserData"]["case"] == "A-17"
    await agent.answer_call(B_AGENT_DN, ringing["ConnID"])
    await within(caller.wait_for("EventEstablished", ConnID=dialing["ConnID"]))


async def test_a_dn_at_a_site_named_in_the_target(
    make_site: SiteFactory, orchestrate: Orchestrate
) -> None:
    site_a, site_b, rig = await both(make_site, orchestrate, "['7105@SiteB.DN']")
    phone = await site_b.client("7105")
    caller = await site_a.client("7001")
    await caller.make_call("7001", "5000", user_data={"case": "B-2"})
    name, data = await rig.outcome()
    assert (name, data["resource"], data["location"]) == ("queue.submit.done", "7105", "SiteB")
    ringing = await expect(phone, "EventRinging")
    assert ringing["UserData"]["case"] == "B-2"


async def test_a_site_nobody_serves_is_an_error(
    make_site: SiteFactory, orchestrate: Orchestrate
) -> None:
    site_a, _, rig = await both(make_site, orchestrate, "['7105@SiteZ.DN']")
    caller = await site_a.client("7001")
    await caller.make_call("7001", "5000")
    name, data = await rig.outcome()
    assert name == "error.queue.submit"
    assert data["error"] == "invalidserver"
    assert "EventError" in data["description"]
