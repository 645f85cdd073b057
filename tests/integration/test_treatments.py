"""RequestSendDTMF and RequestApplyTreatment through sockets (docs/protocol.md): digits
sent into a call, and a caller at a routing point hearing music for a while, then keying
digits on the phone of the embedded pbxsim (over HTTP) that the router collects."""

from __future__ import annotations

import aiohttp

from ctiserver.app.config import RoutingPointSettings
from ctiserver.ids import DeviceId
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet, within
from tests.integration.scenarios import talking

A, B, D = "7001", "7002", "7004"
RP = "5000"


async def routing_site(make_site: SiteFactory) -> Site:
    points = {DeviceId(RP): RoutingPointSettings(60.0, DeviceId("7005"))}
    return await make_site(site={"routing_points": points})


async def test_dtmf_sent_into_a_call(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    sent = await a.request("RequestSendDTMF", ThisDN=A, ConnID=c1, DTMFDigits="123#")
    check(sent, "EventDTMFSent", ThisDN=A, ConnID=c1, ANI=A, DNIS=B, UserData={})
    await expect(a, "EventDTMFSent", ReferenceID=sent["ReferenceID"])
    reference = a.send("RequestSendDTMF", ThisDN=A, ConnID=c1, DTMFDigits="12x")
    await expect(a, "EventError", ReferenceID=reference, ErrorCode=53)
    await quiet(b)


async def press(site: Site, station: str, body: object) -> int:
    host, port = site.service.http_address  # type: ignore[misc]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{host}:{port}/phone/{station}", json=body) as reply,
    ):
        return reply.status


async def test_music_then_digits_collected_from_the_phone(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router = await site.client(A), await site.client(RP)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1)
    await expect(router, "EventRouteRequest", ConnID=c1)
    music = {"DURATION": 1}
    applied = await router.request(
        "RequestApplyTreatment", ThisDN=RP, ConnID=c1, TreatmentType="Music", TreatmentParms=music
    )
    check(
        applied,
        "EventTreatmentApplied",
        ThisDN=RP,
        ConnID=c1,
        TreatmentType="Music",
        TreatmentParms=music,
        Extensions={},
    )
    await expect(router, "EventTreatmentApplied", ReferenceID=applied["ReferenceID"])
    end = await within(router.next_event(), 10)
    check(end, "EventTreatmentEnd", ConnID=c1, TreatmentType="Music", ReferenceID=None)
    collect = {"TOTAL_DIGITS": 4, "TERM_DIGITS": "#"}
    applied = await router.request(
        "RequestApplyTreatment",
        ThisDN=RP,
        ConnID=c1,
        TreatmentType="CollectDigits",
        TreatmentParms=collect,
    )
    await expect(router, "EventTreatmentApplied", ReferenceID=applied["ReferenceID"])
    assert await press(site, A, {"action": "digits", "digits": "42#"}) == 200
    await expect(
        router,
        "EventTreatmentEnd",
        ConnID=c1,
        TreatmentType="CollectDigits",
        TreatmentParms=collect,
        CollectedDigits="42",
        LastCollectedDigit="#",
        Extensions={"COMPLETION_STATUS": "NORMAL"},
    )
    await quiet(a)


async def test_treatment_refusals(make_site: SiteFactory) -> None:
    site = await routing_site(make_site)
    a, router = await site.client(A), await site.client(RP)
    c1 = (await a.make_call(A, RP))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1)
    await expect(router, "EventRouteRequest", ConnID=c1)
    reference = router.send("RequestApplyTreatment", ThisDN=RP, ConnID=c1, TreatmentType="IVR")
    await expect(
        router,
        "EventError",
        ReferenceID=reference,
        ErrorCode=53,
        ErrorMessage="TreatmentType IVR needs an IVR, which a CSTA switch does not offer",
    )
    reference = a.send("RequestApplyTreatment", ThisDN=RP, ConnID=c1, TreatmentType="Music")
    await expect(a, "EventError", ReferenceID=reference, ErrorCode=41)
    assert await press(site, B, {"action": "digits", "digits": "1"}) == 409  # no call in use
