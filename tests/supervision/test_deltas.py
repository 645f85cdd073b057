"""Whatever the events, a page that applies each delta to its snapshot holds what a new
snapshot would show: the property the dashboard's push rests on."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.supervision.agents import AGENT_EVENTS
from ctiserver.supervision.calls import LEAVING, PARTY_STATES, STAYING
from ctiserver.supervision.core_snapshot import CoreSnapshot
from tests.supervision.events import DEMO_DNS, Centre

NAMES = sorted({*PARTY_STATES, *LEAVING, *STAYING, *AGENT_EVENTS, "EventLinkConnected",
                "EventLinkDisconnected", "EventServerInfo", "EventPrivateInfo"})  # fmt: skip
DNS = [*DEMO_DNS, "9999"]
CONN_IDS = ["c1", "c2", "c3", "c4"]

events = st.fixed_dictionaries(
    {"Event": st.sampled_from(NAMES), "ThisDN": st.sampled_from(DNS)},
    optional={
        "ConnID": st.sampled_from(CONN_IDS),
        "PreviousConnID": st.sampled_from(CONN_IDS),
        "ThisDNRole": st.sampled_from(["Origination", "Destination"]),
        "ThisQueue": st.sampled_from(["8001", "5000"]),
        "CallType": st.sampled_from(["Internal", "Inbound", "Consult"]),
        "AgentID": st.sampled_from(["1001", "1002"]),
        "AgentWorkMode": st.sampled_from(["AutoIn", "ManualIn", "AuxWork", "AfterCallWork"]),
        "Reasons": st.dictionaries(
            st.sampled_from(["ReasonCode", "x"]), st.text(max_size=3) | st.integers()
        ),
        "UserData": st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
        "OtherDN": st.sampled_from(DNS),
    },
)
# A reload names the DNs configured now (the core's snapshot: no agent, no call).
reloads = st.sets(st.sampled_from(list(DEMO_DNS))).map(
    lambda dns: {dn: DEMO_DNS[dn] for dn in sorted(dns)}
)
pauses = st.sampled_from([0.0, 0.1, 5.0, 61.0, 400.0])
steps = st.lists(st.tuples(events | reloads, pauses, st.booleans()), max_size=60)


def applied(page: dict[str, Any], delta: dict[str, Any]) -> None:
    for section in ("dns", "agents", "queues", "calls"):
        for key, row in delta.get(section, {}).items():
            if row is None:
                page[section].pop(key, None)
            else:
                page[section][key] = row
    if "health" in delta:
        page["health"] = delta["health"]
    if "trends" in delta:
        page["trends"] = delta["trends"]
    elif "trend" in delta:
        if page["trends"][-1][0] == delta["trend"][0]:
            page["trends"][-1] = delta["trend"]
        else:
            page["trends"].append(delta["trend"])
    page["now"] = delta["now"]


@settings(max_examples=500, deadline=None)
@given(steps=steps, every=st.integers(min_value=1, max_value=5))
def test_snapshot_plus_deltas_is_the_snapshot(
    steps: list[tuple[dict[str, Any], float, bool]], every: int
) -> None:
    centre = Centre()
    page = orjson.loads(orjson.dumps(centre.view.snapshot(centre.at)))
    for index, (step, pause, tick) in enumerate(steps):
        if tick:
            centre.later(pause)
        else:
            centre.at += pause
        if "Event" in step:
            centre(copy.deepcopy(step))  # type: ignore[arg-type]
        else:
            centre.view.load(CoreSnapshot(dns=step, link_up=True), centre.at)
        if index % every == 0:
            delta = centre.view.take_delta(centre.at)
            if delta is not None:
                applied(page, orjson.loads(orjson.dumps(delta)))
    delta = centre.view.take_delta(centre.at)
    if delta is not None:
        applied(page, orjson.loads(orjson.dumps(delta)))
    fresh = orjson.loads(orjson.dumps(centre.view.snapshot(centre.at)))
    page["trends"] = page["trends"][-60:]
    assert page | {"now": 0} == fresh | {"now": 0}
    queues = centre.view.queues
    assert queues.total_waiting == sum(len(queue.waiting) for queue in queues.queues.values())
    for queue in queues.queues.values():
        assert queue.answered_total >= len(queue.answered)
