"""RequestReserveAgentAndGetAccessNumber through sockets (docs/iscc.md, Reserving the
agent): SiteA asks SiteB for an access number that leads to an agent there, and SiteB
holds that agent reserved until the call arrives, the request is cancelled or the
access resource's time is over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
import pytest

from ctiserver.client.connection import TClient
from ctiserver.tlib.vocabulary import TMessage
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet, within
from tests.integration.sites import two_sites

REQUEST = "RequestReserveAgentAndGetAccessNumber"
AGENT_DN, AGENT_ID, QUEUE = "7101", "2001", "8101"
ANSWER = {"Event", "AccessNumber", "ThisDN", "ReferenceID", "Server", "EventSequenceNumber"}


async def logged_in(site_b: Site, *, work_mode: str = "AutoIn") -> TClient:
    """The agent's desktop at SiteB, agent 2001 logged in on 7101."""
    desk = await site_b.client(AGENT_DN, name="desktop")
    await desk.agent_login(AGENT_DN, AGENT_ID, queue=QUEUE, work_mode=work_mode)
    await expect(desk, "EventAgentLogin", AgentID=AGENT_ID)
    ready = "EventAgentReady" if work_mode == "AutoIn" else "EventAgentNotReady"
    await expect(desk, ready)
    return desk


def reservations(site: Site) -> list[Any]:
    """The agents reserved at *site* (the model's, as the journal carries them)."""
    return list(site.service.runtime.core.model.reservations.values())  # type: ignore[attr-defined]


def held_resources(site: Site) -> int:
    return len(site.service.runtime.core.iscc.table.reservations)  # type: ignore[union-attr]


async def reserve_locally(site_b: Site, router: TClient | None = None) -> TMessage:
    """A router at SiteB asks RequestReserveAgent for the agent's DN; its answer."""
    router = router or await site_b.client(name="router-b")
    reference = router.send("RequestReserveAgent", ThisDN=AGENT_DN, Timeout=60000)
    answer = await within(router.next_event())
    assert answer["ReferenceID"] == reference, answer
    return answer


@asynccontextmanager
async def iscc_trace(site: Site) -> AsyncIterator[Callable[[str], Any]]:
    """Follow *site*'s trace; yields a wait for the next ISCC message of a type from the
    other site."""
    host, port = site.service.http_address or ("", 0)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://{host}:{port}/trace")

        async def arrived(kind: str) -> dict[str, Any]:
            async with asyncio.timeout(10):
                while True:
                    record = orjson.loads((await ws.receive()).data)
                    if record.get("trace") == "iscc" and record["direction"] == "in":
                        body: dict[str, Any] = orjson.loads(record["wire"])
                        if body["type"] == kind:
                            return body

        record = orjson.loads((await ws.receive()).data)
        assert "following" in record
        yield arrived


async def test_the_agent_is_reserved_and_the_call_routed_to_the_number_reaches_it(
    make_site: SiteFactory,
) -> None:
    site_a, site_b = await two_sites(make_site)
    desk = await logged_in(site_b)
    caller, router = await site_a.client("7001"), await site_a.client("5000", name="router-a")
    c1 = (await caller.make_call("7001", "5000", user_data={"case": "A-17"}))["ConnID"]
    await expect(caller, "EventDialing")
    await expect(router, "EventRouteRequest", ConnID=c1)
    answer = await router.request(
        REQUEST,
        ThisDN="5000",
        ConnID=c1,
        Location="SiteB",
        OtherDN=AGENT_DN,
        XRouteType="Route",
        UserData={"skill": "billing"},
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="95100", ThisDN="5000", ConnID=c1)
    assert set(answer) == ANSWER | {"ConnID", "time"}
    await expect(router, "EventAnswerAccessNumber")
    (held,) = reservations(site_b)
    assert (held.dn, held.agent_id, held.holder.startswith("iscc:SiteA:")) == (
        AGENT_DN,
        AGENT_ID,
        True,
    )
    other = await site_b.client(name="router-b")
    refused = await reserve_locally(site_b, other)
    check(refused, "EventError", ErrorCode=1700, ThisDN=AGENT_DN)
    assert refused["ErrorMessage"] == "DN 7101 is reserved by another client"
    await quiet(desk)  # a reservation is no event for the agent's DN
    used = await router.route_call("5000", c1, "95100")
    check(used, "EventRouteUsed", ConnID=c1, ThirdPartyDN="95100")
    await expect(router, "EventRouteUsed")
    ringing = await expect(
        desk,
        "EventRinging",
        ThisDN=AGENT_DN,
        ThisDNRole="Destination",
        UserData={"case": "A-17", "skill": "billing"},
        LastTransferConnID=c1,
        LastTransferHomeLocation="SiteA",
        LastTransferOrigDN="5000",
        CallType="Inbound",
    )
    assert reservations(site_b) == []  # the call arrived: the agent is free for others
    assert held_resources(site_b) == 0
    check(await reserve_locally(site_b, other), "EventAgentReserved", ThisDN=AGENT_DN)
    await desk.answer_call(AGENT_DN, ringing["ConnID"])
    await expect(desk, "EventEstablished", ThisDN=AGENT_DN)
    await expect(caller, "EventNetworkReached", ConnID=c1)
    await expect(caller, "EventEstablished", ConnID=c1)
    await quiet(router)  # the router dialled the number itself: no RemoteConnection event


async def test_an_agent_named_by_its_agent_id_is_reached_by_a_direct_call(
    make_site: SiteFactory,
) -> None:
    site_a, site_b = await two_sites(make_site)
    desk = await logged_in(site_b)
    a = await site_a.client("7001")
    answer = await a.request(
        REQUEST,
        ThisDN="7001",
        Location="SiteB",
        AgentID=AGENT_ID,
        XRouteType="DirectNoToken",
        UserData={"n": 1},
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="97101", ThisDN="7001")
    assert set(answer) == ANSWER | {"time"}
    await expect(a, "EventAnswerAccessNumber")
    (held,) = reservations(site_b)
    assert (held.dn, held.agent_id) == (AGENT_DN, AGENT_ID)
    dialing = await a.make_call("7001", "97101")  # the client dials the number itself
    await expect(a, "EventDialing")
    await expect(
        desk,
        "EventRinging",
        ThisDN=AGENT_DN,
        ANI="7001",
        UserData={"n": 1},
        LastTransferHomeLocation="SiteA",
        LastTransferOrigDN="7001",
    )
    assert reservations(site_b) == []
    await expect(a, "EventNetworkReached", ConnID=dialing["ConnID"])
    await quiet(a)


@pytest.mark.parametrize(
    ("case", "attributes", "code", "why"),
    [
        ("reserved", {"OtherDN": AGENT_DN}, 1700, "DN 7101, agent 2001 is reserved already"),
        ("logged out", {"OtherDN": AGENT_DN}, 1707, "no agent is logged in at 7101"),
        ("not ready", {"OtherDN": AGENT_DN}, 42, "agent 2001 at 7101 is NotReady"),
        ("on a call", {"AgentID": AGENT_ID}, 42, "agent 2001 at 7101 is on a call"),
        ("another agent", {"OtherDN": AGENT_DN, "AgentID": "2002"}, 1707, "2002 is not the"),
        ("no such agent", {"AgentID": "2005"}, 1707, "agent 2005 is not logged in at SiteB"),
        ("not configured", {"OtherDN": "9999"}, 1021, "DN 9999 is not configured at SiteB"),
        ("a queue", {"OtherDN": QUEUE}, 1021, "agents are reserved at extensions; 8101 is a Queue"),
        ("unknown site", {"OtherDN": AGENT_DN, "Location": "SiteZ"}, 1000, "location SiteZ"),
        ("no agent named", {"Place": "P1"}, 53, "OtherDN, AgentID or both"),
    ],
)
async def test_refusals_say_why_and_hold_nothing(
    make_site: SiteFactory, case: str, attributes: dict[str, str], code: int, why: str
) -> None:
    site_a, site_b = await two_sites(make_site)
    if case != "logged out":
        desk = await logged_in(site_b, work_mode="ManualIn" if case == "not ready" else "AutoIn")
    if case == "reserved":
        check(await reserve_locally(site_b), "EventAgentReserved", ThisDN=AGENT_DN)
    if case == "on a call":
        await desk.make_call(AGENT_DN, "7102")
        await expect(desk, "EventDialing")
    a = await site_a.client("7001")
    reference = a.send(REQUEST, ThisDN="7001", **{"Location": "SiteB", **attributes})
    error = await expect(a, "EventError", ErrorCode=code, ReferenceID=reference, ThisDN="7001")
    assert why in error["ErrorMessage"], error
    assert held_resources(site_b) == 0
    holders = {r.holder for r in reservations(site_b)}
    assert not any(holder.startswith("iscc:") for holder in holders)
    assert len(holders) == (1 if case == "reserved" else 0)


async def test_cancelling_frees_the_agent_and_the_resource(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    await logged_in(site_b)
    a = await site_a.client("7001")
    async with iscc_trace(site_a) as arrived:
        answer = await a.request(REQUEST, ThisDN="7001", Location="SiteB", OtherDN=AGENT_DN)
        await expect(a, "EventAnswerAccessNumber")
        assert len(reservations(site_b)) == 1
        cancelled = await a.request(
            "RequestCancelReqGetAccessNumber", XReferenceID=answer["ReferenceID"]
        )
        check(cancelled, "EventReqGetAccessNumberCanceled", XReferenceID=answer["ReferenceID"])
        await expect(a, "EventReqGetAccessNumberCanceled")
        await arrived("cancelled")  # SiteB gave both up before it said so
    assert reservations(site_b) == []
    assert held_resources(site_b) == 0
    check(await reserve_locally(site_b), "EventAgentReserved", ThisDN=AGENT_DN)


async def test_the_reservation_ends_with_the_access_resource(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site, b_iscc={"timeout": 0.5})
    desk = await logged_in(site_b)
    a = await site_a.client("7001")
    async with iscc_trace(site_a) as arrived:
        await a.request(REQUEST, ThisDN="7001", Location="SiteB", OtherDN=AGENT_DN)
        await expect(a, "EventAnswerAccessNumber")
        failed = await arrived("failed")  # no call came in time
    assert failed["code"] == 1013
    assert reservations(site_b) == []
    assert held_resources(site_b) == 0
    await quiet(a)  # the client has its number; the lapse is no event
    await quiet(desk)
    check(await reserve_locally(site_b), "EventAgentReserved", ThisDN=AGENT_DN)


async def test_a_site_that_is_down(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    a = await site_a.client("7001")
    ready = site_a.service.runtime.peer_ready("SiteB")
    site_b.service.stop()
    while ready.is_set():
        await within(a.query_server())  # let the loop see the link go
        await a.next_event()
    reference = a.send(REQUEST, ThisDN="7001", Location="SiteB", OtherDN=AGENT_DN)
    error = await expect(a, "EventError", ErrorCode=1001, ReferenceID=reference)
    assert error["ErrorMessage"] == "the CTI server of SiteB is not connected"
    assert not site_a.service.runtime.core.iscc.table.outgoing  # type: ignore[union-attr]


async def test_at_this_very_site(make_site: SiteFactory) -> None:
    _site_a, site_b = await two_sites(make_site)
    await logged_in(site_b)
    router = await site_b.client("5001", name="router-b")
    answer = await router.request(REQUEST, ThisDN="5001", OtherDN=AGENT_DN, XRouteType="Route")
    check(answer, "EventAnswerAccessNumber", AccessNumber="5100", ThisDN="5001")
    await expect(router, "EventAnswerAccessNumber")
    (held,) = reservations(site_b)
    assert (held.dn, held.holder.startswith("iscc:SiteB:")) == (AGENT_DN, True)
    check(await reserve_locally(site_b), "EventError", ErrorCode=1700)
