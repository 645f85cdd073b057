"""RequestMergeCalls through sockets (docs/protocol.md, Consultation, transfer,
conference): the held call and the consultation merged at ThisDN, by MergeType as a
transfer or as a conference, with every party's events."""

from __future__ import annotations

from tests.integration.conftest import Site, check, expect
from tests.integration.scenarios import consulting, talking

A, B, C = "7001", "7002", "7003"


async def test_merge_for_transfer(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1)
    done = await b.request(
        "RequestMergeCalls", ThisDN=B, ConnID=c1, TransferConnID=c2, MergeType="ForTransfer"
    )
    check(done, "EventReleased", ConnID=c2, CallState="Transferred")
    await expect(b, "EventReleased", ConnID=c2, CallState="Transferred")
    await expect(
        b, "EventReleased", ConnID=c1, CallState="Transferred", ReferenceID=done["ReferenceID"]
    )
    await expect(
        a, "EventPartyChanged", ConnID=c1, OtherDN=C, ThirdPartyDN=B, CallState="Transferred"
    )
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2, OtherDN=A, ThirdPartyDN=B)


async def test_merge_for_conference(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1)
    done = await b.request(
        "RequestMergeCalls", ThisDN=B, ConnID=c1, TransferConnID=c2, MergeType="ForConference"
    )
    check(done, "EventReleased", ConnID=c2, CallState="Conferenced")
    await expect(b, "EventReleased", ConnID=c2, CallState="Conferenced")
    reference = done["ReferenceID"]
    await expect(b, "EventRetrieved", ConnID=c1, ReferenceID=reference)
    await expect(b, "EventPartyAdded", ConnID=c1, OtherDN=C, ReferenceID=reference)
    await expect(a, "EventPartyAdded", ConnID=c1, OtherDN=C, CallState="Conferenced")
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2, CallState="Conferenced")


async def test_merge_refusals(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    reference = b.send("RequestMergeCalls", ThisDN=B, ConnID=c1, TransferConnID=c1)
    await expect(b, "EventError", ReferenceID=reference, ErrorCode=53)  # no MergeType
    reference = b.send(
        "RequestMergeCalls", ThisDN=B, ConnID=c1, TransferConnID="00000000deadbeef",
        MergeType="ForTransfer",
    )  # fmt: skip
    await expect(b, "EventError", ReferenceID=reference, ErrorCode=56)
