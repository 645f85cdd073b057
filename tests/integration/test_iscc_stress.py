"""ISCC under concurrent calls: the two- and three-site scenarios, many at once.

Each flow asserts the exact order and attributes of what its parties hear: the origin's
own event (EventDialing, EventRouteUsed, EventReleased) comes before
EventRemoteConnectionSuccess, which names the moving call; the call rings at the
destination with the UserData and the origin's ConnID (LastTransferConnID); a UserData
change at the far end reaches the origin, through a middle site too.  Running them at
once gives the servers every interleaving a busy site sees.

ISCC_STRESS_ROUNDS (default 1) repeats the whole set; run it with 20 before trusting a
change to ISCC:  ISCC_STRESS_ROUNDS=20 ./dev test tests/integration/test_iscc_stress.py
"""

from __future__ import annotations

import asyncio
import os

import pytest

from ctiserver.client.connection import TClient
from ctiserver.tlib.events import problems
from tests.integration.conftest import Site, SiteFactory, check, expect, within
from tests.integration.sites import three_sites, two_sites

ROUNDS = int(os.environ.get("ISCC_STRESS_ROUNDS", "1"))


async def arrives(far: TClient, dn: str, data: dict[str, str], origin_conn: str) -> str:
    """The call rings at *dn* with its data and its origin's ConnID; returns its ConnID."""
    ringing = await expect(
        far,
        "EventRinging",
        ThisDN=dn,
        UserData=data,
        LastTransferConnID=origin_conn,
        CallType="Inbound",
    )
    return str(ringing["ConnID"])


async def far_end_changes_data(
    far: TClient, dn: str, far_conn: str, near: TClient, near_conn: str, data: dict[str, str]
) -> None:
    await far.answer_call(dn, far_conn)
    await expect(far, "EventEstablished", ConnID=far_conn)
    changed = {**data, "note": f"from {dn}"}
    await far.update_user_data(dn, far_conn, {"note": f"from {dn}"})
    await expect(far, "EventAttachedDataChanged", UserData=changed)
    await data_reaches(near, near_conn, changed)


async def data_reaches(near: TClient, conn: str, data: dict[str, str]) -> None:
    """*near* hears of the change to *data* on its call *conn* (after the call's own events:
    the answer, a transfer, which the flows assert where they matter)."""
    while True:
        event = await within(near.next_event())
        assert not problems(event), (problems(event), event)
        assert event.get("ConnID") == conn, event
        assert event["Event"] != "EventError", event
        if event["Event"] == "EventAttachedDataChanged":
            check(event, "EventAttachedDataChanged", UserData=data)
            return


async def make_call_flow(
    site_a: Site, site_b: Site, near_dn: str, far_dn: str, xroute: str
) -> None:
    near, far = await site_a.client(near_dn), await site_b.client(far_dn)
    data = {"flow": f"{near_dn}-{xroute}", "CDT_Track_Num": near_dn[-3:]}
    dialing = await near.make_call(
        near_dn, far_dn, user_data=data, Location="SiteB", XRouteType=xroute
    )
    conn = str(dialing["ConnID"])
    await expect(near, "EventDialing", ConnID=conn)
    far_conn = await arrives(far, far_dn, data, conn)
    await expect(near, "EventNetworkReached", ConnID=conn)
    await expect(
        near, "EventRemoteConnectionSuccess", ConnID=conn, ReferenceID=dialing["ReferenceID"]
    )
    await far_end_changes_data(far, far_dn, far_conn, near, conn, data)
    await far.release_call(far_dn, far_conn)
    await expect(near, "EventReleased", ConnID=conn)


async def route_flow(site_a: Site, site_b: Site) -> None:
    caller, router = await site_a.client("7005"), await site_a.client("5000")
    far = await site_b.client("7105")
    data = {"flow": "route"}
    conn = str((await caller.make_call("7005", "5000", user_data=data))["ConnID"])
    await expect(caller, "EventDialing", ConnID=conn)
    await expect(router, "EventRouteRequest", ConnID=conn)
    used = await router.route_call("5000", conn, "7105", Location="SiteB", XRouteType="Route")
    check(used, "EventRouteUsed", ConnID=conn)
    await expect(router, "EventRouteUsed", ConnID=conn)
    far_conn = await arrives(far, "7105", data, conn)
    await expect(router, "EventRemoteConnectionSuccess", ConnID=conn)
    await far_end_changes_data(far, "7105", far_conn, caller, conn, data)


async def single_step_flow(site_a: Site, site_b: Site) -> None:
    a, b = await site_a.client("7006"), await site_a.client("7007")
    far = await site_b.client("7106")
    data = {"flow": "single-step"}
    conn = str((await a.make_call("7006", "7007", user_data=data))["ConnID"])
    await expect(b, "EventRinging", ConnID=conn)
    await b.answer_call("7007", conn)
    await expect(b, "EventEstablished", ConnID=conn)
    released = await b.single_step_transfer(
        "7007", conn, "7106", Location="SiteB", XRouteType="DirectUUI"
    )
    check(released, "EventReleased", ConnID=conn, CallState="Transferred")
    await expect(b, "EventReleased", ConnID=conn)
    await expect(b, "EventRemoteConnectionSuccess", ConnID=conn)
    far_conn = await arrives(far, "7106", data, conn)
    await far_end_changes_data(far, "7106", far_conn, a, conn, data)


async def consultation_flow(site_a: Site, site_b: Site) -> None:
    a, b = await site_a.client("7008"), await site_a.client("7009")
    far = await site_b.client("7107")
    data = {"flow": "consultation"}
    conn = str((await a.make_call("7008", "7009", user_data=data))["ConnID"])
    await expect(b, "EventRinging", ConnID=conn)
    await b.answer_call("7009", conn)
    await expect(b, "EventEstablished", ConnID=conn)
    held = await b.initiate_transfer("7009", conn, "7107", Location="SiteB", XRouteType="DirectUUI")
    check(held, "EventHeld", ConnID=conn)
    await expect(b, "EventHeld", ConnID=conn)
    consultation = str((await expect(b, "EventDialing", CallType="Consult"))["ConnID"])
    far_conn = await arrives(far, "7107", data, consultation)
    await expect(b, "EventNetworkReached", ConnID=consultation)
    await expect(
        b, "EventRemoteConnectionSuccess", ConnID=consultation, ReferenceID=held["ReferenceID"]
    )
    await far_end_changes_data(far, "7107", far_conn, b, consultation, data)


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_calls_cross_to_another_site_at_once(make_site: SiteFactory, round_: int) -> None:
    site_a, site_b = await two_sites(make_site)
    flows = [
        make_call_flow(site_a, site_b, "7001", "7101", "DirectUUI"),
        make_call_flow(site_a, site_b, "7002", "7102", "Direct"),
        make_call_flow(site_a, site_b, "7003", "7103", "DirectNetworkCallID"),
        make_call_flow(site_a, site_b, "7004", "7104", "DirectDigits"),
        route_flow(site_a, site_b),
        single_step_flow(site_a, site_b),
        consultation_flow(site_a, site_b),
    ]
    await asyncio.gather(*flows)


async def through_the_middle(sites: tuple[Site, Site, Site], n: int) -> None:
    """A calls B, B hands the call on to C; a change at C reaches A through B."""
    site_a, site_b, site_c = sites
    a, b, c = (
        await site_a.client(f"700{n}"),
        await site_b.client(f"710{n}"),
        await site_c.client(f"720{n}"),
    )
    data = {"flow": f"A-B-C {n}"}
    dialing = await a.make_call(
        f"700{n}", f"710{n}", user_data=data, Location="SiteB", XRouteType="DirectUUI"
    )
    conn = str(dialing["ConnID"])
    b_conn = await arrives(b, f"710{n}", data, conn)
    await b.answer_call(f"710{n}", b_conn)
    await expect(b, "EventEstablished", ConnID=b_conn)
    await b.single_step_transfer(
        f"710{n}", b_conn, f"720{n}", Location="SiteC", XRouteType="DirectUUI"
    )
    c_conn = await arrives(c, f"720{n}", data, b_conn)
    await c.answer_call(f"720{n}", c_conn)
    await expect(c, "EventEstablished", ConnID=c_conn)
    changed = {**data, "note": "from C"}
    await c.update_user_data(f"720{n}", c_conn, {"note": "from C"})
    await data_reaches(a, conn, changed)


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_calls_through_a_middle_site_at_once(make_site: SiteFactory, round_: int) -> None:
    sites = await three_sites(make_site)
    await asyncio.gather(*(through_the_middle(sites, n) for n in (1, 2, 3)))
