"""RequestDistributeUserEvent (docs/protocol.md, User events): EventACK to the sender,
EventUserEvent to every registrant of ThisDN, and the refusals."""

from __future__ import annotations

from tests.tserver.seen import error, heard
from tests.wire import Wire

A, B = "7001", "7002"


def test_a_user_event_reaches_every_registrant_of_the_dn() -> None:
    wire = Wire()
    sender, desk, watcher, other = wire.client(), wire.client(A), wire.client(A), wire.client(B)
    reference = wire.ask(sender, "RequestDistributeUserEvent", ThisDN=A, UserData={"note": "x", "n": 2}, OtherDN=B, Extensions={"k": "v"})  # fmt: skip
    assert heard(wire, sender) == [{"Event": "EventACK", "ThisDN": A, "ReferenceID": reference}]
    expected = {
        "Event": "EventUserEvent",
        "ThisDN": A,
        "UserData": {"note": "x", "n": 2},
        "OtherDN": B,
        "Extensions": {"k": "v"},
    }
    assert heard(wire, desk) == heard(wire, watcher) == [expected]
    assert heard(wire, other) == []
    assert wire.sent_to_switch == []


def test_the_sender_registered_on_the_dn_hears_it_too() -> None:
    wire = Wire()
    desk = wire.client(A)
    wire.ask(desk, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, desk)
    reference = wire.ask(desk, "RequestDistributeUserEvent", ThisDN=A, UserData={}, ConnID=dialing["ConnID"])  # fmt: skip
    assert heard(wire, desk) == [
        {"Event": "EventACK", "ThisDN": A, "ReferenceID": reference},
        {"Event": "EventUserEvent", "ThisDN": A, "UserData": {}, "ConnID": dialing["ConnID"]},
    ]


def test_refusals() -> None:
    wire = Wire()
    sender = wire.client()
    unknown_dn = wire.ask(sender, "RequestDistributeUserEvent", ThisDN="9999", UserData={})
    no_call = wire.ask(sender, "RequestDistributeUserEvent", ThisDN=A, UserData={}, ConnID="00000000deadbeef")  # fmt: skip
    assert heard(wire, sender) == [
        error(unknown_dn, 59, "DN 9999 is not configured on this server", "9999"),
        error(no_call, 56, "the server knows no call with ConnID 00000000deadbeef", A),
    ]
    wire.say(sender, {"Request": "RequestDistributeUserEvent", "ReferenceID": 7, "ThisDN": A})
    (missing,) = heard(wire, sender)
    assert missing["ErrorCode"] == 53
    assert missing["ErrorMessage"] == "RequestDistributeUserEvent lacks UserData"
