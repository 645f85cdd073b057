from __future__ import annotations

from typing import Any

import pytest

from ctiserver.clock import FakeClock
from ctiserver.csta.call_control import MakeCall, MakeCallResponse
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import LinkDown, ServiceError
from ctiserver.ids import ClientId, DeviceId
from ctiserver.model.states import DnKind
from ctiserver.tlib.requests import check
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver import dispatch
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import ChangeMonitors, CoreSettings, Deliver, Output, SendToSwitch
from tests.model.events import delivered, established, initiated, originated

A, B, Q = DeviceId("7001"), DeviceId("7002"), DeviceId("8001")
DNS = {A: DnKind.EXTENSION, B: DnKind.EXTENSION, Q: DnKind.ACD_QUEUE}


class Harness:
    """A core with a fake clock, collecting what each client receives."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.core = TServerCore(
            settings=CoreSettings(name="tserver-a", answer_timeout=2.0),
            dns=DNS,
            started=self.clock.now(),
        )
        self.inbox: dict[ClientId, list[TMessage]] = {}
        self.sent: list[SendToSwitch] = []
        self.monitors: list[ChangeMonitors] = []
        self._next_reference = 100

    def perform(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, Deliver):
                for clients, event in output.copies():
                    for client in clients:
                        self.inbox.setdefault(client, []).append(event)
            elif isinstance(output, SendToSwitch):
                self.sent.append(output)
            elif isinstance(output, ChangeMonitors):
                self.monitors.append(output)

    def client(self, number: int, *dns: str) -> ClientId:
        client = ClientId(number)
        self.core.client_connected(client)
        self.ask(client, "RequestRegisterClient", ApplicationName=f"app{number}")
        for dn in dns:
            self.ask(client, "RequestRegisterAddress", ThisDN=dn)
        self.inbox[client] = []
        return client

    def ask(self, client: ClientId, request: str, **attributes: Any) -> int:
        self._next_reference += 1
        message = check({"Request": request, "ReferenceID": self._next_reference, **attributes})
        self.perform(self.core.request(client, message, self.clock.now()))
        return self._next_reference

    def event(self, dn: str, event: Any) -> None:
        self.perform(self.core.csta_event(DeviceId(dn), event, self.clock.now()))

    def take(self, client: ClientId) -> list[TMessage]:
        events, self.inbox[client] = self.inbox.get(client, []), []
        return events


def names(events: list[TMessage]) -> list[str]:
    return [event["Event"] for event in events]


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_register_client_answers_server_info_then_link_state(h: Harness) -> None:
    client = ClientId(1)
    h.core.client_connected(client)
    reference = h.ask(client, "RequestRegisterClient", ApplicationName="desk")
    info, link = h.take(client)
    assert info["Event"] == "EventServerInfo"
    assert info["ServerRole"] == "Primary"
    assert link["Event"] == "EventLinkDisconnected"
    assert info["ReferenceID"] == link["ReferenceID"] == reference
    assert info["Server"] == "tserver-a"
    assert link["EventSequenceNumber"] > info["EventSequenceNumber"]


def test_a_request_before_register_client_is_refused(h: Harness) -> None:
    client = ClientId(1)
    h.core.client_connected(client)
    h.ask(client, "RequestQueryServer")
    (error,) = h.take(client)
    assert error["Event"] == "EventError"
    assert "RequestRegisterClient" in error["ErrorMessage"]


def test_event_registered_carries_exactly_the_seed_attributes(h: Harness) -> None:
    client = h.client(1)
    reference = h.ask(client, "RequestRegisterAddress", ThisDN="7001", AddressType="DN")
    (event,) = h.take(client)
    assert set(event) == {
        "Event", "ThisDN", "InfoType", "InfoStatus", "Extensions",
        "ReferenceID", "Server", "EventSequenceNumber", "time",
    }  # fmt: skip
    assert event["ReferenceID"] == reference
    assert event["InfoType"] == "AddressType"
    assert event["InfoStatus"] == "DN"
    assert event["Extensions"] == {"status": "Idle", "calls": 0}


@pytest.mark.parametrize(
    ("attributes", "code", "fragment"),
    [
        ({"ThisDN": "9999"}, 59, "not configured"),
        ({"ThisDN": "8001", "AddressType": "DN"}, 53, "configured as Queue"),
    ],
)
def test_registration_refusals(
    h: Harness, attributes: dict[str, str], code: int, fragment: str
) -> None:
    client = h.client(1)
    h.ask(client, "RequestRegisterAddress", **attributes)
    (error,) = h.take(client)
    assert (error["Event"], error["ErrorCode"]) == ("EventError", code)
    assert fragment in error["ErrorMessage"]


def test_private_registration_excludes_others(h: Harness) -> None:
    first, second = h.client(1), h.client(2)
    h.ask(first, "RequestRegisterAddress", ThisDN="7001", RegisterMode="ModePrivate")
    h.ask(second, "RequestRegisterAddress", ThisDN="7001")
    (error,) = h.take(second)
    assert error["ErrorCode"] == 42


def test_unregister_twice_changes_nothing_the_second_time(h: Harness) -> None:
    client = h.client(1, "7001")
    h.ask(client, "RequestUnregisterAddress", ThisDN="7001")
    reference = h.ask(client, "RequestUnregisterAddress", ThisDN="7001")
    h.ask(client, "RequestUnregisterAddress", ThisDN="1234")
    done, ack, error = h.take(client)
    assert done["Event"] == "EventUnregistered"
    assert (ack["Event"], ack["ReferenceID"]) == ("EventACK", reference)
    assert error["ErrorCode"] == 59


def test_requests_on_unregistered_dns_and_unknown_calls(h: Harness) -> None:
    client = h.client(1, "7001")
    h.perform(h.core.link_up(h.clock.now()))
    h.take(client)
    h.ask(client, "RequestMakeCall", ThisDN="7002", OtherDN="7001")
    h.ask(client, "RequestAnswerCall", ThisDN="7001", ConnID="00000000000000ff")
    not_registered, unknown = h.take(client)
    assert not_registered["ErrorCode"] == 41
    assert unknown["ErrorCode"] == 56
    assert h.sent == []


def test_a_request_while_the_link_is_down_is_refused_at_once(h: Harness) -> None:
    client = h.client(1, "7001")
    h.ask(client, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    (error,) = h.take(client)
    assert error["ErrorCode"] == 54
    assert h.sent == []


def make_call(h: Harness) -> tuple[ClientId, ClientId, int]:
    h.perform(h.core.link_up(h.clock.now()))
    a, b = h.client(1, "7001"), h.client(2, "7002")
    reference = h.ask(
        a, "RequestMakeCall", ThisDN="7001", OtherDN="7002", UserData={"case": "A-17"}
    )
    (send,) = h.sent
    assert send.request == MakeCall(calling_device=A, called_directory_number=B)
    h.perform(
        h.core.csta_answer(
            send.token, MakeCallResponse(calling_device=ConnectionID("1", A)), h.clock.now()
        )
    )
    h.event("7001", initiated("1", A))
    h.event("7001", originated("1", A, B))
    h.event("7001", delivered("1", A, B))
    h.event("7002", delivered("1", A, B))
    return a, b, reference


def test_make_call_answers_with_dialing_and_user_data_travels(h: Harness) -> None:
    a, b, reference = make_call(h)
    (dialing,) = h.take(a)
    assert dialing["Event"] == "EventDialing"
    assert dialing["ReferenceID"] == reference
    assert dialing["UserData"] == {"case": "A-17"}
    assert (dialing["ThisDNRole"], dialing["OtherDN"], dialing["OtherDNRole"]) == (
        "Origination",
        "7002",
        "Destination",
    )
    (ringing,) = h.take(b)
    assert ringing["Event"] == "EventRinging"
    assert "ReferenceID" not in ringing
    assert ringing["UserData"] == {"case": "A-17"}
    assert ringing["ConnID"] == dialing["ConnID"]


def test_only_the_requester_copy_carries_the_reference_id(h: Harness) -> None:
    h.perform(h.core.link_up(h.clock.now()))
    a, watcher = h.client(1, "7001"), h.client(2, "7001")
    reference = h.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    h.event("7001", originated("1", A, B))
    (mine,), (theirs,) = h.take(a), h.take(watcher)
    assert mine["ReferenceID"] == reference
    assert "ReferenceID" not in theirs
    assert mine["EventSequenceNumber"] == theirs["EventSequenceNumber"]


def test_answering_carries_the_reference_id_and_others_do_not(h: Harness) -> None:
    a, b, _ = make_call(h)
    h.take(a), h.take(b)
    conn_id = h.core.model.calls[0].conn_id
    reference = h.ask(b, "RequestAnswerCall", ThisDN="7002", ConnID=conn_id)
    h.event("7001", established("1", A, B))
    h.event("7002", established("1", A, B))
    (at_a,), (at_b,) = h.take(a), h.take(b)
    assert "ReferenceID" not in at_a
    assert at_b["ReferenceID"] == reference


def test_a_switch_refusal_becomes_the_csta_error_code(h: Harness) -> None:
    h.perform(h.core.link_up(h.clock.now()))
    a = h.client(1, "7001")
    reference = h.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="x")
    error = ServiceError("operation", "invalidCalledDeviceID")
    h.perform(h.core.csta_failure(h.sent[0].token, error, h.clock.now()))
    (event,) = h.take(a)
    assert (event["ErrorCode"], event["ReferenceID"]) == (1145, reference)
    assert "invalidCalledDeviceID" in event["ErrorMessage"]


@pytest.mark.parametrize(("error", "code"), [(TimeoutError(), 57), (LinkDown("gone"), 54)])
def test_a_switch_that_does_not_answer(h: Harness, error: BaseException, code: int) -> None:
    h.perform(h.core.link_up(h.clock.now()))
    a = h.client(1, "7001")
    h.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    h.perform(h.core.csta_failure(h.sent[0].token, error, h.clock.now()))
    (event,) = h.take(a)
    assert event["ErrorCode"] == code


def test_an_accepted_request_with_no_event_gets_error_57_at_its_deadline(h: Harness) -> None:
    h.perform(h.core.link_up(h.clock.now()))
    a = h.client(1, "7001")
    h.ask(a, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    h.perform(
        h.core.csta_answer(
            h.sent[0].token, MakeCallResponse(calling_device=ConnectionID("1", A)), h.clock.now()
        )
    )
    h.clock.advance(1.9)
    h.perform(h.core.tick(h.clock.now()))
    assert h.take(a) == []
    h.clock.advance(0.2)
    h.perform(h.core.tick(h.clock.now()))
    (event,) = h.take(a)
    assert event["ErrorCode"] == 57
    assert len(h.core.correlator) == 0


def test_every_request_gets_exactly_one_answer_even_when_the_handler_breaks(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(core: TServerCore, ctx: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(dispatch.HANDLERS, "RequestQueryServer", broken)  # type: ignore[arg-type]
    client = h.client(1)
    h.ask(client, "RequestQueryServer")
    (event,) = h.take(client)
    assert (event["Event"], event["ErrorCode"]) == ("EventError", 52)
    assert "bug" not in event["ErrorMessage"]


def test_query_address_reports_the_calls(h: Harness) -> None:
    a, _b, _ = make_call(h)
    h.ask(a, "RequestQueryAddress", ThisDN="7002")
    *_, info = h.take(a)
    assert info["Event"] == "EventAddressInfo"
    assert info["InfoStatus"] == "Ringing"
    conn_id = h.core.model.calls[0].conn_id
    assert info["Extensions"] == {"status": "Ringing", "calls": 1, "conn-1": conn_id, "ps-1": 10}


def test_removed_dns_unregister_their_clients_without_reference_id(h: Harness) -> None:
    a = h.client(1, "7001", "7002")
    h.perform(h.core.reconfigure({A: DnKind.EXTENSION}, h.clock.now()))
    (event,) = h.take(a)
    assert event["Event"] == "EventUnregistered"
    assert event["ThisDN"] == "7002"
    assert "ReferenceID" not in event
    assert event["ErrorCode"] == 59
    assert "removed" in event["ErrorMessage"]
    assert h.monitors == [ChangeMonitors(start=(), stop=(B, Q))]


def test_sequence_numbers_strictly_increase_and_time_is_utc(h: Harness) -> None:
    a, _, _ = make_call(h)
    h.ask(a, "RequestQueryServer")
    events = [e for inbox in h.inbox.values() for e in inbox]
    numbers = sorted(event["EventSequenceNumber"] for event in events)
    assert len(set(numbers)) == len(numbers)
    assert all(event["time"].endswith("Z") and len(event["time"]) == 27 for event in events)
