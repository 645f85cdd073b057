"""What the model reports after applying a switch event: past-tense facts, one per DN.

Each change names the DN whose registrants should hear of it and the call it is about;
tserver.events turns a change into the T-Library event of that name.  The model returns
changes instead of calling anyone (STYLE.md, idiom b).
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.ids import DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.tlib.vocabulary import CallState


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCreated:
    """A call the server had not seen; not sent to clients, but lets requests bind to it."""

    call: Call
    calling: DeviceId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyChange:
    """Base of the changes that become a call event for `party.dn`."""

    call: Call
    party: Party


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyDialed(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRang(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyEstablished(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyReleased(PartyChange):
    call_state: CallState = CallState.OK


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyAbandoned(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationBusy(PartyChange):
    call_state: CallState


Change = (
    CallCreated
    | PartyDialed
    | PartyRang
    | PartyEstablished
    | PartyReleased
    | PartyAbandoned
    | DestinationBusy
)
