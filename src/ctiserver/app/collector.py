"""The garbage collector's settings for a long-running server process.

A CTI server keeps a large heap for as long as it runs (its configuration, the model
of every DN, the monitors: millions of objects at 100,000 DNs) and allocates briskly
around it.  Left to CPython's defaults, the cyclic collector scans that heap again and
again as it grows: bringing up 60,000 DNs, the server spent about a third of its CPU
time there, and a full collection of a grown heap stops the event loop for as long as
it takes.  So a server process

- collects the youngest objects after 50,000 net allocations instead of 700 (most
  objects die young and are freed by reference counting anyway), and
- freezes what it has built once it is up (gc.freeze()): the collector no longer scans
  those objects.  They are still freed by reference counting when they are let go;
  only a reference cycle among them would outlive its use, and one full collection
  just before freezing clears the cycles that are garbage by then.

Only entry points call these (`ctiserver run`, `ctiserver pbxsim`, the benchmarks), never
the library: a test run keeps the defaults, so that what it leaks is still found.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune() -> None:
    """Collect young objects less often (see the module docstring)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def freeze_long_lived() -> None:
    """Collect once, then keep every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
