"""The refusals of the call models (docs/protocol.md §§ 3, 7): what the server refuses
itself (41, 53, 56, 59, requests before RequestRegisterClient), what the switch
refuses (1140-1199, with the reason in ErrorMessage), a switch that accepts and then
says nothing (57, after the answer timeout), no link (54), and Location without ISCC
(1005).  Every refusal is one EventError to the requester, with its ReferenceID."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.ids import ClientId
from tests.tserver.seen import ORIGINATION, Seen, error, heard
from tests.wire import Wire

A, B = "7001", "7002"
a = 1


def test_requests_before_register_client_are_refused() -> None:
    wire = Wire()
    client = ClientId(1)
    wire.inbox[client] = []
    wire.core.client_connected(client)
    refused = wire.ask(client, "RequestRegisterAddress", ThisDN=A)
    assert heard(wire, client) == [
        error(refused, 53, "the first request must be RequestRegisterClient", A)
    ]
    greeted = wire.ask(client, "RequestRegisterClient", ApplicationName="desk")
    answers = heard(wire, client)
    session = answers[0].get("ClientSessionID")
    assert isinstance(session, str)
    assert session
    assert answers == [
        {
            "Event": "EventServerInfo",
            "ServerVersion": "ctiserver 0.1.0",
            "ServerRole": "Primary",
            "ClientSessionID": session,
            "ReferenceID": greeted,
        },
        {"Event": "EventLinkConnected", "ReferenceID": greeted},
    ]


@pytest.mark.parametrize(
    ("line", "reference", "code", "message"),
    [
        ([1], 0, 53, "a request must be a JSON object"),
        ({"ReferenceID": 3}, 3, 53, 'a request needs "Request": "<RequestName>"'),
        ({"Request": "RequestFoo", "ReferenceID": 4}, 4, 51, "unknown request 'RequestFoo'"),
        (
            {"Request": "RequestMakeCall", "ReferenceID": 5, "ThisDN": A},
            5,
            53,
            "RequestMakeCall lacks OtherDN",
        ),
        (
            {"Request": "RequestMakeCall", "ReferenceID": 6, "ThisDN": 7001, "OtherDN": B},
            6,
            53,
            "ThisDN must be a non-empty string",
        ),
        (
            {"Request": "RequestMakeCall", "ReferenceID": 7, "ThisDN": A, "OtherDN": B, "Bogus": 1},
            7,
            53,
            "RequestMakeCall does not take the attribute 'Bogus'",
        ),
        (
            {"Request": "RequestMakeCall", "ThisDN": A, "OtherDN": B},
            0,
            53,
            "RequestMakeCall lacks ReferenceID",
        ),
    ],
)
def test_what_the_protocol_checks_refuse(
    line: Any, reference: int, code: int, message: str
) -> None:
    wire = Wire()
    client = wire.client(A)
    wire.say(client, line)
    assert heard(wire, client) == [error(reference, code, message)]
    assert wire.sent_to_switch == []


def test_a_dn_not_registered_not_configured_and_a_conn_id_not_there() -> None:
    wire = Wire()
    mine, theirs = wire.client(A), wire.client(B)
    not_mine = wire.ask(mine, "RequestMakeCall", ThisDN=B, OtherDN=A)
    unknown = wire.ask(mine, "RequestMakeCall", ThisDN="9999", OtherDN=A)
    wire.ask(theirs, "RequestMakeCall", ThisDN=B, OtherDN="7003")
    their_call = heard(wire, theirs)[0]["ConnID"]
    not_on_it = wire.ask(mine, "RequestReleaseCall", ThisDN=A, ConnID=their_call)
    no_such = wire.ask(mine, "RequestHoldCall", ThisDN=A, ConnID="00000000000000ff")
    assert heard(wire, mine) == [
        error(not_mine, 41, f"this client has not registered DN {B}", B),
        error(unknown, 59, "DN 9999 is not configured on this server", "9999"),
        error(not_on_it, 56, f"DN {A} is not on a call with ConnID {their_call}", A),
        error(no_such, 56, f"DN {A} is not on a call with ConnID 00000000000000ff", A),
    ]
    assert len(wire.sent_to_switch) == 1  # only B's call reached the switch


def test_the_switch_refusing_names_the_reason_and_the_dns_state() -> None:
    wire = Wire()
    client = wire.client(A)
    wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN="7003")
    c1 = heard(wire, client)[0]["ConnID"]
    busy = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B)
    answered = wire.ask(client, "RequestAnswerCall", ThisDN=A, ConnID=c1)
    assert heard(wire, client) == [
        error(
            busy,
            1160,
            "the switch refused RequestMakeCall: stateIncompatibility invalidCallingDeviceState",
            A,
        ),
        error(
            answered,
            1167,
            "the switch refused RequestAnswerCall: stateIncompatibility noCallToAnswer "
            f"(DN {A} is dialing on {c1})",
            A,
        ),
    ]


def test_a_switch_that_accepts_and_says_nothing_gets_57_at_the_answer_timeout() -> None:
    wire = Wire()
    client = wire.client(A)
    wire.events_lost = True
    reference = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B)
    assert heard(wire, client) == []
    assert wire.core.next_deadline() == wire.monotonic + 5.0
    wire.advance(4.9)
    assert heard(wire, client) == []
    wire.advance(0.2)
    message = "the switch accepted RequestMakeCall but reported no event for it within 5 s"
    assert heard(wire, client) == [error(reference, 57, message, A)]
    assert len(wire.core.correlator) == 0
    wire.advance(10)
    assert heard(wire, client) == []  # once


def test_an_answered_request_gets_no_57() -> None:
    wire = Wire()
    client = wire.client(A)
    wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN="1234")  # EventDialing answers it
    heard(wire, client)
    wire.advance(30)
    assert heard(wire, client) == []
    assert len(wire.core.correlator) == 0


def test_a_released_call_leaves_no_request_waiting_at_its_dn() -> None:
    # ReleaseCall expects EventReleased or EventAbandoned: once one has come, the DN is
    # off the call and the other cannot come; the request ends then, not at its deadline
    # (a request left waiting would be scanned by every later event at the DN).
    wire = Wire()
    caller, callee = wire.client(A), wire.client(B)
    wire.ask(caller, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, caller)
    conn_id = dialing["ConnID"]
    wire.ask(callee, "RequestAnswerCall", ThisDN=B, ConnID=conn_id)
    heard(wire, caller)
    released = wire.ask(caller, "RequestReleaseCall", ThisDN=A, ConnID=conn_id)
    assert [(e["Event"], e["ReferenceID"]) for e in heard(wire, caller)] == [
        ("EventReleased", released)
    ]
    assert [e["Event"] for e in heard(wire, callee)] == [
        "EventRinging",
        "EventEstablished",
        "EventReleased",
    ]
    assert len(wire.core.correlator) == 0
    wire.advance(30)
    assert heard(wire, caller) == []
    assert heard(wire, callee) == []


def test_no_link_to_the_switch() -> None:
    wire = Wire()
    client, watcher = wire.client(A), wire.client()
    wire.drop_link()
    assert heard(wire, client) == heard(wire, watcher) == [{"Event": "EventLinkDisconnected"}]
    refused = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B)
    assert heard(wire, client) == [
        error(refused, 54, "RequestMakeCall was not sent: the link to the switch is down", A)
    ]
    late = wire.client()
    greeted = wire.ask(late, "RequestRegisterClient", ApplicationName="late")
    assert heard(wire, late)[-1] == {"Event": "EventLinkDisconnected", "ReferenceID": greeted}
    wire.reconnect()
    assert heard(wire, client) == [{"Event": "EventLinkConnected"}]
    made = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, client)
    c1 = Seen(dialing["ConnID"], "1")
    assert dialing == c1.event("EventDialing", A, ORIGINATION, B, ReferenceID=made)


def test_location_without_iscc() -> None:
    wire = Wire()
    client = wire.client(A)
    elsewhere = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="SiteB")
    access = wire.ask(client, "RequestGetAccessNumber", ThisDN=A, Location="SiteB")
    cancel = wire.ask(client, "RequestCancelReqGetAccessNumber", XReferenceID=elsewhere)
    here_but = wire.ask(client, "RequestMakeCall", ThisDN=A, Location="SiteA")
    not_iscc = "ISCC is not configured on this server"
    assert heard(wire, client) == [
        error(elsewhere, 1005, not_iscc, A),
        error(access, 1005, not_iscc, A),
        error(cancel, 1005, not_iscc),
        error(here_but, 53, "RequestMakeCall for this site needs OtherDN", A),
    ]
    here = wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B, Location="SiteA")
    (dialing,) = heard(wire, client)  # this site's own Location means here
    assert (dialing["Event"], dialing["ReferenceID"]) == ("EventDialing", here)


def test_a_client_leaving_with_a_request_pending_is_not_answered() -> None:
    wire = Wire()
    client = wire.client(A)
    wire.events_lost = True
    wire.ask(client, "RequestMakeCall", ThisDN=A, OtherDN=B)
    wire.core.client_disconnected(client, wire.now())
    assert len(wire.core.correlator) == 0
    wire.advance(10)
    assert heard(wire, client) == []
