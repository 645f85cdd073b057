"""DN features through sockets (docs/protocol.md, DN features): DND, forwarding, message
waiting, and a phone of the embedded pbxsim unplugged and plugged back in (over HTTP)."""

from __future__ import annotations

import aiohttp

from tests.integration.conftest import Site, check, expect, quiet

A, B, C = "7001", "7002", "7003"


async def press(site: Site, station: str, action: str) -> int:
    host, port = site.service.http_address  # type: ignore[misc]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{host}:{port}/phone/{station}", json={"action": action}) as reply,
    ):
        return reply.status


async def test_dnd_refuses_calls_until_it_is_off(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    on = await b.request("RequestSetDNDOn", ThisDN=B)
    check(on, "EventDNDOn", ThisDN=B)
    await expect(b, "EventDNDOn", ReferenceID=on["ReferenceID"])
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1)
    await expect(a, "EventDestinationBusy", ConnID=c1, CallState="Busy")
    await quiet(b)
    off = await b.request("RequestSetDNDOff", ThisDN=B)
    check(off, "EventDNDOff", ThisDN=B)
    await expect(b, "EventDNDOff")


async def test_forwarding_and_message_waiting(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    forwarded = await b.request(
        "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="Unconditional"
    )
    check(forwarded, "EventForwardSet", ThisDN=B, OtherDN=C, ForwardMode="Unconditional")
    await expect(b, "EventForwardSet")
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(
        c, "EventRinging", ConnID=c1, ThisDN=C, CallState="Forwarded", ThirdPartyDN=B, DNIS=B
    )
    cancelled = await b.request("RequestCallForwardCancel", ThisDN=B)
    check(cancelled, "EventForwardCancel", ThisDN=B, ForwardMode="Unconditional")
    await expect(b, "EventForwardCancel")
    waiting = await b.request("RequestSetMessageWaitingOn", ThisDN=B)
    check(waiting, "EventMessageWaitingOn", ThisDN=B)
    await expect(b, "EventMessageWaitingOn")
    reference = b.send("RequestCallForwardSet", ThisDN=B, OtherDN=B)
    await expect(b, "EventError", ReferenceID=reference, ErrorCode=53)


async def test_a_phone_out_of_service_and_back(site: Site) -> None:
    b = await site.client(B)
    assert await press(site, B, "out-of-service") == 200
    await expect(b, "EventDNOutOfService", ThisDN=B, ReferenceID=None)
    assert await press(site, B, "back-in-service") == 200
    await expect(b, "EventDNBackInService", ThisDN=B, ReferenceID=None)
    assert await press(site, B, "dnd-on") == 200
    await expect(b, "EventDNDOn", ThisDN=B, ReferenceID=None)
