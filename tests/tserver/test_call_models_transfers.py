"""Call models §§ 3-9 (call-models.md; docs/protocol.md § 4): two-step, mute and
single-step transfer, consultation user data, two-step and single-step conference,
leaving a conference, alternate, reconnect and redirect, with the exact events each
party's client receives."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_control import TransferCall
from ctiserver.tserver.port import CoreSettings, Options
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import Wire

A, B, C = "7001", "7002", "7003"
a, b, c = 1, 2, 3  # the clients of A, B and C


def talking(wire: Wire, **user_data: str) -> Seen:
    """A called B, B answered: c1.  Every inbox is empty afterwards."""
    for dn in (A, B, C):
        wire.client(dn)
    extra = {"UserData": user_data} if user_data else {}
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, **extra)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1", user_data=user_data)
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, a), heard(wire, b)
    return c1


def consulting(wire: Wire, request: str, **user_data: str) -> tuple[Seen, Seen, int]:
    """B holds c1 and consults C (c2) with *request*; C rings.  B's events are checked."""
    c1 = talking(wire)
    extra = {"UserData": user_data} if user_data else {}
    reference = wire.ask(b, request, ThisDN=B, ConnID=c1.conn_id, OtherDN=C, **extra)
    held, dialing = heard(wire, b)
    c2 = Seen(dialing["ConnID"], "2", call_type="Consult", previous=c1.conn_id)
    c2 = c2.but(user_data=dialing["UserData"])
    link = "TransferConnID" if request == "RequestInitiateTransfer" else "ConferenceConnID"
    assert [held, dialing] == [
        c1.event("EventHeld", B, DESTINATION, A, ReferenceID=reference),
        c2.event("EventDialing", B, ORIGINATION, C, ReferenceID=reference, **{link: c1.conn_id}),
    ]
    assert heard(wire, c) == [c2.event("EventRinging", C, DESTINATION, B, ANI=B, DNIS=C)]
    assert heard(wire, a) == []
    return c1, c2, reference


# --- § 3 two-step transfer ---------------------------------------------------------------


def test_two_step_transfer() -> None:
    wire = Wire()
    c1, c2, _ = consulting(wire, "RequestInitiateTransfer")
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c2.conn_id)
    linked = {"TransferConnID": c1.conn_id}
    assert heard(wire, b) == [c2.event("EventEstablished", B, ORIGINATION, C, **linked)]
    assert heard(wire, c) == [c2.event("EventEstablished", C, DESTINATION, B, ReferenceID=answered)]
    done = wire.ask(b, "RequestCompleteTransfer", ThisDN=B, ConnID=c1.conn_id, TransferConnID=c2.conn_id)  # fmt: skip
    by = {"ThirdPartyDN": B, "ThirdPartyDNRole": "TransferredBy"}
    assert heard(wire, a) == [
        c1.event("EventPartyChanged", A, ORIGINATION, C, state="Transferred", **by)
    ]
    assert heard(wire, b) == [
        c2.event("EventReleased", B, ORIGINATION, C, state="Transferred", ReferenceID=done, **linked, released=LOCAL),
        c1.event("EventReleased", B, DESTINATION, A, state="Transferred", ReferenceID=done, released=LOCAL),
    ]  # fmt: skip
    assert heard(wire, c) == [
        c1.event(
            "EventPartyChanged",
            C,
            DESTINATION,
            A,
            state="Transferred",
            PreviousConnID=c2.conn_id,
            **by,
        )
    ]
    # The held call's ConnID survives, the consultation's ends.
    assert [call.conn_id for call in wire.core.model.calls] == [c1.conn_id]
    wire.ask(c, "RequestReleaseCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventReleased", A, ORIGINATION, C, released=REMOTE)]
    assert wire.core.model.calls == []


def test_a_transfer_completed_before_the_destination_answers() -> None:
    wire = Wire()
    c1, c2, _ = consulting(wire, "RequestInitiateTransfer")
    wire.ask(b, "RequestCompleteTransfer", ThisDN=B, ConnID=c1.conn_id, TransferConnID=c2.conn_id)
    heard(wire, a), heard(wire, b)
    (changed,) = heard(wire, c)  # C keeps ringing, on c1 now
    assert (changed["Event"], changed["ConnID"], changed["PreviousConnID"]) == (
        "EventPartyChanged",
        c1.conn_id,
        c2.conn_id,
    )
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, C)]
    assert heard(wire, c) == [c1.event("EventEstablished", C, DESTINATION, A, ReferenceID=answered)]


def test_mute_transfer_is_initiate_and_complete_at_once() -> None:
    wire = Wire()
    c1 = talking(wire)
    muted = wire.ask(b, "RequestMuteTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    held, dialing, *released = heard(wire, b)
    c2 = Seen(dialing["ConnID"], "2", call_type="Consult", previous=c1.conn_id)
    linked = {"TransferConnID": c1.conn_id}
    by = {"ThirdPartyDN": B, "ThirdPartyDNRole": "TransferredBy"}
    assert [held, dialing, *released] == [
        c1.event("EventHeld", B, DESTINATION, A, ReferenceID=muted),
        c2.event("EventDialing", B, ORIGINATION, C, ReferenceID=muted, **linked),
        c2.event("EventReleased", B, ORIGINATION, C, state="Transferred", ReferenceID=muted, **linked, released=LOCAL),
        c1.event("EventReleased", B, DESTINATION, A, state="Transferred", ReferenceID=muted, released=LOCAL),
    ]  # fmt: skip
    assert heard(wire, a) == [
        c1.event("EventPartyChanged", A, ORIGINATION, C, state="Transferred", **by)
    ]
    assert heard(wire, c) == [
        c2.event("EventRinging", C, DESTINATION, B, ANI=B, DNIS=C),
        c1.event(
            "EventPartyChanged",
            C,
            DESTINATION,
            A,
            state="Transferred",
            PreviousConnID=c2.conn_id,
            **by,
        ),
    ]
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, C)]
    assert heard(wire, c) == [c1.event("EventEstablished", C, DESTINATION, A, ReferenceID=answered)]


def test_a_mute_transfer_the_switch_refuses_is_one_error() -> None:
    wire = Wire()
    c1 = talking(wire)
    refused = wire.ask(b, "RequestMuteTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=B)
    (refusal,) = heard(wire, b)
    assert (refusal["Event"], refusal["ReferenceID"]) == ("EventError", refused)
    assert refusal["ErrorMessage"].startswith("the switch refused RequestMuteTransfer")
    assert heard(wire, a) == heard(wire, c) == []


def test_a_mute_transfer_to_a_busy_dn_ends_with_destination_busy() -> None:
    """The consultation fails: EventDestinationBusy is the request's last answer, and the
    transfer, which waits for the consultation to be offered, is never asked for."""
    wire = Wire()
    c1 = talking(wire)
    d = wire.client("7004")
    wire.ask(c, "RequestMakeCall", ThisDN=C, OtherDN="7004")  # C is busy
    heard(wire, c), heard(wire, d)
    muted = wire.ask(b, "RequestMuteTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    held, dialing, busy = heard(wire, b)
    c3 = Seen(dialing["ConnID"], "3", call_type="Consult", previous=c1.conn_id)
    linked = {"TransferConnID": c1.conn_id}
    assert [held, dialing, busy] == [
        c1.event("EventHeld", B, DESTINATION, A, ReferenceID=muted),
        c3.event("EventDialing", B, ORIGINATION, C, ReferenceID=muted, **linked),
        c3.event("EventDestinationBusy", B, ORIGINATION, C, state="Busy", ReferenceID=muted, **linked),
    ]  # fmt: skip
    assert not any(isinstance(r, TransferCall) for r in wire.sent_to_switch)
    wire.advance(6)
    assert heard(wire, b) == []  # and nothing more: no EventError 57 later
    released = wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c3.conn_id)
    assert [e["ReferenceID"] for e in heard(wire, b)] == [released]


# --- consultation user data (consult-user-data) --------------------------------------------


def consult_with(mode: str) -> tuple[Wire, Seen, Seen]:
    wire = Wire(settings=CoreSettings(name="tserver-a", options=Options(consult_user_data=mode)))
    talking(wire, case="A-17")
    c1 = Seen(wire.core.model.calls[0].conn_id, "1", user_data={"case": "A-17"})
    wire.ask(b, "RequestInitiateTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    dialing = heard(wire, b)[1]
    (ringing,) = heard(wire, c)
    assert ringing["UserData"] == dialing["UserData"]
    c2 = Seen(dialing["ConnID"], "2", "Consult", dialing["UserData"], c1.conn_id)
    wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c2.conn_id)
    heard(wire, b), heard(wire, c)
    return wire, c1, c2


def test_consult_user_data_separate_starts_the_consultation_empty() -> None:
    wire, c1, c2 = consult_with("separate")
    assert c2.user_data == {}
    reference = wire.ask(c, "RequestAttachUserData", ThisDN=C, ConnID=c2.conn_id, UserData={"n": "2"})  # fmt: skip
    c2 = c2.but(user_data={"n": "2"})
    assert heard(wire, c) == [c2.data_changed(C, DESTINATION, C, ReferenceID=reference)]
    assert heard(wire, b) == [c2.data_changed(B, ORIGINATION, C)]
    assert heard(wire, a) == []
    assert wire.core.model.call(c1.conn_id).user_data == {"case": "A-17"}  # type: ignore[union-attr]


def test_consult_user_data_inherited_copies_the_original() -> None:
    wire, c1, c2 = consult_with("inherited")
    assert c2.user_data == {"case": "A-17"}
    reference = wire.ask(c, "RequestAttachUserData", ThisDN=C, ConnID=c2.conn_id, UserData={"n": "2"})  # fmt: skip
    c2 = c2.but(user_data={"case": "A-17", "n": "2"})
    assert heard(wire, c) == [c2.data_changed(C, DESTINATION, C, ReferenceID=reference)]
    assert heard(wire, b) == [c2.data_changed(B, ORIGINATION, C)]
    assert heard(wire, a) == []  # a copy: the original call's data is its own
    assert wire.core.model.call(c1.conn_id).user_data == {"case": "A-17"}  # type: ignore[union-attr]


def test_consult_user_data_joint_is_one_set_announced_on_both_calls() -> None:
    wire, c1, c2 = consult_with("joint")
    assert c2.user_data == {"case": "A-17"}
    reference = wire.ask(c, "RequestAttachUserData", ThisDN=C, ConnID=c2.conn_id, UserData={"n": "2"})  # fmt: skip
    both = {"case": "A-17", "n": "2"}
    c1, c2 = c1.but(user_data=both), c2.but(user_data=both)
    assert heard(wire, c) == [c2.data_changed(C, DESTINATION, C, ReferenceID=reference)]
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, C)]
    assert heard(wire, b) == [
        c2.data_changed(B, ORIGINATION, C),
        c1.data_changed(B, DESTINATION, C),
    ]
    # …and a change on the original is seen on the consultation.
    reference = wire.ask(a, "RequestDeletePair", ThisDN=A, ConnID=c1.conn_id, Key="case")
    c1, c2 = c1.but(user_data={"n": "2"}), c2.but(user_data={"n": "2"})
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, A, ReferenceID=reference)]
    assert heard(wire, c) == [c2.data_changed(C, DESTINATION, A)]
    # The transfer ends the consultation; the data stays with c1.
    wire.ask(b, "RequestCompleteTransfer", ThisDN=B, ConnID=c1.conn_id, TransferConnID=c2.conn_id)
    assert wire.core.model.call(c1.conn_id).user_data == {"n": "2"}  # type: ignore[union-attr]
    assert wire.core.model.call(c1.conn_id).shares_data_with == frozenset()  # type: ignore[union-attr]


def test_consult_user_data_joint_announces_the_initiate_transfers_user_data() -> None:
    wire = Wire(settings=CoreSettings(name="tserver-a", options=Options(consult_user_data="joint")))
    c1 = talking(wire, case="A-17")
    wire.ask(b, "RequestInitiateTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C, UserData={"n": "2"})  # fmt: skip
    both = {"case": "A-17", "n": "2"}
    assert heard(wire, a) == [c1.but(user_data=both).data_changed(A, ORIGINATION, B)]


# --- § 4 single-step transfer ------------------------------------------------------------


def test_single_step_transfer() -> None:
    wire = Wire()
    c1 = talking(wire)
    moved = wire.ask(b, "RequestSingleStepTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C, UserData={"x": "1"})  # fmt: skip
    c1 = c1.but(user_data={"x": "1"})  # attached first: every event of the transfer has it
    by = {"ThirdPartyDN": B, "ThirdPartyDNRole": "TransferredBy"}
    assert heard(wire, a) == [
        c1.event("EventPartyChanged", A, ORIGINATION, C, state="Transferred", **by)
    ]
    assert heard(wire, b) == [
        c1.event(
            "EventReleased",
            B,
            DESTINATION,
            A,
            state="Transferred",
            ReferenceID=moved,
            released=LOCAL,
        )
    ]
    assert heard(wire, c) == [c1.event("EventRinging", C, DESTINATION, A, ANI=A, DNIS=B, **by)]
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, C)]
    assert heard(wire, c) == [c1.event("EventEstablished", C, DESTINATION, A, ReferenceID=answered)]


# --- § 5 two-step conference -------------------------------------------------------------


def conference(wire: Wire) -> Seen:
    """A, B and C in conference on c1 (B added C); every inbox empty."""
    c1, c2, _ = consulting(wire, "RequestInitiateConference")
    wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c2.conn_id)
    heard(wire, b), heard(wire, c)
    wire.ask(b, "RequestCompleteConference", ThisDN=B, ConnID=c1.conn_id, ConferenceConnID=c2.conn_id)  # fmt: skip
    for client in (a, b, c):
        heard(wire, client)
    return c1


def test_two_step_conference() -> None:
    wire = Wire()
    c1, c2, _ = consulting(wire, "RequestInitiateConference")
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c2.conn_id)
    linked = {"ConferenceConnID": c1.conn_id}
    assert heard(wire, b) == [c2.event("EventEstablished", B, ORIGINATION, C, **linked)]
    assert heard(wire, c) == [c2.event("EventEstablished", C, DESTINATION, B, ReferenceID=answered)]
    done = wire.ask(b, "RequestCompleteConference", ThisDN=B, ConnID=c1.conn_id, ConferenceConnID=c2.conn_id)  # fmt: skip
    added = {
        "state": "Conferenced",
        "other_role": "NewParty",
        "ThirdPartyDN": B,
        "ThirdPartyDNRole": "AddedBy",
    }
    assert heard(wire, a) == [c1.event("EventPartyAdded", A, ORIGINATION, C, **added)]
    assert heard(wire, b) == [
        c2.event("EventReleased", B, ORIGINATION, C, state="Conferenced", ReferenceID=done, **linked, released=LOCAL),
        c1.event("EventRetrieved", B, DESTINATION, A, ReferenceID=done),
        c1.event("EventPartyAdded", B, DESTINATION, C, ReferenceID=done, **added),
    ]  # fmt: skip
    assert heard(wire, c) == [
        c1.event(
            "EventPartyChanged",
            C,
            DESTINATION,
            B,  # its far end in the consultation, as it was
            state="Conferenced",
            PreviousConnID=c2.conn_id,
            ThirdPartyDN=B,
            ThirdPartyDNRole="ConferencedBy",
        )
    ]
    assert [p.dn for p in wire.core.model.present(c1.conn_id)] == [A, B, C]


# --- § 6 single-step conference ----------------------------------------------------------


def test_single_step_conference() -> None:
    wire = Wire()
    c1 = talking(wire)
    acked = wire.ask(b, "RequestSingleStepConference", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    assert heard(wire, b) == [{"Event": "EventACK", "ThisDN": B, "ReferenceID": acked}]
    by = {"ThirdPartyDN": B, "ThirdPartyDNRole": "AddedBy"}
    assert heard(wire, c) == [c1.event("EventRinging", C, DESTINATION, B, ANI=A, DNIS=B, **by)]
    assert heard(wire, a) == []
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c1.conn_id)
    added = {"state": "Conferenced", "other_role": "NewParty", **by}
    assert heard(wire, a) == [c1.event("EventPartyAdded", A, ORIGINATION, C, **added)]
    assert heard(wire, b) == [c1.event("EventPartyAdded", B, DESTINATION, C, **added)]
    assert heard(wire, c) == [
        c1.event("EventEstablished", C, DESTINATION, B, state="Conferenced", ReferenceID=answered)
    ]


def test_single_step_conference_attaches_the_user_data_given() -> None:
    wire = Wire()
    c1 = talking(wire)
    wire.ask(b, "RequestSingleStepConference", ThisDN=B, ConnID=c1.conn_id, OtherDN=C, UserData={"n": "1"})  # fmt: skip
    heard(wire, b)
    assert heard(wire, c)[0]["UserData"] == {"n": "1"}


# --- § 7 leaving a conference ------------------------------------------------------------


def party_deleted(c1: Seen, dn: str, role: str, gone: str, by: str, **more: object) -> dict:  # type: ignore[type-arg]
    return c1.event(
        "EventPartyDeleted",
        dn,
        role,
        gone,
        other_role="DeletedParty",
        ThirdPartyDN=by,
        ThirdPartyDNRole="DeletedBy",
        **more,
    )


def test_a_party_leaving_a_conference_of_three() -> None:
    wire = Wire()
    c1 = conference(wire)
    released = wire.ask(b, "RequestReleaseCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, b) == [
        c1.event("EventReleased", B, DESTINATION, A, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, a) == [party_deleted(c1, A, ORIGINATION, B, B)]
    assert heard(wire, c) == [party_deleted(c1, C, DESTINATION, B, B)]


def test_delete_from_conference() -> None:
    wire = Wire()
    c1 = conference(wire)
    reference = wire.ask(a, "RequestDeleteFromConference", ThisDN=A, ConnID=c1.conn_id, OtherDN=B)
    assert heard(wire, a) == [party_deleted(c1, A, ORIGINATION, B, A, ReferenceID=reference)]
    assert heard(wire, b) == [c1.event("EventReleased", B, DESTINATION, A, released=REMOTE)]
    assert heard(wire, c) == [party_deleted(c1, C, DESTINATION, B, A)]


def test_a_conference_of_four_stays_conferenced_when_one_leaves() -> None:
    wire = Wire()
    c1 = conference(wire)
    d = wire.client("7004")
    wire.ask(a, "RequestSingleStepConference", ThisDN=A, ConnID=c1.conn_id, OtherDN="7004")
    wire.ask(d, "RequestAnswerCall", ThisDN="7004", ConnID=c1.conn_id)
    for client in (a, b, c, d):
        heard(wire, client)
    wire.ask(c, "RequestReleaseCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [party_deleted(c1, A, ORIGINATION, C, C, state="Conferenced")]
    assert heard(wire, d) == [party_deleted(c1, "7004", DESTINATION, C, C, state="Conferenced")]


@pytest.mark.parametrize(
    ("other_dn", "code", "message"),
    [
        (A, 1141, "DN 7001 cannot delete itself from call {c1}; use RequestReleaseCall"),
        ("7004", 56, "DN 7004 is not on a call with ConnID {c1}"),
    ],
)
def test_delete_from_conference_refusals(other_dn: str, code: int, message: str) -> None:
    wire = Wire()
    c1 = conference(wire)
    reference = wire.ask(a, "RequestDeleteFromConference", ThisDN=A, ConnID=c1.conn_id, OtherDN=other_dn)  # fmt: skip
    assert heard(wire, a) == [error(reference, code, message.format(c1=c1.conn_id), A)]


def test_delete_from_a_call_of_two_is_refused() -> None:
    wire = Wire()
    c1 = talking(wire)
    reference = wire.ask(a, "RequestDeleteFromConference", ThisDN=A, ConnID=c1.conn_id, OtherDN=B)
    message = f"call {c1.conn_id} has 2 parties, not a conference"
    assert heard(wire, a) == [error(reference, 1141, message, A)]


# --- § 8 alternate and reconnect ---------------------------------------------------------


def two_calls(wire: Wire) -> tuple[Seen, Seen]:
    """B holds c1 with A and talks on c2 with C."""
    c1, c2, _ = consulting(wire, "RequestInitiateTransfer")
    wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c2.conn_id)
    heard(wire, b), heard(wire, c)
    return c1, c2


def test_alternate_call() -> None:
    wire = Wire()
    c1, c2 = two_calls(wire)
    linked = {"TransferConnID": c1.conn_id}
    reference = wire.ask(b, "RequestAlternateCall", ThisDN=B, ConnID=c1.conn_id, TransferConnID=c2.conn_id)  # fmt: skip
    assert heard(wire, b) == [
        c2.event("EventHeld", B, ORIGINATION, C, ReferenceID=reference, **linked),
        c1.event("EventRetrieved", B, DESTINATION, A, ReferenceID=reference),
    ]
    assert heard(wire, a) == heard(wire, c) == []


def test_reconnect_call() -> None:
    wire = Wire()
    c1, c2 = two_calls(wire)
    linked = {"TransferConnID": c1.conn_id}
    reference = wire.ask(b, "RequestReconnectCall", ThisDN=B, ConnID=c1.conn_id, TransferConnID=c2.conn_id)  # fmt: skip
    assert heard(wire, b) == [
        c2.event(
            "EventReleased", B, ORIGINATION, C, ReferenceID=reference, **linked, released=LOCAL
        ),
        c1.event("EventRetrieved", B, DESTINATION, A, ReferenceID=reference),
    ]
    assert heard(wire, c) == [c2.event("EventReleased", C, DESTINATION, B, released=REMOTE)]
    assert heard(wire, a) == []
    assert [call.conn_id for call in wire.core.model.calls] == [c1.conn_id]


def test_alternate_naming_a_call_of_another_dn_is_56() -> None:
    wire = Wire()
    c1, c2 = two_calls(wire)
    reference = wire.ask(a, "RequestAlternateCall", ThisDN=A, ConnID=c1.conn_id, TransferConnID=c2.conn_id)  # fmt: skip
    message = f"DN {A} is not on a call with ConnID {c2.conn_id}"
    assert heard(wire, a) == [error(reference, 56, message, A)]


# --- § 9 redirect ------------------------------------------------------------------------


def test_redirect_call() -> None:
    wire = Wire()
    for dn in (A, B, C):
        wire.client(dn)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    heard(wire, b)
    reference = wire.ask(b, "RequestRedirectCall", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    assert heard(wire, b) == [
        c1.event(
            "EventReleased",
            B,
            DESTINATION,
            A,
            state="Redirected",
            ReferenceID=reference,
            released=LOCAL,
        )
    ]
    assert heard(wire, c) == [
        c1.event("EventRinging", C, DESTINATION, A, ANI=A, DNIS=B, ThirdPartyDN=B)
    ]
    assert heard(wire, a) == []
    answered = wire.ask(c, "RequestAnswerCall", ThisDN=C, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, C)]
    assert heard(wire, c) == [c1.event("EventEstablished", C, DESTINATION, A, ReferenceID=answered)]
