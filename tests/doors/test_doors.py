"""ctiserver.doors and server.buffers: connection caps, rate-limited log lines, and the
one bound on all client buffers (no sockets needed: these are counters)."""

from __future__ import annotations

import logging

import pytest

from ctiserver.doors.admission import Admission, is_loopback
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.server.buffers import BufferBudget


def test_admission_caps_in_all_and_per_address() -> None:
    door = Admission("test", total=3, per_address=2)
    assert door.admit("10.0.0.1")
    assert door.admit("10.0.0.1")
    assert not door.admit("10.0.0.1")  # per address
    assert door.admit("10.0.0.2")
    assert not door.admit("10.0.0.3")  # in all
    door.release("10.0.0.1")
    assert door.admit("10.0.0.3")
    assert (door.count, door.refused) == (3, 2)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("10.1.2.3", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_repeated_line_is_written_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("tests.lograte"), interval=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="tests.lograte"):
        for n in range(1000):
            now[0] = n * 0.01  # a thousand bad messages in ten seconds
            limited.warning("switch", "bad message %d", n)
        limited.warning("peer-b", "another source")
        now[0] = 10.5
        limited.warning("switch", "bad message again")
    assert [r.getMessage() for r in caplog.records] == [
        "bad message 0",
        "another source",
        "bad message again (999 similar lines held back)",
    ]


class Owner:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dropped = False

    def drop(self, reason: str) -> None:
        self.dropped = True


def test_past_the_bound_the_largest_holder_is_dropped() -> None:
    budget = BufferBudget(1000)
    small, big, other = Owner("small"), Owner("big"), Owner("other")
    budget.charge(small, 100)
    budget.charge(big, 600)
    budget.charge(other, 200)
    assert budget.total == 900
    assert not big.dropped
    budget.charge(small, 300)  # 1100 in all: the biggest goes
    assert big.dropped
    assert not small.dropped
    assert not other.dropped
    assert budget.total == 500
    budget.charge(small, 0)
    budget.release(other)
    assert budget.total == 0
