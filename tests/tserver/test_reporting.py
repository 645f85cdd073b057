"""Reporting attributes (docs/protocol.md § 5): the CallUUID of every call event, who
released the call (Extensions ReleasingParty), and the network facts of a call that
crossed a trunk (NetworkCallID, ThisTrunk and OtherTrunk, EventNetworkReached), as
every party's client receives them."""

from __future__ import annotations

import uuid

from ctiserver.ids import ClientId
from ctiserver.tserver.events import call_uuid
from tests.sites import SITE_A, SITE_B, Sites
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, heard
from tests.wire import Wire

A, B, C = "7001", "7002", "7003"


def events_with_uuid(wire: Wire, client: ClientId) -> list[dict[str, object]]:
    return [dict(e) for e in wire.take(client)]


def test_every_call_event_carries_the_calls_uuid() -> None:
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=C)  # A is busy: a second call fails
    seen = events_with_uuid(wire, a) + events_with_uuid(wire, b)
    calls = [e for e in seen if "ConnID" in e and e["Event"] != "EventError"]
    assert calls
    by_conn = {e["ConnID"]: e["CallUUID"] for e in calls}
    for event in calls:
        assert event["CallUUID"] == by_conn[event["ConnID"]]  # one per call, at every party
    for conn_id, value in by_conn.items():
        assert value == call_uuid("tserver-a", str(conn_id))
        assert len(str(value)) == 32
        assert uuid.UUID(str(value)).version == 5
    # Another server's name gives another UUID to the same ConnID.
    assert call_uuid("tserver-b", str(next(iter(by_conn)))) not in by_conn.values()


def test_who_released_a_call_cleared_whole() -> None:
    """RequestClearCall by the called party: the switch clears the caller first, yet the
    caller hears it was the other party, and B that it was itself."""
    wire = Wire()
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, a), heard(wire, b)
    cleared = wire.ask(b, "RequestClearCall", ThisDN=B, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventReleased", A, ORIGINATION, B, released=REMOTE)]
    assert heard(wire, b) == [
        c1.event("EventReleased", B, DESTINATION, A, ReferenceID=cleared, released=LOCAL)
    ]


def test_a_call_that_fails_is_released_by_its_caller() -> None:
    wire = Wire()
    a = wire.client(A)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN="7999")  # nobody's number
    dialing, busy = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert busy["Event"] == "EventDestinationBusy"
    released = wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    (event,) = heard(wire, a)
    assert (event["ReferenceID"], event["Extensions"]) == (released, {"ReleasingParty": LOCAL})


def test_a_call_in_from_another_site_at_a_queue_names_its_trunk() -> None:
    sites = Sites(SITE_A, SITE_B)
    a = sites["SiteA"].client(A)
    q = sites["SiteB"].client("8101")
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN="98101")
    dialing, reached = heard(sites["SiteA"], a)
    assert reached["Event"] == "EventNetworkReached"
    assert (reached["OtherDN"], reached["OtherTrunk"]) == ("98101", "SiteASiteB")
    (queued,) = heard(sites["SiteB"], q)
    assert (queued["Event"], queued["ThisDN"], queued["ThisTrunk"]) == (
        "EventQueued",
        "8101",
        "SiteA",
    )
    assert queued["NetworkCallID"] == reached["NetworkCallID"] == "SiteA-1"
    assert "NetworkCallID" not in dialing  # not known before the call left
