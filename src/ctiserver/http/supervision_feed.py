"""What the supervision view takes from the running server besides its events: the
core's snapshot (read_core, the one function that reads the core's model), the lines of
the health panel, and the strategies running on routing points.

Health is a list of checks, each a function of the runtime giving zero or more lines;
a new part of the server (the HA role's details, the event export) adds its line by
adding one function to HEALTH_CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from ctiserver.jetstream.export import ExportState
from ctiserver.model.states import PartyState
from ctiserver.orchestration.process import OrchestrationProcess
from ctiserver.server.runtime import Runtime
from ctiserver.supervision.agents import reason_of
from ctiserver.supervision.core_snapshot import (
    CoreSnapshot,
    SnapshotAgent,
    SnapshotCall,
    SnapshotParty,
)
from ctiserver.supervision.view import HealthItem, StrategyStatus, link_item

PARTY_NAMES: Final[Mapping[PartyState, str]] = {
    PartyState.INITIATED: "Dialing",
    PartyState.DIALING: "Dialing",
    PartyState.RINGING: "Ringing",
    PartyState.QUEUED: "Queued",
    PartyState.ESTABLISHED: "Talking",
    PartyState.HELD: "Held",
    PartyState.FAILED: "Failed",
}


def read_core(runtime: Runtime) -> CoreSnapshot:
    """Every read of the core that the supervision view makes, at one instant, through
    the model's queries (tserver.port.Queries): the configured DNs, the agents logged in,
    the calls and their parties at our DNs."""
    model = runtime.core.model
    agents = tuple(
        SnapshotAgent(
            dn=dn,
            agent_id=agent.agent_id,
            queue=agent.queue,
            state=agent.status.value,
            work_mode=agent.work_mode.value,
            reason=reason_of(
                {"Reasons": agent.reasons, "Extensions": {"ReasonCode": agent.reason_code}}
                if agent.reason_code
                else {"Reasons": agent.reasons}
            ),
        )
        for dn, agent in model.agents.items()
    )
    calls = tuple(
        SnapshotCall(
            conn_id=call.conn_id,
            call_type=call.call_type.value,
            ani=call.ani,
            dnis=call.dnis,
            parties=tuple(
                SnapshotParty(dn=party.dn, state=PARTY_NAMES[party.state], queue=party.this_queue)
                for party in model.present(call.conn_id)
                if model.is_ours(party.dn)
            ),
            user_data=dict(call.user_data),
        )
        for call in model.calls
    )
    return CoreSnapshot(
        dns={dn: kind.value for dn, kind in model.dns.items()},
        agents=agents,
        calls=calls,
        link_up=runtime.link is not None and runtime.link.up,
    )


# --- health -----------------------------------------------------------------------------


def switch_link(runtime: Runtime) -> Iterable[HealthItem]:
    yield link_item(runtime.link is not None and runtime.link.up)


def iscc_peers(runtime: Runtime) -> Iterable[HealthItem]:
    peering = runtime.peering
    if peering is None:
        return
    up = set(peering.connected)
    for location in peering.settings.peers:
        yield HealthItem(
            key=f"iscc:{location}",
            label=f"ISCC {location}",
            state="up" if location in up else "down",
            ok=location in up,
        )


def server_role(runtime: Runtime) -> Iterable[HealthItem]:
    yield HealthItem(key="role", label="Role", state=runtime.role, ok=None)


def event_export(runtime: Runtime) -> Iterable[HealthItem]:
    """`[export] events`: publishing, buffering (NATS away), dropping, or standby."""
    export = runtime.export
    if export is None:
        return
    state = export.state
    held, dropped = export.buffered, export.dropped_total
    yield HealthItem(
        key="export",
        label="Event export",
        state=state,
        ok=None if state is ExportState.STANDBY else state is ExportState.PUBLISHING,
        detail=f"{held} buffered, {dropped} dropped" if held or dropped else "",
    )


HEALTH_CHECKS: Final[tuple[Callable[[Runtime], Iterable[HealthItem]], ...]] = (
    switch_link,
    iscc_peers,
    server_role,
    event_export,
)


def health_items(runtime: Runtime) -> list[HealthItem]:
    return [item for check in HEALTH_CHECKS for item in check(runtime)]


# --- strategies -------------------------------------------------------------------------


def running_strategies(process: OrchestrationProcess | None) -> dict[str, StrategyStatus]:
    """The strategies of the embedded orchestration server by routing point, each with
    its sessions running now, as its child process last reported them (about once a
    second); nothing when there is none (or it has not started, or its child died)."""
    if process is None:
        return {}
    strategies = process.figures.strategies
    return {point: StrategyStatus(name, sessions) for point, (name, sessions) in strategies.items()}
