"""Call models § 12 and the requests about DNs (call-models.md; docs/protocol.md §§ 2, 4,
6): attached user data, queries of calls, DNs and the server, and registration modes,
with the exact events each client receives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tserver.seen import DESTINATION, ORIGINATION, Seen, error, heard
from tests.wire import QUEUE, Wire

A, B, C = "7001", "7002", "7003"
a, b, x = 1, 2, 3  # the clients of A and B, and one that registered nothing


def talking(wire: Wire) -> Seen:
    wire.client(A), wire.client(B), wire.client()
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    wire.ask(b, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    heard(wire, a), heard(wire, b)
    return c1


def ack(reference: int, this_dn: str, conn_id: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"Event": "EventACK", "ThisDN": this_dn, "ReferenceID": reference}
    if conn_id is not None:
        event["ConnID"] = conn_id
    return event


def test_every_change_reaches_every_party_with_the_whole_user_data() -> None:
    wire = Wire()
    c1 = talking(wire)
    attached = wire.ask(a, "RequestAttachUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"k": "1", "n": {"deep": 2}})  # fmt: skip
    c1 = c1.but(user_data={"k": "1", "n": {"deep": 2}})
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, A, ReferenceID=attached)]
    assert heard(wire, b) == [c1.data_changed(B, DESTINATION, A)]
    updated = wire.ask(b, "RequestUpdateUserData", ThisDN=B, ConnID=c1.conn_id, UserData={"k": "2"})  # fmt: skip
    c1 = c1.but(user_data={"k": "2", "n": {"deep": 2}})
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, B)]
    assert heard(wire, b) == [c1.data_changed(B, DESTINATION, B, ReferenceID=updated)]
    deleted = wire.ask(b, "RequestDeletePair", ThisDN=B, ConnID=c1.conn_id, Key="k")
    c1 = c1.but(user_data={"n": {"deep": 2}})
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, B)]
    assert heard(wire, b) == [c1.data_changed(B, DESTINATION, B, ReferenceID=deleted)]
    cleared = wire.ask(a, "RequestDeleteUserData", ThisDN=A, ConnID=c1.conn_id)
    c1 = c1.but(user_data={})
    assert heard(wire, a) == [c1.data_changed(A, ORIGINATION, A, ReferenceID=cleared)]
    assert heard(wire, b) == [c1.data_changed(B, DESTINATION, A)]
    assert heard(wire, x) == []


def test_a_change_that_changes_nothing_is_acknowledged() -> None:
    wire = Wire()
    c1 = talking(wire)
    nothing = wire.ask(a, "RequestDeleteUserData", ThisDN=A, ConnID=c1.conn_id)
    no_key = wire.ask(a, "RequestDeletePair", ThisDN=A, ConnID=c1.conn_id, Key="k")
    assert heard(wire, a) == [ack(nothing, A, c1.conn_id), ack(no_key, A, c1.conn_id)]
    wire.ask(a, "RequestAttachUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"k": "1"})
    heard(wire, a), heard(wire, b)
    same = wire.ask(b, "RequestUpdateUserData", ThisDN=B, ConnID=c1.conn_id, UserData={"k": "1"})
    assert heard(wire, b) == [ack(same, B, c1.conn_id)]
    assert heard(wire, a) == []


def test_user_data_stays_with_the_call_through_hold_and_transfer() -> None:
    wire = Wire()
    c1 = talking(wire)
    c = wire.client(C)
    wire.ask(a, "RequestAttachUserData", ThisDN=A, ConnID=c1.conn_id, UserData={"k": "1"})
    wire.ask(b, "RequestSingleStepTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    (ringing,) = heard(wire, c)
    assert (ringing["ConnID"], ringing["UserData"]) == (c1.conn_id, {"k": "1"})


def test_query_call() -> None:
    wire = Wire()
    c1 = talking(wire)
    reference = wire.ask(a, "RequestQueryCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, a) == [
        {
            "Event": "EventPartyInfo",
            "ThisDN": A,
            "ThisDNRole": ORIGINATION,
            "ConnID": c1.conn_id,
            "CallID": "1",
            "CallType": "Internal",
            "UserData": {},
            "Extensions": {
                "number-of-parties": 2,
                "party-1": A,
                "ps-1": 12,
                "party-2": B,
                "ps-2": 12,
            },
            "ReferenceID": reference,
        }
    ]


@pytest.mark.parametrize(
    ("info_type", "status"),
    [
        ("AddressStatus", "Talking"),
        ("DNStatus", "Talking"),
        ("AddressType", "DN"),
        ("CallsQuery", "1"),
        ("AgentStatus", "LoggedOut"),
    ],
)
def test_query_address(info_type: str, status: str) -> None:
    wire = Wire()
    c1 = talking(wire)
    reference = wire.ask(x, "RequestQueryAddress", ThisDN=A, InfoType=info_type)
    assert heard(wire, x) == [
        {
            "Event": "EventAddressInfo",
            "ThisDN": A,
            "InfoType": info_type,
            "InfoStatus": status,
            "Extensions": {"status": "Talking", "calls": 1, "conn-1": c1.conn_id, "ps-1": 12},
            "ReferenceID": reference,
        }
    ]


@pytest.mark.parametrize(
    ("dn", "info_type", "code", "message"),
    [
        (A, "NumberOfAgentsInQueue", 53, "DN 7001 is not an ACD queue"),
        (A, "QueueStatus", 53, "DN 7001 is not an ACD queue"),
        (A, "QueueLoginAudit", 53, "DN 7001 is not an ACD queue"),
        (
            A,
            "NumberOfIdleTrunks",
            53,
            "InfoType NumberOfIdleTrunks: the switch tells no one how many trunks it has",
        ),
        (
            A,
            "DatabaseValue",
            53,
            "InfoType DatabaseValue: the switch keeps no database values for the server",
        ),
        ("9999", "AddressStatus", 59, "DN 9999 is not configured on this server"),
    ],
)
def test_query_address_refusals(dn: str, info_type: str, code: int, message: str) -> None:
    wire = Wire()
    client = wire.client()
    reference = wire.ask(client, "RequestQueryAddress", ThisDN=dn, InfoType=info_type)
    assert heard(wire, client) == [error(reference, code, message, dn)]


def test_the_status_of_a_dn_with_several_calls_is_its_most_significant() -> None:
    wire = Wire()
    c1 = talking(wire)
    wire.ask(b, "RequestInitiateTransfer", ThisDN=B, ConnID=c1.conn_id, OtherDN=C)
    c2 = heard(wire, b)[1]["ConnID"]
    reference = wire.ask(x, "RequestQueryAddress", ThisDN=B)
    (info,) = heard(wire, x)
    assert info["InfoStatus"] == "Dialing"  # dialing beats held
    assert info["Extensions"] == {
        "status": "Dialing",
        "calls": 2,
        "conn-1": c1.conn_id,
        "ps-1": 14,
        "conn-2": c2,
        "ps-2": 65537,
    }
    assert info["ReferenceID"] == reference


def test_query_server() -> None:
    wire = Wire()
    client = wire.client()
    reference = wire.ask(client, "RequestQueryServer")
    assert heard(wire, client) == [
        {
            "Event": "EventServerInfo",
            "ServerVersion": "ctiserver 0.1.0",
            "ServerRole": "Primary",
            "ReferenceID": reference,
        }
    ]


# --- registration (docs/protocol.md § 2) --------------------------------------------------


def test_a_monitoring_registration_hears_events_but_may_not_control_the_dn() -> None:
    wire = Wire()
    c1 = talking(wire)
    wire.ask(x, "RequestRegisterAddress", ThisDN=A, RegisterMode="ModeMonitor")
    heard(wire, x)
    wire.ask(a, "RequestHoldCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, x) == [c1.event("EventHeld", A, ORIGINATION, B)]
    refused = wire.ask(x, "RequestRetrieveCall", ThisDN=A, ConnID=c1.conn_id)
    message = f"this client registered DN {A} in ModeMonitor, which does not control it"
    assert heard(wire, x) == [error(refused, 41, message, A)]


def test_a_private_registration_excludes_every_other_client() -> None:
    wire = Wire()
    first, second = wire.client(A), wire.client()
    refused = wire.ask(second, "RequestRegisterAddress", ThisDN=A, RegisterMode="ModePrivate")
    held = wire.ask(second, "RequestRegisterAddress", ThisDN=C, RegisterMode="ModePrivate")
    shared = wire.ask(first, "RequestRegisterAddress", ThisDN=C)
    assert heard(wire, second) == [
        error(
            refused, 42, f"DN {A} is registered by another client; ModePrivate needs it alone", A
        ),
        {
            "Event": "EventRegistered",
            "ThisDN": C,
            "InfoType": "AddressType",
            "InfoStatus": "DN",
            "Extensions": {"status": "Idle", "calls": 0},
            "ReferenceID": held,
        },
    ]
    assert heard(wire, first) == [
        error(shared, 42, f"DN {C} is registered by another client in ModePrivate", C)
    ]


def test_registration_and_unregistration() -> None:
    wire = Wire()
    client = wire.client()
    registered = wire.ask(client, "RequestRegisterAddress", ThisDN=QUEUE, AddressType="Queue")
    again = wire.ask(client, "RequestRegisterAddress", ThisDN=QUEUE)
    mismatch = wire.ask(client, "RequestRegisterAddress", ThisDN=A, AddressType="Queue")
    unregistered = wire.ask(client, "RequestUnregisterAddress", ThisDN=QUEUE)
    not_there = wire.ask(client, "RequestUnregisterAddress", ThisDN=QUEUE)
    unknown = wire.ask(client, "RequestUnregisterAddress", ThisDN="9999")
    queue_status = {
        "status": "Available",
        "calls": 0,
        "agents": 0,
        "ready-agents": 0,
        "waiting-calls": 0,
    }
    registration = {
        "Event": "EventRegistered",
        "ThisDN": QUEUE,
        "InfoType": "AddressType",
        "InfoStatus": "Queue",
        "Extensions": queue_status,
    }
    assert heard(wire, client) == [
        {**registration, "ReferenceID": registered},
        {**registration, "ReferenceID": again},
        error(
            mismatch,
            53,
            f"AddressType Queue does not match DN {A}, which is configured as DN",
            A,
        ),
        {"Event": "EventUnregistered", "ThisDN": QUEUE, "ReferenceID": unregistered},
        ack(not_there, QUEUE),
        error(unknown, 59, "DN 9999 is not configured on this server", "9999"),
    ]


def test_a_client_that_leaves_is_kept_for_its_resume_window_then_forgotten() -> None:
    wire = Wire()
    c1 = talking(wire)
    wire.core.client_disconnected(b, wire.now())  # type: ignore[arg-type]
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert [e["Event"] for e in heard(wire, b)] == ["EventReleased"]  # kept for a resume
    wire.advance(60.5)
    assert wire.core.clients_of(B) == []  # type: ignore[arg-type]
