"""docs/pbxsim.md § 4.7-4.9: transfer, conference, single-step services, deflect."""

from __future__ import annotations

from ctiserver.csta.agents import SetAgentState
from ctiserver.csta.call_control import (
    ClearConnection,
    ConferenceCall,
    ConferenceCallResponse,
    ConsultationCall,
    DeflectCall,
    DeflectCallResponse,
    SingleStepConferenceCall,
    SingleStepConferenceCallResponse,
    SingleStepTransferCall,
    SingleStepTransferCallResponse,
    TransferCall,
    TransferCallResponse,
)
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.events import (
    ConferencedEvent,
    DeliveredEvent,
    DivertedEvent,
    EstablishedEvent,
    TransferedEvent,
)
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.routeing import RouteRegister, RouteSelect, RouteUsed
from ctiserver.csta.types import ConnectionListItem
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.config import PbxConfig, PbxsimSettings
from ctiserver.pbxsim.outcome import Reply

from .rig import CONFIG, MONITORED, C, Rig, error, ev
from .test_call_control import answer, established, make

OP, STATE, RESOURCES = (
    Cat.OPERATION,
    Cat.STATE_INCOMPATIBILITY,
    Cat.SYSTEM_RESOURCE_AVAILABILITY,
)


def item(old: tuple[int, str], new: tuple[int, str]) -> ConnectionListItem:
    return ConnectionListItem(old_connection=C(*old), new_connection=C(*new))


def consult(rig: Rig, b: str = "7002", c: str = "7003", answered: bool = True) -> None:
    """7001-7002 on call 1; 7002 holds it and consults *c* on call 2."""
    established(rig, "7001", b)
    rig.send(ConsultationCall(existing_call=C(1, b), consulted_device=c))  # type: ignore[arg-type]
    if answered:
        answer(rig, 2, c)


# --- § 4.7 TransferCall ------------------------------------------------------------------------


def test_transfer_moves_the_consulted_party_into_the_held_call(rig: Rig) -> None:
    consult(rig)
    outcome = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    moved = (item((1, "7001"), (1, "7001")), item((2, "7003"), (1, "7003")))
    assert outcome.effects[0] == Reply(
        TransferCallResponse(transferred_call=C(1, "7003"), connections=moved)
    )

    def transfered(lci: S) -> TransferedEvent:
        return ev(
            TransferedEvent,
            primary_old_call=C(1, "7002"),
            secondary_old_call=C(2, "7002"),
            transferring_device="7002",
            transferred_to_device="7003",
            transferred_connections=moved,
            local_connection_info=lci,
            cause=Cause.TRANSFER,
        )

    assert rig.events(outcome) == {
        "7001": [transfered(S.CONNECTED)],
        "7003": [transfered(S.CONNECTED)],
        "7002": [transfered(S.NULL)],
    }
    (call,) = rig.switch.view().calls
    assert call.call_id == "1"
    assert call.devices == ("7001", "7003")


def test_transfer_while_the_consulted_party_rings_it_answers_on_the_held_call(rig: Rig) -> None:
    consult(rig, answered=False)
    outcome = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert isinstance(outcome.response, TransferCallResponse)
    assert rig.events(outcome)["7003"][0].local_connection_info is S.ALERTING  # type: ignore[attr-defined]
    answered = answer(rig, 1, "7003")
    events = rig.events(answered)
    assert set(events) == {"7001", "7003"}
    established_event = events["7001"][0]
    assert isinstance(established_event, EstablishedEvent)
    assert established_event.established_connection == C(1, "7003")
    assert established_event.calling_device == "7001"  # the transferred party calls now


def test_transfer_while_the_consultation_waits_at_a_routing_device(rig: Rig) -> None:
    router = rig.connect()
    rig.send(RouteRegister(routeing_device=DeviceId("5000")), router)
    consult(rig, c="5000", answered=False)
    outcome = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert isinstance(outcome.response, TransferCallResponse)
    assert rig.switch.view().dialogues[0].call_id == "1"
    routed = rig.send(
        RouteSelect(
            route_register_req_id="1", routing_cross_ref_id="1", route_selected=DeviceId("7004")
        ),
        router,
    )
    used = routed.sent_to(router)[0]
    assert isinstance(used, RouteUsed)
    assert used.calling_device == "7001"
    delivered = rig.events(routed)["7004"][0]
    assert isinstance(delivered, DeliveredEvent)
    assert delivered.connection == C(1, "7004")
    assert delivered.calling_device == "7001"


def test_transfer_while_the_consultation_waits_in_an_acd_group(rig: Rig) -> None:
    consult(rig, c="8002", answered=False)
    rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert rig.switch.view().queued("8002") == ("1",)
    rig.send(
        SetAgentState(
            device=DeviceId("7004"),
            requested_agent_state=ReqAgentState.LOGGED_ON,
            agent_id="1001",
        )
    )
    outcome = rig.send(
        SetAgentState(device=DeviceId("7004"), requested_agent_state=ReqAgentState.READY)
    )
    delivered = rig.events(outcome)["7004"][-1]
    assert isinstance(delivered, DeliveredEvent)
    assert delivered.connection == C(1, "7004")


def test_transfer_errors(rig: Rig) -> None:
    consult(rig)
    swapped = rig.send(TransferCall(held_call=C(2, "7002"), active_call=C(1, "7002")))
    assert swapped.response == error(STATE, "invalidConnectionState")
    other = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7003")))
    assert other.response == error(OP, "invalidConnectionID")
    gone = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(9, "7002")))
    assert gone.response == error(OP, "invalidConnectionID")


def test_transfer_of_a_failed_consultation_is_refused(rig: Rig) -> None:
    established(rig)
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7999"))
    outcome = rig.send(TransferCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert outcome.response == error(STATE, "invalidConnectionState")


# --- § 4.8 ConferenceCall and SingleStepConferenceCall -----------------------------------------


def test_conference_joins_everyone_in_the_held_call(rig: Rig) -> None:
    consult(rig)
    outcome = rig.send(ConferenceCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    joined = (
        item((1, "7002"), (1, "7002")),
        item((1, "7001"), (1, "7001")),
        item((2, "7003"), (1, "7003")),
    )
    assert outcome.effects[0] == Reply(
        ConferenceCallResponse(conference_call=C(1, "7002"), connections=joined)
    )
    conferenced = ev(
        ConferencedEvent,
        primary_old_call=C(1, "7002"),
        secondary_old_call=C(2, "7002"),
        conferencing_device="7002",
        added_party="7003",
        conference_connections=joined,
        local_connection_info=S.CONNECTED,
        cause=Cause.CONFERENCE,
    )
    assert rig.events(outcome) == {
        "7001": [conferenced],
        "7002": [conferenced],
        "7003": [conferenced],
    }
    (call,) = rig.switch.view().calls
    assert {c.state for c in call.connections} == {S.CONNECTED}


def test_a_party_leaving_a_three_party_conference_leaves_the_call_going(rig: Rig) -> None:
    consult(rig)
    rig.send(ConferenceCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7002")))
    assert rig.kinds(outcome) == {
        "7001": ["ConnectionClearedEvent"],
        "7002": ["ConnectionClearedEvent"],
        "7003": ["ConnectionClearedEvent"],
    }
    assert rig.switch.view().call("1").devices == ("7001", "7003")  # type: ignore[union-attr]


def test_conference_needs_the_consulted_party_to_have_answered(rig: Rig) -> None:
    consult(rig, answered=False)
    outcome = rig.send(ConferenceCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    assert outcome.response == error(STATE, "invalidConnectionState")


def test_conference_size_is_limited() -> None:
    small = PbxConfig(stations=CONFIG.stations, settings=PbxsimSettings(conference_size=3))
    rig = Rig(small, monitored=("7001", "7002", "7003", "7004"))
    consult(rig)
    rig.send(ConferenceCall(held_call=C(1, "7002"), active_call=C(2, "7002")))
    rig.send(ConsultationCall(existing_call=C(1, "7002"), consulted_device="7004"))
    answer(rig, 3, "7004")
    outcome = rig.send(ConferenceCall(held_call=C(1, "7002"), active_call=C(3, "7002")))
    assert outcome.response == error(RESOURCES, "conferenceMemberLimitExceeded")
    single = rig.send(SingleStepConferenceCall(active_call=C(1, "7001"), device_to_join="7005"))
    assert single.response == error(RESOURCES, "conferenceMemberLimitExceeded")


def test_single_step_conference_rings_the_joining_device_in_the_call(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(SingleStepConferenceCall(active_call=C(1, "7002"), device_to_join="7003"))
    assert outcome.effects[0] == Reply(
        SingleStepConferenceCallResponse(conferenced_call=C(1, "7003"))
    )

    def delivered(lci: S) -> DeliveredEvent:
        return ev(
            DeliveredEvent,
            connection=C(1, "7003"),
            alerting_device="7003",
            calling_device="7002",
            called_device="7003",
            local_connection_info=lci,
            cause=Cause.SINGLE_STEP_CONFERENCE,
        )

    assert rig.events(outcome) == {
        "7001": [delivered(S.CONNECTED)],
        "7002": [delivered(S.CONNECTED)],
        "7003": [delivered(S.ALERTING)],
    }
    answered = answer(rig, 1, "7003")
    assert set(rig.events(answered)) == {"7001", "7002", "7003"}
    for events in rig.events(answered).values():
        assert events[0].cause is Cause.SINGLE_STEP_CONFERENCE  # type: ignore[attr-defined]


def test_single_step_conference_errors(rig: Rig) -> None:
    make(rig)
    ringing = rig.send(SingleStepConferenceCall(active_call=C(1, "7002"), device_to_join="7003"))
    assert ringing.response == error(STATE, "noActiveCall")
    answer(rig, 1, "7002")
    established(rig, "7004", "7005")
    cases = [
        ("7004", error(RESOURCES, "resourceBusy")),
        ("8001", error(OP, "invalidDestination")),
        ("7999", error(OP, "invalidDestination")),
        ("7001", error(OP, "invalidDestination")),
    ]
    for device, expected in cases:
        request = SingleStepConferenceCall(
            active_call=C(1, "7002"), device_to_join=DeviceId(device)
        )
        assert rig.send(request).response == expected, device


# --- § 4.9 SingleStepTransferCall and DeflectCall ----------------------------------------------


def test_single_step_transfer_moves_the_other_party_to_the_destination(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(SingleStepTransferCall(active_call=C(1, "7002"), transferred_to="7003"))
    assert outcome.effects[0] == Reply(
        SingleStepTransferCallResponse(transferred_call=C(1, "7003"))
    )

    def transfered(lci: S) -> TransferedEvent:
        return ev(
            TransferedEvent,
            primary_old_call=C(1, "7002"),
            transferring_device="7002",
            transferred_to_device="7003",
            transferred_connections=(item((1, "7001"), (1, "7001")),),
            local_connection_info=lci,
            cause=Cause.SINGLE_STEP_TRANSFER,
        )

    def delivered(lci: S) -> DeliveredEvent:
        return ev(
            DeliveredEvent,
            connection=C(1, "7003"),
            alerting_device="7003",
            calling_device="7001",
            called_device="7003",
            last_redirection_device="7002",
            local_connection_info=lci,
            cause=Cause.SINGLE_STEP_TRANSFER,
        )

    assert rig.events(outcome) == {
        "7001": [transfered(S.CONNECTED), delivered(S.CONNECTED)],
        "7002": [transfered(S.NULL)],
        "7003": [delivered(S.ALERTING)],
    }


def test_deflect_diverts_a_ringing_call(rig: Rig) -> None:
    make(rig)
    outcome = rig.send(DeflectCall(call_to_be_diverted=C(1, "7002"), new_destination="7003"))
    assert outcome.effects[0] == Reply(DeflectCallResponse())

    def diverted(lci: S) -> DivertedEvent:
        return ev(
            DivertedEvent,
            connection=C(1, "7002"),
            diverting_device="7002",
            new_destination="7003",
            calling_device="7001",
            called_device="7003",
            last_redirection_device="7002",
            local_connection_info=lci,
            cause=Cause.REDIRECTED,
        )

    def delivered(lci: S) -> DeliveredEvent:
        return ev(
            DeliveredEvent,
            connection=C(1, "7003"),
            alerting_device="7003",
            calling_device="7001",
            called_device="7003",
            last_redirection_device="7002",
            local_connection_info=lci,
            cause=Cause.REDIRECTED,
        )

    assert rig.events(outcome) == {
        "7001": [diverted(S.CONNECTED), delivered(S.CONNECTED)],
        "7002": [diverted(S.NULL)],
        "7003": [delivered(S.ALERTING)],
    }


def test_single_step_transfer_and_deflect_errors_change_nothing(rig: Rig) -> None:
    make(rig)
    established(rig, "7004", "7005")
    cases = [
        (DeflectCall(call_to_be_diverted=C(1, "7001"), new_destination="7003"), STATE),
        (DeflectCall(call_to_be_diverted=C(1, "7002"), new_destination="7999"), OP),
        (DeflectCall(call_to_be_diverted=C(1, "7002"), new_destination="7004"), RESOURCES),
        (SingleStepTransferCall(active_call=C(1, "7002"), transferred_to="7003"), STATE),
        (SingleStepTransferCall(active_call=C(2, "7005"), transferred_to="7999"), OP),
        (SingleStepTransferCall(active_call=C(2, "7005"), transferred_to="7001"), RESOURCES),
    ]
    expected_values = {
        STATE: "invalidConnectionState",
        OP: "invalidDestination",
        RESOURCES: "resourceBusy",
    }
    for request, category in cases:
        before = rig.switch.view()
        outcome = rig.send(request)
        assert outcome.effects == (Reply(error(category, expected_values[category])),), request
        assert rig.switch.view() == before


def test_single_step_transfer_to_an_acd_group_queues_the_call(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(SingleStepTransferCall(active_call=C(1, "7002"), transferred_to="8002"))
    assert rig.kinds(outcome) == {
        "7001": ["TransferedEvent", "QueuedEvent"],
        "7002": ["TransferedEvent"],
        "8002": ["QueuedEvent"],
    }
    assert MONITORED  # the rig monitors the queues too
