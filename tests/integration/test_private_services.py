"""The CSTA connector's private services through sockets (call-models.md § 13): hot
desking (1, 2), call recording (3013-3016) and account codes (501), each answered by
EventPrivateInfo or EventError, and their options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctiserver.client.connection import TClient
from ctiserver.ids import DeviceId
from ctiserver.model.changes import GuestAssociation
from ctiserver.pbxsim.phone import EnterAccountCode
from tests.integration import scenarios
from tests.integration.conftest import Site, SiteFactory, check, expect

INFO = {"Event", "PrivateMsgID", "ThisDN", "Server", "EventSequenceNumber", "time"}


def service(client: TClient, number: int, dn: str, **attributes: Any) -> int:
    """Send RequestPrivateService; returns its ReferenceID."""
    return client.send("RequestPrivateService", ThisDN=dn, PrivateMsgID=number, **attributes)


async def talking(site: Site) -> tuple[TClient, TClient, str]:
    """7001 and 7002 talking, each with a client of its own."""
    caller, callee = await site.client("7001"), await site.client("7002")
    return caller, callee, await scenarios.talking(caller, callee, "7001", "7002")


async def nothing_more(client: TClient, dn: str) -> None:
    """The client has no event waiting: the answer to a query comes next."""
    await client.query_address(dn)
    await expect(client, "EventAddressInfo")


def switch(site: Site) -> Any:
    assert site.service.embedded is not None
    return site.service.embedded.listener


# --- hot desking -------------------------------------------------------------------------


async def test_hot_desking_presents_the_guest_calls_on_the_host(site: Site) -> None:
    guest, host = await site.client("7005"), await site.client("7006")
    reference = service(guest, 1, "7005", Extensions={"HOST_DN": "7006"})
    info = await expect(guest, "EventPrivateInfo", PrivateMsgID=1, ThisDN="7005", OtherDN="7006")
    assert info["ReferenceID"] == reference
    assert set(info) == INFO | {"OtherDN", "ReferenceID"}
    registered = await guest.query_address("7005")
    assert registered["Extensions"]["HOST_DN"] == "7006"
    await expect(guest, "EventAddressInfo")
    hosting = await host.query_address("7006")
    assert hosting["Extensions"]["GUEST_DN"] == "7005"
    await expect(host, "EventAddressInfo")
    assert switch(site).switch.view().host_of("7005") == "7006"
    # a call to the guest rings on the host's phone, reported on the guest's DN
    caller = await site.client("7001")
    conn_id = (await caller.make_call("7001", "7005"))["ConnID"]
    await expect(caller, "EventDialing")
    ringing = await expect(guest, "EventRinging", ThisDN="7005", ConnID=conn_id)
    assert ringing["Extensions"]["HOST_DN"] == "7006"
    await guest.answer_call("7005", conn_id)
    established = await expect(guest, "EventEstablished", ThisDN="7005")
    assert established["Extensions"]["HOST_DN"] == "7006"
    await expect(caller, "EventEstablished")
    await nothing_more(host, "7006")  # the host's registrants heard nothing of it
    await caller.release_call("7001", conn_id)
    await expect(caller, "EventReleased")
    await expect(guest, "EventReleased", ThisDN="7005")
    # cancel
    reference = service(guest, 2, "7005")
    cancelled = await expect(guest, "EventPrivateInfo", PrivateMsgID=2, OtherDN="7006")
    assert cancelled["ReferenceID"] == reference
    unregistered = await guest.query_address("7005")
    assert "HOST_DN" not in unregistered["Extensions"]


async def test_hot_desking_errors(site: Site) -> None:
    guest = await site.client("7005", "8001")
    reference = service(guest, 1, "7005")
    error = await expect(guest, "EventError", ErrorCode=53, ReferenceID=reference)
    assert "HOST_DN" in error["ErrorMessage"]
    reference = service(guest, 2, "7005")  # no association to cancel
    error = await expect(guest, "EventError", ErrorCode=1161, ReferenceID=reference)
    assert "not associated" in error["ErrorMessage"]
    reference = service(guest, 1, "7005", Extensions={"HOST_DN": "7005"})
    error = await expect(guest, "EventError", ErrorCode=1140, ReferenceID=reference)
    assert "its own host" in error["ErrorMessage"]
    reference = service(guest, 1, "8001", Extensions={"HOST_DN": "7006"})
    await expect(guest, "EventError", ErrorCode=53, ReferenceID=reference)
    service(guest, 1, "7005", Extensions={"HOST_DN": "7006"})
    await expect(guest, "EventPrivateInfo", PrivateMsgID=1)
    reference = service(guest, 1, "7005", Extensions={"HOST_DN": "7007"})  # associated already
    error = await expect(guest, "EventError", ReferenceID=reference)
    assert "associated with host 7006" in error["ErrorMessage"]
    other = await site.client("7008")
    reference = service(other, 1, "7008", Extensions={"HOST_DN": "7006"})  # 7006 hosts already
    error = await expect(other, "EventError", ErrorCode=1160, ReferenceID=reference)
    assert "associated already" in error["ErrorMessage"]


# --- call recording ----------------------------------------------------------------------


@pytest.fixture
async def recording_site(make_site: SiteFactory, tmp_path: Path) -> tuple[Site, Path]:
    recordings = tmp_path / "recordings.jsonl"
    return await make_site(pbxsim={"recordings": recordings}), recordings


async def test_recording_start_suspend_resume_stop(recording_site: tuple[Site, Path]) -> None:
    site, recordings = recording_site
    caller, callee, conn_id = await talking(site)
    steps = [(3013, "started"), (3015, "suspended"), (3016, "resumed"), (3014, "stopped")]
    for number, _what in steps:
        reference = service(caller, number, "7001", ConnID=conn_id)
        info = await expect(
            caller, "EventPrivateInfo", PrivateMsgID=number, ThisDN="7001", ConnID=conn_id
        )
        assert info["ReferenceID"] == reference
        assert set(info) == INFO | {"ConnID", "ReferenceID"}
    [line] = recordings.read_text().splitlines()
    life = json.loads(line)
    assert life["device"] == "7001"
    assert life["reason"] == "requested"
    assert len(life["suspended"]) == len(life["resumed"]) == 1
    await nothing_more(callee, "7002")  # only the recording DN's registrants hear of it


@pytest.mark.parametrize(
    ("first", "number", "meaning"),
    [
        ((), 3014, "not being recorded"),
        ((), 3015, "not being recorded"),
        ((), 3016, "not suspended"),
        ((3013,), 3013, "recorded at this DN already"),
        ((3013,), 3016, "not suspended"),
        ((3013, 3015), 3015, "suspended already"),
    ],
)
async def test_recording_errors(
    recording_site: tuple[Site, Path], first: tuple[int, ...], number: int, meaning: str
) -> None:
    site, _recordings = recording_site
    caller, _callee, conn_id = await talking(site)
    for step in first:
        service(caller, step, "7001", ConnID=conn_id)
        await expect(caller, "EventPrivateInfo", PrivateMsgID=step)
    reference = service(caller, number, "7001", ConnID=conn_id)
    error = await expect(caller, "EventError", ReferenceID=reference)
    assert meaning in error["ErrorMessage"]
    reference = service(caller, number, "7001", ConnID="00000000000000ff")
    await expect(caller, "EventError", ErrorCode=56, ReferenceID=reference)


async def test_a_ringing_call_cannot_be_recorded(recording_site: tuple[Site, Path]) -> None:
    site, _recordings = recording_site
    caller, callee = await site.client("7001"), await site.client("7002")
    conn_id = (await caller.make_call("7001", "7002"))["ConnID"]
    await expect(callee, "EventRinging")
    reference = service(callee, 3013, "7002", ConnID=conn_id)
    error = await expect(callee, "EventError", ReferenceID=reference)
    assert "talking or held" in error["ErrorMessage"]


async def test_recording_goes_through_hold_and_stops_when_the_call_ends(
    recording_site: tuple[Site, Path],
) -> None:
    site, recordings = recording_site
    caller, callee, conn_id = await talking(site)
    service(callee, 3013, "7002", ConnID=conn_id)
    await expect(callee, "EventPrivateInfo", PrivateMsgID=3013)
    await callee.hold_call("7002", conn_id)
    await expect(callee, "EventHeld")
    await callee.retrieve_call("7002", conn_id)
    await expect(callee, "EventRetrieved")
    await caller.release_call("7001", conn_id)
    await expect(callee, "EventReleased")
    stopped = await expect(
        callee, "EventPrivateInfo", PrivateMsgID=3014, ThisDN="7002", ConnID=conn_id
    )
    assert "ReferenceID" not in stopped
    [line] = recordings.read_text().splitlines()
    assert json.loads(line)["reason"] == "call ended"


async def test_recording_follows_a_transfer(recording_site: tuple[Site, Path]) -> None:
    site, recordings = recording_site
    caller, agent, conn_id = await talking(site)
    expert = await site.client("7003")
    service(caller, 3013, "7001", ConnID=conn_id)  # the caller's side is recorded
    await expect(caller, "EventPrivateInfo", PrivateMsgID=3013)
    await agent.initiate_transfer("7002", conn_id, "7003")
    await expect(agent, "EventHeld")
    consult = (await expect(agent, "EventDialing"))["ConnID"]
    ringing = await expect(expert, "EventRinging")
    await expert.answer_call("7003", ringing["ConnID"])
    await expect(expert, "EventEstablished")
    await expect(agent, "EventEstablished")
    await agent.complete_transfer("7002", conn_id, consult)
    changed = await expect(caller, "EventPartyChanged")
    # the caller's connection, and its recording, go on in the call that stays
    service(caller, 3015, "7001", ConnID=changed["ConnID"])
    await expect(caller, "EventPrivateInfo", PrivateMsgID=3015, ConnID=changed["ConnID"])
    await caller.release_call("7001", changed["ConnID"])
    await expect(caller, "EventReleased")
    await expect(caller, "EventPrivateInfo", PrivateMsgID=3014, ConnID=changed["ConnID"])
    [line] = recordings.read_text().splitlines()
    assert json.loads(line)["reason"] == "call ended"


async def test_the_recording_of_a_dn_that_transfers_away_stops(
    recording_site: tuple[Site, Path],
) -> None:
    site, _recordings = recording_site
    _caller, agent, conn_id = await talking(site)
    service(agent, 3013, "7002", ConnID=conn_id)
    await expect(agent, "EventPrivateInfo", PrivateMsgID=3013)
    await agent.single_step_transfer("7002", conn_id, "7003")
    await expect(agent, "EventReleased", CallState="Transferred")
    await expect(agent, "EventPrivateInfo", PrivateMsgID=3014, ThisDN="7002", ConnID=conn_id)


# --- account codes -----------------------------------------------------------------------


def accode(**options: Any) -> dict[str, Any]:
    return {"options": {"accode_privateservice": True, **options}}


async def test_account_code_by_private_service(make_site: SiteFactory) -> None:
    site = await make_site(**accode())
    caller, callee, conn_id = await talking(site)
    reference = service(caller, 501, "7001", ConnID=conn_id, Extensions={"AccountCode": "4711"})
    info = await expect(
        caller,
        "EventPrivateInfo",
        PrivateMsgID=501,
        ThisDN="7001",
        ConnID=conn_id,
        Extensions={"AccountCode": "4711"},
    )
    assert info["ReferenceID"] == reference
    [call] = switch(site).switch.view().calls
    assert call.account_code == "4711"
    await nothing_more(callee, "7002")
    release = await caller.release_call("7001", conn_id)
    assert "AccountCode" not in release.get("Extensions", {})  # accode-data none
    assert "AccountCode" not in release["UserData"]


async def test_account_code_entered_on_the_phone(make_site: SiteFactory) -> None:
    site = await make_site(**accode(accode_name="Charge"))
    _caller, callee, conn_id = await talking(site)
    switch(site).act(EnterAccountCode("7002", "42"))
    info = await expect(
        callee,
        "EventPrivateInfo",
        PrivateMsgID=501,
        ThisDN="7002",
        ConnID=conn_id,
        Extensions={"Charge": "42"},
    )
    assert "ReferenceID" not in info


async def test_account_code_as_user_data(make_site: SiteFactory) -> None:
    site = await make_site(**accode(accode_data="udata"))
    caller, callee, conn_id = await talking(site)
    service(caller, 501, "7001", ConnID=conn_id, Extensions={"AccountCode": "11"})
    await expect(caller, "EventPrivateInfo", PrivateMsgID=501)
    await expect(caller, "EventAttachedDataChanged", UserData={"AccountCode": "11"})
    await expect(callee, "EventAttachedDataChanged", UserData={"AccountCode": "11"})
    # attaching the key sets the code on the switch
    changed = await callee.update_user_data("7002", conn_id, {"AccountCode": "22", "x": "y"})
    check(changed, "EventAttachedDataChanged", UserData={"AccountCode": "22", "x": "y"})
    await expect(callee, "EventAttachedDataChanged")
    await expect(callee, "EventPrivateInfo", PrivateMsgID=501, Extensions={"AccountCode": "22"})
    [call] = switch(site).switch.view().calls
    assert call.account_code == "22"
    # a code the switch refuses changes nothing
    reference = callee.send(
        "RequestUpdateUserData", ThisDN="7002", ConnID=conn_id, UserData={"AccountCode": "abc"}
    )
    error = await expect(callee, "EventError", ReferenceID=reference)
    assert "account code" in error["ErrorMessage"]
    info = await callee.request("RequestQueryCall", ThisDN="7002", ConnID=conn_id)
    assert info["UserData"] == {"AccountCode": "22", "x": "y"}


async def test_account_code_in_extensions(make_site: SiteFactory) -> None:
    site = await make_site(options={"accode_data": "ext"})  # without the private service
    caller, callee, conn_id = await talking(site)
    switch(site).act(EnterAccountCode("7001", "9"))
    await callee.hold_call("7002", conn_id)
    held = await expect(callee, "EventHeld")
    assert held["Extensions"]["AccountCode"] == "9"
    assert "AccountCode" not in held["UserData"]
    reference = service(caller, 501, "7001", ConnID=conn_id, Extensions={"AccountCode": "1"})
    error = await expect(caller, "EventError", ErrorCode=51, ReferenceID=reference)
    assert "accode-privateservice" in error["ErrorMessage"]


async def test_account_code_errors(make_site: SiteFactory) -> None:
    site = await make_site(**accode())
    caller, _callee, conn_id = await talking(site)
    reference = service(caller, 501, "7001", ConnID=conn_id)
    error = await expect(caller, "EventError", ErrorCode=53, ReferenceID=reference)
    assert "AccountCode" in error["ErrorMessage"]
    reference = service(caller, 501, "7001", ConnID=conn_id, Extensions={"AccountCode": "1x"})
    error = await expect(caller, "EventError", ReferenceID=reference)
    assert "account code" in error["ErrorMessage"]
    reference = service(caller, 501, "7001", Extensions={"AccountCode": "1"})
    await expect(caller, "EventError", ErrorCode=56, ReferenceID=reference)


async def test_an_unknown_private_service(site: Site) -> None:
    client = await site.client("7001")
    reference = service(client, 999, "7001")
    error = await expect(client, "EventError", ErrorCode=51, ReferenceID=reference)
    assert "999" in error["ErrorMessage"]


async def test_a_server_that_missed_the_association_learns_it_from_the_calls(site: Site) -> None:
    guest = await site.client("7005")
    service(guest, 1, "7005", Extensions={"HOST_DN": "7006"})
    await expect(guest, "EventPrivateInfo", PrivateMsgID=1)
    forgotten = GuestAssociation(guest=DeviceId("7005"), host=DeviceId("7006"), associated=False)
    site.service.runtime.core.model.replay([forgotten])  # as if the server had started since
    caller = await site.client("7001")
    await caller.make_call("7001", "7005")
    ringing = await expect(guest, "EventRinging", ThisDN="7005")
    assert ringing["Extensions"]["HOST_DN"] == "7006"
    assert (await guest.query_address("7005"))["Extensions"]["HOST_DN"] == "7006"
