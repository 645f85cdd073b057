"""docs/pbxsim.md § 4.12: call characteristics on MakeCall and in RouteSelect's private
data (priority calls, direct-agent calls, supervisor assist) and the DNIS a router gives."""

from __future__ import annotations

from ctiserver.csta.call_control import ClearConnection, MakeCall, MakeCallResponse
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.events import DeliveredEvent, QueuedEvent
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.routeing import ReRoute, RouteSelect
from ctiserver.csta.types import CallCharacteristics, PrivateElement
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.outcome import Outcome

from .rig import C, Rig, error, leaf, private
from .test_acd import agent
from .test_call_control import answer
from .test_routing import register

PRIORITY = CallCharacteristics(priority_call=True)
DIRECT = CallCharacteristics(direct_agent=True)


def make(rig: Rig, a: str, b: str, characteristics: CallCharacteristics | None) -> Outcome:
    return rig.send(
        MakeCall(
            calling_device=DeviceId(a),
            called_directory_number=DeviceId(b),
            call_characteristics=characteristics,
        )
    )


def call_id(outcome: Outcome) -> str:
    response = outcome.response
    assert isinstance(response, MakeCallResponse)
    return response.calling_device.call_id


def test_a_priority_call_queues_ahead_of_the_others(rig: Rig) -> None:
    first = make(rig, "7001", "8001", None)
    priority = make(rig, "7002", "8001", PRIORITY)
    (queued,) = [e for e in rig.events(priority)["8001"] if isinstance(e, QueuedEvent)]
    assert (queued.number_queued, queued.calls_in_front) == (2, 0)
    assert queued.call_characteristics == PRIORITY
    later = make(rig, "7003", "8001", PRIORITY)
    (third,) = [e for e in rig.events(later)["8001"] if isinstance(e, QueuedEvent)]
    assert (third.number_queued, third.calls_in_front) == (3, 1)  # behind the first priority
    agent(rig, "7005", ReqAgentState.LOGGED_ON, "1001", "8001")
    handed = agent(rig, "7005", ReqAgentState.READY)
    (delivered,) = [e for e in rig.events(handed)["7005"] if isinstance(e, DeliveredEvent)]
    assert delivered.connection.call_id == call_id(priority)
    assert call_id(first) != call_id(priority)


def test_a_direct_agent_call_is_an_acd_call_of_the_agents_group(rig: Rig) -> None:
    agent(rig, "7005", ReqAgentState.LOGGED_ON, "1001", "8001")
    agent(rig, "7005", ReqAgentState.READY)
    outcome = make(rig, "7001", "7005", DIRECT)
    (delivered,) = [e for e in rig.events(outcome)["7005"] if isinstance(e, DeliveredEvent)]
    assert delivered.call_characteristics == DIRECT
    assert delivered.cause is Cause.NEW_CALL
    call = int(call_id(outcome))
    answer(rig, call, "7005")
    rig.send(ClearConnection(connection_to_be_cleared=C(call, "7001")))
    # the queue's wrap-up time follows an ACD call (docs/pbxsim.md § 4.11)
    seen = rig.switch.view().agent("1001")
    assert seen is not None
    assert seen.status is AgentStatus.WORKING_AFTER_CALL


def test_a_direct_agent_call_to_a_station_without_an_agent_is_refused(rig: Rig) -> None:
    outcome = make(rig, "7001", "7002", DIRECT)
    assert outcome.response == error(Cat.STATE_INCOMPATIBILITY, "invalidCalledDeviceState")
    assert rig.switch.view().calls == ()


def test_supervisor_assist_needs_an_agent_at_the_calling_station(rig: Rig) -> None:
    assist = CallCharacteristics(assist_call=True)
    refused = make(rig, "7001", "7002", assist)
    assert refused.response == error(Cat.OPERATION, "requestIncompatibleWithCallingDevice")
    agent(rig, "7001", ReqAgentState.LOGGED_ON, "1001", "8001")
    outcome = make(rig, "7001", "7002", assist)
    (delivered,) = [e for e in rig.events(outcome)["7002"] if isinstance(e, DeliveredEvent)]
    assert delivered.call_characteristics == assist


def routed(rig: Rig, destination: str, *elements: PrivateElement) -> Outcome:
    router, _ = register(rig)
    make(rig, "7001", "5000", None)
    return rig.send(
        RouteSelect(
            route_register_req_id="1",
            routing_cross_ref_id="1",
            route_selected=DeviceId(destination),
            private_data=private(*elements) if elements else None,
        ),
        router,
    )


def test_a_router_overwrites_the_dnis(rig: Rig) -> None:
    outcome = routed(rig, "7002", leaf("dnis", "7002"))
    (delivered,) = [e for e in rig.events(outcome)["7002"] if isinstance(e, DeliveredEvent)]
    assert delivered.called_device == "7002"
    assert delivered.last_redirection_device == "5000"


def test_a_direct_agent_route_needs_an_agent_there(rig: Rig) -> None:
    flags = PrivateElement("callCharacteristics", children=(leaf("directAgent", "true"),))
    router, _ = register(rig)
    make(rig, "7001", "5000", None)
    select = RouteSelect(
        route_register_req_id="1",
        routing_cross_ref_id="1",
        route_selected=DeviceId("7002"),
        private_data=private(flags),
    )
    outcome = rig.send(select, router)
    assert [type(m) for m in rig.others(outcome, router)] == [ReRoute]
    agent(rig, "7002", ReqAgentState.LOGGED_ON, "1002", "8001")
    outcome = rig.send(select, router)
    (delivered,) = [e for e in rig.events(outcome)["7002"] if isinstance(e, DeliveredEvent)]
    assert delivered.call_characteristics == DIRECT
