from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.csta import codec
from ctiserver.csta.call_control import MakeCall, MakeCallResponse
from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.events import DeliveredEvent
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.framing import wrap
from ctiserver.csta.session import INVOKE_IDS, NEED_DATA, CstaSession, Inbound, InvokeIds, Role
from ctiserver.csta.system import SystemStatus, SystemStatusResponse
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import InvokeId


def pair() -> tuple[CstaSession, CstaSession]:
    return CstaSession(Role.COMPUTING_FUNCTION), CstaSession(Role.SWITCHING_FUNCTION)


def receive(session: CstaSession, data: bytes) -> list[Inbound]:
    session.receive_data(data)
    received = []
    while (inbound := session.next_message()) is not NEED_DATA:
        received.append(inbound)
    return received


def test_request_reply_and_event_between_application_and_switch() -> None:
    application, switch = pair()
    request = MakeCall(calling_device="7001", called_directory_number="7002")
    invoke_id, data = application.send_request(request)
    (asked,) = receive(switch, data)
    assert asked == Inbound(invoke_id, request)
    response = MakeCallResponse(calling_device=ConnectionID("1", "7001"))
    (answered,) = receive(application, switch.send_response(invoke_id, response))
    assert answered == Inbound(invoke_id, response, request)
    assert application.outstanding == 0
    event = DeliveredEvent(monitor_cross_ref_id="9", connection=ConnectionID("1", "7002"))
    (told,) = receive(application, switch.send_event(event))
    assert told == Inbound(InvokeId(9999), event)


def test_error_response_answers_the_request() -> None:
    application, switch = pair()
    invoke_id, _ = application.send_request(
        MakeCall(calling_device="1", called_directory_number="2")
    )
    error = CSTAErrorCode(category=ErrorCategory.OPERATION, value="invalidDeviceID")
    (answered,) = receive(application, switch.send_response(invoke_id, error))
    assert answered.message == error
    assert answered.request is not None


def test_invoke_ids_cycle_and_skip_outstanding_ones() -> None:
    application = CstaSession(Role.COMPUTING_FUNCTION)
    request = SystemStatus(system_status=SystemStatusValue.NORMAL)
    first, _ = application.send_request(request)
    seen = {first}
    for _ in range(9997):
        invoke_id, _ = application.send_request(request)
        seen.add(invoke_id)
    assert seen == set(range(1, 9999))
    with pytest.raises(LocalProtocolError, match="outstanding"):
        application.send_request(request)


def test_a_window_of_requests_never_meets_an_invoke_id_still_outstanding() -> None:
    # 100,000 requests, 5,000 in flight at any time, answered oldest first
    application, switch = pair()
    request = SystemStatus(system_status=SystemStatusValue.NORMAL)
    in_flight: dict[InvokeId, None] = {}
    for _ in range(100_000):
        if len(in_flight) == 5_000:
            oldest = next(iter(in_flight))
            del in_flight[oldest]
            (answered,) = receive(application, switch.send_response(oldest, SystemStatusResponse()))
            assert answered.invoke_id == oldest
        invoke_id, _ = application.send_request(request)
        assert invoke_id not in in_flight
        assert 1 <= invoke_id <= 9998
        in_flight[invoke_id] = None
    assert application.outstanding == 5_000


def test_freed_invoke_ids_come_back_oldest_first() -> None:
    ids = InvokeIds()
    first = [ids.allocate() for _ in range(INVOKE_IDS)]
    assert first == list(range(1, 9999))
    for invoke_id in (InvokeId(500), InvokeId(7), InvokeId(9998)):
        ids.free(invoke_id)
    assert [ids.allocate() for _ in range(3)] == [500, 7, 9998]


def test_an_abandoned_invoke_id_is_reused_only_when_no_other_is_free() -> None:
    ids = InvokeIds()
    taken = [ids.allocate() for _ in range(INVOKE_IDS)]
    ids.abandon(taken[0])
    ids.free(taken[1])
    assert ids.allocate() == taken[1]  # the free one first
    assert ids.allocate() == taken[0]  # then, with nothing else free, the abandoned one
    assert not ids.late_reply(taken[0])  # reused: a reply under it is its new request's
    with pytest.raises(LocalProtocolError, match="outstanding"):
        ids.allocate()


def test_a_late_reply_frees_the_abandoned_invoke_id() -> None:
    ids = InvokeIds()
    taken = [ids.allocate() for _ in range(INVOKE_IDS)]
    ids.abandon(taken[5])
    assert ids.late_reply(taken[5])
    assert not ids.late_reply(taken[5])  # a second reply is not late, it is unknown
    assert ids.allocate() == taken[5]
    with pytest.raises(LocalProtocolError, match="outstanding"):
        ids.allocate()  # the quarantine's stale entry is skipped


def test_reply_to_an_unknown_invoke_id_is_a_remote_error_but_not_fatal() -> None:
    application, switch = pair()
    application.receive_data(switch.send_response(InvokeId(77), SystemStatusResponse()))
    with pytest.raises(RemoteProtocolError, match="0077") as caught:
        application.next_message()
    assert not caught.value.fatal


def test_a_late_reply_to_an_abandoned_request_is_dropped_quietly() -> None:
    application, switch = pair()
    invoke_id, _ = application.send_request(SystemStatus(system_status=SystemStatusValue.NORMAL))
    application.abandon(invoke_id)
    assert receive(application, switch.send_response(invoke_id, SystemStatusResponse())) == []


def test_requests_reusing_an_invoke_id_are_all_delivered() -> None:
    # some applications reuse invoke ids (reference/csta.md § 3); the switch echoes them
    switch = CstaSession(Role.SWITCHING_FUNCTION)
    request = SystemStatus(system_status=SystemStatusValue.NORMAL)
    frame = wrap(InvokeId(0), codec.encode(request, namespace=switch.namespace))
    assert receive(switch, frame + frame) == [Inbound(InvokeId(0), request)] * 2


def test_events_from_an_application_are_refused() -> None:
    switch = CstaSession(Role.SWITCHING_FUNCTION)
    event = DeliveredEvent(monitor_cross_ref_id="1", connection=ConnectionID("1", "2"))
    source = CstaSession(Role.SWITCHING_FUNCTION)
    switch.receive_data(source.send_event(event))
    with pytest.raises(RemoteProtocolError, match="application sent the event"):
        switch.next_message()


def test_an_undecodable_document_is_named_with_its_invoke_id() -> None:
    application = CstaSession(Role.COMPUTING_FUNCTION)
    application.receive_data(wrap(InvokeId(12), b"<not xml"))
    with pytest.raises(RemoteProtocolError, match="invoke id 0012"):
        application.next_message()


def test_closing_in_mid_frame_is_fatal() -> None:
    application = CstaSession(Role.COMPUTING_FUNCTION)
    application.receive_data(wrap(InvokeId(1), b"<x/>")[:6])
    application.receive_data(b"")
    with pytest.raises(RemoteProtocolError) as caught:
        application.next_message()
    assert caught.value.fatal


@given(st.binary(max_size=4096))
def test_garbage_fails_only_with_remote_protocol_error(data: bytes) -> None:
    session = CstaSession(Role.COMPUTING_FUNCTION)
    session.receive_data(data)
    session.receive_data(b"")
    for _ in range(100):
        try:
            if session.next_message() is NEED_DATA:
                break
        except RemoteProtocolError as exc:
            if exc.fatal:
                break
    with contextlib.suppress(RemoteProtocolError):
        session.next_message()
