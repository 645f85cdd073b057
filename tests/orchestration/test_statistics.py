"""statistics.py and submissions.py: virtual-queue statistics, group statistics, the
snapshot sData reads, and priorities that rise while a call waits."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.agents import Seat
from ctiserver.orchestration.directory import Directory
from ctiserver.orchestration.elements import ActionRequest
from ctiserver.orchestration.outcomes import Action
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings
from ctiserver.orchestration.statistics import (
    Figures,
    VirtualQueues,
    agent_stat,
    group_stat,
    known,
    snapshot,
)
from ctiserver.orchestration.submissions import Submissions


def test_a_virtual_queue_counts_its_calls_and_expects_a_wait() -> None:
    queues = VirtualQueues()
    assert queues.stat("VQ", "CallsWaiting", 0) == 0
    assert queues.stat("VQ", "ExpectedWaitTime", 0) == 0
    queues.entered("VQ", "r1", 10)
    queues.entered("VQ", "r2", 12)
    assert queues.stat("VQ", "StatCallsInQueue", 13) == 2
    assert queues.stat("VQ", "ExpectedWaitTime", 13) == 3  # none routed yet: the longest wait
    queues.left("VQ", "r1", 14, routed=True)
    queues.left("VQ", "nobody", 14, routed=True)  # not waiting: ignored
    assert queues.stat("VQ", "CurrNumberWaitingCalls", 16) == 1
    assert queues.stat("VQ", "StatExpectedWaitingTime", 16) == 2  # 1 waiting x (16-14)/1
    queues.left("VQ", "r2", 17, routed=False)
    assert queues.stat("VQ", "CallsDistributed", 17) == 1
    assert queues.stat("VQ", "ExpectedWaitTime", 17) == 0
    assert queues.stat("VQ", "StatAgentsTotal", 17) is None
    assert queues.names() == ["VQ"]


def seat(dn: str, agent: str, status: str = "Ready", busy: bool = False) -> Seat:
    made = Seat(dn, agent, "8001", status, 0.0, available_since=5.0, busy=busy)
    made.calls_answered = 2
    return made


def test_agent_and_group_statistics() -> None:
    directory = Directory(
        DirectorySettings(agents={"1001": AgentProfile({"sales": 7, "lang": "fr"}, ("S",))})
    )
    a, b, c = (
        seat("7002", "1001"),
        seat("7003", "1002", busy=True),
        seat("7004", "1003", "AfterCallWork"),
    )
    assert agent_stat(a, "StatTimeInReadyState", directory, 9) == 4
    assert agent_stat(b, "StatTimeInReadyState", directory, 9) == 0  # on a call
    assert agent_stat(a, "CallsHandled", directory, 9) == 2
    assert agent_stat(a, "sales", directory, 9) == 7
    assert agent_stat(a, "lang", directory, 9) == 0  # a text skill does not order
    assert agent_stat(a, "StatAgentsTotal", directory, 9) is None
    assert group_stat([a, b, c], "StatAgentsAvailable") == 1
    assert group_stat([a, b, c], "StatAgentsBusy") == 1
    assert group_stat([a, b, c], "StatAgentsInQueueReady") == 2
    assert group_stat([a, b, c], "StatAgentsTotal") == 3
    assert group_stat([a], "StatTimeInReadyState") is None
    figures = Figures(a, [a, b, c], directory, 9)
    assert (figures["StatTimeInReadyState"], figures["StatAgentsBusy"]) == (4, 1)
    with pytest.raises(KeyError):
        figures["sales-nothing"]
    assert len(figures) == len(list(figures))
    assert known("sales", directory)
    assert known("CallsHandled", directory)
    assert not known("StatNoSuch", directory)


def test_the_snapshot_sdata_reads() -> None:
    directory = Directory(
        DirectorySettings(
            agents={"1001": AgentProfile(groups=("S",))},
            agent_groups={"T": ("1002",)},
            place_groups={"P": ("7003", "7009")},
        )
    )
    queues = VirtualQueues()
    queues.entered("VQ", "r1", 1)
    figures = snapshot([seat("7002", "1001"), seat("7003", "1002")], directory, queues, 2)
    assert figures["VQ"] == {"CallsWaiting": 1, "ExpectedWaitTime": 1, "CallsDistributed": 0}
    assert figures["S.GA"]["StatAgentsTotal"] == 1  # type: ignore[index]
    assert figures["T.GA"]["StatAgentsAvailable"] == 1  # type: ignore[index]
    assert figures["P.GP"]["StatAgentsTotal"] == 1  # type: ignore[index]
    assert figures["8001.Q"]["StatAgentsInQueueLogin"] == 2  # type: ignore[index]
    assert figures["8001.GA"] == figures["8001.Q"]


def test_a_waiting_call_s_priority_rises() -> None:
    submissions = Submissions()
    early = ActionRequest(
        action=Action.SUBMIT,
        request_id="r1",
        priority=1,
        priority_increment=3,
        priority_interval=10,
    )
    late = ActionRequest(action=Action.SUBMIT, request_id="r2", priority=5)
    first = submissions.add(early, "s1", "i1", "main", 0)
    submissions.add(late, "s2", "i2", "main", 1)
    assert [s.request.request_id for s in submissions.in_order(9)] == ["r2", "r1"]
    assert first.priority(19.9) == 4  # one whole interval
    assert [s.request.request_id for s in submissions.in_order(20)] == ["r1", "r2"]  # 7 > 5
