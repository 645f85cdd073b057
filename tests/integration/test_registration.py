"""Handshake, DN registration and queries through sockets (genesys-tlib.md § 1.6)."""

from __future__ import annotations

from ctiserver.client.connection import TClient
from tests.integration.conftest import Site, check, expect, within

REGISTERED = {
    "Event",
    "ThisDN",
    "InfoType",
    "InfoStatus",
    "Extensions",
    "ReferenceID",
    "Server",
    "EventSequenceNumber",
    "time",
}


async def test_register_client_answers_server_info_then_the_link(site: Site) -> None:
    client = await TClient.connect(*site.address, application_name="desk")
    try:
        info = client.server_info
        check(info, "EventServerInfo", ServerRole="Primary", Server="tserver")
        assert info["ServerVersion"].startswith("ctiserver")
        first = await within(client.next_event())
        assert first == info
        link = await within(client.next_event())
        assert link["Event"] in ("EventLinkConnected", "EventLinkDisconnected")
        assert link["ReferenceID"] == info["ReferenceID"]
        assert link["EventSequenceNumber"] > info["EventSequenceNumber"]
    finally:
        await client.close()


async def test_event_registered_has_exactly_the_seed_attributes(site: Site) -> None:
    client = await site.client()
    for dn, kind in (("7001", "DN"), ("8001", "Queue"), ("5000", "RouteDN")):
        registered = await client.register_address(dn, AddressType=kind, RegisterMode="ModeShare")
        assert set(registered) == REGISTERED
        check(registered, "EventRegistered", ThisDN=dn, InfoType="AddressType", InfoStatus=kind)
        await expect(client, "EventRegistered")
    registered = await client.register_address("7002")
    assert registered["Extensions"] == {"status": "Idle", "calls": 0}


async def test_registration_shows_the_dns_calls(site: Site) -> None:
    a = await site.client("7001")
    dialing = await a.make_call("7001", "7002")
    await expect(a, "EventDialing")
    b = await site.client()
    registered = await b.register_address("7002")
    assert registered["Extensions"] == {
        "status": "Ringing",
        "calls": 1,
        "conn-1": dialing["ConnID"],
        "ps-1": 10,
    }
    info = await a.query_address("7001")
    check(info, "EventAddressInfo", ThisDN="7001", InfoType="AddressStatus", InfoStatus="Dialing")
    assert info["Extensions"]["conn-1"] == dialing["ConnID"]


async def test_registration_errors(site: Site) -> None:
    client = await site.client()
    reference = client.send("RequestRegisterAddress", ThisDN="9999")
    error = await expect(client, "EventError", ErrorCode=59, ReferenceID=reference)
    assert "9999" in error["ErrorMessage"]
    reference = client.send("RequestRegisterAddress", ThisDN="8001", AddressType="DN")
    await expect(client, "EventError", ErrorCode=53, ReferenceID=reference)
    reference = client.send("RequestUnregisterAddress", ThisDN="7001")
    await expect(client, "EventACK", ThisDN="7001", ReferenceID=reference)


async def test_unregister_stops_the_events(site: Site) -> None:
    a, b = await site.client("7001"), await site.client("7002")
    done = await b.unregister_address("7002")
    check(done, "EventUnregistered", ThisDN="7002")
    await expect(b, "EventUnregistered")
    await a.make_call("7001", "7002")
    await expect(a, "EventDialing")
    reference = b.send("RequestQueryServer")
    await expect(b, "EventServerInfo", ReferenceID=reference)  # nothing about 7002 came first


async def test_query_server_and_address_type(site: Site) -> None:
    client = await site.client()
    check(await client.query_server(), "EventServerInfo", ServerRole="Primary")
    info = await client.query_address("8001", "AddressType")
    check(info, "EventAddressInfo", InfoType="AddressType", InfoStatus="Queue")
    lamp = await client.query_address("7001", "MessageWaitingStatus")
    check(lamp, "EventAddressInfo", InfoType="MessageWaitingStatus", InfoStatus="Off")
    reference = client.send("RequestQueryAddress", ThisDN="7001", InfoType="DatabaseValue")
    await expect(client, "EventServerInfo")
    await expect(client, "EventAddressInfo")
    await expect(client, "EventAddressInfo")
    await expect(client, "EventError", ErrorCode=53, ReferenceID=reference)
