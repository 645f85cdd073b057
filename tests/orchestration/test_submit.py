"""`<queue:submit>` through a real server: a Ready agent is chosen and the call routed."""

from __future__ import annotations

from tests.integration.conftest import expect
from tests.orchestration.conftest import REPORT, Orchestrate, strategy

A, AGENT_DN, RP, Q = "7001", "7004", "5000", "8001"

SUBMIT = strategy(
    f"""
  <state id="start">
    <transition event="interaction.added" target="routing">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
  <state id="routing">
    <onentry>
      <queue:submit requestid="_data.reqid" queue="'VQ'" timeout="3">
        <queue:targets type="agentgroup"><queue:target name="'{Q}'"/></queue:targets>
      </queue:submit>
    </onentry>
    <transition event="queue.submit.done" target="done">{REPORT}</transition>
    <transition event="error.queue.submit" target="done">{REPORT}</transition>
  </state>
  <final id="done"/>
"""
)


async def test_a_call_is_routed_to_a_ready_agent(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: SUBMIT})
    agent = await rig.site.client(AGENT_DN)
    await agent.agent_login(AGENT_DN, "1001", queue=Q, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await rig.site.client(A)
    conn_id = (await caller.make_call(A, RP))["ConnID"]
    name, data = await rig.outcome()
    assert name == "queue.submit.done"
    assert data["interactionid"] == conn_id
    assert data["resource"] == AGENT_DN
    assert data["agentid"] == "1001"
    assert data["targetselected"].startswith("1001@")
    await expect(agent, "EventRinging", ConnID=conn_id, ThisQueue=RP, OtherDN=A)
