"""What the model reports after applying a switch event: past-tense facts, one per DN.

Each party change names the DN whose registrants should hear of it (`party.dn`) and the
call it is about; its optional fields say what the T-Library event adds (a third party,
a previous ConnID, a CallState).  tserver.events turns a change into the event of that
name.  The model returns changes instead of calling anyone (STYLE.md, idiom b).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctiserver.ids import AgentId, ConnId, DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.tlib.vocabulary import AgentWorkMode, CallState, DNRole


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCreated:
    """A call the server had not seen; not sent to clients, but lets requests bind to it."""

    call: Call
    calling: DeviceId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkCallIdLearned:
    """The switch named the call's network call id (it crossed a trunk): not sent to
    clients, but ISCC transactions match calls by it."""

    call: Call


@dataclass(frozen=True, slots=True, kw_only=True)
class CallsMerged:
    """A transfer or conference joined the call `merged` into `call` (whose ConnID stays).
    Not sent to clients; what followed the merged call (ISCC links) follows `call`."""

    call: Call
    merged: ConnId


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyChange:
    """Base of the changes that become a call event for `party.dn`."""

    call: Call
    party: Party
    call_state: CallState = CallState.OK
    other_dn: DeviceId | None = None  # None: the party's own other_dn
    other_role: DNRole | None = None
    third_party_dn: DeviceId | None = None
    third_party_role: DNRole | None = None
    previous_conn_id: ConnId | None = None  # None: the call's own (a consultation's)
    agent_id: AgentId | None = None


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
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyAbandoned(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationBusy(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyHeld(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRetrieved(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyChanged(PartyChange):
    """The other end of the call changed (transfer, conference completion)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyAdded(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyDeleted(PartyChange):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQueued(PartyChange):
    """At an ACD queue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDiverted(PartyChange):
    """Gone from an ACD queue to `third_party_dn`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRequested(PartyChange):
    """Waiting at a routing point for a route."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteUsed(PartyChange):
    """Routed from a routing point to `third_party_dn`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRefused(PartyChange):
    """The switch could not route to the destination given; the call stays."""


class AgentEvent(enum.Enum):
    LOGGED_IN = "login"
    LOGGED_OUT = "logout"
    READY = "ready"
    NOT_READY = "not-ready"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentChanged:
    dn: DeviceId
    agent_id: AgentId
    queue: DeviceId | None
    what: AgentEvent
    work_mode: AgentWorkMode


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestAssociation:
    """Hot desking: the switch associated guest DN `guest` with host device `host`, or
    ended that association (private service 1 or 2)."""

    guest: DeviceId
    host: DeviceId
    associated: bool


class RecordingEvent(enum.IntEnum):
    """What happened to a call recording; the value is its PrivateMsgID."""

    STARTED = 3013
    STOPPED = 3014
    SUSPENDED = 3015
    RESUMED = 3016


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingChanged:
    """The recording of `dn`'s connection to call `conn_id` started, stopped, …"""

    dn: DeviceId
    conn_id: ConnId
    message: str
    what: RecordingEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountCodeEntered:
    """An account code was set on `call` at `dn` (by a request or on the phone)."""

    call: Call
    dn: DeviceId
    code: str


PrivateChange = GuestAssociation | RecordingChanged | AccountCodeEntered
Change = (
    CallCreated | NetworkCallIdLearned | CallsMerged | PartyChange | AgentChanged | PrivateChange
)
