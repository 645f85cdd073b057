"""The supervision view, fed T-Library events as the core sends them: agents, queues and
routing points, calls, DNs, trends and health, as snapshot and deltas."""

from __future__ import annotations

import orjson
import pytest

from ctiserver.supervision.core_snapshot import (
    CoreSnapshot,
    SnapshotAgent,
    SnapshotCall,
    SnapshotParty,
)
from ctiserver.supervision.view import HealthItem, StrategyStatus
from tests.supervision.events import DEMO_DNS, T0, Centre, event

A, B, D, E = "7001", "7002", "7004", "7005"
Q, RP = "8001", "5000"


@pytest.fixture
def centre() -> Centre:
    return Centre(service_level_seconds=20)


# --- agents -----------------------------------------------------------------------------------


def test_an_agent_logs_in_turns_ready_and_its_time_in_state_starts_again(centre: Centre) -> None:
    centre(event("EventAgentLogin", D, AgentID="1001", ThisQueue=Q, AgentWorkMode="ManualIn"))
    centre(event("EventAgentNotReady", D, AgentID="1001", ThisQueue=Q, AgentWorkMode="AuxWork"))
    assert centre.row("agents", D) == {
        "agent": "1001", "queue": Q, "state": "NotReady", "call": None, "reason": None,
        "mode": "AuxWork", "since": T0, "handled": 0,
    }  # fmt: skip
    centre.later(30)
    centre(event("EventAgentReady", D, AgentID="1001", ThisQueue=Q, AgentWorkMode="ManualIn"))
    row = centre.row("agents", D)
    assert (row["state"], row["since"], row["mode"]) == ("Ready", T0 + 30, "ManualIn")
    assert centre.row("dns", D)["agent"] == "1001"


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"Reasons": {"ReasonCode": "Lunch"}}, "Lunch"),
        ({"Extensions": {"ReasonCode": 7}}, "7"),
        ({"Reasons": {"Break": "coffee"}}, "Break=coffee"),
        ({"Reasons": {"ReasonCode": "Lunch"}, "Extensions": {"ReasonCode": "other"}}, "Lunch"),
        ({}, None),
    ],
)
def test_the_reason_of_a_not_ready(
    centre: Centre, attributes: dict[str, object], reason: str | None
) -> None:
    centre.login(D, "1001")
    centre(event("EventAgentNotReady", D, AgentID="1001", AgentWorkMode="AuxWork", **attributes))
    assert centre.row("agents", D)["reason"] == reason
    centre(event("EventAgentReady", D, AgentID="1001", AgentWorkMode="ManualIn"))
    assert centre.row("agents", D)["reason"] is None


def test_after_call_work_is_its_own_state(centre: Centre) -> None:
    centre.login(D, "1001")
    centre(event("EventAgentNotReady", D, AgentID="1001", AgentWorkMode="AfterCallWork"))
    assert centre.row("agents", D)["state"] == "AfterCallWork"


def test_a_call_shows_over_the_agents_state_and_then_the_state_comes_back(centre: Centre) -> None:
    centre.login(D, "1001")
    centre.later(5)
    centre.queued("c1", A)
    centre.delivered("c1", A, D)
    assert (centre.row("agents", D)["state"], centre.row("agents", D)["call"]) == (
        "OnCall",
        "Ringing",
    )
    assert centre.row("agents", D)["since"] == T0 + 5
    centre.later(2)
    centre.answered("c1", A, D)
    assert centre.row("agents", D)["call"] == "Talking"
    assert centre.row("agents", D)["since"] == T0 + 5  # still on the call
    assert centre.row("agents", D)["handled"] == 1
    centre.later(60)
    centre.released("c1", A, D)
    assert centre.row("agents", D) | {"handled": 1} == centre.row("agents", D)
    assert (centre.row("agents", D)["state"], centre.row("agents", D)["since"]) == (
        "Ready",
        T0 + 67,
    )


def test_calls_handled_are_the_answered_ones_and_a_logout_removes_the_agent(centre: Centre) -> None:
    centre.login(D, "1001")
    centre(event("EventDialing", D, "c1", ThisDNRole="Origination", OtherDN=A))
    centre(event("EventEstablished", D, "c1", ThisDNRole="Origination", OtherDN=A))
    assert centre.row("agents", D)["handled"] == 0  # it called out; it answered nothing
    centre(event("EventAgentLogout", D, AgentID="1001", ThisQueue=Q))
    assert centre.row("agents", D) is None
    assert "agent" not in centre.row("dns", D)


def test_the_same_agent_logging_in_again_changes_nothing(centre: Centre) -> None:
    centre.login(D, "1001")
    centre.later(10)
    centre(event("EventAgentLogin", D, AgentID="1001", ThisQueue=Q, AgentWorkMode="ManualIn"))
    assert (centre.row("agents", D)["state"], centre.row("agents", D)["since"]) == ("Ready", T0)


def test_agents_per_queue_count_in_the_queue_row(centre: Centre) -> None:
    centre.login(D, "1001")
    centre.login(E, "1002", ready=False)
    assert centre.row("queues", Q)["agents"] == {"Ready": 1, "NotReady": 1}
    centre(event("EventAgentLogout", E, AgentID="1002", ThisQueue=Q))
    assert centre.row("queues", Q)["agents"] == {"Ready": 1}


# --- queues and routing points ----------------------------------------------------------------


def test_a_waiting_call_counts_at_its_queue_and_the_queue_never_reads_available(
    centre: Centre,
) -> None:
    centre.queued("c1", A)
    centre.later(3)
    centre.queued("c2", B)
    row = centre.row("queues", Q)
    assert (row["waiting"], row["oldest"]) == (2, T0)
    assert centre.row("dns", Q) == {"kind": "Queue", "status": "Waiting", "since": T0, "calls": 2}
    assert centre.row("calls", "c1")["waitingSince"] == T0
    assert centre.view.figures(T0 + 10).queues[Q].longest_wait == 10


def test_answers_and_abandons_make_the_service_level(centre: Centre) -> None:
    centre.login(D, "1001")
    centre.queued("c1", A)
    centre.later(5)
    centre.delivered("c1", A, D)
    assert centre.row("queues", Q)["waiting"] == 0
    centre.later(5)
    centre.answered("c1", A, D)  # answered 10 s after it arrived
    centre.queued("c2", B)
    centre.later(30)
    centre.delivered("c2", B, E)
    centre.answered("c2", B, E)  # 30 s: past the target
    centre.queued("c3", "7003")
    centre.later(4)
    centre(event("EventReleased", "7003", "c3"), event("EventAbandoned", Q, "c3", ThisQueue=Q))
    row = centre.row("queues", Q)
    assert (row["answered"], row["abandoned"], row["withinTarget"]) == (2, 1, 1)
    assert row["serviceLevel"] == pytest.approx(1 / 3, abs=1e-4)
    assert row["averageAnswer"] == 20.0
    assert row["waiting"] == 0
    figures = centre.view.figures(centre.at).queues[Q]
    assert (figures.answered_total, figures.abandoned_total) == (2, 1)


def test_a_call_abandoned_while_ringing_at_the_agent_counts_for_its_queue(centre: Centre) -> None:
    centre.queued("c1", A)
    centre.delivered("c1", A, D)
    centre(event("EventReleased", A, "c1"), event("EventAbandoned", D, "c1", ThisQueue=Q))
    assert centre.row("queues", Q)["abandoned"] == 1


def test_the_window_forgets_what_is_older_than_fifteen_minutes(centre: Centre) -> None:
    centre.queued("c1", A)
    centre.delivered("c1", A, D)
    centre.answered("c1", A, D)
    centre.view.take_delta(centre.at)
    centre.later(899)
    assert centre.row("queues", Q)["answered"] == 1
    centre.later(2)
    row = centre.row("queues", Q)
    assert (row["answered"], row["serviceLevel"]) == (0, None)
    assert Q in centre.view.take_delta(centre.at)["queues"]  # type: ignore[index]
    assert centre.view.figures(centre.at).queues[Q].answered_total == 1  # totals stay


def test_a_routing_point_waits_until_routed_and_counts_the_answer(centre: Centre) -> None:
    centre(
        event("EventDialing", A, "c1", ThisDNRole="Origination", OtherDN=RP),
        event("EventRouteRequest", RP, "c1", ThisQueue=RP, OtherDN=A, ANI=A, DNIS=RP),
    )
    assert (centre.row("queues", RP)["waiting"], centre.row("dns", RP)["status"]) == (1, "Waiting")
    centre.later(2)
    centre(event("EventRouteUsed", RP, "c1", ThisQueue=RP, ThirdPartyDN=D))
    assert centre.row("queues", RP)["waiting"] == 0
    assert centre.row("calls", "c1") is not None  # the caller still dials
    centre(event("EventRinging", D, "c1", ThisDNRole="Destination", ThisQueue=RP, OtherDN=A))
    centre.later(1)
    centre(event("EventEstablished", D, "c1", ThisDNRole="Destination", ThisQueue=RP, OtherDN=A))
    row = centre.row("queues", RP)
    assert (row["answered"], row["withinTarget"], row["averageAnswer"]) == (1, 1, 3.0)


def test_strategies_show_on_their_routing_points(centre: Centre) -> None:
    centre.view.set_strategies({RP: StrategyStatus("route-to-agent", 2)})
    assert centre.row("queues", RP)["strategy"] == {"name": "route-to-agent", "sessions": 2}
    assert centre.view.take_delta(centre.at)["queues"] == {RP: centre.row("queues", RP)}  # type: ignore[index]
    centre.view.set_strategies({RP: StrategyStatus("route-to-agent", 2)})
    assert centre.view.take_delta(centre.at) is None


# --- calls and DNs ----------------------------------------------------------------------------


def test_a_call_leaving_a_queue_for_an_agent_keeps_its_start_history_and_data(
    centre: Centre,
) -> None:
    centre.queued("c1", A)
    centre(event("EventAttachedDataChanged", Q, "c1", UserData={"case": "A-17"}))
    centre.later(4)
    centre(event("EventReleased", A, "c1"))  # the caller's own leg goes first…
    centre(event("EventDiverted", Q, "c1", ThisQueue=Q, ThirdPartyDN=D))
    assert centre.row("calls", "c1") is None  # …nobody is left for a moment…
    centre(
        event(
            "EventRinging",
            D,
            "c1",
            ThisDNRole="Destination",
            ThisQueue=Q,
            UserData={"case": "A-17"},
        )
    )
    row = centre.row("calls", "c1")  # …and the call comes back whole
    assert (row["started"], row["state"], row["parties"], row["data"]) == (
        T0,
        "Ringing",
        {D: "Ringing"},
        1,
    )
    detail = centre.view.call_detail("c1")
    assert detail["UserData"] == {"case": "A-17"}
    assert [e["event"] for e in detail["history"]] == [
        "EventDialing", "EventQueued", "EventAttachedDataChanged", "EventReleased", "EventDiverted", "EventRinging",
    ]  # fmt: skip
    assert centre.view.trends.current[1] == 1  # one call, counted once


def test_a_completed_transfer_moves_the_party_and_ends_the_consultation(centre: Centre) -> None:
    c = "7003"
    centre(
        event("EventDialing", A, "c1", ThisDNRole="Origination", OtherDN=B),
        event("EventEstablished", A, "c1"),
        event("EventEstablished", B, "c1"),
        event("EventHeld", B, "c1"),
        event("EventDialing", B, "c2", CallType="Consult", PreviousConnID="c1", OtherDN=c),
        event("EventRinging", c, "c2", CallType="Consult", PreviousConnID="c1"),
        event("EventEstablished", c, "c2"),
        event("EventEstablished", B, "c2"),
    )
    assert centre.view.trends.current[1] == 1  # consultations are not calls of their own
    centre(
        event("EventPartyChanged", A, "c1", OtherDN=c, ThirdPartyDN=B, CallState="Transferred"),
        event("EventReleased", B, "c2", CallState="Transferred"),
        event("EventReleased", B, "c1", CallState="Transferred"),
        event(
            "EventPartyChanged", c, "c1", PreviousConnID="c2", OtherDN=A, CallState="Transferred"
        ),
    )
    assert centre.row("calls", "c2") is None
    assert centre.row("calls", "c1")["parties"] == {A: "Talking", c: "Talking"}
    assert (centre.row("dns", B)["status"], centre.row("dns", c)["status"]) == ("Idle", "Talking")


def test_a_dn_shows_its_most_telling_call(centre: Centre) -> None:
    centre(event("EventDialing", A, "c1", OtherDN=B), event("EventRinging", B, "c1"))
    assert centre.row("dns", B) == {"kind": "DN", "status": "Ringing", "since": T0, "calls": 1}
    centre.later(1)
    centre(event("EventEstablished", B, "c1"), event("EventHeld", B, "c1"))
    centre(event("EventDialing", B, "c2", CallType="Consult", OtherDN="7003"))
    assert centre.row("dns", B) == {"kind": "DN", "status": "Held", "since": T0 + 1, "calls": 2}
    assert centre.row("calls", "c2")["type"] == "Consult"


def test_a_caller_hearing_busy_is_failed_and_a_call_that_began_unseen_is_ignored(
    centre: Centre,
) -> None:
    centre(event("EventDialing", A, "c1", OtherDN=B), event("EventDestinationBusy", A, "c1"))
    assert centre.row("dns", A)["status"] == "Failed"
    centre(event("EventReleased", A, "c9"), event("EventAttachedDataChanged", A, "c9"))
    assert centre.row("calls", "c9") is None
    assert centre.view.call_detail("c9") == {"type": "call", "ConnID": "c9", "found": False}


def test_a_calls_history_is_bounded(centre: Centre) -> None:
    centre(event("EventDialing", A, "c1", OtherDN=B), event("EventEstablished", A, "c1"))
    for _ in range(100):
        centre(event("EventHeld", A, "c1"), event("EventRetrieved", A, "c1"))
    history = centre.view.call_detail("c1")["history"]
    assert len(history) == 50
    assert history[-1]["event"] == "EventRetrieved"


def test_an_ended_call_is_remembered_for_a_while_then_forgotten(centre: Centre) -> None:
    centre(event("EventDialing", A, "c1", OtherDN=B), event("EventReleased", A, "c1"))
    assert centre.view.call_detail("c1")["found"] is True
    centre.later(31)
    assert centre.view.call_detail("c1")["found"] is False


def test_events_without_a_dn_or_of_no_interest_change_nothing(centre: Centre) -> None:
    for message in (
        {"Event": "EventServerInfo"},
        {"Event": "EventError", "ErrorCode": 41, "ReferenceID": 3},
        {"Event": "EventRegistered", "ThisDN": A},
        {"Event": "EventRinging"},
        {"Event": "EventAgentReady", "ThisDN": A},  # no agent there
        {"Event": "EventPrivateInfo", "ThisDN": A, "ConnID": "nope"},
    ):
        centre(message)  # type: ignore[arg-type]
    assert centre.view.take_delta(centre.at) is None


# --- the link and health ----------------------------------------------------------------------


def test_the_link_going_down_and_up_is_health_with_its_time(centre: Centre) -> None:
    centre.later(5)
    centre({"Event": "EventLinkDisconnected"})
    delta = centre.view.take_delta(centre.at)
    assert delta is not None
    assert delta["health"] == [
        {
            "key": "link",
            "label": "Switch link",
            "state": "down",
            "ok": False,
            "detail": "",
            "since": T0 + 5,
        }
    ]
    centre.later(5)
    centre.view.set_health(
        [
            HealthItem(key="link", label="Switch link", state="down", ok=False),
            HealthItem(key="role", label="Role", state="standalone", ok=None),
        ],
        centre.at,
    )
    health = centre.view.snapshot(centre.at)["health"]
    assert [(h["key"], h["state"], h["since"]) for h in health] == [
        ("link", "down", T0 + 5),
        ("role", "standalone", T0 + 10),
    ]
    centre.view.set_health(
        [HealthItem(key="link", label="Switch link", state="up", ok=True)], centre.at
    )
    assert [h["key"] for h in centre.view.snapshot(centre.at)["health"]] == ["link"]


# --- trends -----------------------------------------------------------------------------------


def test_trends_count_calls_and_the_peak_of_waiting_calls_per_minute() -> None:
    centre = Centre()
    centre.at = T0 - T0 % 60  # the start of a minute
    centre.queued("c1", A)
    centre.queued("c2", B)
    centre(event("EventReleased", A, "c1"), event("EventAbandoned", Q, "c1", ThisQueue=Q))
    centre.later(60)
    centre.later(125)
    buckets = centre.view.snapshot(centre.at)["trends"]
    minute = centre.at - centre.at % 60
    assert buckets[-4:] == [
        [minute - 180, 2, 2],
        [minute - 120, 0, 1],
        [minute - 60, 0, 1],
        [minute, 0, 1],
    ]
    centre.later(3600 * 5)
    assert len(centre.view.snapshot(centre.at)["trends"]) == 60


# --- the core's snapshot ----------------------------------------------------------------------


def test_loading_the_cores_snapshot_follows_the_configuration_and_what_the_core_knows(
    centre: Centre,
) -> None:
    centre.login(D, "1001")
    centre(event("EventDialing", A, "c1", OtherDN=B))
    dns = {k: v for k, v in DEMO_DNS.items() if k != B} | {"7011": "DN"}
    snapshot = CoreSnapshot(
        dns=dns,
        agents=(SnapshotAgent(dn=E, agent_id="1002", queue=Q, state="Ready", work_mode="AutoIn"),),
        calls=(
            SnapshotCall(
                conn_id="c7",
                call_type="Inbound",
                ani="0800",
                parties=(SnapshotParty(dn=Q, state="Queued", queue=Q),),
                user_data={"k": "v"},
            ),
        ),
        link_up=True,
    )
    centre.later(1)
    centre.view.load(snapshot, centre.at)
    delta = centre.view.take_delta(centre.at)
    assert delta is not None
    assert delta["dns"][B] is None
    assert delta["dns"]["7011"]["status"] == "Idle"
    assert delta["agents"] == {D: None, E: centre.row("agents", E)}
    assert delta["calls"]["c1"] is None  # the core does not know it: gone
    assert centre.row("calls", "c7")["parties"] == {Q: "Queued"}
    assert (centre.row("queues", Q)["waiting"], centre.row("dns", Q)["status"]) == (1, "Waiting")
    assert centre.view.call_detail("c7")["UserData"] == {"k": "v"}


# --- snapshot and deltas ----------------------------------------------------------------------


def test_a_delta_holds_whole_rows_of_what_changed_and_nothing_else(centre: Centre) -> None:
    assert centre.view.take_delta(centre.at) is None
    centre(event("EventDialing", A, "c1", OtherDN=B), event("EventRinging", B, "c1"))
    delta = centre.view.take_delta(centre.at + 0.25)
    assert delta == {
        "type": "delta",
        "now": T0 + 0.25,
        "dns": {A: centre.row("dns", A), B: centre.row("dns", B)},
        "calls": {"c1": centre.row("calls", "c1")},
        "trend": [T0 - T0 % 60, 1, 0],
    }
    assert centre.view.take_delta(centre.at) is None


def test_the_snapshot_is_json(centre: Centre) -> None:
    centre.login(D, "1001")
    centre.queued("c1", A)
    snapshot = orjson.loads(orjson.dumps(centre.view.snapshot(centre.at)))
    assert set(snapshot) == {
        "type", "now", "server", "settings", "health", "dns", "agents", "queues", "calls", "trends",
    }  # fmt: skip
    assert snapshot["settings"] == {"serviceLevelSeconds": 20, "window": 900}
    assert len(snapshot["dns"]) == len(DEMO_DNS)


def test_loading_again_makes_known_calls_and_agents_agree_with_the_core(centre: Centre) -> None:
    centre.login(D, "1001")
    centre(
        event("EventDialing", A, "c1", OtherDN=RP),
        event("EventRouteRequest", RP, "c1", ThisQueue=RP),
    )
    centre.later(5)
    snapshot = CoreSnapshot(
        dns=DEMO_DNS,
        agents=(
            SnapshotAgent(
                dn=D,
                agent_id="1001",
                queue=Q,
                state="NotReady",
                work_mode="AuxWork",
                reason="Lunch",
            ),
        ),
        calls=(
            SnapshotCall(
                conn_id="c1",
                call_type="Internal",
                parties=(SnapshotParty(dn=A, state="Talking"), SnapshotParty(dn=Q, state="Queued")),
            ),
        ),
        link_up=True,
    )
    centre.view.load(snapshot, centre.at)
    call = centre.row("calls", "c1")
    assert (call["parties"], call["started"], call["waitingSince"]) == (
        {A: "Talking", Q: "Queued"},
        T0,
        T0 + 5,
    )
    assert (centre.row("queues", RP)["waiting"], centre.row("queues", Q)["waiting"]) == (0, 1)
    assert [e["event"] for e in centre.view.call_detail("c1")["history"]] == [
        "EventDialing",
        "EventRouteRequest",
    ]
    agent = centre.row("agents", D)
    assert (agent["state"], agent["mode"], agent["since"], agent["handled"]) == (
        "NotReady",
        "AuxWork",
        T0 + 5,
        0,
    )
    assert agent["reason"] == "Lunch"  # the core's, as its NotReady event would say
