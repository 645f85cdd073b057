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
from ctiserver.ids import AgentId, ConnIdAllocator, DeviceId
from ctiserver.model.changes import AgentChanged, AgentEvent, AgentIntended
from ctiserver.model.model import Model
from ctiserver.model.states import AgentStatus, DnKind
from ctiserver.model.values import Agent
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
    m.intend(D, AgentWorkMode.AFTER_CALL_WORK)
    (used, wrap) = m.apply(D, AgentWorkingAfterCallEvent(monitor_cross_ref_id=X, agent_device=D))
    assert used == AgentIntended(dn=D, work_mode=None)  # the intent is used up
    assert isinstance(wrap, AgentChanged)
    assert wrap.agent.status is AgentStatus.AFTER_CALL_WORK
    m.intend(D, AgentWorkMode.AUTO_IN)  # not a not-ready mode: AuxWork is reported
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
    m.intend(D, AgentWorkMode.AUX_WORK)
    changes = m.apply(D, kind(monitor_cross_ref_id=X, agent_device=D, agent_id="1001"))
    assert [c for c in changes if isinstance(c, AgentChanged)] == []
    assert m.agent(D) is None


def test_an_agent_event_the_model_does_not_use() -> None:
    m = model()
    assert m.apply(D, AgentBusyEvent(monitor_cross_ref_id=X, agent_device=D)) == []
