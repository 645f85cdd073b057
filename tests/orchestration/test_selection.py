"""selection.py, agents.py and directory.py: which agent, DN or site a waiting call is
offered, by groups, skills, thresholds and statistics."""

from __future__ import annotations

from ctiserver.orchestration.calls import DnType
from ctiserver.orchestration.directory import Directory
from ctiserver.orchestration.selection import Order, Pool, select
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings
from ctiserver.orchestration.targets import parse_target

# DN, agent, ACD queue, the time it became Ready
SEATS = [
    ("7002", "1001", "8001", 8.0),
    ("7003", "1002", "8001", 9.0),
    ("7004", "1003", "8002", 10.0),
]
DIRECTORY = DirectorySettings(
    agents={
        "1001": AgentProfile(skills={"sales": 8, "lang": "fr"}, groups=("Sales",)),
        "1002": AgentProfile(skills={"sales": 3, "lang": "en"}),
        "1003": AgentProfile(skills={"support": 5, "lang": "fr"}),
    },
    agent_groups={"Sales": ("1002",), "Nobody": ()},
    place_groups={"Front": ("7003", "7004", "7009")},
)


def pool(
    name: str = "main",
    location: str | None = "SiteA",
    seats: list[tuple[str, str, str, float]] = SEATS,
) -> Pool:
    made = Pool(name, location)
    for dn, agent, queue, ready in seats:
        made.calls.follow(dn, DnType.EXTENSION)
        made.agents.apply(
            {"Event": "EventAgentLogin", "ThisDN": dn, "AgentID": agent, "ThisQueue": queue}, 0
        )
        made.agents.apply({"Event": "EventAgentReady", "ThisDN": dn, "ThisQueue": queue}, ready)
    return made


def chosen(
    targets: list[str],
    pools: list[Pool],
    directory: Directory | None = None,
    now: float = 20,
    order: Order | None = None,
) -> str | None:
    found = select(
        [parse_target(t) for t in targets],
        pools=pools,
        directory=directory or Directory(DIRECTORY),
        now=now,
        order=order,
    )
    return (
        None if found is None else (f"{found.dn}@{found.location}" if found.location else found.dn)
    )


def ring(p: Pool, dn: str, conn_id: str) -> None:
    p.calls.apply({"Event": "EventRinging", "ThisDN": dn, "ConnID": conn_id})
    for touched in p.calls.take_touched():
        p.agents.dn_busy(touched, p.calls.busy(touched), 15)


def release(p: Pool, dn: str, conn_id: str, now: float) -> None:
    p.calls.apply({"Event": "EventReleased", "ThisDN": dn, "ConnID": conn_id})
    for touched in p.calls.take_touched():
        p.agents.dn_busy(touched, p.calls.busy(touched), now)


def test_an_acd_queue_as_agent_group_gives_the_agent_available_longest() -> None:
    p = pool()
    assert chosen(["8001.GA"], [p]) == "7002"
    p.reservations.reserve("7002", 30)
    assert chosen(["8001.GA"], [p]) == "7003"
    ring(p, "7003", "c1")
    assert chosen(["8001.GA"], [p]) is None
    assert chosen(["9999.GA"], [p]) is None
    assert p.reservations.held("7002", 29)
    assert not p.reservations.held("7002", 30)


def test_an_agent_back_from_a_call_is_available_from_then() -> None:
    p = pool()
    ring(p, "7002", "c1")
    release(p, "7002", "c1", 18)
    assert chosen(["8001.GA"], [p]) == "7003"  # Ready since 9, 7002 available since 18 only


def test_a_configured_agent_group_takes_its_members_and_the_agents_naming_it() -> None:
    p = pool()
    assert chosen(["Sales.GA"], [p]) == "7002"
    p.agents.apply(
        {"Event": "EventAgentNotReady", "ThisDN": "7002", "AgentWorkMode": "AuxWork"}, 20
    )
    assert chosen(["Sales.GA"], [p]) == "7003"
    assert chosen(["Nobody.GA"], [p]) is None


def test_skill_expressions_choose_among_the_agents_that_have_the_skills() -> None:
    p = pool()
    assert chosen(["?sales>5"], [p]) == "7002"
    assert chosen(["?lang=fr"], [p]) == "7002"
    assert chosen(["?lang=fr & support>0"], [p]) == "7004"
    assert chosen(["?lang=fr & sales>0"], [p]) == "7002"
    assert chosen(["?support>5"], [p]) is None


def test_the_directory_changes_at_run_time() -> None:
    directory = Directory(DIRECTORY)
    p = pool()
    assert chosen(["?support>0"], [p], directory) == "7004"
    directory.set_agent("1002", AgentProfile(skills={"support": 9}))
    assert chosen(["?support>0"], [p], directory) == "7003"  # Ready before 7004
    assert chosen(["?support>6"], [p], directory) == "7003"
    assert directory.remove_agent("1002")
    assert not directory.remove_agent("1002")
    assert chosen(["?support>6"], [p], directory) is None
    directory.set_agent_group("Late", ("1001",))
    assert chosen(["Late.GA"], [p], directory) == "7002"
    directory.set_place_group("Corner", ("7002",))
    assert chosen(["Corner.GP"], [p], directory) == "7002"


def test_agents_places_dns_queues_and_routing_points() -> None:
    p = pool()
    assert chosen(["1002.A"], [p]) == "7003"
    assert chosen(["1009.A", "7003"], [p]) == "7003"
    assert chosen(["8001.Q"], [p]) == "8001"
    assert chosen(["5001.RP"], [p]) == "5001"
    assert chosen(["7009"], [p]) == "7009"  # not followed: counts as free
    assert chosen(["Front.GP"], [p]) == "7003"  # the place available longest
    p.agents.apply({"Event": "EventAgentLogout", "ThisDN": "7003"}, 30)
    assert chosen(["1002.A"], [p]) is None


def test_orderstat_ranks_every_candidate_of_every_target() -> None:
    p = pool()
    most_skilled = Order("sales", maximum=True)
    assert chosen(["8002.GA", "8001.GA"], [p]) == "7004"  # in order written
    assert chosen(["8002.GA", "8001.GA"], [p], order=most_skilled) == "7002"
    assert chosen(["8001.GA"], [p], order=Order("sales", maximum=False)) == "7003"
    p.agents.call_event(
        {"Event": "EventEstablished", "ThisDN": "7003", "ConnID": "c1", "ThisDNRole": "Destination"}
    )
    p.agents.call_event({"Event": "EventReleased", "ThisDN": "7003", "ConnID": "c1"})
    fewest = Order("StatCallsAnswered", maximum=False)
    assert chosen(["8001.GA"], [p], order=fewest) == "7002"
    assert p.agents.seats["7003"].calls_completed == 1
    assert chosen(["8001.GA"], [p], order=Order("StatTimeInReadyState")) == "7002"


def test_thresholds_filter_candidates() -> None:
    p = pool()
    assert chosen(["{StatTimeInReadyState > 11.5}8001.GA"], [p]) == "7002"  # 12 s
    assert chosen(["{StatTimeInReadyState > 12}8001.GA"], [p]) is None
    assert chosen(["{StatAgentsAvailable > 1}8001.GA"], [p]) == "7002"
    assert chosen(["{StatAgentsAvailable > 2}8001.GA", "7009"], [p]) == "7009"
    assert chosen(["{sales > 5}?lang=fr"], [p]) == "7002"


def test_targets_at_other_sites() -> None:
    own, other = pool(), pool("b", "SiteB", [("7104", "2001", "8101", 5.0)])
    assert chosen(["2001.A"], [own, other]) == "7104@SiteB"
    assert chosen(["8101@SiteB.GA", "8001.GA"], [own, other]) == "7104@SiteB"
    assert chosen(["7104@SiteB.DN"], [own, other]) == "7104@SiteB"
    assert chosen(["7002@SiteA.DN"], [own, other]) == "7002"
    assert chosen(["5100@SiteC.RP"], [own, other]) == "5100@SiteC"  # no connection there: via ISCC
    unnamed = pool("c", None, [("7204", "3001", "8201", 1.0)])
    assert chosen(["3001.A"], [own, unnamed]) is None  # its site is not named: unreachable
