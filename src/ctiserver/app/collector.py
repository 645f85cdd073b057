"""The garbage collector's settings for a long-running server process.

A CTI server keeps a large heap for as long as it runs (its configuration, the model
of every DN, the monitors: millions of objects at 100,000 DNs) and builds most of it at
start-up and while it brings its link up.  Left to CPython's defaults, the cyclic
collector scans that growing heap again and again: bringing up 60,000 DNs, the server
spent up to a third of its CPU time there.  So a server process

- while it starts (`starting()`), collects the youngest objects after 50,000 net
  allocations instead of 700: what it builds then lives as long as the process;
- once built, and once its link is up, freezes what it holds (`freeze()`, `started()`):
  one full collection clears the cycles that are garbage by then, and gc.freeze() keeps
  the rest out of every later collection.  Frozen objects are still freed by reference
  counting when they are let go; only a reference cycle among them would outlive its
  use;
- once up (`started()`), goes back to the thresholds it had: in steady state, frequent
  small collections keep the pauses short, and the frozen heap keeps the full ones cheap.

Only entry points call these (`ctiserver run`, `ctiserver pbxsim`, the benchmarks), never
the library: a test run keeps the defaults, so that what it leaks is still found.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_WHILE_STARTING: Final = 50_000


class _Thresholds:
    before: tuple[int, int, int] | None = None  # what starting() replaced


def starting() -> None:
    """Collect young objects less often until started()."""
    if _Thresholds.before is None:
        _Thresholds.before = gc.get_threshold()
    _, middle, old = _Thresholds.before
    gc.set_threshold(YOUNG_WHILE_STARTING, middle, old)


def freeze() -> None:
    """Collect once, then keep every object alive now out of later collections."""
    gc.collect()
    gc.freeze()


def started() -> None:
    """Freeze what the process holds now, and go back to the thresholds it had."""
    freeze()
    if _Thresholds.before is not None:
        gc.set_threshold(*_Thresholds.before)
        _Thresholds.before = None
