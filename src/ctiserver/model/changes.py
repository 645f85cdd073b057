"""Change records: every change of the model's state, as a past-tense fact that is a value.

A record carries the values it is about (model.values) as they were at that moment, and
never a live object, so it can be serialised (model.encoding), written to a journal and
applied to another model: applying the records a model emitted, in order, to an empty
model rebuilds the same state (model.state.State.evolve is the only code that changes
the state, one record at a time).

Two audiences read them.  The T-Server core turns some into T-Library events: a
PartyChange becomes the call event of its name for `party.dn`'s registrants, an
AgentChanged an agent event, the private changes EventPrivateInfo.  The others only
keep a replica right (PartyNoted, CallChanged, RouteDialogueOpened, …).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import ClassVar

from ctiserver.ids import AgentId, ConnId, DeviceId
from ctiserver.immutable import record
from ctiserver.model.states import DnKind
from ctiserver.model.values import (
    Agent,
    AgentIntent,
    Call,
    DnFeatures,
    Monitoring,
    Party,
    Recording,
    Reservation,
    RouteDialogue,
    Treatment,
)
from ctiserver.tlib.vocabulary import CallState, DNRole

# --- calls ---------------------------------------------------------------------------------


@record
class CallChange:
    """Base of the records that set a call's own attributes (not its parties) to `call`."""

    call: Call


@record
class CallCreated(CallChange):
    """A call the server had not seen; not sent to clients, but lets requests bind to it."""


@record
class CallChanged(CallChange):
    """Something about the call changed: its caller learnt, its UserData, a consultation
    linked, the ISCC transaction that brought it, the DNs it is on its way to."""


@record
class NetworkCallIdLearned(CallChange):
    """The switch named the call's network call id (it crossed a trunk): not sent to
    clients, but ISCC transactions match calls by it."""


@record
class CallsMerged(CallChange):
    """A transfer or conference joined the call `merged` into `call` (whose ConnID stays).
    Not sent to clients; what followed the merged call (ISCC links) follows `call`."""

    merged: ConnId


@record
class AccountCodeEntered(CallChange):
    """An account code was set on `call` at `dn` (by a request or on the phone)."""

    dn: DeviceId
    code: str


@record
class ConnIdPromised:
    """The next call *dn* makes takes ConnID `conn_id` (chosen before it exists, so that
    another site can know it first: ISCC); None: the promise is withdrawn."""

    dn: DeviceId
    conn_id: ConnId | None


@record
class PredictiveCallMade:
    """MakePredictiveCall made call `conn_id`: `called`, the number it dialled, is its
    Destination, and the calling side (the DN that asked, whoever its queue or routing
    point gives the call to) its Origination.  Kept apart from the Call value, so that
    the other calls pay nothing for it; forgotten with the call."""

    conn_id: ConnId
    called: DeviceId


@record
class CallForgotten:
    """The last of our DNs left the call (or it was found stuck): the model forgets it."""

    conn_id: ConnId


# --- parties -------------------------------------------------------------------------------


@record
class PartyChange:
    """Base of the records that set `party` in `call` (or, when LEAVES, remove it).

    `call` is the call as it was when the change happened, for the event it causes; the
    optional fields say what that event adds (a third party, a previous ConnID, a
    CallState).  Only the party is state: the call's own attributes change by CallChange."""

    LEAVES: ClassVar[bool] = False

    call: Call
    party: Party
    call_state: CallState = CallState.OK
    other_dn: DeviceId | None = None  # None: the party's own other_dn
    other_role: DNRole | None = None
    third_party_dn: DeviceId | None = None
    third_party_role: DNRole | None = None
    previous_conn_id: ConnId | None = None  # None: the call's own (a consultation's)
    agent_id: AgentId | None = None


@record
class PartyNoted(PartyChange):
    """A party's state as another monitor reported it, or a device not ours: no event."""


@record
class PartyRemoved(PartyChange):
    """A party left without an event (a device not ours, a queue giving a call up)."""

    LEAVES: ClassVar[bool] = True


@record
class PartyMoved(PartyChange):
    """A transfer or conference moved the party's connection from call `source`."""

    source: ConnId


@record
class PartyDialed(PartyChange):
    pass


@record
class PartyRang(PartyChange):
    pass


@record
class PartyEstablished(PartyChange):
    pass


class Releasing(enum.Enum):
    """Who released the call, as a party leaving it sees it (Extensions ReleasingParty)."""

    LOCAL = "local"  # the party itself
    REMOTE = "remote"  # another party
    UNKNOWN = "unknown"


@record
class PartyReleased(PartyChange):
    LEAVES: ClassVar[bool] = True
    releasing: Releasing = Releasing.UNKNOWN


@record
class PartyAbandoned(PartyChange):
    LEAVES: ClassVar[bool] = True
    releasing: Releasing = Releasing.UNKNOWN


@record
class NetworkReached(PartyChange):
    """The call `party` is making left this switch on a trunk (EventNetworkReached)."""


@record
class DestinationBusy(PartyChange):
    pass


@record
class PartyHeld(PartyChange):
    pass


@record
class PartyRetrieved(PartyChange):
    pass


@record
class PartyChanged(PartyChange):
    """The other end of the call changed (transfer, conference completion)."""


@record
class PartyAdded(PartyChange):
    pass


@record
class PartyDeleted(PartyChange):
    pass


@record
class CallQueued(PartyChange):
    """At an ACD queue."""


@record
class CallDiverted(PartyChange):
    """Gone from an ACD queue to `third_party_dn`."""

    LEAVES: ClassVar[bool] = True


@record
class RouteRequested(PartyChange):
    """Waiting at a routing point for a route."""


@record
class RouteUsed(PartyChange):
    """Routed from a routing point to `third_party_dn`."""


@record
class RouteRefused(PartyChange):
    """The switch could not route to the destination given; the call stays."""


# --- routeing dialogues --------------------------------------------------------------------


@record
class RouteDialogueOpened:
    """The switch asked for a route (RouteRequest); the dialogue lasts until RouteEnd."""

    dialogue: RouteDialogue


@record
class RouteDialogueEnded:
    cross_ref_id: str


# --- agents --------------------------------------------------------------------------------


class AgentEvent(enum.Enum):
    LOGGED_IN = "login"
    LOGGED_OUT = "logout"
    READY = "ready"
    NOT_READY = "not-ready"


@record
class AgentChanged:
    """The agent on `dn` is now `agent` (after LOGGED_OUT: was, and the DN has none)."""

    dn: DeviceId
    agent: Agent
    what: AgentEvent


@record
class AgentIntended:
    """What a client asked of the agent on `dn`, reported with the DN's next agent event
    (None: the intent was used or dropped)."""

    dn: DeviceId
    intent: AgentIntent | None


@record
class AgentTimed:
    """The emulated features' timer of the agent on `dn` (Agent.until and
    after_call_work) changed, its state did not: no event."""

    dn: DeviceId
    until: float | None
    after_call_work: str = ""


@record
class AgentSessionEnded:
    """The session of the client that logged the agent on `dn` in has ended, or the
    client unregistered the DN, and the T-Server did what agent-logout-on-unreg says: the
    agent no longer belongs to a session."""

    dn: DeviceId


@record
class NoAnswerTimed:
    """A call rings at the agent on `dn`: if it is not answered by wall time `due`, the
    T-Server does what agent-no-answer-action and -overflow say (None: answered, or
    gone)."""

    dn: DeviceId
    conn_id: ConnId
    due: float | None


@record
class AgentReservation:
    """An agent was reserved for a client (or, when not `reserved`, the reservation
    ended: cancelled or lapsed).  No event: the requester alone is answered."""

    reservation: Reservation
    reserved: bool


# --- supervision ---------------------------------------------------------------------------


@record
class MonitoringChanged:
    """A supervisor's subscription to an agent's calls started (`active`) or ended.  No
    event of its own: the T-Server tells the supervisor's and the agent's registrants."""

    monitoring: Monitoring
    active: bool


@record
class MuteChanged(CallChange):
    """`dn` is heard in `call` no more (`muted`), or again: its microphone, or for a
    supervisor its MonitorMode (`mode`: mute, connect or coach)."""

    dn: DeviceId
    muted: bool
    mode: str = ""


@record
class ListenChanged(CallChange):
    """`dn` hears `call` no more (not `listening`), or again."""

    dn: DeviceId
    listening: bool


# --- private features ----------------------------------------------------------------------


@record
class GuestAssociation:
    """Hot desking: the switch associated guest DN `guest` with host device `host`, or
    ended that association (private service 1 or 2).  `learnt`: seen on a guest's event
    rather than reported, so no client is told."""

    guest: DeviceId
    host: DeviceId
    associated: bool
    learnt: bool = False


class RecordingEvent(enum.IntEnum):
    """What happened to a call recording; the value is its PrivateMsgID."""

    STARTED = 3013
    STOPPED = 3014
    SUSPENDED = 3015
    RESUMED = 3016


@record
class RecordingChanged:
    """The recording of `recording.dn`'s connection to call `recording.conn_id` started,
    stopped, …; `recording` is as it is now (as it was, when STOPPED)."""

    recording: Recording
    what: RecordingEvent


# --- configuration -------------------------------------------------------------------------


@record
class DnsReconfigured:
    """The DN table changed; calls at removed DNs were released before (PartyRemoved)."""

    dns: Mapping[DeviceId, DnKind]


PrivateChange = GuestAssociation | RecordingChanged | AccountCodeEntered


# --- calls' DTMF and treatments, DNs' features (docs/protocol.md) ---------------------------


@record
class DtmfSent(CallChange):
    """`dn` sent DTMF `digits` into `call` (the switch's DigitsGeneratedEvent)."""

    dn: DeviceId
    digits: str


class TreatmentEvent(enum.Enum):
    REQUESTED = "requested"  # asked of the switch: no event
    APPLIED = "applied"  # EventTreatmentApplied
    ENDED = "ended"  # EventTreatmentEnd
    DROPPED = "dropped"  # gone without an event (refused, or the call left the point)


@record
class TreatmentChanged:
    """The treatment of call `treatment.conn_id` was requested, applied, ended or dropped.
    An end says why (`cause`, an ECMA-269 EventCause value, or "duration" when its
    DURATION was over), the digits collected and whether an announcement was cut short."""

    treatment: Treatment
    what: TreatmentEvent
    cause: str = ""
    digits: str = ""
    interrupted: bool = False


class DnFeature(enum.Enum):
    DND = "dnd"  # EventDNDOn / EventDNDOff
    FORWARDING = "forwarding"  # EventForwardSet / EventForwardCancel
    MESSAGE_WAITING = "message-waiting"  # EventMessageWaitingOn / Off
    SERVICE = "service"  # EventDNOutOfService / EventDNBackInService


@record
class DnFeaturesChanged:
    """The switch reported `what` of `dn`'s features changed; `features` are as they are
    now.  For FORWARDING, `forwarding_type` is the one that changed (ECMA-323's value)."""

    dn: DeviceId
    features: DnFeatures
    what: DnFeature
    forwarding_type: str = ""


Change = (
    CallChange
    | ConnIdPromised
    | PredictiveCallMade
    | CallForgotten
    | PartyChange
    | RouteDialogueOpened
    | RouteDialogueEnded
    | AgentChanged
    | AgentIntended
    | AgentTimed
    | AgentSessionEnded
    | NoAnswerTimed
    | AgentReservation
    | MonitoringChanged
    | GuestAssociation
    | RecordingChanged
    | DnsReconfigured
    | TreatmentChanged
    | DnFeaturesChanged
)
