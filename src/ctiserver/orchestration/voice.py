"""From an action element to the T-Library request that performs it, and the event that
answers it.  Pure: `plan()` looks at the calls as the CallBook sees them and returns a
Planned request or says why it is Refused before anything is sent.

    createcall     RequestMakeCall                                  EventDialing
    hold           RequestHoldCall                                  EventHeld
    retrieve       RequestRetrieveCall                              EventRetrieved
    consultation   RequestInitiateTransfer (or …Conference)         EventDialing
    alternate      RequestAlternateCall                             EventRetrieved
    reconnect      RequestReconnectCall                             EventRetrieved
    conference     RequestCompleteConference                        EventPartyAdded
                   RequestSingleStepConference (with `to`)          EventACK
    transfer       RequestCompleteTransfer                          EventReleased
                   RequestSingleStepTransfer, RequestMuteTransfer   EventReleased
    redirect       RequestRouteCall (the call waits at a routing    EventRouteUsed
                   point), else RequestRedirectCall                 EventReleased
    terminate      RequestClearCall                                 EventReleased

Rule 1: the acting DN (ThisDN) is the `resource` attribute, else the call's focus
(CallBook.focus), else, for actions on two calls, the extension on both.
Rule 2: of two calls, the one held at the acting DN is ConnID, whatever order the
strategy named them in (alternate swaps which one is held).
Rule 3: EventACK answers any request that was valid and changed nothing: it is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.orchestration.calls import Call, CallBook, PartyState
from ctiserver.orchestration.elements import ActionRequest
from ctiserver.orchestration.outcomes import Action, ErrorValue
from ctiserver.tlib.vocabulary import MakeCallType, RouteType, TMessage

MAKE_CALL_TYPES: Final[Mapping[str, MakeCallType]] = {
    "regular": MakeCallType.REGULAR,
    "agent": MakeCallType.DIRECT_AGENT,
    "supervisor": MakeCallType.SUPERVISOR_ASSIST,
    "priority": MakeCallType.PRIORITY,
    "agentpriority": MakeCallType.DIRECT_PRIORITY,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """A request to send (without ReferenceID) and the events that answer it.

    Attributes:
        new_interaction: the answering event's ConnID is a new call that becomes an
            interaction of the session (createcall, consultation).
    """

    message: TMessage
    completes_on: frozenset[str]
    new_interaction: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    error: ErrorValue
    description: str


def plan(
    request: ActionRequest, *, book: CallBook, first: Call | None, second: Call | None
) -> Planned | Refused:
    """The request for *request*.  *first* is the call of its interaction, *second* that of
    its consultinteractionid; the caller has checked that those it names exist."""
    if request.action is Action.CREATECALL:
        return _createcall(request)
    if first is None:
        return Refused(ErrorValue.INVALID_STATE, "the interaction has no call")
    match request.action:
        case Action.ALTERNATE | Action.RECONNECT:
            return _two_calls(request, book, first, second)
        case Action.TRANSFER | Action.CONFERENCE if request.consult_interaction_id:
            return _two_calls(request, book, first, second)
        case Action.REDIRECT if (point := _routing_at(request, book, first)) is not None:
            return _route(request, point, first)
    dn = request.resource or book.focus(first)
    if dn is None:
        return Refused(ErrorValue.INVALID_SOURCE, "no party of the call is at a followed DN")
    return _one_call(request, dn, first)


def route_message(
    point: str, conn_id: str, destination: str, location: str | None = None
) -> TMessage:
    """RequestRouteCall: send the call waiting at *point* to *destination*, at another
    site (*location*, through ISCC, with the call's data) when one is named."""
    message: TMessage = {
        "Request": "RequestRouteCall",
        "ThisDN": point,
        "ConnID": conn_id,
        "OtherDN": destination,
        "RouteType": RouteType.DEFAULT.value,
    }
    if location is not None:
        message["Location"] = location
    return message


def _createcall(request: ActionRequest) -> Planned:
    message: TMessage = {
        "Request": "RequestMakeCall",
        "ThisDN": request.origin or "",
        "OtherDN": request.destination or "",
        "MakeCallType": MAKE_CALL_TYPES[request.kind or "regular"].value,
    }
    return _planned(request, message, "EventDialing", new_interaction=True)


def _one_call(request: ActionRequest, dn: str, call: Call) -> Planned | Refused:
    message: TMessage = {"ThisDN": dn, "ConnID": call.conn_id}
    match request.action:
        case Action.HOLD:
            return _planned(request, {"Request": "RequestHoldCall", **message}, "EventHeld")
        case Action.RETRIEVE:
            message = {"Request": "RequestRetrieveCall", **message}
            return _planned(request, message, "EventRetrieved")
        case Action.TERMINATE:
            return _planned(request, {"Request": "RequestClearCall", **message}, "EventReleased")
        case Action.CONSULTATION:
            name = "RequestInitiateConference" if request.kind == "conference" else None
            message = {"Request": name or "RequestInitiateTransfer", **message}
            return _planned(request, _to(request, message), "EventDialing", new_interaction=True)
        case Action.REDIRECT:
            message = {"Request": "RequestRedirectCall", **message}
            return _planned(request, _to(request, message, data=False), "EventReleased")
        case Action.TRANSFER:
            name = "RequestMuteTransfer" if request.kind == "mute" else "RequestSingleStepTransfer"
            return _planned(request, _to(request, {"Request": name, **message}), "EventReleased")
        case Action.CONFERENCE:
            message = {"Request": "RequestSingleStepConference", **message}
            return _planned(request, _to(request, message), "EventACK")
    raise ValueError(f"{request.action} is not an action on one call")


def _two_calls(
    request: ActionRequest, book: CallBook, first: Call, second: Call | None
) -> Planned | Refused:
    if second is None:
        return Refused(ErrorValue.INVALID_STATE, "the consultation interaction has no call")
    dn = request.resource or book.common_party(first, second)
    if dn is None:
        return Refused(ErrorValue.INVALID_SOURCE, "no followed extension is on both calls")
    if second.parties.get(dn) is PartyState.HELD and first.parties.get(dn) is not PartyState.HELD:
        first, second = second, first  # Rule 2
    names = {
        Action.ALTERNATE: ("RequestAlternateCall", "EventRetrieved"),
        Action.RECONNECT: ("RequestReconnectCall", "EventRetrieved"),
        Action.TRANSFER: ("RequestCompleteTransfer", "EventReleased"),
        Action.CONFERENCE: ("RequestCompleteConference", "EventPartyAdded"),
    }
    name, answer = names[request.action]
    message: TMessage = {"Request": name, "ThisDN": dn, "ConnID": first.conn_id}
    if request.action is Action.CONFERENCE:
        message["ConferenceConnID"] = second.conn_id
    else:
        message["TransferConnID"] = second.conn_id
    return _planned(request, message, answer)


def _routing_at(request: ActionRequest, book: CallBook, call: Call) -> str | None:
    """The routing point a redirect routes from: where the call waits, unless the
    strategy named another resource."""
    point = book.routing_point(call)
    if point is None or request.resource not in (None, point):
        return None
    return point


def _route(request: ActionRequest, point: str, call: Call) -> Planned:
    message = route_message(point, call.conn_id, request.destination or "")
    if request.user_data:
        message["UserData"] = request.user_data
    return _planned(request, message, "EventRouteUsed")


def _to(request: ActionRequest, message: TMessage, *, data: bool = True) -> TMessage:
    message["OtherDN"] = request.destination or ""
    if data and request.user_data:
        message["UserData"] = request.user_data
    return message


def _planned(
    request: ActionRequest, message: TMessage, answer: str, *, new_interaction: bool = False
) -> Planned:
    if request.extensions:
        message["Extensions"] = request.extensions
    if request.reasons:
        message["Reasons"] = request.reasons
    if request.action is Action.CREATECALL and request.user_data:
        message["UserData"] = request.user_data
    return Planned(
        message=message,
        completes_on=frozenset({answer, "EventACK"}),
        new_interaction=new_interaction,
    )
