"""docs/iscc.md, Reserving the agent: what a destination does with a ReserveAgent, from a
well-behaved origin and from a broken one, with time as a value.  Two sites in memory
(tests/sites.py); the sockets' scenarios are in tests/integration."""

from __future__ import annotations

from ctiserver.ids import ConnIdAllocator
from ctiserver.iscc import protocol as p
from ctiserver.model.changes import AgentReservation
from ctiserver.model.model import Model
from tests.sites import SITE_A, SITE_B, Sites
from tests.tserver.seen import heard

A, B = "7001", "7101"
a, b = 1, 1  # the clients of A at SiteA and of B at SiteB
REQUEST = "RequestReserveAgentAndGetAccessNumber"


def agent_at_b() -> Sites:
    sites = Sites(SITE_A, SITE_B)
    sites["SiteA"].client(A), sites["SiteB"].client(B)
    login = {"ThisDN": B, "AgentID": "2001", "ThisQueue": "8101", "AgentWorkMode": "AutoIn"}
    sites.ask("SiteB", b, "RequestAgentLogin", **login)
    heard(sites["SiteB"], b)
    return sites


def from_peer(sites: Sites, message: p.PeerMessage) -> list[p.PeerMessage]:
    """*message* from SiteA reaches SiteB directly; what SiteB answers SiteA."""
    wire = sites["SiteB"]
    answers = []
    outputs = list(wire.core.peer_message("SiteA", message, wire.now()))
    for output in outputs:
        if getattr(output, "location", None) == "SiteA":
            answers.append(output.message)  # type: ignore[attr-defined]
    wire.perform(outputs)
    return answers


def held(sites: Sites) -> list[str]:
    return [r.holder for r in sites["SiteB"].core.model.reservations.values()]  # type: ignore[attr-defined]


def test_the_reservation_is_a_journalled_record_and_lapses_with_the_resource() -> None:
    sites = agent_at_b()
    sites["SiteB"].core.journaling = True  # as the primary of a pair: every record is journalled
    sites.ask("SiteA", a, REQUEST, ThisDN=A, Location="SiteB", OtherDN=B, XRouteType="Route")
    (answer,) = heard(sites["SiteA"], a)
    assert (answer["Event"], answer["AccessNumber"]) == ("EventAnswerAccessNumber", "95100")
    (record,) = [c for c in sites["SiteB"].journal if isinstance(c, AgentReservation)]
    assert record.reserved
    assert record.reservation.agent_id == "2001"
    replica = Model(dns=sites["SiteB"].core.model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay([c for c in sites["SiteB"].journal if isinstance(c, AgentReservation)])
    assert list(replica.reservations.values()) == [record.reservation]  # what a backup holds
    sites.advance(2.9)
    assert len(held(sites)) == 1
    sites.advance(0.2)  # past the resource's 3 s
    assert held(sites) == []
    assert sites["SiteB"].core.iscc.table.reservations == {}  # type: ignore[union-attr]
    (ended,) = [c for c in sites["SiteB"].journal if isinstance(c, AgentReservation)][1:]
    assert not ended.reserved
    assert heard(sites["SiteA"], a) == []  # the client has its number: a lapse is no event


def test_a_reserve_agent_that_names_no_agent_is_refused() -> None:
    sites = agent_at_b()
    answers = from_peer(sites, p.ReserveAgent(xid="SiteA:90", xroute="route", dn=""))
    assert answers == [
        p.Refused(xid="SiteA:90", code=1021, message="the request names no DN and no agent")
    ]
    assert held(sites) == []


def test_a_peer_that_asks_twice_under_one_xid_does_not_hold_the_agent_twice() -> None:
    sites = agent_at_b()
    wanted = p.ReserveAgent(xid="SiteA:91", xroute="route", dn=B)
    (first,) = from_peer(sites, wanted)
    assert isinstance(first, p.Reserved)
    (second,) = from_peer(sites, wanted)
    assert second == p.Refused(
        xid="SiteA:91", code=1700, message="DN 7101, agent 2001 is reserved already"
    )
    assert held(sites) == ["iscc:SiteA:SiteA:91"]
    from_peer(sites, p.Cancel(xid="SiteA:91"))
    assert held(sites) == []


def test_the_origin_going_away_frees_the_agent() -> None:
    sites = agent_at_b()
    sites.ask("SiteA", a, REQUEST, ThisDN=A, Location="SiteB", AgentID="2001")
    assert len(held(sites)) == 1
    sites.peer_down("SiteA", "SiteB")
    assert held(sites) == []
