"""tserver.view: what the operator's surfaces read of the core (CoreView), on a live
scene carried by the pure harness."""

from __future__ import annotations

from ctiserver.tserver.view import CallAtDn, CoreView, DnView, KnownCall
from tests.wire import POINT, QUEUE, Wire


def test_the_view_of_dns_and_calls() -> None:
    wire = Wire()
    client = wire.client("7001", "7002")
    wire.client("7001")
    view = CoreView(wire.core)
    assert (view.server_name, view.call_count(), view.calls()) == ("tserver-a", 0, [])
    wire.ask(client, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    conn_id = wire.take(client)[0]["ConnID"]
    dns = {dn.dn: dn for dn in view.dns()}
    assert list(dns)[:3] == ["7001", "7002", "7003"]  # configuration order
    assert dns["7001"] == DnView(
        "7001", "DN", "Dialing", 2, (CallAtDn(conn_id, "dialing", "7002"),)
    )
    assert dns["7002"] == DnView(
        "7002", "DN", "Ringing", 1, (CallAtDn(conn_id, "ringing", "7001"),)
    )
    assert dns["7003"] == DnView("7003", "DN", "Idle", 0, ())
    assert (dns[QUEUE].kind, dns[POINT].kind, dns[QUEUE].status) == (
        "Queue",
        "RouteDN",
        "Available",
    )
    ringing = KnownCall(conn_id, "1", "ringing", ("7001", "7002"))
    assert view.calls() == view.calls("1") == [ringing]
    assert view.calls("99") == []
    assert view.call_count() == 1
    wire.ask(client, "RequestAnswerCall", ThisDN="7002", ConnID=conn_id)
    wire.ask(client, "RequestHoldCall", ThisDN="7002", ConnID=conn_id)
    assert view.calls() == [KnownCall(conn_id, "1", "held", ("7001", "7002"))]
    wire.ask(client, "RequestReleaseCall", ThisDN="7001", ConnID=conn_id)
    assert view.calls() == []
