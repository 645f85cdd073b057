"""deadlines.py."""

from __future__ import annotations

from ctiserver.orchestration.deadlines import Deadlines


def test_deadlines_fire_in_order_and_can_move_or_be_cancelled() -> None:
    deadlines: Deadlines[str] = Deadlines()
    deadlines.set("a", 3.0)
    deadlines.set("b", 1.0)
    deadlines.set("c", 2.0)
    deadlines.set("a", 0.5)  # moved earlier
    deadlines.cancel("c")
    assert len(deadlines) == 2
    assert deadlines.next_due() == 0.5
    assert deadlines.expired(1.0) == ["a", "b"]
    assert deadlines.next_due() is None
    assert deadlines.expired(10.0) == []
