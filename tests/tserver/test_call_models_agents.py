"""Call models § 11, the agents (call-models.md; docs/protocol.md, Agents): login AutoIn
and ManualIn, ready, not ready with AuxWork or AfterCallWork, logout, one agent per DN,
the switch's refusals, and the wrap-up after an ACD call, with the exact events the
agent DN's clients receive."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ctiserver.pbxsim.config import AcdGroup
from ctiserver.tlib.requests import InvalidRequest, check
from tests.tserver.seen import DESTINATION, ORIGINATION, REMOTE, Seen, error, heard
from tests.wire import PBX, QUEUE, Wire

A, D = "7001", "7004"
d = 1  # the agent DN's client
WRAP_UP = dataclasses.replace(
    PBX,
    acd_groups=(AcdGroup(number=QUEUE, wrap_up_time=5.0),),
    agent_passwords={"1002": "secret"},
)


def agent(name: str, work_mode: str, *, agent_id: str = "1001", **more: Any) -> dict[str, Any]:
    """An agent event at D, for agent *agent_id* of the queue."""
    return {
        "Event": name,
        "ThisDN": D,
        "AgentID": agent_id,
        "AgentWorkMode": work_mode,
        "ThisQueue": QUEUE,
        **more,
    }


def logged_in(wire: Wire, mode: str) -> int:
    wire.client(D)
    return wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode=mode)  # fmt: skip


def test_login_auto_in_makes_the_agent_ready() -> None:
    wire = Wire()
    reference = logged_in(wire, "AutoIn")
    assert heard(wire, d) == [
        agent("EventAgentLogin", "AutoIn", Extensions={}, ReferenceID=reference),
        agent("EventAgentReady", "AutoIn", ReferenceID=reference),
    ]


def test_login_manual_in_leaves_the_agent_not_ready_until_asked() -> None:
    wire = Wire()
    reference = logged_in(wire, "ManualIn")
    assert heard(wire, d) == [
        agent("EventAgentLogin", "ManualIn", Extensions={}, ReferenceID=reference),
        agent("EventAgentNotReady", "AuxWork", ReferenceID=reference),
    ]
    ready = wire.ask(d, "RequestAgentReady", ThisDN=D)
    assert heard(wire, d) == [agent("EventAgentReady", "ManualIn", ReferenceID=ready)]


def test_not_ready_aux_work_and_after_call_work_then_logout() -> None:
    wire = Wire()
    logged_in(wire, "AutoIn")
    heard(wire, d)
    aux = wire.ask(d, "RequestAgentNotReady", ThisDN=D, AgentWorkMode="AuxWork", Reasons={"why": "lunch"})  # fmt: skip
    acw = wire.ask(d, "RequestAgentNotReady", ThisDN=D, AgentWorkMode="AfterCallWork")
    ready = wire.ask(d, "RequestAgentReady", ThisDN=D, AgentWorkMode="ManualIn")
    out = wire.ask(d, "RequestAgentLogout", ThisDN=D)
    assert heard(wire, d) == [
        agent("EventAgentNotReady", "AuxWork", Reasons={"why": "lunch"}, ReferenceID=aux),
        agent("EventAgentNotReady", "AfterCallWork", ReferenceID=acw),
        agent("EventAgentReady", "ManualIn", ReferenceID=ready),
        agent("EventAgentLogout", "ManualIn", ReferenceID=out),
    ]
    assert wire.core.model.agent(D) is None  # type: ignore[arg-type]


def test_one_agent_per_dn() -> None:
    wire = Wire()
    logged_in(wire, "AutoIn")
    heard(wire, d)
    other = wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1002")
    again = wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001")
    assert heard(wire, d) == [
        error(other, 1706, f"agent 1001 is logged in on DN {D}", D),
        agent("EventAgentLogin", "AutoIn", Extensions={}, ReferenceID=again),  # nothing changes
    ]


@pytest.mark.parametrize("request_", ["RequestAgentReady", "RequestAgentNotReady", "RequestAgentLogout"])  # fmt: skip
def test_no_agent_logged_in(request_: str) -> None:
    wire = Wire()
    wire.client(D)
    reference = wire.ask(d, request_, ThisDN=D)
    assert heard(wire, d) == [error(reference, 1707, f"no agent is logged in on DN {D}", D)]


@pytest.mark.parametrize(
    ("attributes", "code", "message"),
    [
        (
            {"AgentID": "1002", "Password": "wrong"},
            1140,
            "the switch refused RequestAgentLogin: operation invalidAgentPassword",
        ),
        (
            {"AgentID": "1999"},
            1140,
            "the switch refused RequestAgentLogin: operation invalidAgentIdentifier",
        ),
        (
            {"AgentID": "1002", "ThisQueue": A},
            53,
            f"ThisQueue {A} is not a configured ACD queue",
        ),
    ],
)
def test_login_refusals(attributes: dict[str, str], code: int, message: str) -> None:
    wire = Wire(pbx=WRAP_UP)
    wire.client(D)
    reference = wire.ask(d, "RequestAgentLogin", ThisDN=D, **attributes)
    assert heard(wire, d) == [error(reference, code, message, D)]
    assert wire.core.model.agent(D) is None  # type: ignore[arg-type]


def test_a_password_the_switch_knows_logs_in() -> None:
    wire = Wire(pbx=WRAP_UP)
    wire.client(D)
    reference = wire.ask(d, "RequestAgentLogin", ThisDN=D, AgentID="1002", Password="secret")
    login, not_ready = heard(wire, d)
    assert login == {
        "Event": "EventAgentLogin",
        "ThisDN": D,
        "AgentID": "1002",
        "AgentWorkMode": "ManualIn",
        "Extensions": {},
        "ReferenceID": reference,
    }  # no ThisQueue: none was given
    assert not_ready["Event"] == "EventAgentNotReady"


def test_agents_log_in_on_extensions_only() -> None:
    wire = Wire()
    q = wire.client(QUEUE)
    reference = wire.ask(q, "RequestAgentLogin", ThisDN=QUEUE, AgentID="1001")
    message = f"agents log in on extensions; {QUEUE} is a Queue"
    assert heard(wire, q) == [error(reference, 53, message, QUEUE)]


def test_wrap_up_after_an_acd_call() -> None:
    wire = Wire(pbx=WRAP_UP)
    logged_in(wire, "AutoIn")
    a = wire.client(A)
    heard(wire, d)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    heard(wire, d)
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    assert heard(wire, d) == [
        c1.event("EventReleased", D, DESTINATION, A, ThisQueue=QUEUE, released=REMOTE),
        agent("EventAgentNotReady", "AfterCallWork"),  # no ReferenceID: nobody asked
    ]
    status = wire.ask(d, "RequestQueryAddress", ThisDN=D, InfoType="AgentStatus")
    (info,) = heard(wire, d)
    assert (info["InfoStatus"], info["ReferenceID"]) == ("AfterCallWork", status)
    wire.advance(4.9)
    assert heard(wire, d) == []
    wire.advance(0.2)
    assert heard(wire, d) == [agent("EventAgentReady", "AutoIn")]
    assert [e["Event"] for e in heard(wire, a)] == ["EventEstablished", "EventReleased"]


def test_registering_a_dn_with_an_agent_names_the_agent() -> None:
    wire = Wire()
    logged_in(wire, "AutoIn")
    watcher = wire.client()
    reference = wire.ask(watcher, "RequestRegisterAddress", ThisDN=D)
    assert heard(wire, watcher) == [
        {
            "Event": "EventRegistered",
            "ThisDN": D,
            "InfoType": "AddressType",
            "InfoStatus": "DN",
            "Extensions": {
                "status": "Idle",
                "calls": 0,
                "AgentID": "1001",
                "AgentStatus": "Ready",
                "AgentWorkMode": "AutoIn",
            },
            "AgentID": "1001",
            "ReferenceID": reference,
        }
    ]
    asked = wire.ask(watcher, "RequestQueryAddress", ThisDN=QUEUE, InfoType="NumberOfAvailableAgentsInQueue")  # fmt: skip
    agents = wire.ask(watcher, "RequestQueryAddress", ThisDN=QUEUE, InfoType="NumberOfAgentsInQueue")  # fmt: skip
    infos = heard(wire, watcher)
    assert [(i["InfoStatus"], i["ReferenceID"]) for i in infos] == [("1", asked), ("1", agents)]


def test_the_agent_of_a_queue_call_is_on_the_ringing_event() -> None:
    wire = Wire()
    logged_in(wire, "AutoIn")
    a = wire.client(A)
    heard(wire, d)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    c1 = Seen(heard(wire, a)[0]["ConnID"], "1")
    assert heard(wire, d) == [
        c1.event(
            "EventRinging", D, DESTINATION, A, ThisQueue=QUEUE, AgentID="1001", ANI=A, DNIS=QUEUE
        )
    ]
    wire.ask(d, "RequestAnswerCall", ThisDN=D, ConnID=c1.conn_id)
    assert heard(wire, a) == [c1.event("EventEstablished", A, ORIGINATION, D)]


def test_set_idle_reason_gives_a_not_ready_agent_its_reason() -> None:
    wire = Wire()
    logged_in(wire, "ManualIn")
    supervisor = wire.client(D)
    heard(wire, d)
    heard(wire, supervisor)
    idle = wire.ask(d, "RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=7, Reasons={"why": "training"})  # fmt: skip
    told = agent("EventAgentNotReady", "AuxWork", Reasons={"why": "training"}, Extensions={"ReasonCode": "7"})  # fmt: skip
    assert heard(wire, d) == [{**told, "ReferenceID": idle}]
    assert heard(wire, supervisor) == [told]
    assert wire.switch.view().agent("1001").reason_code == "7"  # type: ignore[union-attr]
    # In after-call work the agent stays in it.
    wire.ask(d, "RequestAgentNotReady", ThisDN=D, AgentWorkMode="AfterCallWork")
    heard(wire, d)
    wrap = wire.ask(d, "RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=0)
    assert heard(wire, d) == [
        agent(
            "EventAgentNotReady", "AfterCallWork", Extensions={"ReasonCode": "0"}, ReferenceID=wrap
        )
    ]
    info = wire.ask(d, "RequestQueryAddress", ThisDN=D, InfoType="AgentStatus")
    (answer,) = heard(wire, d)
    assert (answer["ReferenceID"], answer["Extensions"]["ReasonCode"]) == (info, "0")


def test_set_idle_reason_refusals() -> None:
    wire = Wire()
    wire.client(D)
    nobody = wire.ask(d, "RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=1)
    assert heard(wire, d) == [error(nobody, 1707, f"no agent is logged in on DN {D}", D)]
    wire.ask(d, "RequestAgentLogin", ThisDN=D, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn")  # fmt: skip
    heard(wire, d)
    ready = wire.ask(d, "RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=1)
    why = f"the agent on DN {D} is Ready: an idle reason is for a NotReady agent"
    assert heard(wire, d) == [error(ready, 53, why, D)]
    wire.ask(d, "RequestAgentNotReady", ThisDN=D)
    heard(wire, d)
    negative = wire.ask(d, "RequestAgentSetIdleReason", ThisDN=D, AgentIdleReason=-1)
    assert heard(wire, d) == [error(negative, 53, "AgentIdleReason must be 0 or more", D)]
    with pytest.raises(InvalidRequest, match="AgentIdleReason must be an integer"):
        check({"Request": "RequestAgentSetIdleReason", "ReferenceID": 1, "ThisDN": D, "AgentIdleReason": "lunch"})  # fmt: skip
