"""calls.py: the call book kept from T-Library events, as the server sends them
(reference/call-models.md), without a server."""

from __future__ import annotations

from typing import Any

from ctiserver.orchestration.calls import (
    CallBook,
    CallChanged,
    CallEnded,
    CallsMerged,
    DnType,
    PartyState,
    PartyStateChanged,
    RouteRequested,
)

A, B, C, RP, Q = "7001", "7002", "7003", "5000", "8001"


def book(*followed: str) -> CallBook:
    calls = CallBook()
    for dn in followed:
        kind = DnType.ROUTING_POINT if dn == RP else DnType.QUEUE if dn == Q else DnType.EXTENSION
        calls.follow(dn, kind)
    return calls


def ev(name: str, dn: str, conn_id: str = "c1", **more: Any) -> Any:
    return {"Event": name, "ThisDN": dn, "ConnID": conn_id, "CallID": "9", **more}


def test_a_call_at_a_routing_point_then_routed_then_released() -> None:
    calls = book(A, B, RP)
    calls.apply(ev("EventDialing", A, ThisDNRole="Origination", CallType="Internal"))
    facts = calls.apply(
        ev(
            "EventRouteRequest",
            RP,
            ANI=A,
            DNIS=RP,
            OtherDN=A,
            OtherDNRole="Origination",
            UserData={"k": "v"},
        )
    )
    assert RouteRequested("c1", RP) in facts
    call = calls.call("c1")
    assert call is not None
    assert (call.ani, call.dnis, call.call_id, call.caller) == (A, RP, "9", A)
    assert call.user_data == {"k": "v"}
    assert calls.routing_point(call) == RP
    assert calls.focus(call) == A
    calls.apply(ev("EventRouteUsed", RP, ThirdPartyDN=B))
    calls.apply(ev("EventRinging", B))
    assert calls.focus(call) == B
    assert calls.busy(B)
    assert calls.routing_point(call) is None
    calls.apply(ev("EventEstablished", B))
    assert call.parties == {A: PartyState.DIALING, B: PartyState.ESTABLISHED}
    assert calls.apply(ev("EventReleased", A))[-1] == CallChanged("c1")
    assert calls.apply(ev("EventReleased", B))[-1] == CallEnded("c1")
    assert calls.call("c1") is None
    assert not calls.busy(B)


def test_a_call_routed_to_a_followed_dn_not_yet_ringing_is_kept() -> None:
    calls = book(B, RP)  # the caller is not followed
    calls.apply(ev("EventRouteRequest", RP))
    facts = calls.apply(ev("EventRouteUsed", RP, ThirdPartyDN=B))
    assert CallEnded("c1") not in facts  # B's EventRinging is on its way
    assert calls.busy(B)
    assert PartyStateChanged("c1", B, PartyState.RINGING) in calls.apply(ev("EventRinging", B))
    assert calls.apply(ev("EventReleased", B))[-1] == CallEnded("c1")


def test_a_dn_a_call_never_reached_is_free_when_the_call_ends() -> None:
    calls = book(A, B, RP)
    calls.apply(ev("EventDialing", A))
    calls.apply(ev("EventRouteRequest", RP))
    calls.apply(ev("EventRouteUsed", RP, ThirdPartyDN=B))
    assert calls.busy(B)
    assert calls.apply(ev("EventReleased", A))[-1] == CallEnded("c1")
    assert not calls.busy(B)


def test_a_call_routed_elsewhere_ends() -> None:
    calls = book(RP)
    calls.apply(ev("EventRouteRequest", RP))
    assert calls.apply(ev("EventRouteUsed", RP, ThirdPartyDN="7009"))[-1] == CallEnded("c1")


def test_a_completed_transfer_moves_the_party_and_merges_the_calls() -> None:
    calls = book(A, B, C)
    for event in (
        ev("EventEstablished", A),
        ev("EventEstablished", B),
        ev("EventHeld", B),
        ev("EventDialing", B, "c2", PreviousConnID="c1"),
        ev("EventEstablished", C, "c2", PreviousConnID="c1"),
    ):
        calls.apply(event)
    calls.apply(ev("EventReleased", B, "c2", CallState="Transferred"))
    facts = calls.apply(ev("EventPartyChanged", C, "c1", PreviousConnID="c2"))
    assert facts[:2] == [CallsMerged("c2", "c1"), PartyStateChanged("c2", C, None)]
    assert CallEnded("c2") in facts
    calls.apply(ev("EventReleased", B, "c1", CallState="Transferred"))
    call = calls.call("c1")
    assert call is not None
    assert call.parties == {
        A: PartyState.ESTABLISHED,
        C: PartyState.ESTABLISHED,
    }
    assert calls.common_party(call, call) == A


def test_registration_seeds_calls_and_data_changes_are_taken() -> None:
    calls = book()
    calls.follow(B, DnType.EXTENSION, ["c7"])
    assert calls.busy(B)
    assert calls.apply(
        {"Event": "EventAttachedDataChanged", "ConnID": "c7", "UserData": {"a": 1}}
    ) == [CallChanged("c7")]
    assert calls.apply({"Event": "EventAttachedDataChanged", "ConnID": "zz", "UserData": {}}) == []
    assert calls.apply(ev("EventReleased", B, "c7"))[-1] == CallEnded("c7")
    assert calls.apply({"Event": "EventAgentReady", "ThisDN": B}) == []
    assert calls.apply(ev("EventReleased", B, "unknown")) == []


def test_clear_ends_every_call() -> None:
    calls = book(A)
    calls.apply(ev("EventDialing", A))
    assert calls.clear() == [CallEnded("c1")]
    assert not calls.followed
