"""Treatments through a real server and its pbxsim: the dialog actions (`<dialog:playsound>`,
`<dialog:play>`, `<dialog:collect>`, `<dialog:playandcollect>`) and their done and error
events, and the treatments of a waiting `<queue:submit>` (docs/orchestration.md)."""

from __future__ import annotations

from typing import Any

import aiohttp

from ctiserver.client.connection import TClient
from tests.integration.conftest import Site, expect, quiet
from tests.orchestration.conftest import REPORT, Orchestrate, Rig

A, AGENT_DN, RP, Q = "7001", "7004", "5000", "8001"
QUICK = {"pbxsim": {"announcement_length": 0.2}}  # seconds each announcement plays

HEADER = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
  xmlns:ixn="http://www.genesyslab.com/modules/interaction"
  xmlns:queue="www.genesyslab.com/modules/queue"
  xmlns:dialog="http://www.genesyslab.com/modules/dialog"
  datamodel="ecmascript" initial="start">
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="start">
    <transition event="interaction.added" target="treating">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
"""


def treating(element: str) -> str:
    """A strategy that plays *element* to the call and REPORTs its answer."""
    return (
        HEADER
        + f"""
  <state id="treating">
    <onentry>{element}</onentry>
    <transition event="dialog queue.submit error" target="done">{REPORT}</transition>
  </state>
  <final id="done"/>
</scxml>"""
    )


async def call_in(rig: Rig) -> tuple[TClient, TClient, str]:
    """A watcher of the routing point, and a caller whose call waits there: its ConnID."""
    watcher = await rig.site.client(RP)
    caller = await rig.site.client(A)
    conn_id: str = (await caller.make_call(A, RP))["ConnID"]
    await expect(watcher, "EventRouteRequest", ConnID=conn_id)
    return watcher, caller, conn_id


async def key(site: Site, station: str, digits: str) -> None:
    """Digits keyed on a phone of the embedded pbxsim (POST /phone)."""
    host, port = site.service.http_address  # type: ignore[misc]
    body = {"action": "digits", "digits": digits}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{host}:{port}/phone/{station}", json=body) as reply,
    ):
        assert reply.status == 200, await reply.text()


def answered(data: dict[str, Any], conn_id: str, **fields: Any) -> None:
    assert data["interactionid"] == conn_id
    assert data["requestid"].startswith("req-")
    for name, value in fields.items():
        assert data[name] == value, (name, data)


async def test_music_for_a_duration_is_done_when_it_ends(orchestrate: Orchestrate) -> None:
    music = (
        '<dialog:playsound requestid="_data.reqid" type="music" resource="\'9000\'" duration="1"/>'
    )
    rig = await orchestrate({RP: treating(music)})
    watcher, _, conn_id = await call_in(rig)
    parms = {"DURATION": 1, "MUSIC_DN": "9000"}
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="Music", TreatmentParms=parms)  # fmt: skip
    await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, TreatmentType="Music")
    name, data = await rig.outcome()
    assert name == "dialog.playsound.done"
    answered(data, conn_id)


async def test_a_sound_without_duration_is_done_once_it_plays(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: treating("<dialog:playsound type=\"'ringback'\"/>")})
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="RingBack")
    name, data = await rig.outcome()
    assert name == "dialog.playsound.done"
    answered(data, conn_id)
    await quiet(watcher)  # it plays on, until the call is routed


async def test_an_announcement_is_done_when_it_is_over(orchestrate: Orchestrate) -> None:
    play = """<dialog:play requestid="_data.reqid"><dialog:prompts type="ann">
        <dialog:prompt intid="'welcome'"/><dialog:prompt intid="'menu'"/>
      </dialog:prompts></dialog:play>"""
    rig = await orchestrate({RP: treating(play)}, site=QUICK)
    watcher, _, conn_id = await call_in(rig)
    prompt = {"1": {"ID": "welcome"}, "2": {"ID": "menu"}}
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="PlayAnnouncement", TreatmentParms={"PROMPT": prompt})  # fmt: skip
    await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, Extensions={"INTERRUPTED": "NO"})
    name, data = await rig.outcome()
    assert name == "dialog.play.done"
    answered(data, conn_id)


async def test_digits_collected_are_in_the_done_event(orchestrate: Orchestrate) -> None:
    collect = """<dialog:collect requestid="_data.reqid">
        <dialog:input max_digits="6" term_digits="'#'" digit_timeout="10"/></dialog:collect>"""
    rig = await orchestrate({RP: treating(collect)})
    watcher, caller, conn_id = await call_in(rig)
    parms = {"TOTAL_DIGITS": 6, "TERM_DIGITS": "#", "DIGIT_TIMEOUT": 10}
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="CollectDigits", TreatmentParms=parms)  # fmt: skip
    await caller.request("RequestSendDTMF", ThisDN=A, ConnID=conn_id, DTMFDigits="42#")
    await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, CollectedDigits="42")
    name, data = await rig.outcome()
    assert name == "dialog.collect.done"
    answered(data, conn_id, digits="42")


async def test_digits_keyed_during_an_announcement(orchestrate: Orchestrate) -> None:
    both = """<dialog:playandcollect requestid="_data.reqid">
        <dialog:prompts><dialog:prompt intid="'menu'"/></dialog:prompts>
        <dialog:input max_digits="2"/></dialog:playandcollect>"""
    rig = await orchestrate({RP: treating(both)}, site={"pbxsim": {"announcement_length": 30}})
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="PlayAnnouncementAndDigits")  # fmt: skip
    await key(rig.site, A, "17")
    end = await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, CollectedDigits="17")
    assert end["Extensions"] == {"COMPLETION_STATUS": "NORMAL", "INTERRUPTED": "KEYPAD"}
    name, data = await rig.outcome()
    assert name == "dialog.playandcollect.done"
    answered(data, conn_id, digits="17")


async def test_no_digit_in_time_is_timeout(orchestrate: Orchestrate) -> None:
    collect = '<dialog:collect><dialog:input max_digits="4" digit_timeout="1"/></dialog:collect>'
    rig = await orchestrate({RP: treating(collect)})
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id)
    await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, CollectedDigits="")
    name, data = await rig.outcome()
    assert name == "error.dialog.collect"
    answered(data, conn_id, error="timeout", digits="", description="no digit was keyed at all in time")  # fmt: skip


async def test_a_caller_who_hangs_up_during_a_treatment(orchestrate: Orchestrate) -> None:
    music = '<dialog:playsound requestid="_data.reqid" type="music" duration="60"/>'
    rig = await orchestrate({RP: treating(music)})
    watcher, caller, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id)
    await caller.release_call(A, conn_id)
    name, data = await rig.outcome()
    assert name == "error.dialog.playsound"
    answered(data, conn_id, error="invalidstate")
    assert data["description"] == "the caller hung up during the treatment"


async def test_a_treatment_the_server_refuses(orchestrate: Orchestrate) -> None:
    collect = (
        '<dialog:collect requestid="_data.reqid"><dialog:input max_digits="40"/></dialog:collect>'
    )
    rig = await orchestrate({RP: treating(collect)})
    watcher, _, conn_id = await call_in(rig)
    name, data = await rig.outcome()
    assert name == "error.dialog.collect"
    answered(data, conn_id, error="unknown")
    assert data["description"] == (
        "EventError 53: TreatmentParms TOTAL_DIGITS must be a whole number above 0 up to 32"
    )
    await quiet(watcher)  # nothing was played


async def test_a_treatment_needs_a_call_at_a_routing_point(orchestrate: Orchestrate) -> None:
    strategy = (
        HEADER
        + """
  <state id="treating">
    <onentry><ixn:redirect interactionid="_data.ixnid" to="'7002'"/></onentry>
    <transition event="interaction.redirect.done" target="playing"/>
  </state>
  <state id="playing">
    <onentry><dialog:playsound type="silence"/></onentry>
    <transition event="dialog.* error.*" target="done">"""
        + REPORT
        + """</transition>
  </state>
  <final id="done"/>
</scxml>"""
    )
    rig = await orchestrate({RP: strategy})
    _, _, conn_id = await call_in(rig)
    name, data = await rig.outcome()
    assert name == "error.dialog.playsound"
    answered(data, conn_id, error="invalidstate")


def submit_with(treatments: str, targets: str = f"'{Q}.GA'", reqid: str = "_data.reqid") -> str:
    return f"""<queue:submit requestid="{reqid}" timeout="20" targets="[{targets}]">
        {treatments}</queue:submit>"""


async def ready_agent(rig: Rig) -> TClient:
    agent = await rig.site.client(AGENT_DN)
    await agent.agent_login(AGENT_DN, "1001", queue=Q, work_mode="ManualIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentNotReady")
    return agent


async def test_music_while_waiting_stops_when_an_agent_is_found(orchestrate: Orchestrate) -> None:
    treatments = """<dialog:runtreatments>
        <dialog:play><dialog:prompts><dialog:prompt intid="'please-wait'"/></dialog:prompts></dialog:play>
        <dialog:playsound type="music" resource="'9000'"/>
      </dialog:runtreatments>"""
    rig = await orchestrate({RP: treating(submit_with(treatments))}, site=QUICK)
    agent = await ready_agent(rig)
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="PlayAnnouncement")  # fmt: skip
    await expect(watcher, "EventTreatmentEnd", ConnID=conn_id, TreatmentType="PlayAnnouncement")
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="Music", TreatmentParms={"MUSIC_DN": "9000"})  # fmt: skip
    await agent.agent_ready(AGENT_DN)
    name, data = await rig.outcome()
    assert (name, data["resource"]) == ("queue.submit.done", AGENT_DN)
    await expect(watcher, "EventRouteUsed", ConnID=conn_id, ThirdPartyDN=AGENT_DN)
    await expect(agent, "EventAgentReady")
    await expect(agent, "EventRinging", ConnID=conn_id)
    await quiet(watcher)  # the music ended with the route: no EventTreatmentEnd


async def test_a_refused_treatment_of_a_submit_lets_the_next_play(
    orchestrate: Orchestrate,
) -> None:
    treatments = """<dialog:collect><dialog:input max_digits="99"/></dialog:collect>
      <dialog:playsound type="silence"/>"""
    rig = await orchestrate({RP: treating(submit_with(treatments))})
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="Silence")
    agent = await ready_agent(rig)
    await agent.agent_ready(AGENT_DN)
    name, _ = await rig.outcome()
    assert name == "queue.submit.done"


async def test_a_treatment_is_cancelled_when_the_call_is_routed(orchestrate: Orchestrate) -> None:
    """A playsound beside a submit: the submit finds an agent before the music's end."""
    strategy = (
        HEADER
        + f"""
  <parallel id="treating">
    <state id="music">
      <onentry><dialog:playsound requestid="_data.reqid" type="music" duration="60"/></onentry>
      <transition event="dialog.* error.dialog.*">{REPORT}</transition>
    </state>
    <state id="queue">
      <onentry><queue:submit timeout="20" targets="['1001.A']"/></onentry>
      <transition event="queue.submit.*">{REPORT}</transition>
    </state>
  </parallel>
</scxml>"""
    )
    rig = await orchestrate({RP: strategy})
    agent = await ready_agent(rig)
    watcher, _, conn_id = await call_in(rig)
    await expect(watcher, "EventTreatmentApplied", ConnID=conn_id, TreatmentType="Music")
    await agent.agent_ready(AGENT_DN)
    outcomes = dict([await rig.outcome(), await rig.outcome()])
    assert set(outcomes) == {"queue.submit.done", "error.dialog.playsound"}
    answered(outcomes["error.dialog.playsound"], conn_id, error="cancelled")
    assert outcomes["error.dialog.playsound"]["description"] == (
        f"the call was routed to {AGENT_DN} before its end"
    )
