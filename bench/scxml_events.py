"""How many SCXML events per second the interpreter processes, with latency percentiles.

Not a test: run it with `./dev bench scxml_events [--events N]`.  Every figure is one
Python thread driving sessions synchronously (QuickJS is single-threaded per context).

Scenarios:
  toggle      two states, one event-triggered transition each way, no datamodel work
  strategy    a call-routing shaped machine: event data, a cond on it, an assign, a raise
              handled in the same macrostep, and a delayed send (an effect)
  driver      the same strategy through Driver.deliver()/run() (queues and routing)
  sessions    create and start a session from a parsed document (per-call cost of a
              new QuickJS context and the datamodel initialisation)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from ctiserver.scxml.driver import Driver
from ctiserver.scxml.events import Event
from ctiserver.scxml.interpreter import Session
from ctiserver.scxml.parser import parse_document

SCXML = "http://www.w3.org/2005/07/scxml"

TOGGLE = f"""<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">
  <state id="a"><transition event="e" target="b"/></state>
  <state id="b"><transition event="e" target="a"/></state>
</scxml>"""

STRATEGY = f"""<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">
  <datamodel><data id="calls" expr="0"/><data id="last"/></datamodel>
  <state id="idle">
    <transition event="call.arrived" cond="_event.data.dnis == '5000'" target="routing">
      <assign location="last" expr="_event.data"/>
    </transition>
  </state>
  <state id="routing">
    <onentry>
      <assign location="calls" expr="calls + 1"/>
      <send id="guard" event="route.timeout" delay="10s"/>
      <raise event="route.selected"/>
    </onentry>
    <onexit><cancel sendid="guard"/></onexit>
    <transition event="route.selected" cond="last.udata.priority &gt; 1" target="idle"/>
    <transition event="route.selected" target="idle"/>
  </state>
</scxml>"""

CALL = Event(
    name="call.arrived",
    data={"dnis": "5000", "ani": "0612345678", "udata": {"priority": 2, "case": "A-17"}},
)


def measure(label: str, count: int, step: Callable[[], object], per_call: int = 1) -> None:
    """Time *count* calls of *step*; print the rate of events and latency percentiles."""
    for _ in range(min(count // 10, 1000)):
        step()  # warm-up: compile caches, allocator
    samples: list[int] = []
    started = time.perf_counter()
    for _ in range(count):
        before = time.perf_counter_ns()
        step()
        samples.append(time.perf_counter_ns() - before)
    elapsed = time.perf_counter() - started
    samples.sort()
    quantiles = statistics.quantiles(samples, n=100)
    print(
        f"{label:<10} {count * per_call / elapsed:>10,.0f} /s   "
        f"p50 {quantiles[49] / 1000:7.1f} µs   p90 {quantiles[89] / 1000:7.1f} µs   "
        f"p99 {quantiles[98] / 1000:7.1f} µs   max {samples[-1] / 1000:8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per scenario")
    arguments = parser.parse_args()
    count = arguments.events
    print(f"{count:,} events per scenario; rates are events (or sessions) per second")

    toggle = Session(parse_document(TOGGLE), session_id="toggle")
    toggle.start(0.0)
    tick = Event(name="e")
    measure("toggle", count, lambda: toggle.receive(tick, 0.0))

    strategy = Session(parse_document(STRATEGY), session_id="strategy")
    strategy.start(0.0)
    measure("strategy", count, lambda: strategy.receive(CALL, 0.0))

    driver = Driver()
    session_id = driver.start(parse_document(STRATEGY)).session_id

    def through_driver() -> None:
        driver.deliver(session_id, CALL)
        driver.run()

    measure("driver", count, through_driver)

    document = parse_document(STRATEGY)
    numbers = iter(range(10**9))
    measure(
        "sessions",
        max(count // 20, 100),
        lambda: Session(document, session_id=str(next(numbers))).start(0.0),
    )


if __name__ == "__main__":
    main()
