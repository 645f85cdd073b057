"""Call models §§ 1-2 (call-models.md; docs/protocol.md § 4): the basic call, busy,
abandoned, an unknown number, calls made on the phone, hold and retrieve, with the exact
events each party's client receives."""

from __future__ import annotations

from ctiserver.ids import DeviceId
from ctiserver.pbxsim.phone import Answer, Dial, HangUp, Hold, Retrieve
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import Wire

A, B, C = "7001", "7002", "7003"


def ringing(wire: Wire, **user_data: str) -> tuple[Seen, int]:
    """A calls B (both registered by clients 1 and 2); B rings.  Returns the call and the
    ReferenceID of the MakeCall."""
    a, b = wire.client(A), wire.client(B)
    extra = {"UserData": user_data} if user_data else {}
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B, **extra)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1", user_data=user_data)
    assert dialing == c1.event("EventDialing", A, ORIGINATION, B, ReferenceID=reference)
    assert heard(wire, b) == [c1.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=B)]
    return c1, reference


def test_basic_call() -> None:
    wire = Wire()
    c1, _ = ringing(wire)
    a, b = 1, 2
    answered = wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, B)]
    assert heard(wire, b) == [c1.event("EventEstablished", B, DESTINATION, A, ReferenceID=answered)]
    released = wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, a) == [
        c1.event("EventReleased", A, ORIGINATION, B, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, b) == [c1.event("EventReleased", B, DESTINATION, A, released=REMOTE)]
    assert wire.core.model.calls == []


def test_only_the_requesters_copy_carries_the_reference_id() -> None:
    wire = Wire()
    mine, watcher, b = wire.client(A), wire.client(A), wire.client(B)
    made = wire.ask(mine, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = wire.take(mine)
    (seen,) = wire.take(watcher)
    assert dialing["ReferenceID"] == made
    assert seen == {key: value for key, value in dialing.items() if key != "ReferenceID"}
    assert wire.take(b)[0]["EventSequenceNumber"] == dialing["EventSequenceNumber"] + 1


def test_user_data_given_to_make_call_travels_with_the_call() -> None:
    wire = Wire()
    c1, _ = ringing(wire, case="A-17")  # on EventDialing and EventRinging (checked there)
    wire.ask(2, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, 1) == [c1.event("EventEstablished", A, ORIGINATION, B)]
    assert heard(wire, 2)[0]["UserData"] == {"case": "A-17"}


def test_destination_busy_then_release() -> None:
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    wire.ask(b, "RequestMakeCall", ThisDN=B, OtherDN=C)  # B is busy dialling C
    heard(wire, b)
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    dialing, busy = heard(wire, a)
    c2 = Seen(dialing["ConnID"], "2")
    assert [dialing, busy] == [
        c2.event("EventDialing", A, ORIGINATION, B, ReferenceID=reference),
        c2.event("EventDestinationBusy", A, ORIGINATION, B, state="Busy", ReferenceID=reference),
    ]
    assert heard(wire, b) == []  # B is not offered the call
    released = wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c2.conn_id)
    assert heard(wire, a) == [
        c2.event("EventReleased", A, ORIGINATION, B, ReferenceID=released, released=LOCAL)
    ]
    assert c2.conn_id not in [call.conn_id for call in wire.core.model.calls]


def test_caller_hanging_up_while_it_rings_abandons_the_call_there() -> None:
    wire = Wire()
    c1, _ = ringing(wire)
    released = wire.ask(1, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, 1) == [
        c1.event("EventReleased", A, ORIGINATION, B, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, 2) == [c1.event("EventAbandoned", B, DESTINATION, A, released=REMOTE)]
    assert wire.core.model.calls == []


def test_the_called_party_rejecting_a_ringing_call_is_released_not_abandoned() -> None:
    wire = Wire()
    c1, _ = ringing(wire)
    released = wire.ask(2, "RequestReleaseCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, 2) == [
        c1.event("EventReleased", B, DESTINATION, A, ReferenceID=released, released=LOCAL)
    ]
    assert heard(wire, 1) == [c1.event("EventReleased", A, ORIGINATION, B, released=REMOTE)]


def test_an_unknown_number_is_destination_busy_sit_invalidnum() -> None:
    wire = Wire()
    a = wire.client(A)
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN="1234")
    dialing, busy = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1", call_type="Outbound")  # not one of our DNs
    assert [dialing, busy] == [
        c1.event("EventDialing", A, ORIGINATION, "1234", ReferenceID=reference),
        c1.event(
            "EventDestinationBusy",
            A,
            ORIGINATION,
            "1234",
            state="SitInvalidnum",
            ReferenceID=reference,
        ),
    ]
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert [e["Event"] for e in heard(wire, a)] == ["EventReleased"]
    assert wire.core.model.calls == []


def test_a_call_to_oneself_is_refused_by_the_switch() -> None:
    wire = Wire()
    a = wire.client(A)
    reference = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=A)
    assert heard(wire, a) == [
        error(
            reference,
            1140,
            "the switch refused RequestMakeCall: operation notDifferentDevices",
            A,
        )
    ]
    assert wire.core.model.calls == []


def test_clear_call_releases_every_party() -> None:
    wire = Wire()
    c1, _ = ringing(wire)
    wire.ask(2, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, 1), heard(wire, 2)
    cleared = wire.ask(1, "RequestClearCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, 1) == [
        c1.event("EventReleased", A, ORIGINATION, B, ReferenceID=cleared, released=LOCAL)
    ]
    assert heard(wire, 2) == [c1.event("EventReleased", B, DESTINATION, A, released=REMOTE)]
    assert wire.core.model.calls == []


def test_a_call_made_and_answered_on_the_phones() -> None:
    wire = Wire()
    a, c = wire.client(A), wire.client(C)
    wire.phone(Dial(DeviceId(C), DeviceId(A)))
    (ringing_,) = heard(wire, a)
    c1 = Seen(ringing_["ConnID"], "1")
    assert ringing_ == c1.event("EventRinging", A, DESTINATION, C, ANI=C, DNIS=A)
    assert heard(wire, c) == [c1.event("EventDialing", C, ORIGINATION, A)]
    wire.phone(Answer(DeviceId(A)))
    assert heard(wire, a) == [c1.event("EventEstablished", A, DESTINATION, C)]
    assert heard(wire, c) == [c1.event("EventEstablished", C, ORIGINATION, A)]
    wire.phone(Hold(DeviceId(A)))
    wire.phone(Retrieve(DeviceId(A)))
    assert heard(wire, a) == [
        c1.event("EventHeld", A, DESTINATION, C),
        c1.event("EventRetrieved", A, DESTINATION, C),
    ]
    wire.phone(HangUp(DeviceId(C)))
    assert heard(wire, c) == [c1.event("EventReleased", C, ORIGINATION, A, released=LOCAL)]
    assert heard(wire, a) == [c1.event("EventReleased", A, DESTINATION, C, released=REMOTE)]


# --- § 2 hold and retrieve ---------------------------------------------------------------


def talking(wire: Wire) -> Seen:
    c1, _ = ringing(wire)
    wire.ask(2, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, 1), heard(wire, 2)
    return c1


def test_hold_and_retrieve_are_heard_by_the_holder_alone() -> None:
    wire = Wire()
    c1 = talking(wire)
    held = wire.ask(2, "RequestHoldCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, 2) == [c1.event("EventHeld", B, DESTINATION, A, ReferenceID=held)]
    retrieved = wire.ask(2, "RequestRetrieveCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, 2) == [c1.event("EventRetrieved", B, DESTINATION, A, ReferenceID=retrieved)]
    assert heard(wire, 1) == []  # the held party hears nothing


def test_holding_or_retrieving_in_the_wrong_state_is_the_switchs_refusal() -> None:
    wire = Wire()
    c1 = talking(wire)
    not_held = wire.ask(2, "RequestRetrieveCall", ThisDN=B, ConnID=c1.conn_id)
    wire.ask(2, "RequestHoldCall", ThisDN=B, ConnID=c1.conn_id)
    held_twice = wire.ask(2, "RequestHoldCall", ThisDN=B, ConnID=c1.conn_id)
    answered = wire.ask(2, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    refusals = [e for e in heard(wire, 2) if e["Event"] == "EventError"]
    at = c1.conn_id
    assert refusals == [
        error(
            not_held,
            1164,
            "the switch refused RequestRetrieveCall: stateIncompatibility noHeldCall "
            f"(DN {B} is established on {at})",
            B,
        ),
        error(
            held_twice,
            1163,
            "the switch refused RequestHoldCall: stateIncompatibility noActiveCall "
            f"(DN {B} is held on {at})",
            B,
        ),
        error(
            answered,
            1167,
            "the switch refused RequestAnswerCall: stateIncompatibility noCallToAnswer "
            f"(DN {B} is held on {at})",
            B,
        ),
    ]
    assert heard(wire, 1) == []
