"""call-models.md §§ 5-7 through sockets: two-step and single-step conferences, leaving
one, deleting a party."""

from __future__ import annotations

from ctiserver.client.connection import TClient
from tests.integration.conftest import Site, check, expect, quiet
from tests.integration.scenarios import consulting, talking

A, B, C, D = "7001", "7002", "7003", "7004"


async def conference(a: TClient, b: TClient, c: TClient) -> str:
    """A-B talking, B conferences C in; every event consumed; returns the ConnID."""
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1, conference=True)
    done = await b.complete_conference(B, c1, c2)
    check(done, "EventReleased", ConnID=c2, CallState="Conferenced")
    await expect(b, "EventReleased", ConnID=c2, CallState="Conferenced")
    await expect(b, "EventRetrieved", ConnID=c1, ReferenceID=done["ReferenceID"])
    await expect(
        b,
        "EventPartyAdded",
        ConnID=c1,
        OtherDN=C,
        OtherDNRole="NewParty",
        ThirdPartyDN=B,
        ThirdPartyDNRole="AddedBy",
        CallState="Conferenced",
        ReferenceID=done["ReferenceID"],
    )
    await expect(
        a,
        "EventPartyAdded",
        ConnID=c1,
        OtherDN=C,
        OtherDNRole="NewParty",
        ThirdPartyDN=B,
        ThirdPartyDNRole="AddedBy",
        CallState="Conferenced",
        ReferenceID=None,
    )
    await expect(
        c,
        "EventPartyChanged",
        ConnID=c1,
        PreviousConnID=c2,
        ThirdPartyDN=B,
        ThirdPartyDNRole="ConferencedBy",
        CallState="Conferenced",
    )
    return c1


async def test_two_step_conference(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await conference(a, b, c)
    info = await a.query_call(A, c1)
    check(info, "EventPartyInfo", ConnID=c1)
    assert info["Extensions"]["number-of-parties"] == 3


async def test_conference_consultation_dialing_carries_conference_conn_id(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    await b.initiate_conference(B, c1, C)
    await expect(b, "EventHeld", ConnID=c1)
    c2 = (
        await expect(b, "EventDialing", ConferenceConnID=c1, PreviousConnID=c1, TransferConnID=None)
    )["ConnID"]
    await expect(c, "EventRinging", ConnID=c2, ConferenceConnID=None, PreviousConnID=c1)


async def test_single_step_conference(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    ack = await b.single_step_conference(B, c1, C)
    check(ack, "EventACK", ThisDN=B)
    await expect(b, "EventACK")
    await expect(
        c, "EventRinging", ConnID=c1, OtherDN=B, ThirdPartyDN=B, ThirdPartyDNRole="AddedBy"
    )
    await c.answer_call(C, c1)
    await expect(c, "EventEstablished", ConnID=c1, CallState="Conferenced")
    for party in (a, b):
        await expect(
            party,
            "EventPartyAdded",
            ConnID=c1,
            OtherDN=C,
            ThirdPartyDN=B,
            ThirdPartyDNRole="AddedBy",
            CallState="Conferenced",
        )


async def test_leaving_a_conference(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await conference(a, b, c)
    left = await b.release_call(B, c1)
    check(left, "EventReleased", ConnID=c1, CallState="Ok")
    await expect(b, "EventReleased")
    for party in (a, c):
        await expect(
            party,
            "EventPartyDeleted",
            ConnID=c1,
            OtherDN=B,
            OtherDNRole="DeletedParty",
            ThirdPartyDN=B,
            ThirdPartyDNRole="DeletedBy",
            CallState="Ok",
        )
    await a.release_call(A, c1)
    await expect(a, "EventReleased")
    await expect(c, "EventReleased", ConnID=c1)


async def test_delete_from_conference(site: Site) -> None:
    a, b, c, d = (
        await site.client(A),
        await site.client(B),
        await site.client(C),
        await site.client(D),
    )
    c1 = await conference(a, b, c)
    await c.single_step_conference(C, c1, D)
    await expect(c, "EventACK")
    await expect(d, "EventRinging", ConnID=c1)
    await d.answer_call(D, c1)
    await expect(d, "EventEstablished", CallState="Conferenced")
    for party in (a, b, c):
        await expect(party, "EventPartyAdded", OtherDN=D, ThirdPartyDN=C)
    deleted = await a.delete_from_conference(A, c1, B)
    check(
        deleted,
        "EventPartyDeleted",
        ConnID=c1,
        OtherDN=B,
        OtherDNRole="DeletedParty",
        ThirdPartyDN=A,
        ThirdPartyDNRole="DeletedBy",
        CallState="Conferenced",
    )
    await expect(a, "EventPartyDeleted")
    await expect(b, "EventReleased", ConnID=c1)
    for party in (c, d):
        await expect(
            party,
            "EventPartyDeleted",
            OtherDN=B,
            ThirdPartyDN=A,
            CallState="Conferenced",
            ReferenceID=None,
        )


async def test_delete_from_a_two_party_call_is_refused(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    reference = a.send("RequestDeleteFromConference", ThisDN=A, ConnID=c1, OtherDN=B)
    error = await expect(a, "EventError", ErrorCode=1141, ReferenceID=reference)
    assert "not a conference" in error["ErrorMessage"]
    await quiet(b)


async def test_conference_size_limit(site: Site) -> None:
    clients = [await site.client(str(7001 + n)) for n in range(7)]
    dns = [str(7001 + n) for n in range(7)]
    c1 = await talking(clients[0], clients[1], dns[0], dns[1])
    for joining in range(2, 6):
        await clients[0].single_step_conference(dns[0], c1, dns[joining])
        await clients[joining].wait_for("EventRinging")
        await clients[joining].answer_call(dns[joining], c1)
    reference = clients[0].send(
        "RequestSingleStepConference", ThisDN=dns[0], ConnID=c1, OtherDN=dns[6]
    )
    error = await clients[0].wait_for("EventError", ReferenceID=reference)
    assert error["ErrorCode"] == 1177
