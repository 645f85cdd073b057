"""docs/iscc.md, Failures: every way a call-moving request fails, with what its client
hears (EventError with the ISCC code before anything was done, or
EventRemoteConnectionFailed naming the call once the call exists), and what a broken
peer cannot do.  Two sites in memory (tests/sites.py)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from ctiserver.iscc import protocol as p
from tests.sites import SITE_A, SITE_B, Plan, Sites
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, Seen, error, heard

A, A2, B = "7001", "7002", "7101"
a, a2, b = 1, 2, 1  # the clients of A and A2 at SiteA, of B at SiteB


def two_sites(site_a: Plan = SITE_A, site_b: Plan = SITE_B, **options: Any) -> Sites:
    sites = Sites(site_a, site_b, **options)
    sites["SiteA"].client(A), sites["SiteA"].client(A2), sites["SiteB"].client(B)
    return sites


def make_call(sites: Sites, **attributes: Any) -> int:
    asked = {"OtherDN": B, "Location": "SiteB", "XRouteType": "DirectUUI", **attributes}
    return sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, **asked)


def failed(conn_id: str, reference: int, this_dn: str = A) -> dict[str, Any]:
    return {
        "Event": "EventRemoteConnectionFailed",
        "ThisDN": this_dn,
        "ConnID": conn_id,
        "ReferenceID": reference,
    }


# --- refused before anything is done: EventError ---------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "code", "message"),
    [
        ({"Location": "SiteZ"}, 1000, "no ISCC peer is configured for location SiteZ"),
        (
            {"XRouteType": None, "Extensions": {"iscc-xaction-type": "bogus"}},
            1017,
            "bogus is not a transaction type ISCC serves",
        ),
        ({"OtherDN": "9999"}, 1021, "DN 9999 is not configured at SiteB"),
        ({"OtherDN": None}, 1021, "no destination DN was given and there is no default-dn"),
    ],
)
def test_make_call_refusals(attributes: dict[str, Any], code: int, message: str) -> None:
    site_b = dataclasses.replace(SITE_B, default_dn=None)
    sites = two_sites(site_b=site_b)
    asked = {k: v for k, v in attributes.items() if v is not None}
    dropped = [k for k, v in attributes.items() if v is None]
    request = {"OtherDN": B, "Location": "SiteB", "XRouteType": "DirectUUI", **asked}
    for key in dropped:
        request.pop(key)
    reference = sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, **request)
    assert heard(sites["SiteA"], a) == [error(reference, code, message, A)]
    assert sites["SiteA"].core.model.calls == sites["SiteB"].core.model.calls == []


def test_a_type_this_site_does_not_allow_or_the_destination_does_not_serve() -> None:
    only_direct = {"cast_types": ("direct-uui",)}
    sites = two_sites(
        dataclasses.replace(SITE_A, extra={"cast_types": ("direct-uui", "route")}),
        dataclasses.replace(SITE_B, extra=only_direct),
    )
    here = make_call(sites, XRouteType="DNISPooling")
    there = make_call(sites, XRouteType="Route")
    assert heard(sites["SiteA"], a) == [
        error(here, 1017, "transaction type dnis-pool is not allowed here (cast-type)", A),
        error(there, 1017, "transaction type route is not served here", A),
    ]


def test_pullback_of_a_call_that_did_not_come_from_there() -> None:
    sites = two_sites()
    sites.ask("SiteA", a2, "RequestMakeCall", ThisDN=A2, OtherDN=A)
    c1 = heard(sites["SiteA"], a2)[0]["ConnID"]
    sites.ask("SiteA", a, "RequestAnswerCall", ThisDN=A, ConnID=c1)
    heard(sites["SiteA"], a)
    back = sites.ask("SiteA", a, "RequestSingleStepTransfer", ThisDN=A, ConnID=c1, Location="SiteB", XRouteType="PullBack")  # fmt: skip
    named = sites.ask("SiteA", a, "RequestSingleStepTransfer", ThisDN=A, ConnID=c1, OtherDN=B, Location="SiteB", XRouteType="PullBack")  # fmt: skip
    no_call = make_call(sites, XRouteType="PullBack")
    came = f"pullback returns a call to its origin; call {c1} came from here"
    assert heard(sites["SiteA"], a) == [
        error(back, 1020, came, A),
        error(named, 1020, came, A),  # an OtherDN does not make it a call from there
        error(no_call, 1010, "pullback moves a call: ConnID is missing", A),
    ]
    assert heard(sites["SiteB"], b) == []


def test_reroute_to_a_dn_that_is_not_a_routing_point(caplog: pytest.LogCaptureFixture) -> None:
    sites = two_sites()
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="SiteB", XRouteType="DirectUUI")  # fmt: skip
    heard(sites["SiteA"], a)
    cb = sites["SiteB"].core.model.calls[0].conn_id
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb)
    heard(sites["SiteB"], b)
    caplog.set_level(logging.INFO, logger="ctiserver.tserver.iscc.origin")
    refused = sites.ask("SiteB", b, "RequestSingleStepTransfer", ThisDN=B, ConnID=cb, Location="SiteA", XRouteType="Reroute")  # fmt: skip
    assert heard(sites["SiteB"], b) == [
        {"Event": "EventRemoteConnectionFailed", "ThisDN": B, "ConnID": cb, "ReferenceID": refused}
    ]
    # The reason is in the origin's log (docs/iscc.md, Failures).
    assert caplog.messages[-1].endswith(
        "reroute sends a call to a routing point to be routed again; 7001 is not one"
    )


def test_the_peer_not_connected_or_speaking_another_version() -> None:
    sites = two_sites()
    sites.peer_down("SiteA", "SiteB")
    down = make_call(sites)
    wire = sites["SiteA"]
    wire.perform(wire.core.peer_incompatible("SiteB", "ctiserver-iscc/9", wire.now()))
    other = make_call(sites)
    assert heard(wire, a) == [
        error(down, 1001, "the CTI server of SiteB is not connected", A),
        error(
            other,
            1003,
            "the CTI server of SiteB speaks another ISCC protocol (ctiserver-iscc/9)",
            A,
        ),
    ]
    sites.peer_up("SiteA", "SiteB")
    assert heard(wire, a) == []  # nothing happens by itself
    make_call(sites)
    assert [e["Event"] for e in heard(wire, a)] == [
        "EventDialing",
        "EventNetworkReached",
        "EventRemoteConnectionSuccess",
    ]


def test_a_request_on_a_call_fails_with_remote_connection_failed_naming_it() -> None:
    """Rule 1 of tserver.iscc.origin: a refusal before the request is carried out."""
    sites = two_sites()
    sites.ask("SiteA", a2, "RequestMakeCall", ThisDN=A2, OtherDN=A)
    c1 = heard(sites["SiteA"], a2)[0]["ConnID"]
    sites.ask("SiteA", a, "RequestAnswerCall", ThisDN=A, ConnID=c1)
    heard(sites["SiteA"], a), heard(sites["SiteA"], a2)
    sites.peer_down("SiteA", "SiteB")
    moved = sites.ask("SiteA", a, "RequestSingleStepTransfer", ThisDN=A, ConnID=c1, OtherDN=B, Location="SiteB")  # fmt: skip
    assert heard(sites["SiteA"], a) == [failed(c1, moved)]
    assert heard(sites["SiteA"], a2) == []  # nothing happened to the call


# --- resources -------------------------------------------------------------------------------


def access_number(sites: Sites, xroute: str, other_dn: str = B) -> int:
    return sites.ask("SiteA", a, "RequestGetAccessNumber", ThisDN=A, OtherDN=other_dn, Location="SiteB", XRouteType=xroute)  # fmt: skip


def test_access_resources_in_use_or_not_configured() -> None:
    sites = two_sites()
    numbers = [access_number(sites, "Route") for _ in range(3)]
    access_number(sites, "DirectNoToken")
    second_notoken = access_number(sites, "DirectNoToken")
    answers = heard(sites["SiteA"], a)
    assert [e.get("AccessNumber") for e in answers] == ["95100", "95101", None, "97101", None]
    assert answers[2] == error(numbers[2], 1006, "every access resource for route is in use", A)
    assert answers[4] == error(second_notoken, 1006, f"DN {B} already waits for a direct-notoken call", A)  # fmt: skip
    none_there = sites.ask("SiteB", b, "RequestGetAccessNumber", ThisDN=B, OtherDN=A, Location="SiteA", XRouteType="Route")  # fmt: skip
    assert heard(sites["SiteB"], b) == [
        error(none_there, 1014, "no access resources for route at SiteA", B)
    ]


def test_a_peer_holds_a_bounded_number_of_reservations() -> None:
    sites = two_sites(site_b=dataclasses.replace(SITE_B, extra={"max_reservations_per_peer": 2}))
    references = [access_number(sites, "DirectUUI", dn) for dn in ("7101", "7102", "7103")]
    *answered, refused = heard(sites["SiteA"], a)
    assert [e["Event"] for e in answered] == ["EventAnswerAccessNumber"] * 2
    assert refused == error(references[2], 1006, "SiteA holds 2 reservations already", A)


def test_an_access_number_not_used_lapses_at_the_destination() -> None:
    sites = two_sites()
    access_number(sites, "Route")
    heard(sites["SiteA"], a)
    assert len(sites["SiteB"].core.iscc.table.reservations) == 1  # type: ignore[union-attr]
    sites.advance(3.1)  # [iscc] timeout
    assert sites["SiteB"].core.iscc.table.reservations == {}  # type: ignore[union-attr]
    assert sites["SiteA"].core.iscc.table.outgoing == {}  # type: ignore[union-attr]
    assert heard(sites["SiteA"], a) == []  # the client has its number: nothing to tell


# --- failed after the call exists: EventRemoteConnectionFailed -------------------------------


def dialled(sites: Sites, **attributes: Any) -> tuple[Seen, int]:
    """A called B at SiteB: EventDialing, then EventNetworkReached as the call leaves on
    the trunk; returns the call as SiteA's events show it from then on."""
    made = make_call(sites, **attributes)
    dialing, reached = heard(sites["SiteA"], a)
    c1 = Seen(dialing["ConnID"], "1", call_type="Outbound", user_data=dialing["UserData"])
    dialled_number = dialing["OtherDN"]
    assert dialing == c1.event("EventDialing", A, ORIGINATION, dialled_number, ReferenceID=made)
    c1 = c1.but(network_call_id="SiteA-1", trunk="SiteASiteB", far=dialled_number)
    assert reached == c1.event("EventNetworkReached", A, ORIGINATION, dialled_number)
    return c1, made


def test_no_answer_from_the_peer_in_time() -> None:
    sites = two_sites()
    sites.hold("SiteA", "SiteB")  # SiteB hears nothing
    made = make_call(sites)
    sites.advance(1.9)
    assert heard(sites["SiteA"], a) == []
    sites.advance(0.2)  # [iscc] request-timeout
    assert heard(sites["SiteA"], a) == [error(made, 1013, "no answer from SiteB in time", A)]
    assert sites["SiteA"].core.model.calls == []


def test_the_switch_cannot_reach_the_access_number() -> None:
    sites = two_sites(dataclasses.replace(SITE_A, access_codes={"SiteB": "77"}))
    made = make_call(sites)
    dialing, busy, lost = heard(sites["SiteA"], a)
    c1 = Seen(dialing["ConnID"], "1", call_type="Outbound")
    assert [dialing, busy, lost] == [
        c1.event("EventDialing", A, ORIGINATION, "777101", ReferenceID=made),
        c1.event(
            "EventDestinationBusy",
            A,
            ORIGINATION,
            "777101",
            state="SitInvalidnum",
            ReferenceID=made,
        ),
        failed(c1.conn_id, made),
    ]
    assert sites["SiteB"].core.iscc.table.reservations == {}  # type: ignore[union-attr]


def test_the_caller_hanging_up_before_the_call_is_matched() -> None:
    sites = two_sites()
    sites["SiteB"].events_lost = True  # SiteB's server never sees the call arrive
    c1, made = dialled(sites)
    released = sites.ask("SiteA", a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(sites["SiteA"], a) == [
        c1.event("EventReleased", A, ORIGINATION, "9" + B, ReferenceID=released, released=LOCAL),
        failed(c1.conn_id, made),
    ]


def test_the_call_not_arriving_in_time() -> None:
    sites = two_sites()
    sites["SiteB"].events_lost = True
    c1, made = dialled(sites)
    sites.advance(2.9)
    assert heard(sites["SiteA"], a) == []
    sites.advance(0.2)  # [iscc] timeout: SiteB gives the reservation up and says so
    assert heard(sites["SiteA"], a) == [failed(c1.conn_id, made)]


def test_the_peer_going_away_during_the_transaction() -> None:
    sites = two_sites()
    sites["SiteB"].events_lost = True
    c1, made = dialled(sites)
    sites.peer_down("SiteA", "SiteB")
    assert heard(sites["SiteA"], a) == [failed(c1.conn_id, made)]
    assert sites["SiteB"].core.iscc.table.reservations == {}  # type: ignore[union-attr]


# --- a call matched by network call id, before the origin told which ----------------------


def test_a_call_arriving_before_its_network_call_id_waits_for_it() -> None:
    sites = two_sites()
    sites.hold("SiteA", "SiteB", p.CallIdentified)
    c1, made = dialled(sites, XRouteType="Direct", UserData={"u": "1"})
    assert heard(sites["SiteB"], b) == []  # its events are held (docs: rule 2)
    sites.let_go("SiteA", "SiteB")
    assert heard(sites["SiteA"], a) == [
        {
            "Event": "EventRemoteConnectionSuccess",
            "ThisDN": A,
            "ConnID": c1.conn_id,
            "ReferenceID": made,
        }
    ]
    (ringing,) = heard(sites["SiteB"], b)
    assert (ringing["UserData"], ringing["LastTransferConnID"]) == ({"u": "1"}, c1.conn_id)


def test_a_call_whose_network_call_id_never_comes_goes_on_without_its_data() -> None:
    sites = two_sites()
    sites.hold("SiteA", "SiteB", p.CallIdentified)
    c1, made = dialled(sites, XRouteType="Direct", UserData={"u": "1"})
    sites.advance(2.1)  # [iscc] network-call-id-wait
    cb = Seen(sites["SiteB"].core.model.calls[0].conn_id, "1", call_type="Inbound")
    cb = cb.but(network_call_id="SiteA-1", trunk="SiteA", far=A)
    assert heard(sites["SiteB"], b) == [cb.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=B)]
    sites.advance(1.0)  # [iscc] timeout: the transaction is over
    assert heard(sites["SiteA"], a) == [failed(c1.conn_id, made)]


# --- what a broken or confused peer cannot do --------------------------------------------


def test_answers_for_transactions_that_do_not_exist_are_refused_or_ignored() -> None:
    sites = two_sites()
    wire = sites["SiteA"]
    wire.perform(wire.core.peer_message("SiteB", p.Reserved(xid="SiteA:99", resource="5100", token=""), wire.now()))  # fmt: skip
    wire.perform(wire.core.peer_message("SiteB", p.Matched(xid="SiteA:99", conn_id="x", dn=A), wire.now()))  # fmt: skip
    wire.perform(wire.core.peer_message("SiteB", p.Poll(id=1), wire.now()))
    sites.pump()
    assert heard(wire, a) == heard(wire, a2) == []
    assert wire.core.iscc.table.outgoing == {}  # type: ignore[union-attr]


def test_an_unusable_access_number_from_the_peer() -> None:
    sites = two_sites()
    sites.hold("SiteB", "SiteA")  # the real answer is held; a broken one comes instead
    made = make_call(sites)
    wire = sites["SiteA"]
    (xid,) = wire.core.iscc.table.outgoing  # type: ignore[union-attr]
    broken = p.Reserved(xid=xid, resource="7" * 70_000, token="")
    wire.perform(wire.core.peer_message("SiteB", broken, wire.now()))
    sites.pump()
    assert heard(wire, a) == [error(made, 1007, "the peer gave an unusable access number", A)]
    assert wire.core.model.calls == []
