"""The pure harness (tests/wire.py) itself: the core and pbxsim's switch, joined in memory
through two CSTA sessions, carry a basic call with the exact events of each party."""

from __future__ import annotations

from tests.wire import Wire


def test_a_basic_call_through_the_two_sessions() -> None:
    wire = Wire()
    a, b = wire.client("7001"), wire.client("7002")
    reference = wire.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002", UserData={"k": "v"})
    (dialing,) = wire.take(a)
    assert (dialing["Event"], dialing["ReferenceID"], dialing["OtherDN"]) == (
        "EventDialing",
        reference,
        "7002",
    )
    (ringing,) = wire.take(b)
    conn_id = ringing["ConnID"]
    assert (ringing["Event"], ringing["ConnID"], ringing["UserData"]) == (
        "EventRinging",
        dialing["ConnID"],
        {"k": "v"},
    )
    wire.ask(b, "RequestAnswerCall", ThisDN="7002", ConnID=conn_id)
    assert [e["Event"] for e in wire.take(a)] == ["EventEstablished"]
    assert [e["Event"] for e in wire.take(b)] == ["EventEstablished"]
    wire.ask(a, "RequestReleaseCall", ThisDN="7001", ConnID=conn_id)
    assert [(e["Event"], e.get("CallState")) for e in wire.take(a)] == [("EventReleased", "Ok")]
    assert [e["Event"] for e in wire.take(b)] == ["EventReleased"]
    assert wire.core.model.calls == []


def test_the_switch_refusing_is_an_event_error_with_its_reason() -> None:
    wire = Wire()
    a = wire.client("7001")
    wire.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    conn_id = wire.take(a)[0]["ConnID"]
    reference = wire.ask(a, "RequestAnswerCall", ThisDN="7001", ConnID=conn_id)
    (error,) = wire.take(a)
    assert (error["Event"], error["ReferenceID"]) == ("EventError", reference)
    assert 1100 <= error["ErrorCode"] < 1200  # a CSTA error, from the switch itself
