"""Queries about the server and the sites, and the subscriptions of a reporting client
(docs/protocol.md, Queries): RequestQuerySwitch, RequestQueryLocation and its site
monitoring, RequestRegisterAll/UnregisterAll, RequestSetInputMask, and the reporting
InfoTypes of RequestQueryAddress."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.ids import ClientId, DeviceId
from ctiserver.security.applications import Application, Permission, Refusal, authorize
from ctiserver.security.passwords import hash_password
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import check
from tests.sites import SITE_A, SITE_B, Sites
from tests.tserver.seen import DESTINATION, ORIGINATION, Seen, error, heard, names
from tests.wire import DNS, QUEUE, Wire

A, B, C = "7001", "7002", "7003"


def connected(access_code: str = "9") -> dict[str, Any]:
    return {"status": "connected", "access-code": access_code}


def location(info_type: str, reference: int | None = None, **attributes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"Event": "EventLocationInfo", "LocationInfoType": info_type}
    event.update(attributes)
    if reference is not None:
        event["ReferenceID"] = reference
    return event


# --- RequestQuerySwitch ------------------------------------------------------------------------


def test_query_switch_answers_the_date_and_time() -> None:
    wire = Wire(wall=1_795_000_000.25)
    client = wire.client()
    asked = wire.ask(client, "RequestQuerySwitch")
    plain = wire.ask(client, "RequestQuerySwitch", SwitchInfoType="DateTime")
    answer = {
        "Event": "EventSwitchInfo",
        "SwitchInfoType": "DateTime",
        "TimeinSecs": 1_795_000_000,
        "TimeinuSecs": 250_000,
    }
    assert heard(wire, client) == [
        {**answer, "ReferenceID": asked},
        {**answer, "ReferenceID": plain},
    ]
    refused = wire.ask(client, "RequestQuerySwitch", SwitchInfoType="ClassifierStat")
    assert heard(wire, client) == [
        error(
            refused, 53, "SwitchInfoType ClassifierStat: a CSTA switch reports no call classifiers"
        )
    ]


# --- RequestQueryLocation ----------------------------------------------------------------------


def two_sites() -> tuple[Sites, Wire, ClientId]:
    sites = Sites(SITE_A, SITE_B)
    wire = sites["SiteA"]
    return sites, wire, wire.client()


def test_query_location_all_and_one() -> None:
    _sites, wire, client = two_sites()
    every = wire.ask(client, "RequestQueryLocation")
    named = wire.ask(client, "RequestQueryLocation", LocationInfoType="LocationData", Location="SiteB")  # fmt: skip
    assert heard(wire, client) == [
        location("AllLocations", every, LocationInfo={"SiteB": connected()}),
        location("LocationData", named, Location="SiteB", LocationInfo=connected()),
    ]


@pytest.mark.parametrize(
    ("attributes", "code", "message"),
    [
        (
            {"LocationInfoType": "LocationData"},
            1019,
            "LocationInfoType LocationData needs Location",
        ),
        (
            {"LocationInfoType": "LocationData", "Location": "SiteZ"},
            1000,
            "no site SiteZ is configured for ISCC",
        ),
        (
            {"LocationInfoType": "LocationMonitorCanceled"},
            1019,
            "LocationInfoType LocationMonitorCanceled is what the server answers, not a question",
        ),
        (
            {"LocationInfoType": "CancelMonitorLocation", "Location": "SiteB"},
            1019,
            "this client does not monitor the site SiteB",
        ),
        (
            {"LocationInfoType": "CancelMonitorAllLocations"},
            1019,
            "this client does not monitor every site (MonitorAllLocations)",
        ),
    ],
)
def test_query_location_refusals(attributes: dict[str, Any], code: int, message: str) -> None:
    _sites, wire, client = two_sites()
    refused = wire.ask(client, "RequestQueryLocation", **attributes)
    assert heard(wire, client) == [error(refused, code, message)]


def test_query_location_without_iscc() -> None:
    wire = Wire()
    client = wire.client()
    refused = wire.ask(client, "RequestQueryLocation")
    assert heard(wire, client) == [error(refused, 1005, "ISCC is not configured on this server")]


def test_monitoring_a_site_tells_each_change_of_its_server() -> None:
    sites, wire, client = two_sites()
    everything = wire.client()
    other = wire.client()
    watch = wire.ask(client, "RequestQueryLocation", LocationInfoType="MonitorLocation", Location="SiteB")  # fmt: skip
    all_of = wire.ask(everything, "RequestQueryLocation", LocationInfoType="MonitorAllLocations")  # fmt: skip
    assert heard(wire, client) == [
        location("MonitorLocation", watch, Location="SiteB", LocationInfo=connected())
    ]
    assert heard(wire, everything) == [
        location("MonitorAllLocations", all_of, LocationInfo={"SiteB": connected()})
    ]
    sites.peer_down("SiteA", "SiteB")
    down = location("LocationData", Location="SiteB", LocationInfo={"status": "disconnected", "access-code": "9"})  # fmt: skip
    assert heard(wire, client) == [down]
    assert heard(wire, everything) == [down]
    wire.perform(wire.core.peer_incompatible("SiteB", "ctiserver-iscc/9", wire.now()))
    odd = location("LocationData", Location="SiteB", LocationInfo={"status": "incompatible", "access-code": "9"})  # fmt: skip
    assert heard(wire, client) == [odd]
    assert heard(wire, everything) == [odd]
    sites.peer_up("SiteA", "SiteB")
    up = location("LocationData", Location="SiteB", LocationInfo=connected())
    assert heard(wire, client) == [up]
    assert heard(wire, everything) == [up]
    assert heard(wire, other) == []  # not a subscriber
    # Cancelled, each hears nothing more.
    cancel = wire.ask(client, "RequestQueryLocation", LocationInfoType="CancelMonitorLocation", Location="SiteB")  # fmt: skip
    cancel_all = wire.ask(everything, "RequestQueryLocation", LocationInfoType="CancelMonitorAllLocations")  # fmt: skip
    assert heard(wire, client) == [
        location("LocationMonitorCanceled", cancel, Location="SiteB", LocationInfo={})
    ]
    assert heard(wire, everything) == [
        location("AllLocationsMonitorCanceled", cancel_all, LocationInfo={})
    ]
    sites.peer_down("SiteA", "SiteB")
    assert heard(wire, client) == heard(wire, everything) == []


# --- RequestRegisterAll ------------------------------------------------------------------------


def test_register_all_takes_every_dns_events() -> None:
    later = DeviceId("7008")
    wire = Wire(dns={dn: kind for dn, kind in DNS.items() if dn != later})
    a = wire.client(A)
    reporting = wire.client()
    registered = wire.ask(reporting, "RequestRegisterAll")
    assert heard(wire, reporting) == [{"Event": "EventRegisteredAll", "ReferenceID": registered}]
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    assert heard(wire, reporting) == [
        c1.event("EventDialing", A, ORIGINATION, B),  # no ReferenceID: not its request
        c1.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=B),
    ]
    # It watches; it may not control a DN it did not register.
    refused = wire.ask(reporting, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    (answer,) = heard(wire, reporting)
    assert (answer["Event"], answer["ReferenceID"]) == ("EventError", refused)
    # A DN added to the configuration later is every DN too.
    wire.perform(wire.core.reconfigure(DNS, wire.now()))
    assert wire.core.clients_of(later) == [reporting]
    done = wire.ask(reporting, "RequestUnregisterAll")
    assert heard(wire, reporting) == [{"Event": "EventUnregisteredAll", "ReferenceID": done}]
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, reporting) == []
    again = wire.ask(reporting, "RequestUnregisterAll")
    assert heard(wire, reporting) == [
        error(again, 53, "this client has not registered every DN (RequestRegisterAll)")
    ]


def test_a_dn_registered_and_every_dn_hears_each_event_once() -> None:
    wire = Wire()
    both = wire.client(A)
    wire.ask(both, "RequestRegisterAll")
    heard(wire, both)
    wire.ask(both, "RequestMakeCall", ThisDN=A, OtherDN=B)
    assert names(heard(wire, both)) == ["EventDialing", "EventRinging"]
    # UnregisterAll leaves A; unregistering "*" as a DN is no way round it.
    refused = wire.ask(both, "RequestUnregisterAddress", ThisDN="*")
    wire.ask(both, "RequestUnregisterAll")
    assert heard(wire, both)[0] == error(refused, 59, "DN * is not configured on this server", "*")
    assert wire.core.clients_of(DeviceId(A)) == [both]


def test_register_all_survives_a_resumed_session() -> None:
    wire = Wire()
    reporting = wire.client()
    wire.ask(reporting, "RequestRegisterAll")
    wire.ask(reporting, "RequestSetInputMask", InputMask=["EventRinging"])
    session = wire.core.clients.session_of(reporting)
    last = heard(wire, reporting)
    wire.perform(wire.core.client_disconnected(reporting, wire.now()))
    a = wire.client(A)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    heard(wire, a)
    back = ClientId(99)
    wire.inbox[back] = []
    wire.core.client_connected(back)
    wire.ask(back, "RequestRegisterClient", ApplicationName="report", ClientSessionID=session, LastEventSequenceNumber=1)  # fmt: skip
    assert "EventRinging" in names(heard(wire, back))  # missed while away
    assert last  # (the answers before it left)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=wire.core.model.calls[0].conn_id)
    assert heard(wire, back) == []  # its mask came back with the session
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=C)
    assert names(heard(wire, back)) == ["EventRinging"]


# --- RequestSetInputMask -----------------------------------------------------------------------


def test_input_mask_keeps_the_events_named() -> None:
    wire = Wire()
    a = wire.client(A)
    masked = wire.client(A, B)
    set_mask = wire.ask(masked, "RequestSetInputMask", InputMask=["EventRinging", "EventReleased"])
    assert heard(wire, masked) == [{"Event": "EventACK", "ReferenceID": set_mask}]
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    assert names(heard(wire, masked)) == ["EventRinging"]
    # The answers to its own requests come whatever the mask.
    asked = wire.ask(masked, "RequestQueryAddress", ThisDN=B)
    assert [(e["Event"], e["ReferenceID"]) for e in heard(wire, masked)] == [
        ("EventAddressInfo", asked)
    ]
    answered = wire.ask(masked, "RequestAnswerCall", ThisDN=B, ConnID=c1.conn_id)
    assert [(e["Event"], e.get("ReferenceID")) for e in heard(wire, masked)] == [
        ("EventEstablished", answered)  # its answer (B's); A's EventEstablished is masked
    ]
    # An empty mask takes every event again.
    wire.ask(masked, "RequestSetInputMask", InputMask=[])
    heard(wire, masked)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert names(heard(wire, masked)) == ["EventReleased", "EventReleased"]


def test_answers_sent_later_come_whatever_the_mask() -> None:
    wire = Wire()
    router = wire.client()
    wire.ask(router, "RequestSetInputMask", InputMask=["EventRinging"])
    heard(wire, router)
    reserve = wire.ask(router, "RequestReserveAgent", ThisDN=C)
    wire.advance(0.1)  # the end of the request collection
    assert heard(wire, router) == [
        {"Event": "EventAgentReserved", "ThisDN": C, "ReferenceID": reserve}
    ]


def test_input_mask_refusals() -> None:
    wire = Wire()
    client = wire.client()
    refused = wire.ask(client, "RequestSetInputMask", InputMask=["EventRinging", "EventNope"])
    assert heard(wire, client) == [
        error(refused, 53, "InputMask names no events the server sends: EventNope")
    ]
    with pytest.raises(Exception, match="InputMask must be a list of at most 512 names"):
        check({"Request": "RequestSetInputMask", "ReferenceID": 1, "InputMask": "EventRinging"})
    with pytest.raises(Exception, match="InputMask must hold non-empty strings"):
        check({"Request": "RequestSetInputMask", "ReferenceID": 1, "InputMask": [""]})


# --- RequestQueryAddress: the InfoTypes of reporting ------------------------------------------


def info(wire: Wire, client: ClientId, dn: str, info_type: str) -> tuple[str, dict[str, Any]]:
    wire.ask(client, "RequestQueryAddress", ThisDN=dn, InfoType=info_type)
    (answer,) = heard(wire, client)
    assert answer["Event"] == "EventAddressInfo", answer
    return answer["InfoStatus"], answer["Extensions"]


def test_queue_login_audit_and_status() -> None:
    wire = Wire()
    client = wire.client()
    assert info(wire, client, QUEUE, "QueueStatus")[0] == "Vacant"
    assert info(wire, client, QUEUE, "QueueLoginAudit") == (
        "0",
        {
            "status": "Available",
            "calls": 0,
            "agents": 0,
            "ready-agents": 0,
            "waiting-calls": 0,
            "agents-logged-in": {},
        },
    )
    d = wire.client(C)
    wire.ask(d, "RequestAgentLogin", ThisDN=C, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="ManualIn")  # fmt: skip
    heard(wire, d)
    assert info(wire, client, QUEUE, "QueueStatus")[0] == "NotAvailable"
    status, extensions = info(wire, client, QUEUE, "QueueLoginAudit")
    assert (status, extensions["agents-logged-in"]) == ("1", {C: "1001"})
    wire.ask(d, "RequestAgentReady", ThisDN=C)
    assert info(wire, client, QUEUE, "QueueStatus")[0] == "Available"


def test_association_status_follows_the_link() -> None:
    wire = Wire()
    client = wire.client()
    assert info(wire, client, A, "AssociationStatus")[0] == "Associated"
    wire.drop_link()
    heard(wire, client)
    assert info(wire, client, A, "AssociationStatus")[0] == "NotAssociated"


def test_trunks_in_use_at_a_dn() -> None:
    sites = Sites(SITE_A, SITE_B)
    wire = sites["SiteA"]
    a = wire.client(A)
    assert info(wire, a, A, "NumberOfTrunksInUse") == ("0", {"status": "Idle", "calls": 0, "trunks": {}})  # fmt: skip
    sites.ask("SiteA", a, "RequestMakeCall", ThisDN=A, OtherDN="97101")
    heard(wire, a)
    status, extensions = info(wire, a, A, "NumberOfTrunksInUse")
    assert (status, extensions["trunks"]) == ("1", {"SiteASiteB": "in-use"})


def test_register_all_needs_every_dn_in_the_applications_scope() -> None:
    stored = hash_password("pw")
    scoped = Application("desk", stored, dns=frozenset({A}), dns_text=A)
    refusal = authorize(scoped, check({"Request": "RequestRegisterAll", "ReferenceID": 1}))
    assert refusal == Refusal(
        TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
        "application 'desk' may not register every DN (its DNs: 7001)",
    )
    watcher = Application("wall", stored, may=frozenset({Permission.CONTROL}))
    refusal = authorize(watcher, check({"Request": "RequestQuerySwitch", "ReferenceID": 1}))
    assert refusal is not None
    assert refusal.message.endswith("RequestQuerySwitch needs the 'monitor' permission")


# --- RequestQueryAddress: the InfoTypes of a DN's features ------------------------------------


def test_message_waiting_and_forwarding_status() -> None:
    wire = Wire()
    client = wire.client(A)
    assert info(wire, client, A, "MessageWaitingStatus")[0] == "Off"
    status, extensions = info(wire, client, A, "CallForwardingStatus")
    assert (status, extensions["forwarding"]) == ("Off", {})
    wire.ask(client, "RequestSetMessageWaitingOn", ThisDN=A)
    wire.ask(client, "RequestCallForwardSet", ThisDN=A, OtherDN=C, ForwardMode="OnBusyAndNoAnswer")
    heard(wire, client)
    assert info(wire, client, A, "MessageWaitingStatus")[0] == "On"
    status, extensions = info(wire, client, A, "CallForwardingStatus")
    assert (status, extensions["forwarding"]) == ("On", {"OnBusy": C, "OnNoAnswer": C})
    wire.ask(client, "RequestCallForwardCancel", ThisDN=A, ForwardMode="OnBusy")
    heard(wire, client)
    status, extensions = info(wire, client, A, "CallForwardingStatus")
    assert (status, extensions["forwarding"]) == ("On", {"OnNoAnswer": C})
    refused = wire.ask(client, "RequestQueryAddress", ThisDN=A, InfoType="SendAllCallsStatus")
    assert heard(wire, client) == [
        error(
            refused,
            53,
            "InfoType SendAllCallsStatus: no CSTA forwarding type says send-all-calls",
            A,
        )
    ]
