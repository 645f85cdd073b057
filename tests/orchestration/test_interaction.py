"""Sessions and their interactions through a real server: what interaction.added carries,
the common actions `<redirect>` and `<terminate>`, and sessions that follow their call
through a transfer until it is gone."""

from __future__ import annotations

from typing import Any

import orjson

from ctiserver.app.config import demo
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from tests.integration.conftest import expect, within
from tests.orchestration.conftest import Orchestrate, flow, strategy
from tests.orchestration.test_voice import (
    RP,
    A,
    B,
    C,
    answered,
    answered_then,
    check_error,
    outcomes,
    party,
)

RP2 = "5001"

ADDED = strategy(
    """
  <state id="start">
    <transition event="interaction.added" target="done">
      <log label="added" expr="JSON.stringify({added: _event.data, session: _genesys.session,
                                               ixn: _genesys.ixn.interactions[_event.data.interactionid]})"/>
    </transition>
  </state>
  <final id="done"/>"""
)


async def test_interaction_added_and_what_the_strategy_sees(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: ADDED})
    a = await rig.site.client(A)
    dialing = await a.make_call(A, RP, user_data={"intent": "sales", "tier": 2})
    seen: dict[str, Any] = orjson.loads(await rig.log("added"))
    conn_id = dialing["ConnID"]
    assert seen["added"] == {"interactionid": conn_id, "focusdeviceid": RP}
    assert seen["session"]["routingpoint"] == RP
    ixn = seen["ixn"]
    assert ixn["g_uid"] == conn_id
    assert ixn["udata"] == {"intent": "sales", "tier": 2}
    voice = ixn["voice"]
    assert (voice["ani"], voice["dnis"], voice["callid"]) == (A, RP, dialing["CallID"])
    assert (voice["connid"], voice["type"]) == (conn_id, "internal")
    assert voice["parties"] == {A: "dialing", RP: "routing"}
    assert (await rig.ended()).final == "done"


# --- redirect --------------------------------------------------------------------------------


async def test_redirect_from_the_routing_point_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: answered_then("")})
    await answered(rig)  # asserts interaction.redirect.done


async def test_redirect_to_an_unknown_number_is_invaliddestination(
    orchestrate: Orchestrate,
) -> None:
    logic = """<state id="routing">
        <onentry><ixn:redirect requestid="_data.reqid" to="'9999'"/></onentry></state>"""
    rig = await orchestrate({RP: flow(logic)})
    a = await rig.site.client(A)
    await a.make_call(A, RP)
    check_error(await rig.outcome(), "error.interaction.redirect", "invaliddestination")


async def test_redirect_of_a_ringing_party_done(orchestrate: Orchestrate) -> None:
    logic = f"""<state id="routing">
        <onentry><ixn:redirect interactionid="_data.ixnid" to="'{B}'"/></onentry>
        <transition event="interaction.partystate.changed" cond="{party(B, "ringing")}"
                    target="away"/>
      </state>
      <state id="away"><onentry><ixn:redirect to="'{C}'"/></onentry></state>"""
    rig = await orchestrate({RP: flow(logic)})
    a, b, c = await rig.site.client(A), await rig.site.client(B), await rig.site.client(C)
    conn_id = (await a.make_call(A, RP))["ConnID"]
    assert (await rig.outcome())[0] == "interaction.redirect.done"  # from the routing point
    assert (await rig.outcome())[0] == "interaction.redirect.done"  # from B, ringing
    await expect(b, "EventRinging", ConnID=conn_id)
    await expect(b, "EventReleased", ConnID=conn_id, CallState="Redirected")
    await expect(c, "EventRinging", ConnID=conn_id, OtherDN=A, ThirdPartyDN=B)


# --- terminate -------------------------------------------------------------------------------


async def test_terminate_done_then_the_interaction_is_deleted(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: answered_then('<ixn:terminate interactionid="_data.ixnid" reason="\'spam\'"/>')}
    )
    a, b, conn_id = await answered(rig)
    assert await rig.outcome() == (
        "interaction.terminate.done",
        {"requestid": "req-2", "interactionid": conn_id},
    )
    assert await rig.outcome() == ("interaction.deleted", {"interactionid": conn_id})
    await expect(b, "EventReleased", ConnID=conn_id)
    await within(a.wait_for("EventReleased", ConnID=conn_id))


async def test_terminate_by_a_dn_not_on_the_call_is_invalidstate(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: answered_then('<ixn:terminate interactionid="_data.ixnid" resource="\'7005\'"/>')}
    )
    await answered(rig)
    check_error(await rig.outcome(), "error.interaction.terminate", "invalidstate")


async def test_an_action_on_an_unknown_interaction_is_invalidstate(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate({RP: answered_then("<ixn:hold interactionid=\"'nope'\"/>")})
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.hold", "invalidstate")


# --- sessions follow their call --------------------------------------------------------------

WATCH = """<state id="routing">
        <onentry><ixn:redirect interactionid="_data.ixnid" to="'{to}'"/></onentry>
        <transition event="interaction.partystate.changed">
          <log label="{label}" expr="_genesys.ixn.interactions[_data.ixnid].voice.connid
                                      + ' ' + _event.data.dn + ' ' + _event.data.state"/>
        </transition>
        <transition event="interaction.deleted" target="gone"/>
      </state>
      <final id="gone"/>"""


async def test_a_session_outlives_its_call_being_transferred(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: flow(WATCH.format(to=B, label="party"))})
    c = await rig.site.client(C)
    a, b, c1 = await answered(rig)
    await b.initiate_transfer(B, c1, C)
    c2 = (await expect(c, "EventRinging", PreviousConnID=c1))["ConnID"]
    await c.answer_call(C, c2)
    await b.complete_transfer(B, c1, c2)
    await expect(c, "EventEstablished", ConnID=c2)
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2)
    await a.release_call(A, c1)
    # Nothing was deleted before A hung up: the transfer kept the session's call.
    assert await rig.outcome() == ("interaction.deleted", {"interactionid": c1})


async def test_a_session_follows_its_conn_id_when_a_consultation_is_transferred(
    orchestrate: Orchestrate,
) -> None:
    dns = {**demo().site.dns, DeviceId(RP2): DnKind.ROUTING_POINT}
    rig = await orchestrate(
        {RP: flow(WATCH.format(to=B, label="first")), RP2: flow(WATCH.format(to=C, label="party"))},
        site={"site": {"dns": dns}},
    )
    c = await rig.site.client(C)
    a, b, c1 = await answered(rig)
    # B consults the second routing point; its strategy starts on the consultation c2.
    await b.initiate_transfer(B, c1, RP2)
    c2 = (await expect(c, "EventRinging", PreviousConnID=c1))["ConnID"]
    assert await rig.outcome() == (
        "interaction.redirect.done",
        {"interactionid": c2, "requestid": "req-2"},
    )
    await c.answer_call(C, c2)
    await b.complete_transfer(B, c1, c2)
    await expect(c, "EventEstablished", ConnID=c2)
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2)
    # The second session's interaction (named c2) now follows c1.
    while (line := await rig.log("party")) != f"{c1} {C} established":
        assert line.startswith(c2), line
    await a.release_call(A, c1)
    assert await outcomes(rig, 2) == {("interaction.deleted", c1), ("interaction.deleted", c2)}
