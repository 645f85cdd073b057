"""Call monitoring in the pure core (tserver.call_monitoring): the subscription is the
session's, so the new primary of a pair has it back and goes on telling; a session
that closes takes it away; the core asks nothing of the switch for it."""

from __future__ import annotations

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, ConnId
from ctiserver.tserver.call_monitoring import subscription
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import Deliver
from tests.tserver.seen import heard
from tests.wire import Wire

A, B = "7001", "7002"


def talking(wire: Wire) -> ConnId:
    a, b = wire.client(A), wire.client(B)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = [e for e in wire.take(a) if e["Event"] == "EventDialing"]
    conn_id = ConnId(dialing["ConnID"])
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=conn_id)
    return conn_id


def monitoring(wire: Wire, conn_id: ConnId) -> ClientId:
    m = wire.client()
    sent = len(wire.sent_to_switch)
    reference = wire.ask(m, "RequestStartCallMonitoring", ConnID=conn_id)
    events = heard(wire, m)
    assert [(e["Event"], e.get("DN")) for e in events] == [
        ("EventCallCreated", None),
        ("EventCallPartyAdded", A),
        ("EventCallPartyAdded", B),
    ]
    assert all(e["ReferenceID"] == reference for e in events)
    assert len(wire.sent_to_switch) == sent  # nothing asked of the switch
    return m


def test_the_new_primary_of_a_pair_goes_on_telling_the_monitoring_client() -> None:
    wire = Wire()
    wire.core.journaling = True
    conn_id = talking(wire)
    monitoring(wire, conn_id)
    backup = TServerCore(
        settings=wire.core.settings, dns=wire.core.model.dns, started=Instant(5.0, wire.wall)
    )
    backup.serve_as_backup()
    snapshot = wire.core.journal_snapshot()
    backup.load_snapshot(snapshot.changes, snapshot.sessions, snapshot.sequence)
    backup.link_up(Instant(6.0, wire.wall + 1))
    backup.take_over(Instant(7.0, wire.wall + 2))
    (stand_in,) = backup.registry.clients_of(subscription(conn_id))  # the detached client
    assert set(backup.call_monitor.views) == {conn_id}

    backup.attach(conn_id, {"case": "P-1"}, Instant(8.0, wire.wall + 3))
    told = [o for o in backup.tick(Instant(8.0, wire.wall + 3)) if isinstance(o, Deliver)]
    assert [(o.event["Event"], o.event["UserData"], o.clients) for o in told] == [
        ("EventCallDataChanged", {"case": "P-1"}, (stand_in,))
    ]


def test_a_session_that_closes_takes_its_monitoring_away() -> None:
    wire = Wire()
    conn_id = talking(wire)
    m = monitoring(wire, conn_id)
    wire.perform(wire.core.client_disconnected(m, wire.now()))
    wire.advance(wire.core.settings.sessions.window + 1)
    assert wire.core.registry.clients_of(subscription(conn_id)) == []
    b = wire.client()
    reference = wire.ask(b, "RequestStartCallMonitoring", ConnID=conn_id)
    assert heard(wire, b)[0]["ReferenceID"] == reference  # the call is there to watch
