"""call-models.md § 12 through sockets: attached user data, on every DN of the call,
through holds, transfers and routing."""

from __future__ import annotations

from tests.integration.conftest import Site, check, expect, quiet
from tests.integration.scenarios import consulting, talking

A, B, C = "7001", "7002", "7003"


async def test_attach_update_delete_pair_and_delete_all(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    attached = await a.attach_user_data(A, c1, {"case": "A-17", "tier": "gold"})
    check(
        attached,
        "EventAttachedDataChanged",
        ConnID=c1,
        ThisDN=A,
        ThirdPartyDN=A,
        UserData={"case": "A-17", "tier": "gold"},
    )
    await expect(a, "EventAttachedDataChanged")
    await expect(
        b,
        "EventAttachedDataChanged",
        ConnID=c1,
        ThisDN=B,
        ThirdPartyDN=A,
        UserData={"case": "A-17", "tier": "gold"},
        ReferenceID=None,
    )
    updated = await b.update_user_data(B, c1, {"tier": "platinum", "n": 3})
    check(
        updated,
        "EventAttachedDataChanged",
        UserData={"case": "A-17", "tier": "platinum", "n": 3},
        ThirdPartyDN=B,
    )
    await expect(b, "EventAttachedDataChanged")
    await expect(a, "EventAttachedDataChanged", ThirdPartyDN=B)
    pair = await a.delete_pair(A, c1, "case")
    check(pair, "EventAttachedDataChanged", UserData={"tier": "platinum", "n": 3})
    await expect(a, "EventAttachedDataChanged")
    await expect(b, "EventAttachedDataChanged")
    nothing = await a.delete_pair(A, c1, "absent")
    check(nothing, "EventACK", ConnID=c1)
    await expect(a, "EventACK")
    emptied = await b.delete_user_data(B, c1)
    check(emptied, "EventAttachedDataChanged", UserData={})
    await expect(b, "EventAttachedDataChanged")
    await expect(a, "EventAttachedDataChanged", UserData={})
    await quiet(a)


async def test_user_data_stays_with_the_conn_id_through_hold_and_transfer(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = (await a.make_call(A, B, user_data={"case": "A-17"}))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging", UserData={"case": "A-17"})
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished", UserData={"case": "A-17"})
    await expect(a, "EventEstablished")
    await b.hold_call(B, c1)
    await expect(b, "EventHeld", UserData={"case": "A-17"})
    await b.retrieve_call(B, c1)
    await expect(b, "EventRetrieved", UserData={"case": "A-17"})
    c2 = await consulting(b, c, B, C, c1)
    await b.complete_transfer(B, c1, c2)
    await expect(b, "EventReleased", ConnID=c2)
    await expect(b, "EventReleased", ConnID=c1)
    await expect(a, "EventPartyChanged", ConnID=c1, UserData={"case": "A-17"})
    await expect(c, "EventPartyChanged", ConnID=c1, UserData={"case": "A-17"})


async def test_user_data_requests_on_a_call_elsewhere_are_refused(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    reference = c.send("RequestAttachUserData", ThisDN=C, ConnID=c1, UserData={"x": "y"})
    await expect(c, "EventError", ErrorCode=56, ReferenceID=reference)
    await quiet(a)
