"""Two pure switches joined by an in-memory trunk link, for the trunk tests of the model.

Each site is a Rig (one application monitoring its devices).  What one switch sends on
the trunk is handed to the other at once, until neither has anything more to say; the
outcomes of both sides are gathered so a test can look at each site's events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctiserver.csta.schema import Message
from ctiserver.pbxsim.config import (
    AcdGroup,
    PbxConfig,
    PbxsimSettings,
    RoutingPoint,
    Trunk,
    expand_numbers,
)
from ctiserver.pbxsim.outcome import AssociationId, Effect, Outcome, TrunkLinkId, TrunkSend
from ctiserver.pbxsim.phone import PhoneAction
from ctiserver.pbxsim.trunk_protocol import TrunkMessage

from .rig import Rig


def site_config(name: str, prefix: str, peer_trunk: str) -> PbxConfig:
    return PbxConfig(
        name=name,
        stations=expand_numbers(["7001-7005"]),
        acd_groups=(AcdGroup(number="8001"),),
        routing_points=(RoutingPoint(number="5000", route_timeout=5.0),),
        agents=("1001",),
        settings=PbxsimSettings(trunks=(Trunk(name=peer_trunk, prefix=prefix),)),
    )


SITE_A = site_config("A", "9", "AB")  # dial 9 + N at A to reach B's N
SITE_B = site_config("B", "8", "BA")  # dial 8 + N at B to reach A's N
MONITORED = ("7001", "7002", "7003", "7004", "8001", "5000")


@dataclass
class Both:
    """What one step did at each site."""

    a: Outcome = field(default_factory=Outcome)
    b: Outcome = field(default_factory=Outcome)
    wire: list[tuple[str, TrunkMessage]] = field(default_factory=list)  # ("A>B", message)


class Network:
    """Site A dials B on trunk AB and B dials A on trunk BA: two links, one each way."""

    def __init__(self, a: PbxConfig = SITE_A, b: PbxConfig = SITE_B) -> None:
        self.a = Rig(a, MONITORED)
        self.b = Rig(b, MONITORED)
        self.links: dict[tuple[str, TrunkLinkId], tuple[str, TrunkLinkId]] = {}
        self.ab = self.connect("a", "AB")  # (the link at A, the same link at B)
        self.ba = self.connect("b", "BA")

    def connect(self, dialler: str, trunk: str) -> tuple[TrunkLinkId, TrunkLinkId]:
        """A link dialled by *dialler* for its *trunk*; the other end takes it unbound."""
        other = "b" if dialler == "a" else "a"
        here, _ = self._site(dialler).switch.trunk_up(trunk, other.upper(), now=self.now)
        there, _ = self._site(other).switch.trunk_up(None, dialler.upper(), now=self.now)
        self.links[dialler, here] = (other, there)
        self.links[other, there] = (dialler, here)
        return here, there

    def drop(self, side: str, link: TrunkLinkId) -> Both:
        """The link breaks: both ends see it go down."""
        other, other_link = self.links.pop((side, link))
        del self.links[other, other_link]
        both = Both()
        self._gather(both, side, self._site(side).switch.trunk_down(link, now=self.now))
        self._gather(both, other, self._site(other).switch.trunk_down(other_link, now=self.now))
        return both

    @property
    def now(self) -> float:
        return self.a.now

    def _site(self, side: str) -> Rig:
        return self.a if side == "a" else self.b

    def send(self, side: str, message: Message, association: AssociationId | None = None) -> Both:
        both = Both()
        self._gather(both, side, self._site(side).send(message, association))
        return both

    def act(self, side: str, action: PhoneAction) -> Both:
        both = Both()
        self._gather(both, side, self._site(side).act(action))
        return both

    def _gather(self, both: Both, side: str, outcome: Outcome) -> None:
        """Record *outcome* at *side* and carry its trunk messages across, recursively."""
        if side == "a":
            both.a = Outcome(both.a.effects + outcome.effects)
        else:
            both.b = Outcome(both.b.effects + outcome.effects)
        crossing: list[Effect] = [e for e in outcome.effects if isinstance(e, TrunkSend)]
        for effect in crossing:
            assert isinstance(effect, TrunkSend)
            target = self.links.get((side, effect.link))
            if target is None:
                continue
            other, link = target
            both.wire.append((f"{side.upper()}>{other.upper()}", effect.message))
            reply = self._site(other).switch.trunk_message(link, effect.message, now=self.now)
            self._gather(both, other, reply)
