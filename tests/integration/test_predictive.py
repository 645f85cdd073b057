"""RequestMakePredictiveCall through sockets (docs/protocol.md, Predictive calls): the
switch calls OtherDN first and offers the call at ThisDN (an extension, an ACD queue, a
routing point) once it is answered; busy and unanswered calls are given up by the
switch, with every party's events."""

from __future__ import annotations

from ctiserver.app.config import RoutingPointSettings
from ctiserver.ids import DeviceId
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet

A, B, C, AGENT = "7001", "7002", "7003", "7004"
RP, Q = "5000", "8001"


async def test_an_answered_call_rings_at_the_calling_extension(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    dialing = await a.request(
        "RequestMakePredictiveCall", ThisDN=A, OtherDN=B, UserData={"campaign": "c1"}
    )
    c1 = dialing["ConnID"]
    check(dialing, "EventDialing", ThisDN=A, ThisDNRole="Origination", OtherDN=B)
    assert dialing["UserData"] == {"campaign": "c1"}
    await expect(a, "EventDialing", ConnID=c1)
    await expect(
        b, "EventRinging", ConnID=c1, ThisDN=B, OtherDN=A, DNIS=B, ThisDNRole="Destination"
    )
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished", ConnID=c1, ThisDN=B, OtherDN=A)
    await expect(a, "EventEstablished", ConnID=c1, ThisDN=A, OtherDN=B, CallState="Ok")
    ringing = await expect(
        a, "EventRinging", ConnID=c1, ThisDN=A, ThisDNRole="Origination", OtherDN=B
    )
    assert ringing["UserData"] == {"campaign": "c1"}
    established = await a.answer_call(A, c1)
    check(established, "EventEstablished", ConnID=c1, ThisDN=A, OtherDN=B)
    await expect(a, "EventEstablished", ConnID=c1)
    await quiet(b)  # B talks with A already: no second EventEstablished, nor PartyChanged
    await b.release_call(B, c1)
    await expect(a, "EventReleased", ConnID=c1, ThisDN=A)


async def test_an_answered_call_queues_and_reaches_an_agent(site: Site) -> None:
    # The Events and Models Reference, Predictive Dialing: the called party is the
    # Destination; the queue and the agent it gives the call to are the Origination.
    q, b, agent = await site.client(Q), await site.client(B), await site.client(AGENT)
    await agent.agent_login(AGENT, "1001", queue=Q, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    c1 = (await q.request("RequestMakePredictiveCall", ThisDN=Q, OtherDN=B, Timeout=30))["ConnID"]
    origination = {"ThisDNRole": "Origination", "OtherDN": B, "OtherDNRole": "Destination"}
    await expect(q, "EventDialing", ConnID=c1, ThisDN=Q, **origination)
    await expect(b, "EventRinging", ConnID=c1, OtherDN=Q, ThisDNRole="Destination")
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished", ConnID=c1, ThisDN=B, OtherDN=Q)
    await expect(q, "EventEstablished", ConnID=c1, ThisDN=Q, **origination)
    await expect(q, "EventQueued", ConnID=c1, ThisDN=Q, ThisQueue=Q, **origination)
    await expect(
        q,
        "EventDiverted",
        ConnID=c1,
        ThisDN=Q,
        ThirdPartyDN=AGENT,
        ThirdPartyDNRole="Origination",
        **origination,
    )
    await expect(
        agent,
        "EventRinging",
        ConnID=c1,
        ThisDN=AGENT,
        ThisQueue=Q,
        AgentID="1001",
        **origination,
    )
    await quiet(b)  # ringing at the agent changes nothing for the called party
    await agent.answer_call(AGENT, c1)
    await expect(agent, "EventEstablished", ConnID=c1, ThisDN=AGENT, **origination)
    changed = await expect(
        b,
        "EventPartyChanged",
        ConnID=c1,
        ThisDN=B,
        ThisDNRole="Destination",
        OtherDN=AGENT,
        OtherDNRole="Origination",
        ThirdPartyDN=Q,
        ThirdPartyDNRole="Origination",
        CallState="Ok",
    )
    assert "PreviousConnID" not in changed
    await quiet(q)
    await b.release_call(B, c1)
    await expect(b, "EventReleased", ConnID=c1, OtherDN=AGENT, ThisDNRole="Destination")
    await expect(agent, "EventReleased", ConnID=c1, ThisDN=AGENT, **origination)


async def test_an_answered_call_asks_the_routing_point_for_a_route(
    make_site: SiteFactory,
) -> None:
    points = {DeviceId(RP): RoutingPointSettings(30.0, DeviceId(C))}
    site = await make_site(site={"routing_points": points})
    router, b, c = await site.client(RP), await site.client(B), await site.client(C)
    c1 = (await router.request("RequestMakePredictiveCall", ThisDN=RP, OtherDN=B))["ConnID"]
    origination = {"ThisDNRole": "Origination", "OtherDN": B, "OtherDNRole": "Destination"}
    await expect(router, "EventDialing", ConnID=c1, ThisDN=RP, **origination)
    await b.answer_call(B, c1)
    await expect(b, "EventRinging", ConnID=c1, OtherDN=RP, ThisDNRole="Destination")
    await expect(b, "EventEstablished", ConnID=c1, OtherDN=RP, ThisDNRole="Destination")
    await expect(router, "EventEstablished", ConnID=c1, ThisDN=RP, **origination)
    await expect(router, "EventRouteRequest", ConnID=c1, ThisDN=RP, ThisQueue=RP, **origination)
    await router.route_call(RP, c1, C)
    await expect(
        router,
        "EventRouteUsed",
        ConnID=c1,
        ThisDN=RP,
        ThirdPartyDN=C,
        ThirdPartyDNRole="Origination",
        **origination,
    )
    await expect(c, "EventRinging", ConnID=c1, ThisDN=C, ThisQueue=RP, **origination)
    await c.answer_call(C, c1)
    await expect(c, "EventEstablished", ConnID=c1, ThisDN=C, **origination)
    await expect(
        b,
        "EventPartyChanged",
        ConnID=c1,
        ThisDN=B,
        ThisDNRole="Destination",
        OtherDN=C,
        OtherDNRole="Origination",
        ThirdPartyDN=RP,
        ThirdPartyDNRole="Origination",
    )
    await quiet(router)


async def test_a_busy_called_party_ends_the_call(site: Site) -> None:
    q, b, c = await site.client(Q), await site.client(B), await site.client(C)
    await c.make_call(C, B)
    busy = await q.request("RequestMakePredictiveCall", ThisDN=Q, OtherDN=B)
    c1 = busy["ConnID"]
    await expect(q, "EventDialing", ConnID=c1, ThisDN=Q, OtherDN=B)
    await expect(q, "EventDestinationBusy", ConnID=c1, ThisDN=Q, CallState="Busy")
    released = await expect(q, "EventReleased", ConnID=c1, ThisDN=Q, CallState="Busy")
    assert released["Extensions"] == {"ReleasingParty": "1 Local"}
    await expect(b, "EventRinging", OtherDN=C)  # C's call; the predictive one never came
    await quiet(b)


async def test_an_unanswered_call_is_given_up_after_the_timeout(site: Site) -> None:
    q, b = await site.client(Q), await site.client(B)
    c1 = (await q.request("RequestMakePredictiveCall", ThisDN=Q, OtherDN=B, Timeout=1))["ConnID"]
    await expect(q, "EventDialing", ConnID=c1)
    await expect(b, "EventRinging", ConnID=c1, ThisDN=B, OtherDN=Q)
    await expect(q, "EventReleased", ConnID=c1, ThisDN=Q, CallState="NoAnswer")
    abandoned = await expect(b, "EventAbandoned", ConnID=c1, ThisDN=B, OtherDN=Q)
    assert abandoned["Extensions"] == {"ReleasingParty": "2 Remote"}


async def test_refusals_say_why(site: Site) -> None:
    a, c = await site.client(A), await site.client(C)
    cases = [
        ({"OtherDN": A}, 1140, "OtherDN is ThisDN"),
        ({"OtherDN": B, "Timeout": 0}, 53, "Timeout 0: 1 to 3600 seconds"),
        ({"OtherDN": "x"}, 1145, "OtherDN cannot be called"),
    ]
    for attributes, code, why in cases:
        reference = a.send("RequestMakePredictiveCall", ThisDN=A, **attributes)
        error = await expect(a, "EventError", ReferenceID=reference, ErrorCode=code)
        assert error["ErrorMessage"].endswith(why), error
    await c.make_call(C, B)
    await expect(c, "EventDialing")
    reference = c.send("RequestMakePredictiveCall", ThisDN=C, OtherDN=A)
    error = await expect(c, "EventError", ReferenceID=reference)
    assert error["ErrorMessage"].endswith("ThisDN is busy"), error
    reference = a.send("RequestMakePredictiveCall", ThisDN=B, OtherDN=A)
    await expect(a, "EventError", ReferenceID=reference, ErrorCode=41)
