"""What the server's core knew at one instant, as plain values: the supervision view's
one input besides the T-Library events.

The view is fed events from the moment the server starts; it takes a CoreSnapshot at
start-up and after a configuration reload (DNs come and go without an event).  The
shell that reads the core builds it (http/supervision_feed.py, one function), so this
package never touches the core's model.

Party states use the dashboard's names (calls.PARTY_STATES): Dialing, Ringing, Queued,
Talking, Held, Failed.  Agent states are Ready, NotReady or AfterCallWork.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotParty:
    dn: str
    state: str
    queue: str | None = None  # the queue or routing point it came through (ThisQueue)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotCall:
    conn_id: str
    call_type: str
    ani: str | None = None
    dnis: str | None = None
    parties: tuple[SnapshotParty, ...] = ()
    user_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotAgent:
    dn: str
    agent_id: str
    queue: str | None
    state: str  # Ready, NotReady or AfterCallWork
    work_mode: str
    reason: str | None = None  # of its NotReady (agents.reason_of's rule)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreSnapshot:
    """The configured DNs (number -> AddressType: DN, Queue or RouteDN), the agents
    logged in, the calls in progress, and whether the link to the switch is up."""

    dns: Mapping[str, str]
    agents: tuple[SnapshotAgent, ...] = ()
    calls: tuple[SnapshotCall, ...] = ()
    link_up: bool = False
