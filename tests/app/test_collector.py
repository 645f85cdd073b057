"""The garbage collector's settings for a server process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ctiserver.app import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_young_objects_are_collected_less_often_until_started() -> None:
    before = gc.get_threshold()
    collector.starting()
    collector.starting()  # twice changes nothing more
    assert gc.get_threshold() == (collector.YOUNG_WHILE_STARTING, before[1], before[2])
    collector.started()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored")
def test_what_lives_now_is_frozen_and_garbage_cycles_are_collected_first() -> None:
    collected: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            collected.append("cycle")

    Cycle()
    kept = [object()]
    collector.freeze()
    assert collected == ["cycle"]
    assert gc.get_freeze_count() > len(kept)
