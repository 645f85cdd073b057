"""call-models.md §§ 2-4 and 8-9 through sockets: hold, transfers, alternate, reconnect,
redirect."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Site, SiteFactory, check, expect, quiet
from tests.integration.scenarios import consulting, talking

A, B, C = "7001", "7002", "7003"


async def test_hold_and_retrieve(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    held = await b.hold_call(B, c1)
    check(held, "EventHeld", ConnID=c1, ThisDN=B, OtherDN=A)
    await expect(b, "EventHeld")
    retrieved = await b.retrieve_call(B, c1)
    check(retrieved, "EventRetrieved", ConnID=c1, ThisDN=B, OtherDN=A, CallState="Ok")
    await expect(b, "EventRetrieved")
    await quiet(a)  # the held party hears nothing


async def test_hold_and_retrieve_refused_in_the_wrong_state(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    reference = b.send("RequestHoldCall", ThisDN=B, ConnID=c1)
    error = await expect(b, "EventError", ErrorCode=1163, ReferenceID=reference)
    assert "ringing" in error["ErrorMessage"]
    reference = b.send("RequestRetrieveCall", ThisDN=B, ConnID=c1)
    await expect(b, "EventError", ErrorCode=1164, ReferenceID=reference)


async def test_two_step_transfer(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1)
    done = await b.complete_transfer(B, c1, c2)
    check(done, "EventReleased", ConnID=c2, CallState="Transferred")
    await expect(b, "EventReleased", ConnID=c2, CallState="Transferred")
    await expect(
        b, "EventReleased", ConnID=c1, CallState="Transferred", ReferenceID=done["ReferenceID"]
    )
    await expect(
        a,
        "EventPartyChanged",
        ConnID=c1,
        OtherDN=C,
        ThirdPartyDN=B,
        ThirdPartyDNRole="TransferredBy",
        CallState="Transferred",
        ReferenceID=None,
    )
    await expect(
        c,
        "EventPartyChanged",
        ConnID=c1,
        PreviousConnID=c2,
        OtherDN=A,
        ThirdPartyDN=B,
        ThirdPartyDNRole="TransferredBy",
        CallState="Transferred",
    )
    released = await c.release_call(C, c1)
    check(released, "EventReleased", ConnID=c1)
    await expect(a, "EventReleased", ConnID=c1, OtherDN=C)


async def test_consultation_dialing_carries_transfer_conn_id(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    await b.initiate_transfer(B, c1, C)
    await expect(b, "EventHeld", ConnID=c1)
    dialing = await expect(
        b, "EventDialing", PreviousConnID=c1, TransferConnID=c1, CallType="Consult", UserData={}
    )
    assert "ConferenceConnID" not in dialing
    await expect(c, "EventRinging", PreviousConnID=c1, TransferConnID=None)


async def test_transfer_completed_before_the_target_answers(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1, answer=False)
    await b.complete_transfer(B, c1, c2)
    await expect(b, "EventReleased", ConnID=c2)
    await expect(b, "EventReleased", ConnID=c1)
    await expect(a, "EventPartyChanged", ConnID=c1, OtherDN=C)
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2, OtherDN=A)
    answered = await c.answer_call(C, c1)
    check(answered, "EventEstablished", ConnID=c1, ThisDN=C, OtherDN=A)
    await expect(c, "EventEstablished", ConnID=c1)
    await expect(a, "EventEstablished", ConnID=c1, ThisDN=A, OtherDN=C)


async def test_mute_transfer(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    held = await b.mute_transfer(B, c1, C)
    reference = held["ReferenceID"]
    await expect(b, "EventHeld", ConnID=c1, ReferenceID=reference)
    c2 = (await expect(b, "EventDialing", CallType="Consult", ReferenceID=reference))["ConnID"]
    await expect(b, "EventReleased", ConnID=c2, CallState="Transferred", ReferenceID=reference)
    await expect(b, "EventReleased", ConnID=c1, CallState="Transferred", ReferenceID=reference)
    await expect(c, "EventRinging", ConnID=c2)
    await expect(c, "EventPartyChanged", ConnID=c1, PreviousConnID=c2)
    await expect(a, "EventPartyChanged", ConnID=c1, OtherDN=C)


async def test_single_step_transfer(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    done = await b.single_step_transfer(B, c1, C)
    check(done, "EventReleased", ConnID=c1, CallState="Transferred")
    await expect(b, "EventReleased")
    await expect(
        a,
        "EventPartyChanged",
        ConnID=c1,
        OtherDN=C,
        ThirdPartyDN=B,
        ThirdPartyDNRole="TransferredBy",
        CallState="Transferred",
    )
    await expect(
        c, "EventRinging", ConnID=c1, OtherDN=A, ThirdPartyDN=B, ThirdPartyDNRole="TransferredBy"
    )
    await c.answer_call(C, c1)
    await expect(c, "EventEstablished", ConnID=c1, OtherDN=A)
    await expect(a, "EventEstablished", ConnID=c1, OtherDN=C)


async def test_alternate_and_reconnect(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = await talking(a, b, A, B)
    c2 = await consulting(b, c, B, C, c1)
    swapped = await b.alternate_call(B, c1, c2)
    check(swapped, "EventHeld", ConnID=c2)
    await expect(b, "EventHeld", ConnID=c2)
    await expect(b, "EventRetrieved", ConnID=c1, ReferenceID=swapped["ReferenceID"])
    back = await b.alternate_call(B, c2, c1)
    await expect(b, "EventHeld", ConnID=c1)
    await expect(b, "EventRetrieved", ConnID=c2, ReferenceID=back["ReferenceID"])
    reconnected = await b.reconnect_call(B, c1, c2)
    check(reconnected, "EventReleased", ConnID=c2)
    await expect(b, "EventReleased", ConnID=c2)
    await expect(b, "EventRetrieved", ConnID=c1, ReferenceID=reconnected["ReferenceID"])
    await expect(c, "EventReleased", ConnID=c2, ReferenceID=None)
    await quiet(a)


async def test_redirect_a_ringing_call(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    redirected = await b.redirect_call(B, c1, C)
    check(redirected, "EventReleased", ConnID=c1, CallState="Redirected")
    await expect(b, "EventReleased")
    await expect(c, "EventRinging", ConnID=c1, OtherDN=A, ThirdPartyDN=B)
    await c.answer_call(C, c1)
    await expect(c, "EventEstablished", ConnID=c1)
    await expect(a, "EventEstablished", ConnID=c1, OtherDN=C)


async def test_transfer_refusals_name_the_problem(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    c1 = await talking(a, b, A, B)
    reference = b.send(
        "RequestCompleteTransfer", ThisDN=B, ConnID=c1, TransferConnID="00000000000000aa"
    )
    await expect(b, "EventError", ErrorCode=56, ReferenceID=reference)
    reference = b.send("RequestInitiateTransfer", ThisDN=B, ConnID=c1, OtherDN="abc")
    error = await expect(b, "EventError", ErrorCode=1145, ReferenceID=reference)
    assert "invalidCalledDeviceID" in error["ErrorMessage"]


@pytest.mark.parametrize(
    ("mode", "on_consult"),
    [("separate", {}), ("inherited", {"case": "A-17"}), ("joint", {"case": "A-17"})],
)
async def test_consult_user_data(
    make_site: SiteFactory, mode: str, on_consult: dict[str, str]
) -> None:
    site = await make_site(options={"consult_user_data": mode})
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    c1 = (await a.make_call(A, B, user_data={"case": "A-17"}))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")
    await b.initiate_transfer(B, c1, C)
    await expect(b, "EventHeld")
    c2 = (await expect(b, "EventDialing", UserData=on_consult))["ConnID"]
    await expect(c, "EventRinging", ConnID=c2, UserData=on_consult)
    changed = await c.update_user_data(C, c2, {"note": "x"})
    check(changed, "EventAttachedDataChanged", ConnID=c2, ThisDN=C, ThirdPartyDN=C)
    await expect(c, "EventAttachedDataChanged", ConnID=c2)
    await expect(b, "EventAttachedDataChanged", ConnID=c2, ThisDN=B, ReferenceID=None)
    if mode == "joint":
        await expect(
            b, "EventAttachedDataChanged", ConnID=c1, UserData={"case": "A-17", "note": "x"}
        )
        await expect(a, "EventAttachedDataChanged", ConnID=c1, ThisDN=A, ThirdPartyDN=C)
    else:
        await quiet(a)
