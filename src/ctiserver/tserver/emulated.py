"""The T-Server's own features that follow the model: the emulated agent features
(tserver.agent_emulation), agent reservation (tserver.reservations), call supervision
(tserver.monitoring), and the one place the core consults them.

The core asks them before it tells a change (so that, say, an emulated after-call work
is told before the EventReleased that caused it), on every tick, for the next time they
are due, when the link comes up, when a client unregisters a DN and when sessions end.
Their state is in the model; what they keep here is only their options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from ctiserver.clock import Instant
from ctiserver.ids import DeviceId
from ctiserver.model.changes import Change, ListenChanged, MuteChanged, PartyChange
from ctiserver.model.model import Model
from ctiserver.model.values import Call
from ctiserver.tlib.vocabulary import KVList
from ctiserver.tserver.agent_emulation import EXTENDED, AgentEmulation
from ctiserver.tserver.agent_emulation import Host as AgentHost
from ctiserver.tserver.monitoring import Host as SupervisionHost
from ctiserver.tserver.monitoring import Supervision
from ctiserver.tserver.reservations import Host as DeskHost
from ctiserver.tserver.reservations import ReservationDesk


class Host(AgentHost, DeskHost, SupervisionHost, Protocol):
    """What the features need of the core."""


Hook = Callable[[Any, Instant], None]


class Hooks(NamedTuple):
    """What the features do with a change of one kind, before and after it is told."""

    before: tuple[Hook, ...]
    after: tuple[Hook, ...]


__all__ = ["EXTENDED", "Features", "Hook", "Hooks"]


class Features:
    def __init__(self, host: Host, model: Model) -> None:
        self.agents = AgentEmulation(host, model)
        self.reservations = ReservationDesk(host, model)
        self.supervision = Supervision(host, model)

    def tellers(self) -> dict[type[Any], Callable[[Any, Instant], None]]:
        """Who tells of the features' own records (tserver.publishing)."""
        return {
            MuteChanged: self.supervision.mute_changed,
            ListenChanged: self.supervision.listen_changed,
        }

    def hooks(self, kind: type[Change]) -> Hooks:
        """What the features do before a change of *kind* is told (so that, say, an
        emulated after-call work is told before the EventReleased that caused it) and
        after (the core asks once per kind: most kinds concern no feature at all)."""
        before = (*self.agents.before(kind), *self.supervision.before(kind))
        return Hooks(before, tuple(self.supervision.after(kind)))

    def call_extensions(self, change: PartyChange, call: Call) -> KVList:
        """What a feature adds to the Extensions of the call event of *change* (only
        the kinds in EXTENDED get any)."""
        return self.agents.call_extensions(change, call)

    def tick(self, at: Instant) -> None:
        self.agents.tick(at)
        self.reservations.tick(at)

    def next_due(self) -> float | None:
        """The earliest wall time a feature is due."""
        times = (self.agents.next_due(), self.reservations.next_due())
        return min((t for t in times if t is not None), default=None)

    def next_deadline(self) -> float | None:
        """The earliest monotonic time a feature is due (what is not kept in the model)."""
        return self.reservations.next_deadline()

    def link_up(self, at: Instant) -> None:
        self.agents.link_up(at)

    def unregistered(self, session: str, dn: DeviceId, at: Instant) -> None:
        self.agents.unregistered(session, dn, at)

    def sessions_closed(self, at: Instant) -> None:
        self.agents.sessions_closed(at)
