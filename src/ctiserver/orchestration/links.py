"""What the core keeps per CTI server connection, and the types it shares with its shell.

A Link is one connection's view of the world: its pool (its calls, its agents, the DNs
reserved for calls being routed), its requests waiting for an answer and its
registrations.  Pure.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Final

from ctiserver.orchestration.agents import AgentBoard
from ctiserver.orchestration.calls import CallBook
from ctiserver.orchestration.dialog import Treatment
from ctiserver.orchestration.elements import ActionRequest
from ctiserver.orchestration.selection import Pool, Reservations, Selection
from ctiserver.orchestration.settings import DirectorySettings
from ctiserver.orchestration.voice import Planned
from ctiserver.orchestration.web_elements import FetchRequest
from ctiserver.scxml.ecmascript import Limits
from ctiserver.scxml.host import DEFAULT_MAX_STEPS
from ctiserver.tlib.vocabulary import TMessage

FIRST_REFERENCE_ID: Final = 1000  # below: the client SDK's own (RequestRegisterClient)
LAST_REFERENCE_ID: Final = (1 << 31) - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreSettings:
    """What the core needs from the configuration (see settings.OrchestrationSettings)."""

    name: str = "orchestration"
    register: tuple[str, ...] = ()
    request_timeout: float = 10.0
    orphan_timeout: float = 30.0
    max_sessions: int = 10_000
    limits: Limits = field(default_factory=Limits)
    max_steps: int = DEFAULT_MAX_STEPS
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    context_pool: int = 0  # idle ECMAScript contexts kept for reuse; 0: a fresh one each


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A request for the shell to write on the connection *link*."""

    link: str
    message: TMessage


Output = SendRequest | FetchRequest  # what the core asks its shell to do


@dataclass(slots=True)
class Pending:
    """A request out to a CTI server, waiting for the event that answers it.

    A RequestApplyTreatment has its `treatment`; one played for a waiting
    `<queue:submit>` names it (`submission`, its request id) and answers no action.
    """

    session_id: str
    request: ActionRequest
    planned: Planned
    interaction_id: str
    selection: Selection | None = None
    treatment: Treatment | None = None
    submission: str | None = None


@dataclass(slots=True)
class Link:
    """One CTI server connection's view of the world; `location` is its site's name."""

    name: str
    location: str | None = None
    up: bool = False
    server: str = ""
    pool: Pool = field(init=False)
    pending: dict[int, Pending] = field(default_factory=dict)
    registering: dict[int, str] = field(default_factory=dict)
    references: itertools.cycle[int] = field(
        default_factory=lambda: itertools.cycle(range(FIRST_REFERENCE_ID, LAST_REFERENCE_ID))
    )

    def __post_init__(self) -> None:
        self.pool = Pool(self.name, self.location)

    @property
    def calls(self) -> CallBook:
        return self.pool.calls

    @property
    def agents(self) -> AgentBoard:
        return self.pool.agents

    @property
    def reservations(self) -> Reservations:
        return self.pool.reservations
