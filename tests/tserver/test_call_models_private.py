"""Call models § 13 (call-models.md; docs/private-services.md): hot desking, call
recording and account codes (accode-privateservice, accode-data none, udata and ext),
with the exact events each client receives and the switch's refusals with their
meaning in ErrorMessage."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.ids import DeviceId
from ctiserver.pbxsim.phone import EnterAccountCode, HangUp
from ctiserver.tserver.port import CoreSettings, Options
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import Wire

A, B, GUEST, HOST = "7001", "7002", "7005", "7006"
REFUSED = "the switch refused RequestPrivateService"


def info(number: int, this_dn: str, **attributes: Any) -> dict[str, Any]:
    return {"Event": "EventPrivateInfo", "PrivateMsgID": number, "ThisDN": this_dn, **attributes}


# --- hot desking (1, 2) ------------------------------------------------------------------


def test_a_guest_dn_on_a_host_phone() -> None:
    wire = Wire()
    a, guest, host = wire.client(A), wire.client(GUEST), wire.client(HOST)
    associated = wire.ask(guest, "RequestPrivateService", ThisDN=GUEST, PrivateMsgID=1, Extensions={"HOST_DN": HOST})  # fmt: skip
    assert heard(wire, guest) == [info(1, GUEST, OtherDN=HOST, ReferenceID=associated)]
    at_host = {"Extensions": {"HOST_DN": HOST}}
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=GUEST)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    assert heard(wire, guest) == [
        c1.event("EventRinging", GUEST, DESTINATION, A, ANI=A, DNIS=GUEST, **at_host)
    ]
    answered = wire.ask(guest, "RequestAnswerCall", ThisDN=GUEST, ConnID=c1.conn_id)
    assert heard(wire, guest) == [
        c1.event("EventEstablished", GUEST, DESTINATION, A, ReferenceID=answered, **at_host)
    ]
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, GUEST)]
    wire.phone(HangUp(DeviceId(HOST)))  # the person at the host's phone hangs up
    assert heard(wire, guest) == [
        c1.event("EventReleased", GUEST, DESTINATION, A, **at_host, released=LOCAL)
    ]
    assert heard(wire, host) == []  # the host DN hears nothing of the guest's calls
    registered = wire.ask(host, "RequestRegisterAddress", ThisDN=GUEST)
    (registration,) = heard(wire, host)
    assert registration["Extensions"] == {"status": "Idle", "calls": 0, "HOST_DN": HOST}
    assert registration["ReferenceID"] == registered
    status = wire.ask(host, "RequestQueryAddress", ThisDN=HOST)
    (address,) = heard(wire, host)
    assert (address["Extensions"], address["ReferenceID"]) == (
        {"status": "Idle", "calls": 0, "GUEST_DN": GUEST},
        status,
    )
    cancelled = wire.ask(guest, "RequestPrivateService", ThisDN=GUEST, PrivateMsgID=2)
    assert heard(wire, guest) == [info(2, GUEST, OtherDN=HOST, ReferenceID=cancelled)]
    assert wire.core.model.host_of(DeviceId(GUEST)) is None


@pytest.mark.parametrize(
    ("number", "extensions", "code", "message"),
    [
        (1, {}, 53, "hot desking (private service 1) needs Extensions HOST_DN"),
        (
            1,
            {"HOST_DN": B},
            1140,
            f"{REFUSED}: operation notDifferentDevices: a DN cannot be its own host",
        ),
        (
            1,
            {"HOST_DN": "9999"},
            1151,
            f"{REFUSED}: operation invalidDeviceID: the guest and the host must be stations of the switch",
        ),
        (
            2,
            {},
            1161,
            f"{REFUSED}: stateIncompatibility invalidObjectState: the DN is not associated with a host",
        ),
        (
            77,
            {},
            51,
            "private service 77 is not supported; these are: 1 and 2 (hot desking), 501 (account code), 3013 to 3016 (call recording)",
        ),
    ],
)
def test_hot_desking_refusals(
    number: int, extensions: dict[str, str], code: int, message: str
) -> None:
    wire = Wire()
    b = wire.client(B)
    reference = wire.ask(b, "RequestPrivateService", ThisDN=B, PrivateMsgID=number, Extensions=extensions)  # fmt: skip
    assert heard(wire, b) == [error(reference, code, message, B)]


def test_associating_twice_and_hot_desking_a_queue_are_refused() -> None:
    wire = Wire()
    guest, queue = wire.client(GUEST), wire.client("8001")
    wire.ask(guest, "RequestPrivateService", ThisDN=GUEST, PrivateMsgID=1, Extensions={"HOST_DN": HOST})  # fmt: skip
    heard(wire, guest)
    again = wire.ask(guest, "RequestPrivateService", ThisDN=GUEST, PrivateMsgID=1, Extensions={"HOST_DN": HOST})  # fmt: skip
    assert heard(wire, guest) == [
        error(again, 53, f"DN {GUEST} is associated with host {HOST} already", GUEST)
    ]
    on_queue = wire.ask(queue, "RequestPrivateService", ThisDN="8001", PrivateMsgID=2)
    assert heard(wire, queue) == [
        error(on_queue, 53, "hot desking is for extensions; 8001 is not one", "8001")
    ]


# --- call recording (3013-3016) ----------------------------------------------------------


def talking(wire: Wire) -> Seen:
    wire.client(A), wire.client(B)
    wire.ask(1, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, 1)[0]["ConnID"], "1")
    wire.ask(2, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, 1), heard(wire, 2)
    return c1


def test_recording_a_call_and_its_end_with_the_call() -> None:
    wire = Wire()
    c1 = talking(wire)
    a, b = 1, 2
    asked = [
        wire.ask(a, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=number)
        for number in (3013, 3015, 3016, 3014, 3013)
    ]
    assert heard(wire, a) == [
        info(number, A, ConnID=c1.conn_id, ReferenceID=reference)
        for number, reference in zip((3013, 3015, 3016, 3014, 3013), asked, strict=True)
    ]
    wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, a) == [
        c1.event("EventReleased", A, ORIGINATION, B, released=REMOTE),
        info(3014, A, ConnID=c1.conn_id),  # it stopped by itself: no ReferenceID
    ]
    assert [e["Event"] for e in heard(wire, b)] == ["EventReleased"]


def test_a_recording_follows_its_dn_into_the_call_a_conference_leaves() -> None:
    """C records its side of B's consultation; the conference moves C into c1, and the
    recording's events name c1 from then on (docs/private-services.md)."""
    wire = Wire()
    a, b, c = wire.client(A), wire.client(B), wire.client("7003")
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = heard(wire, a)[0]["ConnID"]
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1)
    wire.ask(b, "RequestInitiateConference", ThisDN=B, ConnID=c1, OtherDN="7003")
    c2 = heard(wire, b)[-1]["ConnID"]
    wire.ask(c, "RequestAnswerCall", ThisDN="7003", ConnID=c2)
    recorded = wire.ask(c, "RequestPrivateService", ThisDN="7003", ConnID=c2, PrivateMsgID=3013)
    assert heard(wire, c)[-1] == info(3013, "7003", ConnID=c2, ReferenceID=recorded)
    wire.ask(b, "RequestCompleteConference", ThisDN=B, ConnID=c1, ConferenceConnID=c2)
    heard(wire, c)
    suspended = wire.ask(c, "RequestPrivateService", ThisDN="7003", ConnID=c1, PrivateMsgID=3015)
    assert heard(wire, c) == [info(3015, "7003", ConnID=c1, ReferenceID=suspended)]
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1)
    wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c1)
    assert [e["Event"] for e in heard(wire, c)][-2:] == ["EventReleased", "EventPrivateInfo"]
    assert wire.core.model.recording_of(DeviceId("7003"), c1) is None  # type: ignore[arg-type]


STATE = "stateIncompatibility"


@pytest.mark.parametrize(
    ("numbers", "code", "why"),
    [
        (
            (3013, 3013),
            1161,
            f"{STATE} invalidObjectState (DN {A} is established on {{c1}}): the call is being recorded at this DN already",
        ),
        (
            (3014,),
            1160,
            f"{STATE} incorrectMsgState (DN {A} is established on {{c1}}): the call is not being recorded at this DN, or is suspended already",
        ),
        (
            (3013, 3015, 3015),
            1160,
            f"{STATE} incorrectMsgState (DN {A} is established on {{c1}}): the call is not being recorded at this DN, or is suspended already",
        ),
        (
            (3013, 3016),
            1160,
            f"{STATE} notAbleToResume (DN {A} is established on {{c1}}): the recording of the call at this DN is not suspended",
        ),
    ],
)
def test_recording_refusals(numbers: tuple[int, ...], code: int, why: str) -> None:
    wire = Wire()
    c1 = talking(wire)
    for number in numbers:
        reference = wire.ask(1, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=number)  # fmt: skip
    *_, refusal = heard(wire, 1)
    message = f"{REFUSED}: {why.format(c1=c1.conn_id)}"
    assert refusal == error(reference, code, message, A)


def test_a_ringing_call_cannot_be_recorded() -> None:
    wire = Wire()
    wire.client(A), wire.client(B)
    wire.ask(1, "RequestMakeCall", ThisDN=A, OtherDN=B)
    conn_id = heard(wire, 1)[0]["ConnID"]
    heard(wire, 2)
    reference = wire.ask(2, "RequestPrivateService", ThisDN=B, ConnID=conn_id, PrivateMsgID=3013)
    (refusal,) = heard(wire, 2)
    assert (refusal["ErrorCode"], refusal["ReferenceID"]) == (1160, reference)
    assert refusal["ErrorMessage"].endswith("only a call that is talking or held can be recorded")


# --- account codes (501) -----------------------------------------------------------------


def coded(accode_data: str, privateservice: bool) -> tuple[Wire, Seen]:
    options = Options(accode_data=accode_data, accode_privateservice=privateservice)
    settings = CoreSettings(name="tserver-a", options=options)
    wire = Wire(settings=settings)
    return wire, talking(wire)


def test_account_code_by_private_service_and_on_the_phone() -> None:
    wire, c1 = coded("none", True)
    reference = wire.ask(1, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=501, Extensions={"AccountCode": "4711"})  # fmt: skip
    assert heard(wire, 1) == [
        info(501, A, ConnID=c1.conn_id, Extensions={"AccountCode": "4711"}, ReferenceID=reference)
    ]
    assert heard(wire, 2) == []  # to the DN where the code was set
    wire.phone(EnterAccountCode(DeviceId(B), "42"))
    assert heard(wire, 2) == [info(501, B, ConnID=c1.conn_id, Extensions={"AccountCode": "42"})]
    held = wire.ask(1, "RequestHoldCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, 1) == [c1.event("EventHeld", A, ORIGINATION, B, ReferenceID=held)]


@pytest.mark.parametrize(
    ("extensions", "code", "message"),
    [
        ({}, 53, "private service 501 needs Extensions AccountCode"),
        (
            {"AccountCode": "abc"},
            1140,
            f"{REFUSED}: operation invalidAccountCode (DN {A} is established on {{c1}}): the switch does not accept that account code",
        ),
    ],
)
def test_account_code_refusals(extensions: dict[str, str], code: int, message: str) -> None:
    wire, c1 = coded("none", True)
    reference = wire.ask(1, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=501, Extensions=extensions)  # fmt: skip
    assert heard(wire, 1) == [error(reference, code, message.format(c1=c1.conn_id), A)]


def test_account_codes_by_private_service_are_off_by_default() -> None:
    wire, c1 = coded("none", False)
    reference = wire.ask(1, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=501, Extensions={"AccountCode": "4711"})  # fmt: skip
    message = "account codes by private service 501 are off ([options] accode-privateservice)"
    assert heard(wire, 1) == [error(reference, 51, message, A)]
    wire.phone(EnterAccountCode(DeviceId(B), "42"))
    assert heard(wire, 2) == []  # nobody is told of codes (accode-data none)


def test_accode_data_udata_keeps_the_code_in_the_user_data() -> None:
    wire, c1 = coded("udata", False)
    wire.phone(EnterAccountCode(DeviceId(B), "42"))
    c1 = c1.but(user_data={"AccountCode": "42"})
    assert heard(wire, 1) == [c1.data_changed(A, ORIGINATION, B)]
    assert heard(wire, 2) == [c1.data_changed(B, DESTINATION, B)]
    # Attaching the key sets the code on the switch first…
    attached = wire.ask(1, "RequestAttachUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"AccountCode": "55"})  # fmt: skip
    c1 = c1.but(user_data={"AccountCode": "55"})
    assert heard(wire, 1) == [c1.data_changed(A, ORIGINATION, A, ReferenceID=attached)]
    assert heard(wire, 2) == [c1.data_changed(B, DESTINATION, A)]
    assert wire.core.model.call(c1.conn_id).account_code == "55"  # type: ignore[arg-type,union-attr]
    # …and the data changes only if the switch takes it.
    refused = wire.ask(1, "RequestAttachUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"AccountCode": "abc"})  # fmt: skip
    message = (
        "the switch refused RequestAttachUserData: operation invalidAccountCode: "
        "the switch does not accept that account code"
    )
    assert heard(wire, 1) == [error(refused, 1140, message, A)]
    assert heard(wire, 2) == []
    same = wire.ask(1, "RequestUpdateUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"AccountCode": "55"})  # fmt: skip
    assert heard(wire, 1) == [
        {"Event": "EventACK", "ThisDN": A, "ConnID": c1.conn_id, "ReferenceID": same}
    ]


def test_accode_data_udata_with_the_private_service_reports_both() -> None:
    wire, c1 = coded("udata", True)
    reference = wire.ask(1, "RequestPrivateService", ThisDN=A, ConnID=c1.conn_id, PrivateMsgID=501, Extensions={"AccountCode": "4711"})  # fmt: skip
    c1 = c1.but(user_data={"AccountCode": "4711"})
    assert heard(wire, 1) == [
        info(501, A, ConnID=c1.conn_id, Extensions={"AccountCode": "4711"}, ReferenceID=reference),
        c1.data_changed(A, ORIGINATION, A),
    ]
    assert heard(wire, 2) == [c1.data_changed(B, DESTINATION, A)]


def test_accode_data_ext_puts_the_code_on_the_calls_later_events() -> None:
    wire, c1 = coded("ext", False)
    wire.phone(EnterAccountCode(DeviceId(B), "42"))
    assert heard(wire, 1) == heard(wire, 2) == []
    held = wire.ask(1, "RequestHoldCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, 1) == [
        c1.event("EventHeld", A, ORIGINATION, B, Extensions={"AccountCode": "42"}, ReferenceID=held)
    ]
