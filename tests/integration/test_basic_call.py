"""call-models.md § 1 through sockets: every party's events, in order, with attributes."""

from __future__ import annotations

from tests.integration.conftest import Site, check, expect, quiet, within

A, B = "7001", "7002"


async def test_basic_call(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    dialing = await a.make_call(A, B, user_data={"case": "A-17"})
    c1 = dialing["ConnID"]
    assert len(c1) == 16
    assert int(c1, 16) > 0
    check(
        dialing, "EventDialing", ThisDN=A, ThisDNRole="Origination", OtherDN=B,
        OtherDNRole="Destination", CallState="Ok", CallType="Internal",
        UserData={"case": "A-17"},
    )  # fmt: skip
    await expect(a, "EventDialing", ConnID=c1)
    await expect(
        b, "EventRinging", ConnID=c1, ThisDN=B, ThisDNRole="Destination", OtherDN=A,
        OtherDNRole="Origination", CallType="Internal", UserData={"case": "A-17"}, ReferenceID=None,
    )  # fmt: skip

    answered = await b.answer_call(B, c1)
    check(answered, "EventEstablished", ConnID=c1, ThisDN=B, OtherDN=A)
    await expect(b, "EventEstablished", ConnID=c1)
    await expect(a, "EventEstablished", ConnID=c1, ThisDN=A, OtherDN=B, ReferenceID=None)

    released = await a.release_call(A, c1)
    check(released, "EventReleased", ConnID=c1, ThisDN=A, OtherDN=B, CallState="Ok")
    await expect(a, "EventReleased", ConnID=c1)
    await expect(
        b, "EventReleased", ConnID=c1, ThisDN=B, OtherDN=A, CallState="Ok", ReferenceID=None
    )
    await quiet(a)
    await quiet(b)


async def test_destination_busy(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client("7003")
    first = await a.make_call(A, B)
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    await b.answer_call(B, first["ConnID"])
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")

    dialing = await c.make_call("7003", B)
    await expect(c, "EventDialing", ConnID=dialing["ConnID"])
    busy = await expect(
        c, "EventDestinationBusy", ConnID=dialing["ConnID"], OtherDN=B, CallState="Busy"
    )
    assert busy["ReferenceID"] == dialing["ReferenceID"]
    released = await c.release_call("7003", dialing["ConnID"])
    check(released, "EventReleased", ConnID=dialing["ConnID"])
    await quiet(b)


async def test_abandon_while_ringing(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging", ConnID=c1)
    await a.release_call(A, c1)
    await expect(a, "EventReleased", ConnID=c1, OtherDN=B, CallState="Ok")
    await expect(
        b,
        "EventAbandoned",
        ConnID=c1,
        ThisDN=B,
        OtherDN=A,
        CallState="Ok",
        ThisDNRole="Destination",
        CallType="Internal",
    )
    await quiet(b)


async def test_destination_rejecting_the_call(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    released = await b.release_call(B, c1)
    check(released, "EventReleased", ThisDN=B)
    await expect(b, "EventReleased")
    await expect(a, "EventReleased", ThisDN=A, OtherDN=B)


async def test_unknown_destination_number(site: Site) -> None:
    a = await site.client(A)
    dialing = await a.make_call(A, "4321")
    await expect(a, "EventDialing", OtherDN="4321")
    await expect(
        a,
        "EventDestinationBusy",
        ConnID=dialing["ConnID"],
        CallState="SitInvalidnum",
        ReferenceID=dialing["ReferenceID"],
    )


async def test_a_destination_the_switch_refuses_outright(site: Site) -> None:
    a = await site.client(A)
    reference = a.send("RequestMakeCall", ThisDN=A, OtherDN="not-a-number")
    await expect(a, "EventError", ErrorCode=1145, ReferenceID=reference, ThisDN=A)


async def test_clear_call_releases_every_party(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")
    cleared = await a.clear_call(A, c1)
    check(cleared, "EventReleased", ThisDN=A)
    await expect(a, "EventReleased")
    await expect(b, "EventReleased", ThisDN=B, ReferenceID=None)


async def test_every_registrant_gets_the_events_and_only_the_requester_the_reference(
    site: Site,
) -> None:
    a, watcher = await site.client(A), await site.client(A, name="supervisor")
    dialing = await a.make_call(A, B)
    await expect(a, "EventDialing", ReferenceID=dialing["ReferenceID"])
    theirs = await expect(watcher, "EventDialing", ConnID=dialing["ConnID"], ReferenceID=None)
    assert theirs["EventSequenceNumber"] == dialing["EventSequenceNumber"]


async def test_requests_on_a_dn_not_registered_or_a_call_elsewhere(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    reference = a.send("RequestAnswerCall", ThisDN=B, ConnID=c1)
    await expect(a, "EventError", ErrorCode=41, ReferenceID=reference)
    other = await site.client("7003")
    reference = other.send("RequestReleaseCall", ThisDN="7003", ConnID=c1)
    error = await expect(other, "EventError", ErrorCode=56, ReferenceID=reference)
    assert c1 in error["ErrorMessage"]
    await within(a.release_call(A, c1))
