"""Skills, agent groups, statistics and priorities in `<queue:submit>`, through a real
server and its pbxsim: which agent's phone rings, and what the strategy is told."""

from __future__ import annotations

from typing import Any

from ctiserver.client.connection import TClient
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings
from tests.integration.conftest import Site, expect, within
from tests.orchestration.conftest import REPORT, Orchestrate, Rig, strategy

CALLERS, RP, Q = ("7001", "7002", "7003"), "5000", "8001"
# login ID → DN; skills and groups in the orchestration server's own configuration
AGENTS = {"1001": "7004", "1002": "7005", "1003": "7006"}
DIRECTORY = DirectorySettings(
    agents={
        "1001": AgentProfile({"sales": 8, "lang": "fr"}, ("Sales",)),
        "1002": AgentProfile({"sales": 3, "lang": "en"}, ("Sales",)),
        "1003": AgentProfile({"support": 5, "lang": "fr"}),
    },
    place_groups={"Back": ("7006", "7007")},
)


def submit(attributes: str, *, before: str = "") -> str:
    """A strategy that submits its call with *attributes* and REPORTs the answer."""
    return strategy(
        f"""
  <state id="start">
    <transition event="interaction.added" target="routing">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>{before}
    </transition>
  </state>
  <state id="routing">
    <onentry><queue:submit requestid="_data.reqid" {attributes}/></onentry>
    <transition event="queue.submit.done" target="done">{REPORT}</transition>
    <transition event="error.queue.submit" target="done">{REPORT}</transition>
  </state>
  <final id="done"/>
"""
    )


async def ready(site: Site, *logins: str) -> dict[str, TClient]:
    """The agents *logins* logged in to the ACD queue on their DNs, Ready, in that order."""
    clients = {}
    for login in logins:
        dn = AGENTS[login]
        agent = clients[login] = await site.client(dn)
        await agent.agent_login(dn, login, queue=Q, work_mode="AutoIn")
        await expect(agent, "EventAgentLogin")
        await expect(agent, "EventAgentReady")
    return clients


async def routed(rig: Rig, caller: str = "7001") -> tuple[str, dict[str, Any]]:
    client = await rig.site.client(caller)
    conn_id = (await client.make_call(caller, RP))["ConnID"]
    name, data = await rig.outcome()
    assert data["interactionid"] == conn_id
    return name, data


async def test_a_skill_expression_picks_the_agent_with_the_skills(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: submit('targets="\'?sales>5 &amp; lang=fr\'" timeout="3"')}, directory=DIRECTORY
    )
    agents = await ready(rig.site, "1003", "1002", "1001")
    name, data = await routed(rig)
    assert (name, data["agentid"], data["resource"]) == ("queue.submit.done", "1001", "7004")
    assert data["targetselected"] == "1001@tserver.A"
    await expect(agents["1001"], "EventRinging", ThisQueue=RP, OtherDN="7001")


async def test_nobody_with_the_skills_is_a_timeout(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: submit('targets="\'?support>5\'" timeout="0.3"')}, directory=DIRECTORY
    )
    await ready(rig.site, "1003")
    name, data = await routed(rig)
    assert (name, data["error"]) == ("error.queue.submit", "timeout")


async def test_a_configured_group_and_a_place_group(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: submit("targets=\"['Sales.GA', 'Back.GP']\" timeout=\"3\"")}, directory=DIRECTORY
    )
    agents = await ready(rig.site, "1003", "1002")
    name, data = await routed(rig)
    assert (name, data["agentid"]) == ("queue.submit.done", "1002")
    await expect(agents["1002"], "EventRinging")
    name, data = await routed(rig, "7002")  # 1002 is busy: the place group's agent
    assert (name, data["agentid"], data["resource"]) == ("queue.submit.done", "1003", "7006")


async def test_orderstat_ranks_by_calls_handled(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: submit(
                'targets="\'Sales.GA\'" ordertype="max" orderstat="StatCallsAnswered" timeout="3"'
            )
        },
        directory=DIRECTORY,
    )
    agents = await ready(rig.site, "1001", "1002")
    name, data = await routed(rig)  # a tie: the agent available the longest
    assert data["agentid"] == "1001"
    ringing = await expect(agents["1001"], "EventRinging")
    await agents["1001"].answer_call("7004", ringing["ConnID"])
    await within(agents["1001"].wait_for("EventEstablished"))
    await agents["1001"].release_call("7004", ringing["ConnID"])
    await within(agents["1001"].wait_for("EventReleased"))
    # 1002 is available longer now, but 1001 has answered more calls.
    name, data = await routed(rig, "7002")
    assert (name, data["agentid"]) == ("queue.submit.done", "1001")


async def test_an_unknown_orderstat_is_refused(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: submit('targets="\'Sales.GA\'" orderstat="StatNoSuch"')}, directory=DIRECTORY
    )
    name, data = await routed(rig)
    assert (name, data["error"]) == ("error.queue.submit", "unknown")
    assert "neither a statistic nor a skill" in data["description"]


async def test_thresholds_pass_on_to_the_next_target(orchestrate: Orchestrate) -> None:
    targets = "['{StatAgentsAvailable &gt; 1}Sales.GA', '1003.A']"
    rig = await orchestrate({RP: submit(f'targets="{targets}" timeout="3"')}, directory=DIRECTORY)
    await ready(rig.site, "1001", "1003")  # one Sales agent available: not enough
    name, data = await routed(rig)
    assert (name, data["agentid"]) == ("queue.submit.done", "1003")


async def test_the_higher_priority_is_served_first(orchestrate: Orchestrate) -> None:
    # Calls from 7002 are more urgent: priority 9, else 1.
    priority = "_genesys.ixn.interactions[_data.ixnid].voice.ani == '7002' ? 9 : 1"
    rig = await orchestrate(
        {RP: submit(f'targets="\'Sales.GA\'" queue="\'VQ\'" priority="{priority}" timeout="5"')},
        directory=DIRECTORY,
    )
    first, second = await rig.site.client("7001"), await rig.site.client("7002")
    await first.make_call("7001", RP)
    urgent = (await second.make_call("7002", RP))["ConnID"]
    await ready(rig.site, "1001")
    name, data = await rig.outcome()
    assert (name, data["interactionid"], data["vqselected"]) == ("queue.submit.done", urgent, "VQ")


VQ_REPORT = """
      <log label="stats" expr="_genesys.statistic.sData('VQ@stat.Q', 'CallsWaiting') + ' '
        + _genesys.statistic.sData('Sales.GA', 'StatAgentsAvailable') + ' '
        + _genesys.statistic.sData('Sales@stat.GA', 'StatAgentsTotal') + ' '
        + _genesys.statistic.sData('8001.Q', 'StatAgentsInQueueLogin')"/>"""


async def test_sdata_reads_virtual_queue_and_group_statistics(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: submit('targets="\'?support>9\'" queue="\'VQ\'" timeout="5"', before=VQ_REPORT)},
        directory=DIRECTORY,
    )
    agents = await ready(rig.site, "1001")
    await agents["1001"].agent_not_ready("7004")
    await expect(agents["1001"], "EventAgentNotReady")
    await (await rig.site.client("7001")).make_call("7001", RP)
    assert await rig.log("stats") == "0 0 1 1"
    await (await rig.site.client("7002")).make_call("7002", RP)
    assert await rig.log("stats") == "1 0 1 1"  # the first call waits in VQ


async def test_sdata_without_such_a_statistic_is_error_execution(orchestrate: Orchestrate) -> None:
    before = (
        """<log label="stats" expr="_genesys.statistic.sData('Nobody.GA', 'StatAgentsTotal')"/>"""
    )
    rig = await orchestrate({RP: submit("targets=\"'7009'\"", before=before)}, directory=DIRECTORY)
    name, _ = await routed(rig)
    assert name == "queue.submit.done"
    assert any("sData: no statistic StatAgentsTotal for Nobody.GA" in e for e in rig.errors)
