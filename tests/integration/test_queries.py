"""Queries and subscriptions through sockets (docs/protocol.md, Queries): the switch's
time, the sites of ISCC and their servers going away, a reporting client that takes
every DN's events (RequestRegisterAll) and only the events it names
(RequestSetInputMask), and the reporting InfoTypes of RequestQueryAddress."""

from __future__ import annotations

import time

from tests.integration.conftest import Site, SiteFactory, check, expect, quiet, within
from tests.integration.sites import two_sites


async def test_query_switch(site: Site) -> None:
    client = await site.client()
    before = time.time()
    answer = check(await client.request("RequestQuerySwitch"), "EventSwitchInfo", SwitchInfoType="DateTime")  # fmt: skip
    after = time.time()
    stamp = answer["TimeinSecs"] + answer["TimeinuSecs"] / 1_000_000
    assert before - 0.001 <= stamp <= after + 0.001
    refused = client.send("RequestQuerySwitch", SwitchInfoType="ClassifierStat")
    await expect(client, "EventSwitchInfo")  # the answer above, also in the stream
    await expect(client, "EventError", ErrorCode=53, ReferenceID=refused)


async def test_locations_and_a_site_going_away(make_site: SiteFactory) -> None:
    site_a, site_b = await two_sites(make_site)
    client = await site_a.client()
    connected = {"status": "connected", "access-code": "9"}
    every = await client.request("RequestQueryLocation")
    check(every, "EventLocationInfo", LocationInfoType="AllLocations", LocationInfo={"SiteB": connected})  # fmt: skip
    await expect(client, "EventLocationInfo")
    watch = await client.request(
        "RequestQueryLocation", LocationInfoType="MonitorLocation", Location="SiteB"
    )
    check(watch, "EventLocationInfo", Location="SiteB", LocationInfo=connected)
    await expect(client, "EventLocationInfo")
    site_b.service.stop()
    gone = await expect(client, "EventLocationInfo", LocationInfoType="LocationData", Location="SiteB")  # fmt: skip
    assert gone["LocationInfo"] == {"status": "disconnected", "access-code": "9"}
    assert "ReferenceID" not in gone
    unknown = client.send("RequestQueryLocation", LocationInfoType="LocationData", Location="SiteZ")
    await expect(client, "EventError", ErrorCode=1000, ReferenceID=unknown)


async def test_query_location_without_iscc(site: Site) -> None:
    client = await site.client()
    refused = client.send("RequestQueryLocation")
    await expect(client, "EventError", ErrorCode=1005, ReferenceID=refused)


async def test_a_reporting_client_takes_every_dn_with_a_mask(site: Site) -> None:
    caller, callee = await site.client("7001"), await site.client("7002")
    reporting = await site.client()
    check(await reporting.request("RequestRegisterAll"), "EventRegisteredAll")
    await expect(reporting, "EventRegisteredAll")
    dialing = await caller.make_call("7001", "7002")
    c1 = dialing["ConnID"]
    await expect(reporting, "EventDialing", ThisDN="7001", ConnID=c1, ReferenceID=None)
    await expect(reporting, "EventRinging", ThisDN="7002", ConnID=c1)
    # From now on only EventReleased, and the answers to its own requests.
    check(await reporting.request("RequestSetInputMask", InputMask=["EventReleased"]), "EventACK")
    await expect(reporting, "EventACK")
    await expect(callee, "EventRinging")
    await callee.answer_call("7002", c1)
    info = await reporting.request("RequestQueryAddress", ThisDN="7002", InfoType="AssociationStatus")  # fmt: skip
    check(info, "EventAddressInfo", InfoStatus="Associated")
    await expect(reporting, "EventAddressInfo")  # EventEstablished (twice) were not for it
    await caller.release_call("7001", c1)
    await expect(reporting, "EventReleased", ThisDN="7001", ConnID=c1)
    await expect(reporting, "EventReleased", ThisDN="7002", ConnID=c1)
    check(await reporting.request("RequestUnregisterAll"), "EventUnregisteredAll")
    await expect(reporting, "EventUnregisteredAll")
    await caller.make_call("7001", "7002")
    await quiet(reporting)
    refused = reporting.send("RequestSetInputMask", InputMask=["EventNothing"])
    await expect(reporting, "EventError", ErrorCode=53, ReferenceID=refused)


async def test_queue_reporting_infotypes(site: Site) -> None:
    agent = await site.client("7003")
    reporting = await site.client()
    await agent.agent_login("7003", "1001", queue="8001")
    audit = await within(reporting.request("RequestQueryAddress", ThisDN="8001", InfoType="QueueLoginAudit"))  # fmt: skip
    check(audit, "EventAddressInfo", InfoStatus="1")
    assert audit["Extensions"]["agents-logged-in"] == {"7003": "1001"}
    await expect(reporting, "EventAddressInfo")
    status = await reporting.request("RequestQueryAddress", ThisDN="8001", InfoType="QueueStatus")
    check(status, "EventAddressInfo", InfoStatus="NotAvailable")
    await expect(reporting, "EventAddressInfo")
    refused = reporting.send("RequestQueryAddress", ThisDN="8001", InfoType="NumberOfIdleTrunks")
    await expect(reporting, "EventError", ErrorCode=53, ReferenceID=refused)


async def test_a_dns_features_queried(site: Site) -> None:
    desk = await site.client("7001")
    check(await desk.request("RequestSetMessageWaitingOn", ThisDN="7001"), "EventMessageWaitingOn")
    await expect(desk, "EventMessageWaitingOn")
    forward = await desk.request("RequestCallForwardSet", ThisDN="7001", OtherDN="7003")
    check(forward, "EventForwardSet", ForwardMode="Unconditional", OtherDN="7003")
    await expect(desk, "EventForwardSet")
    lamp = await desk.request("RequestQueryAddress", ThisDN="7001", InfoType="MessageWaitingStatus")  # fmt: skip
    check(lamp, "EventAddressInfo", InfoStatus="On")
    await expect(desk, "EventAddressInfo")
    forwarding = await desk.request("RequestQueryAddress", ThisDN="7001", InfoType="CallForwardingStatus")  # fmt: skip
    check(forwarding, "EventAddressInfo", InfoStatus="On")
    assert forwarding["Extensions"]["forwarding"] == {"Unconditional": "7003"}
    await expect(desk, "EventAddressInfo")
    refused = desk.send("RequestQueryAddress", ThisDN="7001", InfoType="SendAllCallsStatus")
    await expect(desk, "EventError", ErrorCode=53, ReferenceID=refused)
    await quiet(desk)
