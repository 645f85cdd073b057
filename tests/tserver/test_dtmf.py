"""RequestSendDTMF (docs/protocol.md, DTMF): GenerateDigits at the switch, EventDTMFSent
to the sender's registrants, and every refusal, with the exact events of every party."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_associated import DigitMode, GenerateDigits
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId
from tests.tserver.seen import Seen, error, heard, names
from tests.wire import Wire

A, B = "7001", "7002"
a, b = 1, 2


def talking(wire: Wire) -> Seen:
    wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    heard(wire, b)
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, a), heard(wire, b)
    return c1


def dtmf_sent(c1: Seen, this_dn: str, **more: object) -> dict[str, object]:
    return {
        "Event": "EventDTMFSent",
        "ThisDN": this_dn,
        "ConnID": c1.conn_id,
        "CallID": c1.call_id,
        "ANI": A,
        "DNIS": B,
        "UserData": {},
        **more,
    }


def test_digits_sent_into_a_call() -> None:
    wire = Wire()
    c1 = talking(wire)
    sent = wire.ask(a, "RequestSendDTMF", ThisDN=A, ConnID=c1.conn_id, DTMFDigits="12*#A")
    assert wire.sent_to_switch[-1] == GenerateDigits(
        connection_to_send_digits=ConnectionID(CallId("1"), DeviceId(A)),
        digit_mode=DigitMode.DTMF,
        characters_to_send="12*#A",
    )
    assert heard(wire, a) == [dtmf_sent(c1, A, ReferenceID=sent)]
    assert heard(wire, b) == []  # the other party hears tones, not events


def test_another_registrant_of_the_sender_hears_it_without_the_reference() -> None:
    wire = Wire()
    c1 = talking(wire)
    watcher = wire.client(A)
    wire.ask(a, "RequestSendDTMF", ThisDN=A, ConnID=c1.conn_id, DTMFDigits="5")
    assert heard(wire, watcher) == [dtmf_sent(c1, A)]


@pytest.mark.parametrize("digits", ["", "12x", "1" * 33, "1 2"])
def test_digits_that_are_not_dtmf_are_refused(digits: str) -> None:
    wire = Wire()
    c1 = talking(wire)
    before = len(wire.sent_to_switch)
    wire.say(a, {"Request": "RequestSendDTMF", "ReferenceID": 9, "ThisDN": A, "ConnID": c1.conn_id, "DTMFDigits": digits})  # fmt: skip
    (refusal,) = heard(wire, a)
    assert (refusal["Event"], refusal["ErrorCode"], refusal["ReferenceID"]) == ("EventError", 53, 9)
    assert len(wire.sent_to_switch) == before


def test_refusals() -> None:
    wire = Wire()
    c1 = talking(wire)
    stranger = wire.client()
    not_registered = wire.ask(stranger, "RequestSendDTMF", ThisDN=A, ConnID=c1.conn_id, DTMFDigits="1")  # fmt: skip
    assert heard(wire, stranger) == [
        error(not_registered, 41, f"this client has not registered DN {A}", A)
    ]
    unknown = wire.ask(a, "RequestSendDTMF", ThisDN=A, ConnID="00000000deadbeef", DTMFDigits="1")  # fmt: skip
    assert heard(wire, a) == [
        error(unknown, 56, f"DN {A} is not on a call with ConnID 00000000deadbeef", A)
    ]


def test_digits_on_a_call_that_is_not_talking_are_refused_by_the_switch() -> None:
    wire = Wire()
    wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert names(heard(wire, b)) == ["EventRinging"]
    refused = wire.ask(b, "RequestSendDTMF", ThisDN=B, ConnID=c1.conn_id, DTMFDigits="1")
    message = (
        "the switch refused RequestSendDTMF: stateIncompatibility invalidConnectionState "
        f"(DN {B} is ringing on {c1.conn_id}): digits can be sent only on a call that is talking"
    )
    assert heard(wire, b) == [error(refused, 1160, message, B)]
    assert heard(wire, a) == []
