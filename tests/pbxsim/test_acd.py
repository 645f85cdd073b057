"""docs/pbxsim.md § 4.11: agents, ACD groups, distribution, wrap-up."""

from __future__ import annotations

from ctiserver.csta.agents import (
    AgentInfo,
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentStateEntry,
    AgentWorkingAfterCallEvent,
    GetAgentState,
    GetAgentStateResponse,
    SetAgentState,
    SetAgentStateResponse,
)
from ctiserver.csta.call_control import ClearConnection
from ctiserver.csta.enumerations import AgentState, ReqAgentState
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.events import DeliveredEvent, DivertedEvent, QueuedEvent
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.outcome import Outcome, StartTimer, Timer, TimerKind

from .rig import C, Rig, error, ev
from .test_call_control import answer, established, make

OP, STATE = Cat.OPERATION, Cat.STATE_INCOMPATIBILITY
R = ReqAgentState


def agent(
    rig: Rig,
    device: str,
    state: ReqAgentState,
    agent_id: str = "",
    group: str | None = None,
    password: str = "",
) -> Outcome:
    return rig.send(
        SetAgentState(
            device=DeviceId(device),
            requested_agent_state=state,
            agent_id=agent_id,
            password=password,
            group=DeviceId(group) if group else None,
        )
    )


def ready_agent(rig: Rig, device: str, agent_id: str, group: str | None = "8002") -> None:
    agent(rig, device, R.LOGGED_ON, agent_id, group, password=b"secret".hex())
    agent(rig, device, R.READY)


def test_agent_state_events_go_to_the_station_monitors(rig: Rig) -> None:
    steps = [
        (R.LOGGED_ON, AgentLoggedOnEvent, AgentStatus.NOT_READY),
        (R.READY, AgentReadyEvent, AgentStatus.READY),
        (R.NOT_READY, AgentNotReadyEvent, AgentStatus.NOT_READY),
        (R.WORKING_AFTER_CALL, AgentWorkingAfterCallEvent, AgentStatus.WORKING_AFTER_CALL),
        (R.LOGGED_OFF, AgentLoggedOffEvent, AgentStatus.LOGGED_OFF),
    ]
    for requested, event_class, status in steps:
        outcome = agent(rig, "7004", requested, "1001", "8001")
        assert outcome.response == SetAgentStateResponse()
        assert rig.events(outcome) == {
            "7004": [ev(event_class, agent_device="7004", agent_id="1001", acd_group="8001")]
        }
        view = rig.switch.view().agent("1001")
        assert view is not None
        assert view.status is status
    assert rig.switch.view().agent("1001").device is None  # type: ignore[union-attr]


def test_agent_errors_change_nothing(rig: Rig) -> None:
    agent(rig, "7004", R.LOGGED_ON, "1001")
    cases = [
        (("7005", R.LOGGED_ON, "1999", None, ""), error(OP, "invalidAgentIdentifier")),
        (("7005", R.LOGGED_ON, "", None, ""), error(OP, "invalidAgentIdentifier")),
        (("7005", R.LOGGED_ON, "1003", None, "wrong"), error(OP, "invalidAgentPassword")),
        (("7005", R.LOGGED_ON, "1002", "7001", ""), error(OP, "invalidAgentGroup")),
        (("7004", R.LOGGED_ON, "1002", None, ""), error(STATE, "invalidDeviceState")),
        (("7005", R.LOGGED_ON, "1001", None, ""), error(STATE, "invalidDeviceState")),
        (("7004", R.LOGGED_ON, "1001", None, ""), error(OP, "invalidAgentState")),
        (("7005", R.READY, "", None, ""), error(OP, "invalidAgentState")),
        (("7004", R.READY, "1002", None, ""), error(OP, "invalidAgentIdentifier")),
        (("8001", R.LOGGED_ON, "1002", None, ""), error(OP, "invalidDeviceID")),
    ]
    for (device, state, agent_id, group, password), expected in cases:
        before = rig.switch.view()
        outcome = agent(rig, device, state, agent_id, group, password)
        assert outcome.response == expected, (device, state, agent_id)
        assert rig.switch.view() == before


def test_password_and_get_agent_state(rig: Rig) -> None:
    empty = rig.send(GetAgentState(device=DeviceId("7005")))
    assert empty.response == GetAgentStateResponse()
    logged_on = agent(rig, "7005", R.LOGGED_ON, "1003", "8001", password=b"secret".hex())
    assert logged_on.response == SetAgentStateResponse()
    agent(rig, "7005", R.READY)
    outcome = rig.send(GetAgentState(device=DeviceId("7005")))
    assert outcome.response == GetAgentStateResponse(
        agent_state_list=(
            AgentStateEntry(
                agent_id="1003",
                logged_on_state=True,
                agent_info=(AgentInfo(acd_group="8001", agent_state=AgentState.AGENT_READY),),
            ),
        )
    )
    bad = rig.send(GetAgentState(device=DeviceId("5000")))
    assert bad.response == error(OP, "invalidDeviceID")


def test_an_agent_logged_on_without_a_group_serves_every_group(rig: Rig) -> None:
    agent(rig, "7004", R.LOGGED_ON, "1001")
    response = rig.send(GetAgentState(device=DeviceId("7004"))).response
    assert isinstance(response, GetAgentStateResponse)
    assert [info.acd_group for info in response.agent_state_list[0].agent_info] == [
        "8001",
        "8002",
    ]
    agent(rig, "7004", R.READY)
    outcome = make(rig, "7001", "8001")
    assert rig.kinds(outcome)["7004"] == ["DeliveredEvent"]


def test_a_call_to_a_group_with_a_ready_agent_is_distributed(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001")
    outcome = make(rig, "7001", "8002")
    events = rig.events(outcome)

    def queued(lci: S) -> QueuedEvent:
        return ev(
            QueuedEvent,
            queued_connection=C(1, "8002"),
            queue="8002",
            calling_device="7001",
            called_device="8002",
            number_queued=1,
            calls_in_front=0,
            local_connection_info=lci,
            cause=Cause.NEW_CALL,
        )

    def diverted(lci: S) -> DivertedEvent:
        return ev(
            DivertedEvent,
            connection=C(1, "8002"),
            diverting_device="8002",
            new_destination="7004",
            calling_device="7001",
            called_device="8002",
            local_connection_info=lci,
            cause=Cause.DISTRIBUTED,
        )

    def delivered(lci: S) -> DeliveredEvent:
        return ev(
            DeliveredEvent,
            connection=C(1, "7004"),
            alerting_device="7004",
            calling_device="7001",
            called_device="8002",
            last_redirection_device="8002",
            local_connection_info=lci,
            cause=Cause.DISTRIBUTED,
        )

    assert events["7001"][2:] == [
        queued(S.CONNECTED),
        diverted(S.CONNECTED),
        delivered(S.CONNECTED),
    ]
    assert events["8002"] == [queued(S.QUEUED), diverted(S.NULL)]
    assert events["7004"] == [delivered(S.ALERTING)]
    assert rig.switch.view().queued("8002") == ()


def test_calls_wait_while_nobody_is_ready_then_go_in_order(rig: Rig) -> None:
    first = make(rig, "7001", "8002")
    second = make(rig, "7002", "8002")
    assert rig.events(second)["8002"][0].number_queued == 2  # type: ignore[attr-defined]
    assert rig.events(second)["8002"][0].calls_in_front == 1  # type: ignore[attr-defined]
    assert rig.kinds(first)["8002"] == ["QueuedEvent"]
    assert rig.switch.view().queued("8002") == ("1", "2")
    agent(rig, "7004", R.LOGGED_ON, "1001", "8002")
    outcome = agent(rig, "7004", R.READY)
    assert rig.kinds(outcome)["7004"] == ["AgentReadyEvent", "DeliveredEvent"]
    assert rig.events(outcome)["7004"][1].connection == C(1, "7004")  # type: ignore[attr-defined]
    assert rig.switch.view().queued("8002") == ("2",)


def test_the_longest_idle_agent_gets_the_call(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001")
    rig.now += 1
    ready_agent(rig, "7005", "1002")
    outcome = make(rig, "7001", "8002")
    assert "7004" in rig.events(outcome)
    answer(rig, 1, "7004")
    rig.now += 1
    rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))  # 7004 idle again, now
    outcome = make(rig, "7002", "8002")
    assert "7005" in rig.events(outcome)


def test_a_ready_agent_on_a_call_is_not_offered_acd_calls(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001")
    established(rig, "7004", "7006")
    outcome = make(rig, "7001", "8002")
    assert "7004" not in rig.events(outcome)
    hung_up = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7004")))
    assert rig.kinds(hung_up)["7004"][-1] == "DeliveredEvent"


def test_wrap_up_after_an_acd_call(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001", "8001")
    make(rig, "7001", "8001")
    answer(rig, 1, "7004")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert rig.kinds(outcome)["7004"][-1] == "AgentWorkingAfterCallEvent"
    assert outcome.timers == (StartTimer(rig.now + 5.0, Timer(TimerKind.WRAP_UP, "1001")),)
    waiting = make(rig, "7002", "8001")
    assert "7004" not in rig.events(waiting)  # not ready during wrap-up
    assert rig.advance(4.9).effects == ()
    outcome = rig.advance(0.1)
    assert rig.kinds(outcome)["7004"] == ["AgentReadyEvent", "DeliveredEvent"]
    assert rig.events(outcome)["7004"][0] == ev(
        AgentReadyEvent, agent_device="7004", agent_id="1001", acd_group="8001"
    )


def test_no_wrap_up_when_the_group_has_none(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001", "8002")
    make(rig, "7001", "8002")
    answer(rig, 1, "7004")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7004")))
    assert rig.kinds(outcome)["7004"] == ["ConnectionClearedEvent"]
    assert outcome.timers == ()
    assert rig.switch.view().agent("1001").status is AgentStatus.READY  # type: ignore[union-attr]


def test_an_unanswered_acd_call_starts_no_wrap_up(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001", "8001")
    make(rig, "7001", "8001")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert "AgentWorkingAfterCallEvent" not in rig.kinds(outcome)["7004"]


def test_changing_state_during_wrap_up_cancels_it(rig: Rig) -> None:
    ready_agent(rig, "7004", "1001", "8001")
    make(rig, "7001", "8001")
    answer(rig, 1, "7004")
    rig.send(ClearConnection(connection_to_be_cleared=C(1, "7004")))
    agent(rig, "7004", R.NOT_READY)
    assert rig.switch.view().timers == ()
    assert rig.advance(10).effects == ()
    assert rig.switch.view().agent("1001").status is AgentStatus.NOT_READY  # type: ignore[union-attr]


def test_a_caller_abandoning_a_queued_call(rig: Rig) -> None:
    make(rig, "7001", "8002")
    outcome = rig.send(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    assert rig.kinds(outcome)["8002"] == [
        "ConnectionClearedEvent",
        "ConnectionClearedEvent",
        "CallClearedEvent",
    ]
    assert rig.events(outcome)["8002"][1].cause is Cause.CALL_CANCELLED  # type: ignore[attr-defined]
    assert rig.switch.view().queued("8002") == ()
