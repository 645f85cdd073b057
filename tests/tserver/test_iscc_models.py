"""Call models § 14 (call-models.md; docs/iscc.md): calls moved to another site with
every transaction type, by every request that moves a call, with their UserData; the
links that carry UserData changes and party events between the instances of a call,
through transfers and across three sites; access numbers.  Two or three sites in memory
(tests/sites.py), with the exact events each party's client receives."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.ids import DeviceId
from ctiserver.pbxsim.phone import HangUp
from tests.sites import SITE_A, SITE_B, SITE_C, Sites
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, REMOTE, Seen, heard

A, A2, POINT_A = "7001", "7002", "5000"
B, B2, DEFAULT_B = "7101", "7102", "7105"


def came_from(
    conn_id: str, dn: str, location: str = "SiteA", first: tuple[str, str, str] | None = None
) -> dict[str, str]:
    """The CallHistory attributes of a call that came from *location*, its journey having
    begun at *first* (location, ConnID, DN) when that was elsewhere (docs/iscc.md)."""
    first_location, first_conn_id, first_dn = first or (location, conn_id, dn)
    return {
        "LastTransferConnID": conn_id,
        "LastTransferHomeLocation": location,
        "LastTransferOrigDN": dn,
        "FirstTransferConnID": first_conn_id,
        "FirstTransferHomeLocation": first_location,
        "FirstTransferOrigDN": first_dn,
    }


def across_from_a(dialled: str, call: int = 1) -> dict[str, str]:
    """What SiteA's events say of a call that left on the trunk to SiteB (docs/protocol.md
    § 5): its NetworkCallID, the trunk, and the number dialled across it."""
    return {"network_call_id": f"SiteA-{call}", "trunk": "SiteASiteB", "far": dialled}


def across_to_b(caller: str, call: int = 1) -> dict[str, str]:
    """What SiteB's events say of a call that came in from SiteA."""
    return {"network_call_id": f"SiteA-{call}", "trunk": "SiteA", "far": caller}


def remote(name: str, this_dn: str, conn_id: str, reference: int) -> dict[str, Any]:
    return {"Event": name, "ThisDN": this_dn, "ConnID": conn_id, "ReferenceID": reference}


def conn_of(sites: Sites, location: str) -> str:
    """The ConnID of the newest call at *location*."""
    return sites[location].core.model.calls[-1].conn_id


# --- RequestMakeCall with each transaction type -------------------------------------------

THROUGH_ROUTING_POINTS = {"Route": "5100", "RouteUUI": "5100", "DNISPooling": "6000"}
DIRECT = ["Direct", "DirectNetworkCallID", "DirectUUI", "DirectDigits", "DirectANI", "DirectNoToken"]  # fmt: skip


@pytest.mark.parametrize("xroute", [*THROUGH_ROUTING_POINTS, *DIRECT])
def test_a_call_made_to_another_site(xroute: str) -> None:
    sites = Sites(SITE_A, SITE_B)
    a = sites["SiteA"].client(A)
    b = sites["SiteB"].client(B, "5100", "6000")
    made = sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="SiteB", XRouteType=xroute, UserData={"case": "7"})  # fmt: skip
    resource = THROUGH_ROUTING_POINTS.get(xroute, B)
    dialing, reached, success = heard(sites["SiteA"], a)
    c1 = Seen(dialing["ConnID"], "1", call_type="Outbound", user_data={"case": "7"})
    assert dialing == c1.event(
        "EventDialing", A, ORIGINATION, "9" + resource, ReferenceID=made
    )  # the access number: SiteB's access code and the resource
    c1 = c1.but(**across_from_a("9" + resource))
    assert reached == c1.event("EventNetworkReached", A, ORIGINATION, "9" + resource)
    assert success == remote("EventRemoteConnectionSuccess", A, c1.conn_id, made)
    cb = Seen(conn_of(sites, "SiteB"), "1", call_type="Inbound", user_data={"case": "7"})
    cb = cb.but(**across_to_b(A))
    history = came_from(c1.conn_id, A)
    ringing = cb.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=resource, **history)
    if xroute in THROUGH_ROUTING_POINTS:  # routed on by the server itself: no RouteRequest
        ringing["ThisQueue"] = resource
        routed = cb.event(
            "EventRouteUsed",
            resource,
            DESTINATION,
            A,
            ThisQueue=resource,
            ThirdPartyDN=B,
            ThirdPartyDNRole="Destination",
            **history,
        )
        assert heard(sites["SiteB"], b) == [routed, ringing]
    else:
        assert heard(sites["SiteB"], b) == [ringing]


def linked_call(sites: Sites) -> tuple[int, int, Seen, Seen]:
    """A at SiteA called B at SiteB (direct-uui), B answered; inboxes empty."""
    a, b = sites["SiteA"].client(A), sites["SiteB"].client(B)
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="SiteB", XRouteType="DirectUUI")  # fmt: skip
    c1 = Seen(heard(sites["SiteA"], a)[0]["ConnID"], "1", call_type="Outbound")
    c1 = c1.but(**across_from_a("9" + B))
    cb = Seen(conn_of(sites, "SiteB"), "1", call_type="Inbound", **across_to_b(A))
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb.conn_id)
    heard(sites["SiteA"], a), heard(sites["SiteB"], b)
    return a, b, c1, cb


def test_user_data_changes_cross_to_the_other_site_both_ways() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, b, c1, cb = linked_call(sites)
    attached = sites.ask("SiteB", b, "RequestAttachUserData", ThisDN=B, ConnID=cb.conn_id, UserData={"b": "1"})  # fmt: skip
    c1, cb = c1.but(user_data={"b": "1"}), cb.but(user_data={"b": "1"})
    history = came_from(c1.conn_id, A)
    assert heard(sites["SiteB"], b) == [
        {**cb.data_changed(B, DESTINATION, B, ReferenceID=attached)}
    ]
    assert heard(sites["SiteA"], a) == [c1.data_changed(A, ORIGINATION, B)]
    deleted = sites.ask("SiteA", a, "RequestDeleteUserData", ThisDN=A, ConnID=c1.conn_id)
    c1, cb = c1.but(user_data={}), cb.but(user_data={})
    assert heard(sites["SiteA"], a) == [c1.data_changed(A, ORIGINATION, A, ReferenceID=deleted)]
    assert heard(sites["SiteB"], b) == [cb.data_changed(B, DESTINATION, A)]
    sites.phone("SiteB", HangUp(DeviceId(B)))
    assert heard(sites["SiteB"], b) == [
        cb.event("EventReleased", B, DESTINATION, A, released=LOCAL, **history)
    ]
    assert heard(sites["SiteA"], a) == [
        c1.event("EventReleased", A, ORIGINATION, "9" + B, released=REMOTE)
    ]
    assert sites["SiteA"].core.model.calls == sites["SiteB"].core.model.calls == []


# --- the other requests that move a call ---------------------------------------------------


def talking_at_a(sites: Sites) -> tuple[int, int, Seen]:
    """A2 called A at SiteA, A answered: c1.  B at SiteB is registered; inboxes empty."""
    a, a2 = sites["SiteA"].client(A), sites["SiteA"].client(A2)
    b = sites["SiteB"].client(B)
    sites.ask("SiteA", a2, "RequestMakeCall", ThisDN=A2, OtherDN=A)
    c1 = Seen(heard(sites["SiteA"], a2)[0]["ConnID"], "1")
    sites.ask("SiteA", a, "RequestAnswerCall", ThisDN=A, ConnID=c1.conn_id)
    heard(sites["SiteA"], a), heard(sites["SiteA"], a2)
    assert b == 1
    return a, a2, c1


def test_a_consultation_to_another_site_then_transfer() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, a2, c1 = talking_at_a(sites)
    b = 1
    asked = sites.ask("SiteA", a, "RequestInitiateTransfer", ThisDN=A, ConnID=c1.conn_id, OtherDN=B, Location="SiteB", UserData={"t": "1"})  # fmt: skip
    held, dialing, reached, success = heard(sites["SiteA"], a)
    c2 = Seen(dialing["ConnID"], "2", "Consult", {"t": "1"}, previous=c1.conn_id)
    linked = {"TransferConnID": c1.conn_id}
    assert [held, dialing, reached, success] == [
        c1.event("EventHeld", A, DESTINATION, A2, ReferenceID=asked),
        c2.event("EventDialing", A, ORIGINATION, "95100", ReferenceID=asked, **linked),
        c2.but(**across_from_a("95100")).event(
            "EventNetworkReached", A, ORIGINATION, "95100", **linked
        ),
        remote("EventRemoteConnectionSuccess", A, c2.conn_id, asked),
    ]
    cb = Seen(conn_of(sites, "SiteB"), "1", "Inbound", {"t": "1"}, **across_to_b(A))
    assert heard(sites["SiteB"], b) == [
        cb.event(
            "EventRinging",
            B,
            DESTINATION,
            A,
            ThisQueue="5100",
            ANI=A,
            DNIS="5100",
            **came_from(c2.conn_id, A),
        )
    ]
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb.conn_id)
    heard(sites["SiteA"], a), heard(sites["SiteB"], b)
    done = sites.ask("SiteA", a, "RequestCompleteTransfer", ThisDN=A, ConnID=c1.conn_id, TransferConnID=c2.conn_id)  # fmt: skip
    assert [e["Event"] for e in heard(sites["SiteA"], a)] == ["EventReleased", "EventReleased"]
    (changed,) = heard(sites["SiteA"], a2)
    assert (changed["Event"], changed["OtherDN"], changed["ThirdPartyDN"]) == (
        "EventPartyChanged",
        "95100",
        A,
    )
    assert done
    # The link follows the call that remains at SiteA: c1, with A2.
    origin = sites["SiteB"].core.model.call(cb.conn_id).origin  # type: ignore[union-attr]
    assert (origin.location, origin.conn_id) == ("SiteA", c1.conn_id)  # type: ignore[union-attr]
    sites.ask("SiteB", b, "RequestAttachUserData", ThisDN=B, ConnID=cb.conn_id, UserData={"n": "2"})  # fmt: skip
    c1 = c1.but(user_data={"t": "1", "n": "2"})
    assert heard(sites["SiteA"], a2) == [c1.data_changed(A2, ORIGINATION, B)]


def test_a_conference_with_another_site() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, _a2, c1 = talking_at_a(sites)
    b = 1
    asked = sites.ask("SiteA", a, "RequestInitiateConference", ThisDN=A, ConnID=c1.conn_id, OtherDN=B, Location="SiteB")  # fmt: skip
    held, dialing, reached, success = heard(sites["SiteA"], a)
    assert (dialing["ConferenceConnID"], reached["Event"], success["Event"]) == (
        c1.conn_id,
        "EventNetworkReached",
        "EventRemoteConnectionSuccess",
    )
    cb = conn_of(sites, "SiteB")
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb)
    sites.ask("SiteA", a, "RequestCompleteConference", ThisDN=A, ConnID=c1.conn_id, ConferenceConnID=dialing["ConnID"])  # fmt: skip
    assert [e["Event"] for e in heard(sites["SiteA"], a)][-3:] == [
        "EventReleased",
        "EventRetrieved",
        "EventPartyAdded",
    ]
    assert asked
    assert held


def test_single_step_transfer_to_another_site() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, a2, c1 = talking_at_a(sites)
    b = 1
    moved = sites.ask("SiteA", a, "RequestSingleStepTransfer", ThisDN=A, ConnID=c1.conn_id, OtherDN=B, Location="SiteB", XRouteType="DirectUUI")  # fmt: skip
    assert heard(sites["SiteA"], a) == [
        c1.event(
            "EventReleased",
            A,
            DESTINATION,
            A2,
            state="Transferred",
            ReferenceID=moved,
            released=LOCAL,
        ),
        remote("EventRemoteConnectionSuccess", A, c1.conn_id, moved),
    ]
    by = {"ThirdPartyDN": A, "ThirdPartyDNRole": "TransferredBy"}
    assert heard(sites["SiteA"], a2) == [
        c1.event("EventPartyChanged", A2, ORIGINATION, "9" + B, state="Transferred", **by)
    ]
    cb = Seen(conn_of(sites, "SiteB"), "1", "Inbound", **across_to_b(A2))
    # The caller is A2: a single-step transfer keeps the call's caller (ANI).
    assert heard(sites["SiteB"], b) == [
        cb.event("EventRinging", B, DESTINATION, A2, ANI=A2, DNIS=B, **came_from(c1.conn_id, A))
    ]


def test_mute_transfer_to_another_site() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, _a2, c1 = talking_at_a(sites)
    moved = sites.ask("SiteA", a, "RequestMuteTransfer", ThisDN=A, ConnID=c1.conn_id, OtherDN=B, Location="SiteB", XRouteType="Direct")  # fmt: skip
    events = heard(sites["SiteA"], a)
    assert [e["Event"] for e in events] == [
        "EventHeld",
        "EventDialing",
        "EventNetworkReached",
        "EventRemoteConnectionSuccess",
        "EventReleased",
        "EventReleased",
    ]
    # The transfer completes only once the consultation is offered at SiteB,
    # so the remote site's answer comes before the two calls are released.
    assert events[3] == remote("EventRemoteConnectionSuccess", A, events[1]["ConnID"], moved)
    assert [e["Event"] for e in heard(sites["SiteB"], 1)] == ["EventRinging"]


def test_a_router_routes_a_call_to_another_site() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, router = sites["SiteA"].client(A), sites["SiteA"].client(POINT_A)
    b = sites["SiteB"].client(B2)
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=POINT_A, UserData={"r": "1"})
    c1 = Seen(heard(sites["SiteA"], a)[0]["ConnID"], "1", user_data={"r": "1"})
    heard(sites["SiteA"], router)
    routed = sites.ask("SiteA", router, "RequestRouteCall", ThisDN=POINT_A, ConnID=c1.conn_id, OtherDN=B2, Location="SiteB", XRouteType="RouteUUI")  # fmt: skip
    used = {"ThirdPartyDN": "95100", "ThirdPartyDNRole": "Destination", "ThisQueue": POINT_A}
    assert heard(sites["SiteA"], router) == [
        c1.event("EventRouteUsed", POINT_A, DESTINATION, A, ReferenceID=routed, **used),
        remote("EventRemoteConnectionSuccess", POINT_A, c1.conn_id, routed),
    ]
    (ringing,) = heard(sites["SiteB"], b)
    assert (ringing["ThisDN"], ringing["UserData"], ringing["LastTransferOrigDN"]) == (
        B2,
        {"r": "1"},
        POINT_A,
    )


def test_the_destinations_default_dn_when_other_dn_is_left_out() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, default = sites["SiteA"].client(A), sites["SiteB"].client(DEFAULT_B)
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, Location="SiteB", XRouteType="DirectUUI")
    assert [e["Event"] for e in heard(sites["SiteA"], a)] == [
        "EventDialing",
        "EventNetworkReached",
        "EventRemoteConnectionSuccess",
    ]
    assert [e["Event"] for e in heard(sites["SiteB"], default)] == ["EventRinging"]


def test_the_transaction_type_from_extensions() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, b = sites["SiteA"].client(A), sites["SiteB"].client(B)
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="tserver-b@SiteB", Extensions={"iscc-xaction-type": "direct-uui"})  # fmt: skip
    dialing, _reached, _success = heard(sites["SiteA"], a)
    assert dialing["OtherDN"] == "9" + B  # direct: the DN itself, not a routing point
    assert [e["Event"] for e in heard(sites["SiteB"], b)] == ["EventRinging"]


# --- calls returned to the site they came from ---------------------------------------------


def test_pullback_returns_a_call_to_where_it_came_from() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, a2, c1 = talking_at_a(sites)
    b = 1
    sites.ask("SiteA", a, "RequestSingleStepTransfer", ThisDN=A, ConnID=c1.conn_id, OtherDN=B, Location="SiteB", XRouteType="DirectUUI")  # fmt: skip
    heard(sites["SiteA"], a), heard(sites["SiteA"], a2)
    cb = Seen(conn_of(sites, "SiteB"), "1", "Inbound", **across_to_b(A2))
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb.conn_id)
    heard(sites["SiteB"], b), heard(sites["SiteA"], a2)
    pulled = sites.ask("SiteB", b, "RequestSingleStepTransfer", ThisDN=B, ConnID=cb.conn_id, Location="SiteA", XRouteType="PullBack")  # fmt: skip
    history = came_from(c1.conn_id, A)
    assert heard(sites["SiteB"], b) == [
        cb.event(
            "EventReleased",
            B,
            DESTINATION,
            A2,
            state="Transferred",
            ReferenceID=pulled,
            released=LOCAL,
            **history,
        ),
        remote("EventRemoteConnectionSuccess", B, cb.conn_id, pulled),
    ]
    # Back to A, the DN it left SiteA from: an inbound call, from SiteB now, on the
    # network call of its trip back (SiteB's).
    back_in = {"network_call_id": "SiteB-1", "trunk": "SiteB", "far": A2}
    c2 = Seen(conn_of(sites, "SiteA"), "2", "Inbound", **back_in)
    back = came_from(cb.conn_id, B, "SiteB", first=("SiteA", c1.conn_id, A))
    assert heard(sites["SiteA"], a) == [
        c2.event("EventRinging", A, DESTINATION, A2, ANI=A2, DNIS=A, **back)
    ]


def test_reroute_sends_a_call_back_to_its_routing_point() -> None:
    sites = Sites(SITE_A, SITE_B)
    a, router = sites["SiteA"].client(A), sites["SiteA"].client(POINT_A)
    b = sites["SiteB"].client(B)
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN=POINT_A)
    c1 = heard(sites["SiteA"], a)[0]["ConnID"]
    heard(sites["SiteA"], router)
    sites.ask("SiteA", router, "RequestRouteCall", ThisDN=POINT_A, ConnID=c1, OtherDN=B, Location="SiteB", XRouteType="DirectUUI")  # fmt: skip
    heard(sites["SiteA"], router)
    cb = conn_of(sites, "SiteB")
    sites.ask("SiteB", b, "RequestAnswerCall", ThisDN=B, ConnID=cb)
    heard(sites["SiteB"], b)
    sent = sites.ask("SiteB", b, "RequestSingleStepTransfer", ThisDN=B, ConnID=cb, Location="SiteA", XRouteType="Reroute")  # fmt: skip
    released, success = heard(sites["SiteB"], b)
    assert (released["Event"], released["CallState"]) == ("EventReleased", "Transferred")
    assert success == remote("EventRemoteConnectionSuccess", B, cb, sent)
    (request,) = heard(sites["SiteA"], router)  # offered to the router again
    assert (request["Event"], request["ThisDN"], request["LastTransferHomeLocation"]) == (
        "EventRouteRequest",
        POINT_A,
        "SiteB",
    )


# --- access numbers -------------------------------------------------------------------------


def test_get_access_number_and_cancel_it() -> None:
    sites = Sites(SITE_A, SITE_B)
    a = sites["SiteA"].client(A)
    asked = sites.ask("SiteA", a, "RequestGetAccessNumber", ThisDN=A, OtherDN=B, Location="SiteB", XRouteType="Route")  # fmt: skip
    assert heard(sites["SiteA"], a) == [
        {
            "Event": "EventAnswerAccessNumber",
            "AccessNumber": "95100",
            "ThisDN": A,
            "ReferenceID": asked,
        }
    ]
    pending = sites.ask("SiteA", a, "RequestGetAccessNumber", ThisDN=A, OtherDN=B, Location="SiteB", XRouteType="Route")  # fmt: skip
    (answer,) = heard(sites["SiteA"], a)
    assert answer["AccessNumber"] == "95101"  # 5100 is reserved for the first
    cancelled = sites.ask("SiteA", a, "RequestCancelReqGetAccessNumber", XReferenceID=pending)
    assert heard(sites["SiteA"], a) == [
        {
            "Event": "EventReqGetAccessNumberCanceled",
            "XReferenceID": pending,
            "ReferenceID": cancelled,
        }
    ]


def test_get_access_number_of_this_site() -> None:
    sites = Sites(SITE_A, SITE_B)
    b = sites["SiteB"].client(B)
    sites.ask("SiteB", b, "RequestMakeCall", ThisDN=B, OtherDN=B2)
    cb = heard(sites["SiteB"], b)[0]["ConnID"]
    here = sites.ask("SiteB", b, "RequestGetAccessNumber", ThisDN=B, ConnID=cb, OtherDN=B2, XRouteType="DNISPooling")  # fmt: skip
    own = sites.ask("SiteB", b, "RequestGetAccessNumber", ThisDN=B, OtherDN=B2, Location="SiteB", XRouteType="Direct")  # fmt: skip
    assert heard(sites["SiteB"], b) == [
        {
            "Event": "EventAnswerAccessNumber",
            "AccessNumber": "6000",
            "ThisDN": B,
            "ConnID": cb,
            "ReferenceID": here,
        },
        {
            "Event": "EventAnswerAccessNumber",
            "AccessNumber": B2,
            "ThisDN": B,
            "ReferenceID": own,
        },
    ]


# --- three sites: relays, CallHistory, party events ----------------------------------------


def test_a_call_across_three_sites_keeps_its_history_and_relays_user_data() -> None:
    sites = Sites(SITE_A, SITE_B, SITE_C)
    a, b, c1, cb = linked_call(sites)
    c = sites["SiteC"].client("7201")
    sites.ask("SiteB", b, "RequestSingleStepTransfer", ThisDN=B, ConnID=cb.conn_id, OtherDN="7201", Location="SiteC", XRouteType="DirectUUI")  # fmt: skip
    heard(sites["SiteB"], b), heard(sites["SiteA"], a)
    (ringing,) = heard(sites["SiteC"], c)
    history = came_from(cb.conn_id, B, "SiteB", first=("SiteA", c1.conn_id, A))
    assert {k: ringing[k] for k in history} == history
    assert sites["SiteB"].core.model.calls == []  # B left: SiteB is a relay now
    cc = ringing["ConnID"]
    attached = sites.ask("SiteC", c, "RequestAttachUserData", ThisDN="7201", ConnID=cc, UserData={"c": "3"})  # fmt: skip
    (mine,) = heard(sites["SiteC"], c)
    assert (mine["ReferenceID"], mine["UserData"]) == (attached, {"c": "3"})
    assert heard(sites["SiteA"], a) == [c1.but(user_data={"c": "3"}).data_changed(A, ORIGINATION, "7201")]  # fmt: skip
    sites.ask("SiteA", a, "RequestUpdateUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"a": "1"})  # fmt: skip
    (changed,) = heard(sites["SiteC"], c)
    assert (changed["UserData"], changed["ThirdPartyDN"]) == ({"c": "3", "a": "1"}, A)


def test_party_events_cross_to_the_other_site_with_event_propagation() -> None:
    sites = Sites(SITE_A, SITE_B, event_propagation=True)
    a, b, c1, cb = linked_call(sites)
    b2 = sites["SiteB"].client(B2)
    sites.ask("SiteB", b, "RequestSingleStepConference", ThisDN=B, ConnID=cb.conn_id, OtherDN=B2)
    sites.ask("SiteB", b2, "RequestAnswerCall", ThisDN=B2, ConnID=cb.conn_id)
    heard(sites["SiteB"], b)
    assert heard(sites["SiteA"], a) == [
        c1.event(
            "EventPartyAdded",
            A,
            ORIGINATION,
            B2,
            other_role="NewParty",
            state="Conferenced",
            ThirdPartyDN=B,
            ThirdPartyDNRole="AddedBy",
            RemoteLocation="SiteB",
            RemoteConnID=cb.conn_id,
            RemoteDN=B2,
        )
    ]
    sites.ask("SiteB", b2, "RequestReleaseCall", ThisDN=B2, ConnID=cb.conn_id)
    (deleted,) = heard(sites["SiteA"], a)
    assert (deleted["Event"], deleted["OtherDN"], deleted["RemoteLocation"]) == (
        "EventPartyDeleted",
        B2,
        "SiteB",
    )
