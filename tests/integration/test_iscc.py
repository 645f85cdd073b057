"""ISCC through sockets (call-models.md § 14, genesys-tlib.md § 3): servers whose
switches are joined by trunks move calls and their UserData between sites."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
import pytest

from ctiserver.client.connection import TClient
from tests.integration.conftest import Site, SiteFactory, check, expect, within
from tests.integration.sites import iscc_of, joined, plan_b, three_sites, trunk_to, two_sites

SUCCESS = {"Event", "ConnID", "ThisDN", "ReferenceID", "Server", "EventSequenceNumber", "time"}


async def at_routing_point(site_a: Site, data: dict[str, str]) -> tuple[TClient, TClient, str]:
    caller, router = await site_a.client("7001"), await site_a.client("5000")
    c1 = (await caller.make_call("7001", "5000", user_data=data))["ConnID"]
    await expect(caller, "EventDialing")
    await expect(router, "EventRouteRequest", ConnID=c1)
    return caller, router, c1


End = tuple[TClient, str, str]  # a client, its DN, and the call's ConnID at its site


async def data_crosses(near: End, far: End, data: dict[str, str]) -> None:
    """A UserData change at either end of a call linked across sites is seen at the other."""
    for (here, dn, conn_id), (there, _, there_conn_id), status in (
        (far, near, "changed far"),
        (near, far, "changed near"),
    ):
        await here.update_user_data(dn, conn_id, {"status": status})
        await expect(here, "EventAttachedDataChanged", UserData={**data, "status": status})
        await expect(
            there,
            "EventAttachedDataChanged",
            ConnID=there_conn_id,
            UserData={**data, "status": status},
            ThirdPartyDN=dn,
        )


@pytest.mark.parametrize(
    ("xroute", "resource"),
    [("Route", "95100"), ("RouteUUI", "95100"), ("DNISPooling", "96000")],
)
async def test_routing_to_another_site(make_site: SiteFactory, xroute: str, resource: str) -> None:
    site_a, site_b = await two_sites(make_site)
    agent = await site_b.client("7101")
    caller, router, c1 = await at_routing_point(site_a, {"case": "A-17"})
    used = await router.route_call("5000", c1, "7101", Location="SiteB", XRouteType=xroute)
    check(used, "EventRouteUsed", ConnID=c1, ThirdPartyDN=resource)
    await expect(router, "EventRouteUsed")
    ringing = await expect(
        agent,
        "EventRinging",
        ThisDN="7101",
        UserData={"case": "A-17"},
        LastTransferConnID=c1,
        LastTransferHomeLocation="SiteA",
        CallType="Inbound",
    )
    success = await expect(
        router,
        "EventRemoteConnectionSuccess",
        ConnID=c1,
        ThisDN="5000",
        ReferenceID=used["ReferenceID"],
    )
    assert set(success) == SUCCESS
    await agent.answer_call("7101", ringing["ConnID"])
    await expect(agent, "EventEstablished")
    reached = await expect(caller, "EventNetworkReached", ConnID=c1, OtherTrunk="AB")
    assert reached["NetworkCallID"] == ringing["NetworkCallID"]  # the same at both sites
    await expect(caller, "EventEstablished", ConnID=c1)
    assert not site_b.service.runtime.core.iscc.table.reservations  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "xroute",
    ["Direct", "DirectNetworkCallID", "DirectANI", "DirectUUI", "DirectDigits", "DirectNoToken"],
)
async def test_a_call_made_to_another_site(make_site: SiteFactory, xroute: str) -> None:
    site_a, site_b = await two_sites(make_site)
    a, b = await site_a.client("7001"), await site_b.client("7102")
    data = {"case": "B-2", "CDT_Track_Num": "4711"}
    dialing = await a.make_call("7001", "7102", user_data=data, Location="SiteB", XRouteType=xroute)
    c1 = dialing["ConnID"]
    check(dialing, "EventDialing", OtherDN="97102", UserData=data)
    await expect(a, "EventDialing")
    # matched before its first event, whatever the type (a direct-callid call waits for its
    # network call id from the origin): the data and the origin's ConnID are on EventRinging
    ringing = await expect(
        b,
        "EventRinging",
        ThisDN="7102",
        ANI="7001",
        UserData=data,
        LastTransferConnID=c1,
        LastTransferHomeLocation="SiteA",
        CallType="Inbound",
    )
    await expect(a, "EventNetworkReached", ConnID=c1)
    await expect(
        a,
        "EventRemoteConnectionSuccess",
        ConnID=c1,
        ThisDN="7001",
        ReferenceID=dialing["ReferenceID"],
    )
    assert site_b.service.runtime.core.model.call(ringing["ConnID"]).origin.conn_id == c1  # type: ignore[union-attr]


async def test_a_consultation_transfer_to_another_site_keeps_the_user_data(
    make_site: SiteFactory,
) -> None:
    site_a, site_b = await two_sites(make_site)
    a, b = await site_a.client("7001"), await site_a.client("7002")
    remote = await site_b.client("7103")
    c1 = (await a.make_call("7001", "7002", user_data={"order": "9"}))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    await b.answer_call("7002", c1)
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")
    held = await b.initiate_transfer("7002", c1, "7103", Location="SiteB", XRouteType="DirectUUI")
    check(held, "EventHeld", ConnID=c1)
    await expect(b, "EventHeld")
    c2 = (await expect(b, "EventDialing", CallType="Consult", OtherDN="97103"))["ConnID"]
    ringing = await expect(remote, "EventRinging", ThisDN="7103", UserData={"order": "9"})
    await expect(b, "EventNetworkReached", ConnID=c2)
    await expect(b, "EventRemoteConnectionSuccess", ConnID=c2, ReferenceID=held["ReferenceID"])
    await remote.answer_call("7103", ringing["ConnID"])
    await expect(remote, "EventEstablished")
    await expect(b, "EventEstablished", ConnID=c2)
    await b.complete_transfer("7002", c1, c2)
    await expect(b, "EventReleased", ConnID=c2)
    await expect(b, "EventReleased", ConnID=c1)
    await expect(a, "EventPartyChanged", ConnID=c1)
    # the user data is equal on both sides, and a change at either is seen at the other
    assert site_a.service.runtime.core.model.call(c1).user_data == {"order": "9"}  # type: ignore[union-attr]
    await data_crosses((a, "7001", c1), (remote, "7103", ringing["ConnID"]), {"order": "9"})


async def test_single_step_transfer_to_another_site(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    a, b = await site_a.client("7001"), await site_a.client("7002")
    remote = await site_b.client("7104")
    c1 = (await a.make_call("7001", "7002", user_data={"k": "v"}))["ConnID"]
    await expect(b, "EventRinging")
    await b.answer_call("7002", c1)
    await expect(b, "EventEstablished")
    released = await b.single_step_transfer(
        "7002", c1, "7104", Location="SiteB", XRouteType="DirectNoToken"
    )
    check(released, "EventReleased", ConnID=c1, CallState="Transferred")
    await expect(remote, "EventRinging", ThisDN="7104", UserData={"k": "v"})
    await expect(b, "EventReleased")
    await expect(b, "EventRemoteConnectionSuccess", ConnID=c1, ReferenceID=released["ReferenceID"])


async def test_get_access_number_and_cancel_it(make_site: SiteFactory) -> None:
    site_a, _site_b = await two_sites(make_site)
    a = await site_a.client("7001")
    answer = await a.request(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7105",
        Location="SiteB",
        XRouteType="Route",
        UserData={"x": "1"},
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="95100", ThisDN="7001")
    assert set(answer) == {
        "Event",
        "AccessNumber",
        "ThisDN",
        "ReferenceID",
        "Server",
        "EventSequenceNumber",
        "time",
    }
    await expect(a, "EventAnswerAccessNumber")
    cancelled = await a.request(
        "RequestCancelReqGetAccessNumber", XReferenceID=answer["ReferenceID"]
    )
    check(cancelled, "EventReqGetAccessNumberCanceled", XReferenceID=answer["ReferenceID"])
    assert set(cancelled) == {
        "Event",
        "ReferenceID",
        "XReferenceID",
        "Server",
        "EventSequenceNumber",
        "time",
    }
    await expect(a, "EventReqGetAccessNumberCanceled")
    again = await a.request(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7105",
        Location="SiteB",
        XRouteType="Route",
    )
    assert again["AccessNumber"] == "95100"  # the cancelled reservation's resource is free again
    await expect(a, "EventAnswerAccessNumber")
    reference = a.send("RequestCancelReqGetAccessNumber", XReferenceID=answer["ReferenceID"])
    await expect(a, "EventError", ErrorCode=1010, ReferenceID=reference)


async def test_no_free_access_resource(make_site: SiteFactory) -> None:
    site_a, _site_b = await two_sites(make_site)
    a = await site_a.client("7001")
    numbers = set()
    for _ in range(4):
        answer = await a.request(
            "RequestGetAccessNumber",
            ThisDN="7001",
            OtherDN="7101",
            Location="SiteB",
            XRouteType="Route",
        )
        numbers.add(answer["AccessNumber"])
        await a.next_event()
    assert numbers == {"95100", "95101", "95102", "95103"}
    reference = a.send(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7101",
        Location="SiteB",
        XRouteType="Route",
    )
    error = await expect(a, "EventError", ErrorCode=1006, ReferenceID=reference)
    assert "in use" in error["ErrorMessage"]


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"Location": "SiteZ"}, 1000),
        ({"Location": "SiteB", "OtherDN": "9999"}, 1021),
        ({"Location": "SiteB", "XRouteType": "ExtProtocol"}, 1017),
    ],
)
async def test_iscc_refusals(make_site: SiteFactory, attributes: dict[str, str], code: int) -> None:
    site_a, _site_b = await two_sites(make_site)
    a = await site_a.client("7001")
    request = {"OtherDN": "7101", **attributes}
    reference = a.send("RequestGetAccessNumber", ThisDN="7001", **request)
    await expect(a, "EventError", ErrorCode=code, ReferenceID=reference)


async def test_a_call_that_never_matches_fails_after_timeout(make_site: SiteFactory) -> None:
    # SiteA's trunk puts 00 before the caller's number, so direct-ani cannot match at SiteB
    site_b_iscc = {"timeout": 0.5}
    site_a, site_b = await two_sites(make_site, a_iscc={"ani_prefix": "00"}, b_iscc=site_b_iscc)
    a, b = await site_a.client("7001"), await site_b.client("7106")
    dialing = await a.make_call(
        "7001", "7106", user_data={"lost": "yes"}, Location="SiteB", XRouteType="DirectANI"
    )
    ringing = await expect(b, "EventRinging", ANI="007001", UserData={})
    await expect(a, "EventDialing")
    await expect(a, "EventNetworkReached")
    failed = await expect(
        a,
        "EventRemoteConnectionFailed",
        ConnID=dialing["ConnID"],
        ThisDN="7001",
        ReferenceID=dialing["ReferenceID"],
    )
    assert set(failed) == SUCCESS
    assert not site_b.service.runtime.core.iscc.table.reservations  # type: ignore[union-attr]
    assert not site_a.service.runtime.core.iscc.table.outgoing  # type: ignore[union-attr]
    del ringing


async def test_the_caller_hanging_up_on_the_way_fails_and_frees_the_resource(
    make_site: SiteFactory,
) -> None:
    site_b_iscc = {"timeout": 30.0}
    site_a, site_b = await two_sites(make_site, a_iscc={"ani_prefix": "00"}, b_iscc=site_b_iscc)
    a, b = await site_a.client("7001"), await site_b.client("7106")
    dialing = await a.make_call("7001", "7106", Location="SiteB", XRouteType="DirectANI")
    await expect(b, "EventRinging")  # it arrived, but nothing can match it
    await expect(a, "EventDialing")
    await a.release_call("7001", dialing["ConnID"])
    await expect(a, "EventNetworkReached")
    await expect(a, "EventReleased")
    await expect(
        a,
        "EventRemoteConnectionFailed",
        ConnID=dialing["ConnID"],
        ReferenceID=dialing["ReferenceID"],
    )
    await expect(b, "EventAbandoned")
    answer = await a.request(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7106",
        Location="SiteB",
        XRouteType="DirectNoToken",
    )
    assert answer["AccessNumber"] == "97106"  # the direct resource was given up at SiteB
    assert len(site_b.service.runtime.core.iscc.table.reservations) == 1  # type: ignore[union-attr]


async def test_a_trunk_down_on_the_way(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    caller, router, c1 = await at_routing_point(site_a, {})
    await site_b.service.embedded.listener.stop()  # type: ignore[union-attr]  # the trunk goes down
    used = router.send(
        "RequestRouteCall", ThisDN="5000", ConnID=c1, OtherDN="7101", Location="SiteB"
    )
    await expect(router, "EventRemoteConnectionFailed", ConnID=c1, ThisDN="5000", ReferenceID=used)
    assert not site_a.service.runtime.core.iscc.table.outgoing  # type: ignore[union-attr]
    await caller.release_call("7001", c1)


async def test_the_remote_server_going_down(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    caller, router, c1 = await at_routing_point(site_a, {})
    ready = site_a.service.runtime.peer_ready("SiteB")
    site_b.service.stop()
    while ready.is_set():
        await within(caller.query_server())  # let the loop see the link go
        await caller.next_event()
    used = router.send(
        "RequestRouteCall", ThisDN="5000", ConnID=c1, OtherDN="7101", Location="SiteB"
    )
    await expect(router, "EventRemoteConnectionFailed", ConnID=c1, ReferenceID=used)
    reference = caller.send(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7101", Location="SiteB"
    )
    await expect(caller, "EventError", ErrorCode=1001, ReferenceID=reference)


async def test_a_call_is_matched_only_once(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    a = await site_a.client("7001")
    b, other = await site_b.client("7107"), await site_b.client("7108")
    await a.make_call(
        "7001", "7107", user_data={"n": 1}, Location="SiteB", XRouteType="DirectNoToken"
    )
    ringing = await expect(b, "EventRinging", UserData={"n": 1})
    await a.request(
        "RequestGetAccessNumber",
        ThisDN="7001",
        OtherDN="7108",
        Location="SiteB",
        XRouteType="DirectNoToken",
        UserData={"n": 2},
    )
    await b.redirect_call("7107", ringing["ConnID"], "7108")
    again = await expect(other, "EventRinging", ConnID=ringing["ConnID"])
    assert again["UserData"] == {"n": 1}  # matched once: the second reservation does not take it


async def test_pullback_returns_a_call_to_the_dn_it_left(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    a, b = await site_a.client("7001"), await site_a.client("7002")
    remote = await site_b.client("7104")
    c1 = (await a.make_call("7001", "7002", user_data={"k": "v"}))["ConnID"]
    await expect(b, "EventRinging")
    await b.answer_call("7002", c1)
    await expect(b, "EventEstablished")
    await b.single_step_transfer("7002", c1, "7104", Location="SiteB", XRouteType="DirectUUI")
    await expect(b, "EventReleased")
    ringing = await expect(remote, "EventRinging", UserData={"k": "v"}, LastTransferOrigDN="7002")
    await expect(b, "EventRemoteConnectionSuccess")
    await remote.answer_call("7104", ringing["ConnID"])
    await expect(remote, "EventEstablished")
    await remote.attach_user_data("7104", ringing["ConnID"], {"seen": "B"})
    await expect(remote, "EventAttachedDataChanged")
    # no OtherDN: the call goes back to the DN that sent it
    released = await remote.single_step_transfer(
        "7104", ringing["ConnID"], None, Location="SiteA", XRouteType="PullBack"
    )
    check(released, "EventReleased", CallState="Transferred")
    await expect(remote, "EventReleased")
    back = await expect(
        b,
        "EventRinging",
        ThisDN="7002",
        UserData={"k": "v", "seen": "B"},
        LastTransferHomeLocation="SiteB",
        LastTransferConnID=ringing["ConnID"],
        FirstTransferHomeLocation="SiteA",  # where its journey began: here
        FirstTransferConnID=c1,
        CallType="Inbound",  # it came back on a trunk, whoever it presents
    )
    await expect(
        remote,
        "EventRemoteConnectionSuccess",
        ConnID=ringing["ConnID"],
        ReferenceID=released["ReferenceID"],
    )
    await b.answer_call("7002", back["ConnID"])
    await expect(b, "EventEstablished", ConnID=back["ConnID"])


async def test_reroute_sends_a_call_back_to_be_routed_again(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    agent = await site_b.client("7101")
    caller, router, c1 = await at_routing_point(site_a, {"case": "R-1"})
    await router.route_call("5000", c1, "7101", Location="SiteB", XRouteType="Route")
    await expect(router, "EventRouteUsed")
    ringing = await expect(agent, "EventRinging", LastTransferOrigDN="5000")
    await expect(router, "EventRemoteConnectionSuccess")
    await agent.answer_call("7101", ringing["ConnID"])
    await expect(agent, "EventEstablished")
    await expect(caller, "EventNetworkReached")
    await expect(caller, "EventEstablished")
    # to a DN that is not a routing point: refused by SiteA
    refused = await agent.single_step_transfer(
        "7101", ringing["ConnID"], "7003", Location="SiteA", XRouteType="Reroute"
    )
    check(refused, "EventRemoteConnectionFailed", ConnID=ringing["ConnID"], ThisDN="7101")
    await expect(agent, "EventRemoteConnectionFailed")
    # to the routing point it was routed from, where the strategy routes it again
    released = await agent.single_step_transfer(
        "7101", ringing["ConnID"], None, Location="SiteA", XRouteType="Reroute"
    )
    check(released, "EventReleased", CallState="Transferred")
    await expect(agent, "EventReleased")
    again = await expect(
        router,
        "EventRouteRequest",
        ThisDN="5000",
        UserData={"case": "R-1"},
        LastTransferHomeLocation="SiteB",
    )
    assert again["ConnID"] != c1  # a new call at SiteA: it came back on the trunk
    await expect(agent, "EventRemoteConnectionSuccess", ReferenceID=released["ReferenceID"])
    local = await site_a.client("7003")
    await router.route_call("5000", again["ConnID"], "7003")
    await expect(router, "EventRouteUsed")
    await expect(local, "EventRinging", ThisDN="7003", UserData={"case": "R-1"})


async def test_pullback_only_to_the_site_a_call_came_from(make_site: SiteFactory) -> None:
    site_a, _site_b = await two_sites(make_site)
    a, b = await site_a.client("7001"), await site_a.client("7002")
    c1 = (await a.make_call("7001", "7002"))["ConnID"]
    await expect(b, "EventRinging")
    for xroute in ("PullBack", "Reroute"):
        reference = b.send(
            "RequestSingleStepTransfer",
            ThisDN="7002",
            ConnID=c1,
            Location="SiteB",
            XRouteType=xroute,
        )
        await expect(b, "EventError", ErrorCode=1020, ReferenceID=reference)


async def test_three_sites_a_call_transferred_on_keeps_its_data_everywhere(
    make_site: SiteFactory,
) -> None:
    site_a, site_b, site_c = await three_sites(make_site)
    agent_b = await site_b.client("7101")
    agent_c = await site_c.client("7201")
    caller, router, c1 = await at_routing_point(site_a, {"case": "3S"})
    await router.route_call("5000", c1, "7101", Location="SiteB", XRouteType="Route")
    await expect(router, "EventRouteUsed")
    at_b = await expect(agent_b, "EventRinging", UserData={"case": "3S"})
    await agent_b.answer_call("7101", at_b["ConnID"])
    await expect(agent_b, "EventEstablished")
    await expect(caller, "EventNetworkReached")
    await expect(caller, "EventEstablished")
    # SiteB consults SiteC and transfers the call there: A - B - C
    await agent_b.initiate_transfer(
        "7101", at_b["ConnID"], "7201", Location="SiteC", XRouteType="DirectUUI"
    )
    await expect(agent_b, "EventHeld")
    consult = (await expect(agent_b, "EventDialing", OtherDN="47201"))["ConnID"]
    at_c = await expect(
        agent_c, "EventRinging", UserData={"case": "3S"}, LastTransferHomeLocation="SiteB"
    )
    await expect(agent_b, "EventNetworkReached", ConnID=consult)
    await expect(agent_b, "EventRemoteConnectionSuccess", ConnID=consult)
    await agent_c.answer_call("7201", at_c["ConnID"])
    await expect(agent_c, "EventEstablished")
    await expect(agent_b, "EventEstablished", ConnID=consult)
    await agent_b.complete_transfer("7101", at_b["ConnID"], consult)
    await expect(agent_b, "EventReleased")
    await expect(agent_b, "EventReleased")
    # a change at SiteC reaches SiteA through SiteB, and back
    await data_crosses((caller, "7001", c1), (agent_c, "7201", at_c["ConnID"]), {"case": "3S"})
    await caller.release_call("7001", c1)
    await expect(caller, "EventReleased", ConnID=c1)
    await expect(agent_c, "EventReleased", ConnID=at_c["ConnID"])


async def test_the_remote_server_restarted_in_mid_transaction(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site, a_iscc={"ani_prefix": "00"})
    a, b = await site_a.client("7001"), await site_b.client("7106")
    # direct-ani cannot match (SiteA's trunk prefixes 00), so the call waits at SiteB
    dialing = await a.make_call("7001", "7106", Location="SiteB", XRouteType="DirectANI")
    await expect(b, "EventRinging")
    await expect(a, "EventDialing")
    trunk, iscc = trunk_to(site_b), iscc_of(site_b)
    site_b.service.stop()
    await expect(a, "EventNetworkReached")
    failed = await expect(
        a,
        "EventRemoteConnectionFailed",
        ConnID=dialing["ConnID"],
        ReferenceID=dialing["ReferenceID"],
    )
    assert set(failed) == SUCCESS
    await expect(a, "EventReleased", ConnID=dialing["ConnID"])  # the trunk went with it
    assert not site_a.service.runtime.core.iscc.table.outgoing  # type: ignore[union-attr]
    # SiteB comes back where it was: ISCC and the trunk reconnect, and calls cross again
    plan = plan_b()
    again = plan.settings(listen_trunks=True)
    again["pbxsim"]["trunk_listen"] = trunk
    again["iscc"] = dataclasses.replace(again["iscc"], listen=iscc)
    site_b = await make_site(**again)
    await joined(site_a, "AB", "SiteB", site_b)
    b = await site_b.client("7106")
    await a.make_call("7001", "7106", user_data={"n": 2}, Location="SiteB", XRouteType="DirectUUI")
    await expect(b, "EventRinging", UserData={"n": 2})
    await expect(a, "EventDialing")
    await expect(a, "EventNetworkReached")
    await expect(a, "EventRemoteConnectionSuccess")


@pytest.mark.parametrize(
    "hello",
    [
        b'{"type":"hello","version":"ctiserver-iscc/0","location":"SiteA","server":"old"}\n',
        b'{"type":"hello","version":"ctiserver-iscc/1","location":"SiteZ","server":"z"}\n',
        b'{"type":"reserve","xid":"x","xroute":"route","dn":"7101"}\n',
        b"\x00\xff garbage\n",
    ],
)
async def test_a_stranger_on_the_iscc_port_is_shown_the_door(
    make_site: SiteFactory, hello: bytes
) -> None:
    site_a, site_b = await two_sites(make_site)
    reader, writer = await asyncio.open_connection(*site_b.service.iscc_address)  # type: ignore[misc]
    writer.write(hello)
    greeting = await within(reader.readline())
    assert b'"hello"' in greeting
    assert await within(reader.read()) == b""  # closed
    writer.close()
    a = await site_a.client("7001")  # the real SiteA is still served
    answer = await a.request(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7101", Location="SiteB"
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="95100")


async def test_garbage_from_a_peer_is_survived(make_site: SiteFactory) -> None:
    site_a, _site_b = await two_sites(make_site)
    peer = site_a.service.runtime.peering._connections["SiteB"]  # type: ignore[union-attr]
    peer._writer.write(b'{"type":"matched"}\nnot json\n{"type":"no-such"}\n[1]\n')
    a = await site_a.client("7001")
    answer = await a.request(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7101", Location="SiteB"
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="95100")


async def test_a_peer_of_another_protocol_version(make_site: SiteFactory) -> None:
    site_b = await make_site(**plan_b().settings(listen_trunks=True))
    reader, writer = await asyncio.open_connection(*site_b.service.iscc_address)  # type: ignore[misc]
    writer.write(b'{"type":"hello","version":"ctiserver-iscc/9","location":"SiteA","server":"a"}\n')
    assert await within(reader.read()) != b""  # its hello, then closed
    writer.close()
    b = await site_b.client("7101")
    reference = b.send("RequestGetAccessNumber", ThisDN="7101", OtherDN="7001", Location="SiteA")
    error = await expect(b, "EventError", ErrorCode=1003, ReferenceID=reference)
    assert "ctiserver-iscc/9" in error["ErrorMessage"]


async def test_an_overlong_field_from_a_peer_is_dropped_and_the_server_serves_on(
    make_site: SiteFactory,
) -> None:
    """A malformed message (a 70,000-character resource) is one bad line, not a crash."""
    site_a, _site_b = await two_sites(make_site)
    to_b = site_a.service.runtime.peering._connections["SiteB"]  # type: ignore[union-attr]
    huge = "9" * 70_000
    to_b._writer.write(b'{"type":"reserved","xid":"SiteA:1","resource":"%s"}\n' % huge.encode())
    to_b._writer.write(
        b'{"type":"reserve","xid":"x","xroute":"direct-uui","dn":"%s"}\n' % huge.encode()
    )
    a = await site_a.client("7001")
    answer = await a.request(
        "RequestGetAccessNumber", ThisDN="7001", OtherDN="7101", Location="SiteB"
    )
    check(answer, "EventAnswerAccessNumber", AccessNumber="95100")


async def test_a_peer_holds_a_bounded_number_of_reservations(make_site: SiteFactory) -> None:
    """A rogue SiteA that reserves and never uses nor cancels is refused past the bound."""
    site_b = await make_site(**plan_b().settings(listen_trunks=True, max_reservations_per_peer=5))
    reader, writer = await asyncio.open_connection(*site_b.service.iscc_address)  # type: ignore[misc]
    writer.write(b'{"type":"hello","version":"ctiserver-iscc/1","location":"SiteA","server":"a"}\n')
    assert b'"hello"' in await within(reader.readline())
    for n in range(8):
        writer.write(b'{"type":"reserve","xid":"x%d","xroute":"direct-uui","dn":"7101"}\n' % n)
    answers: list[dict[str, Any]] = []
    while len(answers) < 8:
        line = orjson.loads(await within(reader.readline()))
        if line["type"] != "poll":  # the keep-alive may come between
            answers.append(line)
    assert [a["type"] for a in answers] == ["reserved"] * 5 + ["refused"] * 3
    assert {a["code"] for a in answers[5:]} == {1006}
    assert len(site_b.service.runtime.core.iscc.table.reservations) == 5  # type: ignore[union-attr]
    writer.close()


async def test_get_access_number_without_location_is_this_sites(make_site: SiteFactory) -> None:
    """No Location (or this site's) means here: one of this site's own resources."""
    _site_a, site_b = await two_sites(make_site)
    b = await site_b.client("7101")
    for where in ({}, {"Location": "SiteB"}, {"Location": "tserver-b@SiteB"}):
        answer = await b.request(
            "RequestGetAccessNumber", ThisDN="7101", OtherDN="7102", XRouteType="Route", **where
        )
        check(answer, "EventAnswerAccessNumber", ThisDN="7101")
        assert answer["AccessNumber"] in {"5100", "5101", "5102", "5103"}
        await expect(b, "EventAnswerAccessNumber")


async def test_a_call_across_three_sites_carries_its_whole_history(make_site: SiteFactory) -> None:
    """CallHistory: at C, LastTransfer* is B (where it came from), FirstTransfer* is A."""
    site_a, site_b, site_c = await three_sites(make_site)
    a, b, c = await site_a.client("7001"), await site_b.client("7101"), await site_c.client("7201")
    dialing = await a.make_call("7001", "7101", Location="SiteB", XRouteType="DirectUUI")
    at_b = await expect(b, "EventRinging", FirstTransferHomeLocation="SiteA")
    await b.answer_call("7101", at_b["ConnID"])
    await expect(b, "EventEstablished")
    await b.single_step_transfer(
        "7101", at_b["ConnID"], "7201", Location="SiteC", XRouteType="DirectUUI"
    )
    await expect(
        c,
        "EventRinging",
        ThisDN="7201",
        LastTransferHomeLocation="SiteB",
        LastTransferConnID=at_b["ConnID"],
        LastTransferOrigDN="7101",
        FirstTransferHomeLocation="SiteA",
        FirstTransferConnID=dialing["ConnID"],
        FirstTransferOrigDN="7001",
    )


async def test_party_events_of_a_linked_call_reach_the_other_site(make_site: SiteFactory) -> None:
    """event-propagation: a transfer at the destination site is heard at the origin."""
    site_a, site_b = await two_sites(make_site, b_iscc={"event_propagation": True})
    a = await site_a.client("7001")
    b, b2 = await site_b.client("7101"), await site_b.client("7102")
    c1 = (await a.make_call("7001", "7101", Location="SiteB", XRouteType="DirectUUI"))["ConnID"]
    at_b = (await expect(b, "EventRinging"))["ConnID"]
    await b.answer_call("7101", at_b)
    await expect(b, "EventEstablished")
    await expect(a, "EventDialing")
    await expect(a, "EventNetworkReached")
    await expect(a, "EventRemoteConnectionSuccess")
    await expect(a, "EventEstablished", ConnID=c1)
    held = await b.initiate_transfer("7101", at_b, "7102")
    await expect(b, "EventHeld")
    consultation = (await expect(b, "EventDialing"))["ConnID"]
    await expect(b2, "EventRinging")
    await b2.answer_call("7102", consultation)
    await expect(b2, "EventEstablished")
    await b.complete_transfer("7101", at_b, consultation)
    changed = await expect(
        a,
        "EventPartyChanged",
        ThisDN="7001",
        ConnID=c1,
        OtherDN="7102",
        ThirdPartyDN="7101",
        ThirdPartyDNRole="TransferredBy",
        CallState="Transferred",
        RemoteLocation="SiteB",
        RemoteConnID=at_b,
        RemoteDN="7102",
    )
    assert held["ReferenceID"] not in (changed.get("ReferenceID"),)
