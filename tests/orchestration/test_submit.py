"""`<queue:submit>` through a real server: a Ready agent is chosen and the call routed."""

from __future__ import annotations

from tests.integration.conftest import expect, within
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


def submit_to(targets: str, timeout: str = "3") -> str:
    return strategy(
        f"""
  <state id="start">
    <transition event="interaction.added" target="routing">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
  <state id="routing">
    <onentry>
      <queue:submit requestid="_data.reqid" timeout="{timeout}" targets="{targets}"/>
    </onentry>
    <transition event="queue.submit.done" target="done">{REPORT}</transition>
    <transition event="error.queue.submit" target="done">{REPORT}</transition>
  </state>
  <final id="done"/>
"""
    )


async def test_no_ready_agent_in_time_is_timeout(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: submit_to(f"'{Q}.GA'", timeout="0.2")})
    caller = await rig.site.client(A)
    conn_id = (await caller.make_call(A, RP))["ConnID"]
    name, data = await rig.outcome()
    assert (name, data["error"], data["interactionid"]) == (
        "error.queue.submit",
        "timeout",
        conn_id,
    )


async def test_the_call_waits_for_an_agent_to_become_ready(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: submit_to(f"'1001@{Q}.A'")})
    agent = await rig.site.client(AGENT_DN)
    caller = await rig.site.client(A)
    conn_id = (await caller.make_call(A, RP))["ConnID"]
    await agent.agent_login(AGENT_DN, "1001", queue=Q, work_mode="ManualIn")
    await agent.agent_ready(AGENT_DN)
    name, data = await rig.outcome()
    assert (name, data["resource"]) == ("queue.submit.done", AGENT_DN)
    await within(agent.wait_for("EventRinging", ConnID=conn_id))


async def test_a_dn_list_skips_busy_dns(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: submit_to("['7002', '7003']")})
    b, c = await rig.site.client("7002"), await rig.site.client("7003")
    await b.make_call("7002", "7005")  # 7002 is busy now
    caller = await rig.site.client(A)
    conn_id = (await caller.make_call(A, RP))["ConnID"]
    name, data = await rig.outcome()
    assert (name, data["resource"], data["targetselected"]) == (
        "queue.submit.done",
        "7003",
        "7003@tserver.DN",
    )
    await expect(c, "EventRinging", ConnID=conn_id)


async def test_a_caller_who_leaves_while_waiting_ends_the_submission(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate({RP: submit_to(f"'{Q}.GA'")})
    caller = await rig.site.client(A)
    conn_id = (await caller.make_call(A, RP))["ConnID"]
    await caller.release_call(A, conn_id)
    name, data = await rig.outcome()
    assert (name, data["error"]) == ("error.queue.submit", "invalidstate")
