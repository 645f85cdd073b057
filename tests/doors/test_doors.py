"""ctiserver.doors and server.buffers: connection caps, rate-limited log lines, and the
one bound on all client buffers (no sockets needed: these are counters)."""

from __future__ import annotations

import logging

import pytest

from ctiserver.doors.admission import Admission, Verdict, is_loopback
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.server.buffers import BufferBudget


def test_admission_caps_in_all_and_per_address() -> None:
    door: Admission[str] = Admission("test", total=3, per_address=2)
    assert door.admit("10.0.0.1", "a", pending=False) == Verdict(True)
    assert door.admit("10.0.0.1", "b", pending=False) == Verdict(True)
    assert door.admit("10.0.0.1", "c") == Verdict(False)  # per address
    assert door.admit("10.0.0.2", "d", pending=False) == Verdict(True)
    assert door.admit("10.0.0.3", "e") == Verdict(False)  # in all, every one proven
    door.release("a")
    assert door.admit("10.0.0.3", "e") == Verdict(True)
    assert (door.count, door.refused, door.evicted) == (3, 2, 0)


def test_a_full_door_evicts_the_oldest_pending_connection() -> None:
    door: Admission[str] = Admission("test", total=3, per_address=3)
    for name in ("a", "b", "c"):
        assert door.admit("10.0.0.1", name).admitted
    door.proven("a")
    assert door.admit("10.0.0.2", "d") == Verdict(True, "b")  # a proved itself: b is oldest
    assert door.admit("10.0.0.2", "e") == Verdict(True, "c")
    door.proven("d")
    door.proven("e")
    assert door.admit("10.0.0.3", "f") == Verdict(False)  # all proven: refused
    assert (door.count, door.pending_count, door.refused, door.evicted) == (3, 0, 1, 2)
    door.release("b")  # the evicted one's shell closes it: nothing more to release
    assert door.count == 3
    door.release("a")
    assert door.admit("10.0.0.1", "g").admitted  # 10.0.0.1 holds g only now


def test_a_connection_waiting_again_goes_to_the_back_of_the_line() -> None:
    door: Admission[str] = Admission("test", total=2, per_address=2)
    door.admit("10.0.0.1", "a")
    door.admit("10.0.0.1", "b")
    door.proven("a")
    door.waiting("a")  # a keep-alive connection, answered: waits for its next request
    door.waiting("gone")  # not held: ignored
    assert door.admit("10.0.0.2", "c") == Verdict(True, "b")
    assert door.admit("10.0.0.2", "d") == Verdict(True, "a")


def test_eviction_frees_the_evicted_address_and_the_per_address_cap_still_holds() -> None:
    door: Admission[str] = Admission("test", total=2, per_address=1)
    door.admit("10.0.0.1", "a")
    door.admit("10.0.0.2", "b")
    assert door.admit("10.0.0.2", "c") == Verdict(False)  # its own cap: no eviction
    assert door.admit("10.0.0.3", "c") == Verdict(True, "a")
    assert door.admit("10.0.0.1", "d") == Verdict(True, "b")  # a's slot was freed
    assert (door.refused, door.evicted) == (1, 2)


def test_evictions_are_logged_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    door: Admission[str] = Admission(
        "T-Library", total=1, per_address=10, proof="registered (RequestRegisterClient)"
    )
    door.admit("10.0.0.1", "first")
    with caplog.at_level(logging.WARNING, logger="ctiserver.doors.admission"):
        for n in range(50):
            assert door.admit("10.0.0.2", f"c{n}").evicted is not None
    assert door.evicted == 50
    assert [r.getMessage() for r in caplog.records] == [
        "T-Library listener is full (max-connections = 1): closed the oldest connection "
        "that had not registered (RequestRegisterClient), from 10.0.0.1, to admit one from "
        "10.0.0.2"
    ]
    assert door.eviction == (
        "the T-Library listener is full and this connection had not registered "
        "(RequestRegisterClient)"
    )


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
