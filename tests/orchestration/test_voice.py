"""One strategy per voice action, through a real server with its embedded pbxsim: each is
answered by `voice.<action>.done`, or by `error.voice.<action>` with the error value the
server's EventError maps to.

The call in each test: A dials the routing point, the strategy routes it to B
(`<ixn:redirect>` from the routing point), B answers, and the strategy acts.
"""

from __future__ import annotations

from ctiserver.client.connection import TClient
from tests.integration.conftest import expect, within
from tests.orchestration.conftest import Orchestrate, Rig, flow

A, B, C, D, RP = "7001", "7002", "7003", "7004", "5000"


def party(dn: str, state: str, interaction: str = "_data.ixnid") -> str:
    """A condition on interaction.partystate.changed."""
    return (
        f"_event.data.interactionid == {interaction} &amp;&amp; _event.data.dn == '{dn}'"
        f" &amp;&amp; _event.data.state == '{state}'"
    )


def answered_then(actions: str, rest: str = "") -> str:
    """Route to B; once B answers, run *actions* in state "acting" (with *rest* in it)."""
    return flow(
        f"""
      <state id="routing">
        <onentry><ixn:redirect interactionid="_data.ixnid" to="'{B}'"/></onentry>
        <transition event="interaction.partystate.changed" cond="{party(B, "established")}"
                    target="acting"/>
      </state>
      <state id="acting"><onentry>{actions}</onentry>{rest}</state>"""
    )


# B consults C; once C answers, run *actions* (the consultation is _data.consult).
def consulted_then(actions: str, kind: str = "transfer") -> str:
    return answered_then(
        f"""<ixn:consultation requestid="_data.reqid" interactionid="_data.ixnid"
                              to="'{C}'" type="{kind}"/>""",
        f"""<transition event="voice.consultation.done" target="consulting">
              <assign location="_data.consult" expr="_event.data.consultinteractionid"/>
            </transition>
          </state>
          <state id="consulting">
            <transition event="interaction.partystate.changed"
                        cond="{party(C, "established", "_data.consult")}" target="completing"/>
          </state>
          <state id="completing"><onentry>{actions}</onentry>""",
    )


async def answered(rig: Rig) -> tuple[TClient, TClient, str]:
    """A calls the routing point, the strategy routes to B, B answers: (a, b, ConnID)."""
    a, b = await rig.site.client(A), await rig.site.client(B)
    conn_id: str = (await a.make_call(A, RP))["ConnID"]
    name, data = await rig.outcome()
    assert (name, data["interactionid"]) == ("interaction.redirect.done", conn_id)
    await expect(b, "EventRinging", ConnID=conn_id, OtherDN=A)
    await b.answer_call(B, conn_id)
    await expect(b, "EventEstablished", ConnID=conn_id)
    return a, b, conn_id


async def consulted(rig: Rig) -> tuple[TClient, TClient, TClient, str, str]:
    """As answered(), then the strategy consults C and C answers: (a, b, c, c1, c2)."""
    c = await rig.site.client(C)
    a, b, c1 = await answered(rig)
    name, data = await rig.outcome()
    assert name == "voice.consultation.done", data
    c2 = data["consultinteractionid"]
    assert (data["interactionid"], c2 != c1) == (c1, True)
    await expect(c, "EventRinging", ConnID=c2, CallType="Consult", PreviousConnID=c1)
    await c.answer_call(C, c2)
    await expect(c, "EventEstablished", ConnID=c2)
    return a, b, c, c1, c2


async def outcomes(rig: Rig, count: int) -> set[tuple[str, str]]:
    """The next *count* results, as (event name, interactionid), in any order."""
    found = set()
    for _ in range(count):
        name, data = await rig.outcome()
        found.add((name, data["interactionid"]))
    return found


def check_error(outcome: tuple[str, dict[str, object]], name: str, error: str) -> None:
    event, data = outcome
    assert (event, data["error"]) == (name, error), data
    assert {"requestid", "interactionid", "description"} <= set(data)


# --- createcall ------------------------------------------------------------------------------


async def test_createcall_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: answered_then(f"""<ixn:createcall requestid="_data.reqid" from="'{C}'" to="'{D}'"
                                  udata="({{case: 'A-17', n: 6 * 7}})"/>""")
        }
    )
    d = await rig.site.client(D)
    await answered(rig)
    name, data = await rig.outcome()
    assert name == "voice.createcall.done"
    assert data["requestid"].startswith("req-")
    ringing = await expect(d, "EventRinging", OtherDN=C, UserData={"case": "A-17", "n": 42})
    assert data["interactionid"] == ringing["ConnID"]


async def test_createcall_from_an_unknown_dn_is_invalidsource(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: answered_then(
                f"""<ixn:createcall requestid="_data.reqid" from="'9999'" to="'{D}'"/>"""
            )
        }
    )
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.createcall", "invalidsource")


# --- hold and retrieve -----------------------------------------------------------------------


async def test_hold_done_and_the_requestid_is_assigned_before_sending(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate(
        {
            RP: answered_then(
                """<ixn:hold requestid="_data.reqid" interactionid="_data.ixnid"/>
                   <log label="reqid" expr="_data.reqid"/>"""
            )
        }
    )
    _, b, conn_id = await answered(rig)
    request_id = await rig.log("reqid")
    name, data = await rig.outcome()
    assert (name, data) == ("voice.hold.done", {"requestid": request_id, "interactionid": conn_id})
    await expect(b, "EventHeld", ConnID=conn_id, ReferenceID=None)


async def test_hold_of_a_held_call_is_invalidstate(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: answered_then(
                '<ixn:hold interactionid="_data.ixnid"/>',
                '<transition event="voice.hold.done"><ixn:hold interactionid="_data.ixnid"/>'
                "</transition>",
            )
        }
    )
    await answered(rig)
    assert (await rig.outcome())[0] == "voice.hold.done"
    check_error(await rig.outcome(), "error.voice.hold", "invalidstate")


async def test_retrieve_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: answered_then(
                '<ixn:hold interactionid="_data.ixnid"/>',
                '<transition event="voice.hold.done"><ixn:retrieve interactionid="_data.ixnid"/>'
                "</transition>",
            )
        }
    )
    _, b, conn_id = await answered(rig)
    assert (await rig.outcome())[0] == "voice.hold.done"
    name, data = await rig.outcome()
    assert (name, data["interactionid"]) == ("voice.retrieve.done", conn_id)
    await expect(b, "EventHeld", ConnID=conn_id)
    await expect(b, "EventRetrieved", ConnID=conn_id)


async def test_retrieve_of_a_call_not_held_is_invalidstate(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: answered_then('<ixn:retrieve interactionid="_data.ixnid"/>')})
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.retrieve", "invalidstate")


# --- consultation, alternate, reconnect ------------------------------------------------------


async def test_consultation_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: consulted_then("")})
    _, b, _, c1, c2 = await consulted(rig)
    await expect(b, "EventHeld", ConnID=c1)
    await expect(b, "EventDialing", ConnID=c2, CallType="Consult")


async def test_consultation_from_a_dn_not_on_the_call_is_invalidstate(
    orchestrate: Orchestrate,
) -> None:
    consultation = f"""<ixn:consultation interactionid="_data.ixnid" resource="'{D}'"
                                         to="'{C}'"/>"""
    rig = await orchestrate({RP: answered_then(consultation)})
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.consultation", "invalidstate")


async def test_alternate_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: consulted_then(
                '<ixn:alternate interactionid="_data.ixnid" consultinteractionid="_data.consult"/>'
            )
        }
    )
    _, b, _, c1, c2 = await consulted(rig)
    name, data = await rig.outcome()
    assert (name, data["interactionid"]) == ("voice.alternate.done", c1)
    await expect(b, "EventHeld", ConnID=c1)
    await expect(b, "EventDialing", ConnID=c2)
    await expect(b, "EventEstablished", ConnID=c2)
    await expect(b, "EventHeld", ConnID=c2)
    await expect(b, "EventRetrieved", ConnID=c1)


async def test_alternate_without_a_held_call_is_invalidstate(orchestrate: Orchestrate) -> None:
    # Alternating twice at once: the second finds the first already done.
    twice = '<ixn:alternate interactionid="_data.ixnid" consultinteractionid="_data.consult"/>'
    rig = await orchestrate({RP: consulted_then(twice + twice)})
    await consulted(rig)
    results = dict([await rig.outcome(), await rig.outcome()])
    assert set(results) == {"voice.alternate.done", "error.voice.alternate"}
    check_error(
        ("error.voice.alternate", results["error.voice.alternate"]),
        "error.voice.alternate",
        "invalidstate",
    )


async def test_reconnect_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: consulted_then(
                '<ixn:reconnect interactionid="_data.ixnid" consultinteractionid="_data.consult"/>'
            )
        }
    )
    _, _, c, c1, c2 = await consulted(rig)
    # The consultation ends (its interaction is deleted) before B has retrieved A.
    assert await outcomes(rig, 2) == {
        ("voice.reconnect.done", c1),
        ("interaction.deleted", c2),
    }
    await expect(c, "EventReleased", ConnID=c2)


async def test_reconnect_of_a_finished_consultation_is_invalidstate(
    orchestrate: Orchestrate,
) -> None:
    twice = '<ixn:reconnect interactionid="_data.ixnid" consultinteractionid="_data.consult"/>'
    rig = await orchestrate({RP: consulted_then(twice + twice)})
    await consulted(rig)
    results = dict([await rig.outcome() for _ in range(3)])
    assert set(results) == {"voice.reconnect.done", "error.voice.reconnect", "interaction.deleted"}
    check_error(
        ("error.voice.reconnect", results["error.voice.reconnect"]),
        "error.voice.reconnect",
        "invalidstate",
    )


# --- conference and transfer -----------------------------------------------------------------


async def test_conference_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: consulted_then(
                '<ixn:conference interactionid="_data.ixnid" consultinteractionid="_data.consult"/>',
                kind="conference",
            )
        }
    )
    a, _, _, c1, c2 = await consulted(rig)
    assert await outcomes(rig, 2) == {
        ("voice.conference.done", c1),
        ("interaction.deleted", c2),
    }
    await within(a.wait_for("EventPartyAdded", ConnID=c1, OtherDN=C))


async def test_single_step_conference_to_an_unknown_number_is_an_error(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate(
        {RP: answered_then('<ixn:conference interactionid="_data.ixnid" to="\'9999\'"/>')}
    )
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.conference", "invaliddestination")


async def test_transfer_done_and_the_session_keeps_the_call(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {
            RP: consulted_then(
                '<ixn:transfer interactionid="_data.ixnid" consultinteractionid="_data.consult"/>'
            )
        }
    )
    a, _, c, c1, c2 = await consulted(rig)
    # The consultation is one with the call now; the call itself goes on between A and C.
    assert await outcomes(rig, 2) == {
        ("voice.transfer.done", c1),
        ("interaction.deleted", c2),
    }
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2)
    await a.release_call(A, c1)
    assert await rig.outcome() == ("interaction.deleted", {"interactionid": c1})


async def test_single_step_transfer_to_an_unknown_number_is_an_error(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate(
        {RP: answered_then('<ixn:transfer interactionid="_data.ixnid" to="\'9999\'"/>')}
    )
    await answered(rig)
    check_error(await rig.outcome(), "error.voice.transfer", "invaliddestination")


async def test_single_step_transfer_done(orchestrate: Orchestrate) -> None:
    rig = await orchestrate(
        {RP: answered_then(f'<ixn:transfer interactionid="_data.ixnid" to="\'{C}\'"/>')}
    )
    c = await rig.site.client(C)
    _, _, conn_id = await answered(rig)
    assert (await rig.outcome())[0] == "voice.transfer.done"
    await expect(c, "EventRinging", ConnID=conn_id, ThirdPartyDN=B)
