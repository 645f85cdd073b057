"""voice.py: which T-Library request each action element becomes, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.orchestration.calls import Call, CallBook, DnType, PartyState
from ctiserver.orchestration.elements import ActionRequest
from ctiserver.orchestration.outcomes import Action, ErrorValue
from ctiserver.orchestration.voice import Planned, Refused, plan

A, B, C, RP = "7001", "7002", "7003", "5000"
E, H, R = PartyState.ESTABLISHED, PartyState.HELD, PartyState.ROUTING


def setting() -> tuple[CallBook, Call, Call]:
    """A and B on c1, held by B; B and C on the consultation c2."""
    book = CallBook()
    for dn in (A, B, C):
        book.follow(dn, DnType.EXTENSION)
    book.follow(RP, DnType.ROUTING_POINT)
    c1 = Call("c1", caller=A, parties={A: E, B: H})
    c2 = Call("c2", caller=B, parties={B: E, C: E})
    return book, c1, c2


def planned(action: Action, **fields: Any) -> Planned | Refused:
    book, c1, c2 = setting()
    second = c2 if fields.get("consult_interaction_id") else None
    request = ActionRequest(action=action, request_id="r", **fields)
    return plan(request, book=book, first=c1, second=second)


def message(action: Action, **fields: Any) -> tuple[dict[str, Any], frozenset[str]]:
    result = planned(action, **fields)
    assert isinstance(result, Planned), result
    return dict(result.message), result.completes_on


@pytest.mark.parametrize(
    ("action", "fields", "expected", "answer"),
    [
        (Action.HOLD, {}, {"Request": "RequestHoldCall", "ThisDN": B, "ConnID": "c1"}, "EventHeld"),
        (
            Action.RETRIEVE,
            {"resource": A},
            {"Request": "RequestRetrieveCall", "ThisDN": A},
            "EventRetrieved",
        ),
        (
            Action.TERMINATE,
            {"reasons": {"r": "x"}},
            {"Request": "RequestClearCall", "Reasons": {"r": "x"}},
            "EventReleased",
        ),
        (
            Action.CONSULTATION,
            {"destination": C, "user_data": {"k": 1}},
            {"Request": "RequestInitiateTransfer", "OtherDN": C, "UserData": {"k": 1}},
            "EventDialing",
        ),
        (
            Action.CONSULTATION,
            {"destination": C, "kind": "conference"},
            {"Request": "RequestInitiateConference"},
            "EventDialing",
        ),
        (
            Action.REDIRECT,
            {"destination": C},
            {"Request": "RequestRedirectCall", "ThisDN": B, "OtherDN": C},
            "EventReleased",
        ),
        (
            Action.TRANSFER,
            {"destination": C},
            {"Request": "RequestSingleStepTransfer", "OtherDN": C},
            "EventReleased",
        ),
        (
            Action.TRANSFER,
            {"destination": C, "kind": "mute"},
            {"Request": "RequestMuteTransfer"},
            "EventReleased",
        ),
        (
            Action.CONFERENCE,
            {"destination": C},
            {"Request": "RequestSingleStepConference"},
            "EventACK",
        ),
        (
            Action.TRANSFER,
            {"consult_interaction_id": "i2"},
            {
                "Request": "RequestCompleteTransfer",
                "ThisDN": B,
                "ConnID": "c1",
                "TransferConnID": "c2",
            },
            "EventReleased",
        ),
        (
            Action.CONFERENCE,
            {"consult_interaction_id": "i2", "extensions": {"x": "y"}},
            {
                "Request": "RequestCompleteConference",
                "ConferenceConnID": "c2",
                "Extensions": {"x": "y"},
            },
            "EventPartyAdded",
        ),
        (
            Action.ALTERNATE,
            {"consult_interaction_id": "i2"},
            {"Request": "RequestAlternateCall", "ConnID": "c1", "TransferConnID": "c2"},
            "EventRetrieved",
        ),
        (
            Action.RECONNECT,
            {"consult_interaction_id": "i2"},
            {"Request": "RequestReconnectCall", "ConnID": "c1", "TransferConnID": "c2"},
            "EventRetrieved",
        ),
    ],
)
def test_requests(
    action: Action, fields: dict[str, Any], expected: dict[str, Any], answer: str
) -> None:
    sent, completes_on = message(action, **fields)
    assert expected.items() <= sent.items()
    assert completes_on == {answer, "EventACK"}


def test_createcall() -> None:
    request = ActionRequest(
        action=Action.CREATECALL,
        request_id="r",
        origin=A,
        destination=B,
        kind="agentpriority",
        user_data={"a": 1},
    )
    result = plan(request, book=CallBook(), first=None, second=None)
    assert isinstance(result, Planned)
    assert result.new_interaction
    assert result.message == {
        "Request": "RequestMakeCall",
        "ThisDN": A,
        "OtherDN": B,
        "MakeCallType": "DirectPriority",
        "UserData": {"a": 1},
    }


def test_the_held_call_is_conn_id_whichever_order_they_are_named_in() -> None:
    book, c1, c2 = setting()
    request = ActionRequest(action=Action.ALTERNATE, request_id="r", consult_interaction_id="i1")
    result = plan(request, book=book, first=c2, second=c1)
    assert isinstance(result, Planned)
    assert (result.message["ConnID"], result.message["TransferConnID"]) == ("c1", "c2")


def test_a_redirect_at_a_routing_point_routes() -> None:
    book, _, _ = setting()
    waiting = Call("c3", caller=A, parties={A: PartyState.DIALING, RP: R})
    request = ActionRequest(
        action=Action.REDIRECT, request_id="r", destination=B, user_data={"u": 1}
    )
    result = plan(request, book=book, first=waiting, second=None)
    assert isinstance(result, Planned)
    assert result.message == {
        "Request": "RequestRouteCall",
        "ThisDN": RP,
        "ConnID": "c3",
        "OtherDN": B,
        "RouteType": "Default",
        "UserData": {"u": 1},
    }


def test_refusals() -> None:
    book, c1, _ = setting()
    hold = ActionRequest(action=Action.HOLD, request_id="r")
    assert plan(hold, book=book, first=None, second=None) == Refused(
        ErrorValue.INVALID_STATE, "the interaction has no call"
    )
    assert plan(hold, book=book, first=Call("c9"), second=None) == Refused(
        ErrorValue.INVALID_SOURCE, "no party of the call is at a followed DN"
    )
    transfer = ActionRequest(action=Action.TRANSFER, request_id="r", consult_interaction_id="i2")
    assert plan(transfer, book=book, first=c1, second=None).error is ErrorValue.INVALID_STATE  # type: ignore[union-attr]
    apart = Call("c5", parties={C: E})
    assert plan(transfer, book=book, first=c1, second=apart) == Refused(
        ErrorValue.INVALID_SOURCE, "no followed extension is on both calls"
    )
