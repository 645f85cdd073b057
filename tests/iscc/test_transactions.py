"""ctiserver.iscc.transactions: the bookkeeping of calls moving between sites.

Matching rules by transaction type, expiry, identifiers, and the links (with relays) that
carry UserData between the instances of one call at several sites.  No clock: deadlines
and `now` are plain numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.iscc.transactions import (
    CallFacts,
    Link,
    Outgoing,
    Purpose,
    Reservation,
    Stage,
    Transactions,
    XRoute,
)

# Which types match by what, as genesys-tlib.md § 3.1 describes them (checked against
# the descriptor table by the matching cases below).
BY_UUI = {
    XRoute.ROUTE_UUI, XRoute.DIRECT_UUI, XRoute.DIRECT_DIGITS, XRoute.PULLBACK, XRoute.REROUTE
}  # fmt: skip
BY_NETWORK_CALL_ID = {XRoute.DIRECT_CALLID, XRoute.DIRECT_NETWORK_CALLID}

HERE = "lyon"
ORIGIN = "paris"
RESOURCE = DeviceId("7001")
ELSEWHERE = DeviceId("7999")
TOKEN = "12345678"
ANI = "5551234"
ORIGIN_DN = "5000"


def reserve(
    table: Transactions,
    xroute: XRoute,
    *,
    xid: str = "paris:1",
    resource: DeviceId = RESOURCE,
    token: str = "",
    ani: str = "",
    deadline: float = 10.0,
) -> Reservation:
    """Put a reservation from ORIGIN into *table*, as the destination's shell does."""
    reservation = Reservation(
        xid=xid,
        origin=ORIGIN,
        xroute=xroute,
        resource=resource,
        target=resource,
        user_data={},
        origin_conn_id="paris-conn",
        origin_dn=ORIGIN_DN,
        ani=ani,
        token=token,
        deadline=deadline,
    )
    table.add_reservation(reservation)
    return reservation


def arriving(
    conn_id: str = "c1",
    *,
    at: DeviceId = RESOURCE,
    ani: str | None = None,
    uui: str = "",
    network_call_id: str = "",
    already_matched: bool = False,
) -> CallFacts:
    """What the destination knows of a call arriving at *at*."""
    return CallFacts(
        conn_id=ConnId(conn_id),
        at=at,
        ani=ani,
        dnis=None,
        uui=uui,
        network_call_id=network_call_id,
        already_matched=already_matched,
    )


def start(table: Transactions, *, stage: Stage, deadline: float) -> Outgoing:
    """Put an outgoing transaction to ORIGIN into *table*, as the origin's shell does."""
    xid = table.new_xid()
    outgoing = Outgoing(
        xid=xid,
        location=ORIGIN,
        xroute=XRoute.ROUTE,
        purpose=Purpose.ANSWER,
        client=ClientId(1),
        reference_id=1,
        this_dn=DeviceId("7002"),
        target="",
        stage=stage,
        deadline=deadline,
    )
    table.add_outgoing(outgoing)
    return outgoing


def link(location: str, far_conn_id: str, xid: str) -> Link:
    return Link(location, far_conn_id, "", xid)


def far_instances(links: list[Link]) -> set[tuple[str, str]]:
    return {(each.location, each.conn_id) for each in links}


# --- matching, by transaction type --------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One reservation of type *xroute*, one arriving call, and whether they match."""

    name: str
    xroute: XRoute
    matches: bool
    token: str = ""
    ani: str = ""  # the reservation's ANI (direct-ani)
    identified: str = ""  # the network call id the origin reported, if any
    call_ani: str | None = None
    call_uui: str = ""
    call_network_call_id: str = ""

    def call(self, conn_id: str, *, at: DeviceId = RESOURCE) -> CallFacts:
        """The arriving call of this case, as *conn_id* at *at*."""
        return arriving(
            conn_id,
            at=at,
            ani=self.call_ani,
            uui=self.call_uui,
            network_call_id=self.call_network_call_id,
        )


def _first_call_cases() -> list[Case]:
    always = [XRoute.ROUTE, XRoute.DNIS_POOL, XRoute.DIRECT_NOTOKEN]
    return [Case("any call", xroute, True) for xroute in always]


def _ani_cases() -> list[Case]:
    xroute = XRoute.DIRECT_ANI
    return [
        Case("the reserved ANI", xroute, True, ani=ANI, call_ani=ANI),
        Case("another ANI", xroute, False, ani=ANI, call_ani="5559999"),
        Case("no ANI", xroute, False, ani=ANI, call_ani=None),
        Case("the origin DN is not the ANI", xroute, False, ani=ANI, call_ani=ORIGIN_DN),
        Case("no ANI on either side", xroute, False, ani="", call_ani=""),
        Case("the UUI is no ANI", xroute, False, token=TOKEN, call_uui=TOKEN),
    ]


def _uui_cases() -> list[Case]:
    cases = []
    for xroute in sorted(BY_UUI):
        cases += [
            Case("the token", xroute, True, token=TOKEN, call_uui=TOKEN),
            Case("another token", xroute, False, token=TOKEN, call_uui="87654321"),
            Case("no UUI", xroute, False, token=TOKEN),
            Case("no token on either side", xroute, False, token="", call_uui=""),
            Case("the ANI is no token", xroute, False, token=TOKEN, call_ani=TOKEN),
        ]
    return cases


def _network_call_id_cases() -> list[Case]:
    cases = []
    for xroute in sorted(BY_NETWORK_CALL_ID):
        cases += [
            Case("the identified id", xroute, True, identified="N-1", call_network_call_id="N-1"),
            Case("another id", xroute, False, identified="N-1", call_network_call_id="N-2"),
            Case("not identified yet", xroute, False, call_network_call_id="N-1"),
            Case("no id on either side", xroute, False, call_network_call_id=""),
            Case("the token is no id", xroute, False, token=TOKEN, call_uui=TOKEN),
        ]
    return cases


CASES = _first_call_cases() + _ani_cases() + _uui_cases() + _network_call_id_cases()
MATCHING = [case for case in CASES if case.matches]


def case_id(case: Case) -> str:
    return f"{case.xroute}: {case.name}"


def reserve_for(table: Transactions, case: Case) -> Reservation:
    reservation = reserve(table, case.xroute, token=case.token, ani=case.ani)
    if case.identified:
        assert table.identified(ORIGIN, reservation.xid, case.identified) is reservation
    return reservation


def test_every_type_has_a_matching_case() -> None:
    assert {case.xroute for case in MATCHING} == set(XRoute)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matching_rule(case: Case) -> None:
    table = Transactions(HERE)
    reservation = reserve_for(table, case)
    matched = table.match(case.call("c1"), once=False)
    if case.matches:
        assert matched is reservation
        assert reservation.matched == "c1"
    else:
        assert matched is None
        assert reservation.matched is None


@pytest.mark.parametrize("case", MATCHING, ids=case_id)
def test_a_call_at_another_dn_never_matches(case: Case) -> None:
    table = Transactions(HERE)
    reservation = reserve_for(table, case)
    assert table.match(case.call("c1", at=ELSEWHERE), once=False) is None
    assert reservation.matched is None


@pytest.mark.parametrize("case", MATCHING, ids=case_id)
def test_a_matched_reservation_is_not_matched_again(case: Case) -> None:
    table = Transactions(HERE)
    reservation = reserve_for(table, case)
    assert table.match(case.call("c1"), once=False) is reservation
    assert table.match(case.call("c2"), once=False) is None
    assert reservation.matched == "c1"
    assert table.holding(RESOURCE) == []


def test_first_calls_take_the_reservations_in_order() -> None:
    table = Transactions(HERE)
    first = reserve(table, XRoute.ROUTE, xid="paris:1")
    second = reserve(table, XRoute.ROUTE, xid="paris:2")
    assert table.holding(RESOURCE) == [first, second]
    assert table.match(arriving("c1"), once=False) is first
    assert table.match(arriving("c2"), once=False) is second
    assert table.match(arriving("c3"), once=False) is None


def test_the_token_picks_its_reservation_among_several() -> None:
    table = Transactions(HERE)
    reserve(table, XRoute.DIRECT_UUI, xid="paris:1", token="11111111")
    wanted = reserve(table, XRoute.DIRECT_UUI, xid="paris:2", token="22222222")
    assert table.match(arriving("c1", uui="22222222"), once=False) is wanted


def test_holding_lists_the_unmatched_reservations_at_a_resource() -> None:
    table = Transactions(HERE)
    here = reserve(table, XRoute.ROUTE, xid="paris:1")
    reserve(table, XRoute.ROUTE, xid="paris:2", resource=ELSEWHERE)
    assert table.holding(RESOURCE) == [here]
    assert table.holding(DeviceId("7555")) == []


@pytest.mark.parametrize(("once", "matches"), [(True, False), (False, True)])
def test_match_call_once(once: bool, matches: bool) -> None:
    table = Transactions(HERE)
    reservation = reserve(table, XRoute.ROUTE)
    matched = table.match(arriving("c1", already_matched=True), once=once)
    assert (matched is reservation) is matches
    assert (reservation.matched == "c1") is matches


def test_once_does_not_stop_a_call_matched_for_the_first_time() -> None:
    table = Transactions(HERE)
    reservation = reserve(table, XRoute.ROUTE)
    assert table.match(arriving("c1", already_matched=False), once=True) is reservation


def test_identified_records_the_network_call_id() -> None:
    table = Transactions(HERE)
    reservation = reserve(table, XRoute.DIRECT_CALLID)
    assert table.identified(ORIGIN, reservation.xid, "N-7") is reservation
    assert reservation.network_call_id == "N-7"


def test_identified_for_an_unknown_transaction_is_none() -> None:
    table = Transactions(HERE)
    reserve(table, XRoute.DIRECT_CALLID, xid="paris:1")
    assert table.identified(ORIGIN, "paris:2", "N-7") is None
    assert table.identified("berlin", "paris:1", "N-7") is None
    assert table.reservations[ORIGIN, "paris:1"].network_call_id == ""


# --- expiry -------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.REQUESTED, Stage.RESERVED])
def test_an_unfinished_outgoing_transaction_expires_at_its_deadline(stage: Stage) -> None:
    table = Transactions(HERE)
    outgoing = start(table, stage=stage, deadline=5.0)
    assert table.expired(4.9) == ([], [])
    assert table.expired(5.0) == ([outgoing], [])
    assert table.outgoing == {}
    assert table.expired(6.0) == ([], [])


def test_a_done_outgoing_transaction_does_not_expire() -> None:
    table = Transactions(HERE)
    outgoing = start(table, stage=Stage.DONE, deadline=5.0)
    assert table.expired(100.0) == ([], [])
    assert table.outgoing == {outgoing.xid: outgoing}


def test_an_unmatched_reservation_expires_at_its_deadline() -> None:
    table = Transactions(HERE)
    reservation = reserve(table, XRoute.ROUTE, deadline=5.0)
    assert table.expired(4.9) == ([], [])
    assert table.expired(5.0) == ([], [reservation])
    assert table.reservations == {}
    assert table.match(arriving("c1"), once=False) is None


def test_a_matched_reservation_does_not_expire() -> None:
    table = Transactions(HERE)
    reservation = reserve(table, XRoute.ROUTE, deadline=5.0)
    table.match(arriving("c1"), once=False)
    assert table.expired(100.0) == ([], [])
    assert list(table.reservations.values()) == [reservation]


def test_expiry_takes_only_what_is_due() -> None:
    table = Transactions(HERE)
    due_out = start(table, stage=Stage.RESERVED, deadline=1.0)
    start(table, stage=Stage.RESERVED, deadline=9.0)
    due_in = reserve(table, XRoute.ROUTE, xid="paris:1", deadline=1.0)
    reserve(table, XRoute.ROUTE, xid="paris:2", deadline=9.0)
    assert table.expired(2.0) == ([due_out], [due_in])
    assert len(table.outgoing) == len(table.reservations) == 1


# --- transaction ids and tokens -----------------------------------------------------------


@settings(max_examples=50)
@given(st.lists(st.booleans(), max_size=300))
def test_xids_and_tokens_are_unique(xid_or_token: list[bool]) -> None:
    table = Transactions(HERE)
    xids = [table.new_xid() for wants_xid in xid_or_token if wants_xid]
    tokens = [table.token() for wants_xid in xid_or_token if not wants_xid]
    assert len(set(xids)) == len(xids)
    assert len(set(tokens)) == len(tokens)
    assert all(xid.startswith(f"{HERE}:") for xid in xids)
    assert all(re.fullmatch(r"[0-9]{8}", token) for token in tokens)


def test_xids_of_two_sites_differ() -> None:
    assert Transactions("lyon").new_xid() != Transactions("paris").new_xid()


# --- links --------------------------------------------------------------------------------

C1, C2, C3 = ConnId("c1"), ConnId("c2"), ConnId("c3")


def test_a_call_without_links_has_none() -> None:
    assert Transactions(HERE).links_of(C1) == []


def test_one_link_per_location_and_transaction() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    table.link(C1, link("A", "a2", "x2"))
    table.link(C1, link("B", "b1", "x1"))
    table.link(C1, link("A", "a9", "x1"))
    assert table.links_of(C1) == [
        link("A", "a2", "x2"),
        link("B", "b1", "x1"),
        link("A", "a9", "x1"),
    ]


def test_merge_links_moves_them_and_drops_duplicates() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    table.link(C1, link("B", "b1", "x2"))
    table.link(C2, link("A", "a0", "x1"))
    table.link(C2, link("C", "c9", "x3"))
    moved = table.merge_links(C1, into=C2)
    assert moved == [link("A", "a1", "x1"), link("B", "b1", "x2")]
    assert C1 not in table.links
    assert table.links_of(C2) == [
        link("C", "c9", "x3"),
        link("A", "a1", "x1"),
        link("B", "b1", "x2"),
    ]


def test_merging_a_call_without_links_changes_nothing() -> None:
    table = Transactions(HERE)
    table.link(C2, link("A", "a1", "x1"))
    assert table.merge_links(C1, into=C2) == []
    assert table.links == {C2: [link("A", "a1", "x1")]}


def test_relink_changes_the_far_conn_id_and_returns_the_old_link() -> None:
    table = Transactions(HERE)
    old = Link("A", "a1", "5000", "x1")
    table.link(C1, old)
    table.link(C1, link("B", "b1", "x1"))
    table.link(C2, link("A", "a2", "x2"))
    assert table.relink("A", "x1", "a7") == [(C1, old)]
    assert table.links_of(C1) == [Link("A", "a7", "5000", "x1"), link("B", "b1", "x1")]
    assert table.links_of(C2) == [link("A", "a2", "x2")]


def test_relink_of_an_unknown_transaction_changes_nothing() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    assert table.relink("A", "x9", "a7") == []
    assert table.relink("B", "x1", "a7") == []
    assert table.links_of(C1) == [link("A", "a1", "x1")]


# --- a call ending, and relays ------------------------------------------------------------


def test_a_call_ending_without_links_tells_nobody() -> None:
    table = Transactions(HERE)
    assert table.call_ended(C1) == []
    assert table.relays == {}


def test_a_call_linked_to_one_instance_tells_it_and_is_forgotten() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    table.link(C1, link("A", "a1", "x2"))  # the same instance, by two transactions
    assert table.call_ended(C1) == [link("A", "a1", "x1"), link("A", "a1", "x2")]
    assert C1 not in table.links
    assert table.relays == {}


@pytest.mark.parametrize(
    "far",
    [[("A", "a1"), ("C", "c1")], [("A", "a1"), ("A", "a2")]],
    ids=["two sites", "two instances at one site"],
)
def test_a_call_joining_two_far_instances_stays_as_a_relay(far: list[tuple[str, str]]) -> None:
    table = Transactions(HERE)
    links = [link(location, conn_id, f"x{n}") for n, (location, conn_id) in enumerate(far)]
    for each in links:
        table.link(C1, each)
    assert table.call_ended(C1) == []
    assert table.relays == {C1: {}}
    assert table.links_of(C1) == links


def relay(table: Transactions, *far: tuple[str, str]) -> None:
    """Make C1 a relay between the instances *far*."""
    for n, (location, conn_id) in enumerate(far):
        table.link(C1, link(location, conn_id, f"x{n}"))
    assert table.call_ended(C1) == []
    assert C1 in table.relays


def test_unlink_keeps_a_relay_while_two_far_instances_remain() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("B", "b1"), ("C", "c1"))
    table.unlink(C1, "B", "b1")
    assert C1 in table.relays
    assert far_instances(table.links_of(C1)) == {("A", "a1"), ("C", "c1")}


def test_unlink_drops_a_relay_left_with_one_far_instance() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("C", "c1"))
    table.unlink(C1, "C", "c1")
    assert C1 not in table.relays
    assert C1 not in table.links


def test_unlink_of_an_instance_the_relay_does_not_know_keeps_it() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("C", "c1"))
    table.unlink(C1, "C", "c2")
    table.unlink(C1, "B", "c1")
    assert C1 in table.relays
    assert len(table.links_of(C1)) == 2


def test_unlink_of_a_live_call_only_removes_that_link() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    table.link(C1, link("C", "c1", "x2"))
    reservation = reserve(table, XRoute.ROUTE)
    table.match(arriving("c1"), once=False)
    table.unlink(C1, "A", "a1")
    assert table.links_of(C1) == [link("C", "c1", "x2")]
    table.unlink(C1, "C", "c1")
    assert table.links_of(C1) == []
    assert list(table.reservations.values()) == [reservation]


def test_location_down_drops_a_relay_through_it() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("C", "c1"))
    table.location_down("A")
    assert table.relays == {}
    assert C1 not in table.links


def test_location_down_keeps_a_relay_between_the_sites_still_up() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("B", "b1"), ("C", "c1"))
    table.location_down("A")
    assert C1 in table.relays
    assert far_instances(table.links_of(C1)) == {("B", "b1"), ("C", "c1")}


def test_location_down_leaves_live_calls_alone() -> None:
    table = Transactions(HERE)
    table.link(C2, link("A", "a1", "x1"))
    table.location_down("A")
    assert table.links_of(C2) == [link("A", "a1", "x1")]


def test_forget_call_drops_links_relay_and_matched_reservations() -> None:
    table = Transactions(HERE)
    relay(table, ("A", "a1"), ("C", "c1"))
    mine = reserve(table, XRoute.ROUTE, xid="paris:1")
    theirs = reserve(table, XRoute.ROUTE, xid="paris:2")
    waiting = reserve(table, XRoute.ROUTE, xid="paris:3")
    assert table.match(arriving("c1"), once=False) is mine
    assert table.match(arriving("c2"), once=False) is theirs
    table.link(C2, link("B", "b1", "x9"))
    table.forget_call(C1)
    assert C1 not in table.links
    assert C1 not in table.relays
    assert list(table.reservations.values()) == [theirs, waiting]
    assert table.links_of(C2) == [link("B", "b1", "x9")]


def test_a_late_unlink_after_the_call_ended_leaves_nothing_behind() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    assert table.call_ended(C1) == [link("A", "a1", "x1")]
    table.unlink(C1, "A", "a1")  # A's instance ended too; its Unlinked crossed ours
    assert C1 not in table.links


def test_location_down_forgets_a_relay_with_two_links_to_one_instance() -> None:
    table = Transactions(HERE)
    table.link(C1, link("A", "a1", "x1"))
    table.link(C1, link("A", "a1", "x2"))
    table.link(C1, link("C", "c1", "x3"))
    assert table.call_ended(C1) == []
    table.location_down("A")
    assert C1 not in table.relays
    assert C1 not in table.links


# --- a property: relays always join two far instances -------------------------------------

OURS = [ConnId(f"c{n}") for n in range(1, 5)]
CALLS = st.sampled_from(OURS)
LOCATIONS = st.sampled_from(["A", "B", "C"])
FAR_CONN_IDS = st.sampled_from(["f1", "f2"])
LINKS = st.builds(link, LOCATIONS, FAR_CONN_IDS, st.sampled_from(["x1", "x2", "x3"]))


class LinkBookkeeping(RuleBasedStateMachine):
    """Links made, merged and cut in any order, as the switch and the peers report them.

    Only live calls get new links or merge (a call that ended here is not on the switch);
    Unlinked may come from a peer for any call, ended or not.
    """

    def __init__(self) -> None:
        super().__init__()
        self.table = Transactions(HERE)
        self.ended: set[ConnId] = set()
        self.in_flight: set[ConnId] = set()  # ended here while a transaction moves them

    @initialize(links=st.lists(st.tuples(CALLS, LINKS), min_size=4, max_size=10))
    def calls_linked_elsewhere(self, links: list[tuple[ConnId, Link]]) -> None:
        for ours, new in links:
            self.table.link(ours, new)

    def live(self, data: st.DataObject) -> ConnId:
        return data.draw(st.sampled_from([c for c in OURS if c not in self.ended]))

    def any_live(self) -> bool:
        return any(c not in self.ended for c in OURS)

    def two_live(self) -> bool:
        return sum(c not in self.ended for c in OURS) >= 2

    @precondition(any_live)
    @rule(data=st.data(), new=LINKS)
    def link(self, data: st.DataObject, new: Link) -> None:
        self.table.link(self.live(data), new)

    @precondition(two_live)
    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        merged = self.live(data)
        into = data.draw(st.sampled_from([c for c in OURS if c not in self.ended | {merged}]))
        expected = {(each.location, each.xid): each for each in self.table.links_of(into)}
        expected.update({(each.location, each.xid): each for each in self.table.links_of(merged)})
        self.table.merge_links(merged, into)
        assert self.table.links_of(merged) == []
        assert sorted(self.table.links_of(into), key=str) == sorted(expected.values(), key=str)

    @precondition(any_live)
    @rule(data=st.data())
    def end(self, data: st.DataObject) -> None:
        ours = self.live(data)
        self.ended.add(ours)
        links = list(self.table.links_of(ours))
        told = self.table.call_ended(ours)
        if len(far_instances(links)) >= 2:
            assert told == []
            assert ours in self.table.relays
        else:
            assert told == links
            assert ours not in self.table.relays

    @precondition(any_live)
    @rule(data=st.data())
    def end_on_its_way_elsewhere(self, data: st.DataObject) -> None:
        ours = self.live(data)
        self.ended.add(ours)
        self.in_flight.add(ours)
        assert self.table.call_ended(ours, in_flight=True) == []
        assert ours in self.table.relays

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), arrived=st.booleans(), new=LINKS)
    def transaction_ends(self, data: st.DataObject, arrived: bool, new: Link) -> None:
        ours = data.draw(st.sampled_from(sorted(self.in_flight)))
        self.in_flight.discard(ours)
        if arrived:  # matched there: linked to where it went
            self.table.link(ours, new)
        links = list(self.table.links_of(ours))
        told = self.table.settle(ours)
        if len(far_instances(links)) >= 2:
            assert told == []
            assert ours in self.table.relays
        else:
            assert told == links
            assert ours not in self.table.relays

    @rule(ours=CALLS, location=LOCATIONS, far=FAR_CONN_IDS)
    def unlink(self, ours: ConnId, location: str, far: str) -> None:
        self.table.unlink(ours, location, far)
        assert (location, far) not in far_instances(self.table.links_of(ours))

    @rule(location=LOCATIONS)
    def location_down(self, location: str) -> None:
        self.table.location_down(location)
        for conn_id in self.table.relays:
            assert all(each.location != location for each in self.table.links_of(conn_id))

    @invariant()
    def relays_join_two_far_instances(self) -> None:
        for conn_id in set(self.table.relays) - self.in_flight:
            assert len(far_instances(self.table.links_of(conn_id))) >= 2

    @invariant()
    def only_ended_calls_are_relays(self) -> None:
        assert set(self.table.relays) <= self.ended

    @invariant()
    def one_link_per_location_and_transaction(self) -> None:
        for links in self.table.links.values():
            keys = [(each.location, each.xid) for each in links]
            assert len(keys) == len(set(keys))


TestLinkBookkeeping = LinkBookkeeping.TestCase
TestLinkBookkeeping.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)


def scanned_deadlines(table: Transactions) -> tuple[float | None, float | None]:
    """The next deadlines found by looking at every transaction (what the index gives)."""
    out = [o.deadline for o in table.outgoing.values() if o.stage is not Stage.DONE]
    held = [r.deadline for r in table.reservations.values() if r.matched is None]
    return (min(out) if out else None), (min(held) if held else None)


def indexed_deadlines(table: Transactions) -> tuple[float | None, float | None]:
    return table.next_outgoing_deadline(), table.next_reservation_deadline()


def test_the_next_deadlines_follow_ends_moves_and_matches() -> None:
    table = Transactions(HERE)
    assert indexed_deadlines(table) == (None, None)
    first = start(table, stage=Stage.REQUESTED, deadline=3.0)
    start(table, stage=Stage.REQUESTED, deadline=7.0)
    held = reserve(table, XRoute.ROUTE, xid="paris:1", deadline=2.0)
    reserve(table, XRoute.ROUTE, xid="paris:2", deadline=6.0)
    assert indexed_deadlines(table) == (3.0, 2.0)
    first.deadline = 9.0  # the peer reserved: the transaction waits longer now
    table.outgoing_due(first)
    held.matched = ConnId("c1")
    assert indexed_deadlines(table) == (7.0, 6.0)
    del table.outgoing[first.xid]
    first.stage = Stage.DONE
    assert indexed_deadlines(table) == scanned_deadlines(table) == (7.0, 6.0)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["start", "reserve", "move", "end", "match", "expire"]),
            st.integers(min_value=0, max_value=20),
            st.floats(min_value=0.0, max_value=50.0),
        ),
        max_size=40,
    )
)
def test_the_index_gives_what_a_scan_of_every_transaction_gives(
    steps: list[tuple[str, int, float]],
) -> None:
    table = Transactions(HERE)
    for step, pick, when in steps:
        outgoing, held = list(table.outgoing.values()), list(table.reservations.values())
        if step == "start":
            start(table, stage=Stage.REQUESTED, deadline=when)
        elif step == "reserve":
            reserve(table, XRoute.ROUTE, xid=f"paris:{pick}:{len(held)}", deadline=when)
        elif step == "move" and outgoing:
            moved = outgoing[pick % len(outgoing)]
            moved.deadline = when
            table.outgoing_due(moved)
        elif step == "end" and outgoing:
            ended = outgoing[pick % len(outgoing)]
            ended.stage = Stage.DONE
            del table.outgoing[ended.xid]
        elif step == "match" and held:
            held[pick % len(held)].matched = ConnId(f"c{pick}")
        elif step == "expire":
            table.expired(when)
        assert indexed_deadlines(table) == scanned_deadlines(table)
