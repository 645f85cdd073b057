"""model.agents: the agent events a switch reports, including those the model must not
act on (another DN's copy, an agent it never saw log in, an event it does not use)."""

from __future__ import annotations

import pytest

from ctiserver.csta.agents import (
    AgentBusyEvent,
    AgentLoggedOffEvent,
    AgentLoggedOnEvent,
    AgentNotReadyEvent,
    AgentReadyEvent,
    AgentWorkingAfterCallEvent,
)
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.ids import AgentId, ConnIdAllocator, DeviceId
from ctiserver.model.changes import AgentChanged, AgentEvent, AgentIntended
from ctiserver.model.model import PRIVATE_NAMESPACE, Model
from ctiserver.model.states import AgentStatus, DnKind
from ctiserver.model.values import Agent, AgentIntent
from ctiserver.tlib.vocabulary import AgentWorkMode
from tests.model.events import X

D, E, Q = DeviceId("7004"), DeviceId("7005"), DeviceId("8001")
AgentEvents = (
    AgentLoggedOnEvent,
    AgentLoggedOffEvent,
    AgentReadyEvent,
    AgentNotReadyEvent,
    AgentWorkingAfterCallEvent,
)


def model() -> Model:
    dns = {D: DnKind.EXTENSION, E: DnKind.EXTENSION, Q: DnKind.ACD_QUEUE}
    return Model(dns=dns, conn_ids=ConnIdAllocator(0x1234))


def test_a_login_its_states_and_the_logout() -> None:
    m = model()
    on = AgentLoggedOnEvent(monitor_cross_ref_id=X, agent_device=D, agent_id="1001", acd_group=Q)
    agent = Agent(AgentId("1001"), Q, ready_mode=AgentWorkMode.MANUAL_IN, work_mode=AgentWorkMode.MANUAL_IN)  # fmt: skip
    assert m.apply(D, on) == [AgentChanged(dn=D, agent=agent, what=AgentEvent.LOGGED_IN)]
    ready = m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D))
    assert ready == [
        AgentChanged(
            dn=D,
            agent=Agent(
                AgentId("1001"),
                Q,
                AgentStatus.READY,
                AgentWorkMode.MANUAL_IN,
                AgentWorkMode.MANUAL_IN,
            ),
            what=AgentEvent.READY,
        )
    ]
    m.intend(D, AgentIntent(AgentWorkMode.AFTER_CALL_WORK))
    (used, wrap) = m.apply(D, AgentWorkingAfterCallEvent(monitor_cross_ref_id=X, agent_device=D))
    assert used == AgentIntended(dn=D, intent=None)  # the intent is used up
    assert isinstance(wrap, AgentChanged)
    assert wrap.agent.status is AgentStatus.AFTER_CALL_WORK
    m.intend(D, AgentIntent(AgentWorkMode.AUTO_IN))  # not a not-ready mode: AuxWork
    not_ready = m.apply(D, AgentNotReadyEvent(monitor_cross_ref_id=X, agent_device=D))
    assert not_ready[-1].agent.work_mode is AgentWorkMode.AUX_WORK  # type: ignore[union-attr]
    off = m.apply(D, AgentLoggedOffEvent(monitor_cross_ref_id=X, agent_device=D))
    assert [type(c) for c in off] == [AgentChanged]
    assert m.agent(D) is None


@pytest.mark.parametrize("kind", AgentEvents)
def test_another_dns_copy_changes_nothing(kind: type) -> None:
    m = model()
    m.apply(D, AgentLoggedOnEvent(monitor_cross_ref_id=X, agent_device=D, agent_id="1001"))
    before = m.value()
    assert m.apply(E, kind(monitor_cross_ref_id=X, agent_device=D, agent_id="1001")) == []
    assert m.value() == before


@pytest.mark.parametrize("kind", AgentEvents[1:])
def test_an_agent_the_model_never_saw_log_in_is_not_made_up(kind: type) -> None:
    """A server started while the agent was logged in learns it by its resync."""
    m = model()
    m.intend(D, AgentIntent(AgentWorkMode.AUX_WORK))
    changes = m.apply(D, kind(monitor_cross_ref_id=X, agent_device=D, agent_id="1001"))
    assert [c for c in changes if isinstance(c, AgentChanged)] == []
    assert m.agent(D) is None


def test_an_agent_event_the_model_does_not_use() -> None:
    m = model()
    assert m.apply(D, AgentBusyEvent(monitor_cross_ref_id=X, agent_device=D)) == []


def logged_in(m: Model) -> None:
    m.apply(D, AgentLoggedOnEvent(monitor_cross_ref_id=X, agent_device=D, agent_id="1001"))
    m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D))


def reason(code: str) -> PrivateData:
    return PrivateData(PRIVATE_NAMESPACE, (PrivateElement("reasonCode", code),))


def test_the_reasons_of_a_request_and_the_switchs_reason_code() -> None:
    m = model()
    logged_in(m)
    m.intend(D, AgentIntent(AgentWorkMode.AUX_WORK, {"why": "lunch"}, "7"))
    event = AgentNotReadyEvent(monitor_cross_ref_id=X, agent_device=D, private_data=reason("9"))
    (_, changed) = m.apply(D, event)
    assert isinstance(changed, AgentChanged)
    assert (changed.agent.reasons, changed.agent.reason_code) == ({"why": "lunch"}, "9")
    ready = m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D))
    assert ready[-1].agent.reasons == {}  # type: ignore[union-attr]  # the switch's own
    assert ready[-1].agent.reason_code == ""  # type: ignore[union-attr]


def test_a_report_that_changes_nothing_tells_nobody_unless_asked() -> None:
    m = model()
    logged_in(m)
    assert m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D)) == []
    m.intend(D, AgentIntent())
    (_, again) = m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D))
    assert isinstance(again, AgentChanged)  # a self-transition asked for is reported


def test_an_emulated_state_the_switch_follows_stays_and_its_timer_ends_on_a_change() -> None:
    m = model()
    logged_in(m)
    agent = m.agent(D)
    assert agent is not None
    guard = Agent(
        agent.agent_id,
        agent.queue,
        AgentStatus.NOT_READY,
        agent.ready_mode,
        AgentWorkMode.LEGAL_GUARD,
        until=1234.5,
    )
    assert m.emulate_agent(D, guard, AgentEvent.NOT_READY) == [
        AgentChanged(dn=D, agent=guard, what=AgentEvent.NOT_READY)
    ]
    assert m.apply(D, AgentNotReadyEvent(monitor_cross_ref_id=X, agent_device=D)) == []
    assert m.agent(D) == guard  # a legal guard stays one
    assert m.time_agent(D, 1234.5) == []  # nothing to change
    (ready,) = m.apply(D, AgentReadyEvent(monitor_cross_ref_id=X, agent_device=D))
    assert isinstance(ready, AgentChanged)
    assert ready.agent.until is None
    assert m.emulate_agent(E, guard, AgentEvent.NOT_READY) == []  # nobody on E
