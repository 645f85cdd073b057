"""The model's state as immutable values (ctiserver.immutable): a call, a party, an
agent, a recording, a routeing dialogue.

The model holds these in its tables and replaces a value whenever something about it
changes; it never changes one in place.  A change record (model.changes) can therefore
carry the values it is about as they were at that moment, serialise them, and hand them
to anyone without sharing live state.  Mappings inside a value (UserData) are never
mutated either: a change makes a new mapping.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import Final

from ctiserver.ids import AgentId, CallId, ConnId, DeviceId
from ctiserver.immutable import immutable
from ctiserver.model.states import AgentStatus, PartyState
from ctiserver.tlib.vocabulary import AgentWorkMode, CallType, DNRole, KVList


class Keep(enum.Enum):
    """A field left as it is (for fields where None is a value)."""

    KEEP = enum.auto()


KEEP: Final = Keep.KEEP


class ConsultPurpose(enum.Enum):
    """Why a consultation call was made: it decides TransferConnID or ConferenceConnID."""

    TRANSFER = "transfer"
    CONFERENCE = "conference"


@immutable
class Origin:
    """Where a call that crossed from another site came from (ISCC): the site it came
    from last, and the first site of its journey when it crossed more than once (the
    T-Library's CallHistory: LastTransfer* and FirstTransfer*)."""

    location: str
    conn_id: str
    dn: str
    first_location: str = ""  # "": it came straight from `location`
    first_conn_id: str = ""
    first_dn: str = ""

    @property
    def first(self) -> tuple[str, str, str]:
        """(location, ConnID, DN) where the call's journey began."""
        if self.first_location:
            return self.first_location, self.first_conn_id, self.first_dn
        return self.location, self.conn_id, self.dn


@immutable
class Party:
    """One device's part in one call.  For one of our DNs `state` is the DN's own view,
    changed only by events reported on that DN's monitor, so that decisions such as
    "abandoned or released?" never depend on the order in which a switch copies one
    event to several monitors."""

    dn: DeviceId
    state: PartyState
    role: DNRole
    other_dn: DeviceId | None = None
    this_queue: DeviceId | None = None
    added_by: DeviceId | None = None  # who brought this party in (single-step conference)
    present: bool = True  # False once any monitor reported its connection cleared

    def changed(
        self,
        *,
        state: PartyState | None = None,
        other_dn: DeviceId | Keep | None = KEEP,
        this_queue: DeviceId | Keep | None = KEEP,
        added_by: DeviceId | Keep | None = KEEP,
        present: bool | None = None,
    ) -> Party:
        """This party with the fields given changed (a faster dataclasses.replace: a
        party changes on almost every switch event)."""
        return Party(
            self.dn,
            self.state if state is None else state,
            self.role,
            self.other_dn if isinstance(other_dn, Keep) else other_dn,
            self.this_queue if isinstance(this_queue, Keep) else this_queue,
            self.added_by if isinstance(added_by, Keep) else added_by,
            self.present if present is None else present,
        )


@immutable
class Observation:
    """How a supervisor observes a call: its MonitorMode (mute, connect, coach) and
    MonitorScope (call: to the call's end; agent: until the agent leaves it)."""

    mode: str
    scope: str


@immutable
class Call:
    """A call as the server knows it, without its parties (the model keeps those apart).

    `conn_id` is ours and never changes; `call_id` is the switch's name for the call,
    which a transfer or conference may change."""

    conn_id: ConnId
    call_id: CallId
    call_type: CallType = CallType.INTERNAL
    calling: DeviceId | None = None
    called: DeviceId | None = None
    user_data: KVList = field(default_factory=dict)
    previous_conn_id: ConnId | None = None  # the call this one consults
    purpose: ConsultPurpose | None = None
    shares_data_with: frozenset[ConnId] = frozenset()  # consult-user-data = joint
    deleted_by: Mapping[DeviceId, DeviceId] = field(default_factory=dict)
    uui: str = ""  # user-to-user information, as the switch reports it
    network_call_id: str = ""  # the same at every site the call crosses
    origin: Origin | None = None  # set when an ISCC transaction matched the call
    expected: frozenset[DeviceId] = frozenset()  # our DNs it was sent on to
    account_code: str = ""  # the last one set on the switch
    from_network: bool = False  # it reached us from a trunk (networkCallingDevice)
    observers: Mapping[DeviceId, Observation] = field(default_factory=dict)  # supervisors
    trunk: str = ""  # the trunk it came in on or went out on (ThisTrunk, OtherTrunk)
    cleared_by: DeviceId | None = None  # the DN that asked the switch to clear it whole
    released_by: DeviceId | None = None  # the last device that left while others stayed

    @property
    def ani(self) -> DeviceId | None:
        return self.calling

    @property
    def dnis(self) -> DeviceId | None:
        return self.called


@immutable
class Agent:
    """The ACD agent logged in on a DN, as the switch last reported it, with what the
    T-Server keeps about it: the Reasons and ReasonCode of its state (echoed on its
    events), the session of the client that logged it in (agent-logout-on-unreg), and
    the emulated features' timer (docs/agents.md)."""

    agent_id: AgentId
    queue: DeviceId | None
    status: AgentStatus = AgentStatus.NOT_READY
    ready_mode: AgentWorkMode = AgentWorkMode.MANUAL_IN  # AutoIn or ManualIn
    work_mode: AgentWorkMode = AgentWorkMode.AUX_WORK  # as last reported
    reasons: KVList = field(default_factory=dict)  # of the request that set this state
    reason_code: str = ""  # Extensions ReasonCode: the request's, or the switch's
    session: str = ""  # ClientSessionID of the client that logged it in
    wrap_up_time: str = ""  # Extensions WrapUpTime of the login: seconds or "untimed"
    until: float | None = None  # wall time the emulated after-call work or legal guard ends
    after_call_work: str = ""  # WrapUpTime of the emulated after-call work being done


@immutable
class AgentIntent:
    """What a client asked of the agent on a DN, applied with the DN's next agent event
    from the switch: the work mode, the Reasons and ReasonCode to report, and at login
    the client's session and WrapUpTime."""

    work_mode: AgentWorkMode | None = None
    reasons: KVList = field(default_factory=dict)
    reason_code: str = ""
    session: str = ""
    wrap_up_time: str = ""


@immutable
class Recording:
    """A recording of one DN's connection to a call (private services 3013-3016)."""

    key: str  # the message id, or dn@callID when the switch gives none
    message: str  # the switch's message id ("" when it gives none)
    dn: DeviceId
    conn_id: ConnId
    suspended: bool = False


@immutable
class RouteDialogue:
    """The switch asked for a route for one call at one routing point."""

    cross_ref_id: str
    register_id: str
    routing_point: DeviceId
    conn_id: ConnId
    dnis: DeviceId | None = None  # the DNIS the router gave the call (OverwriteDNIS)


@immutable
class Reservation:
    """An agent reserved for one client (RequestReserveAgent): by its DN, its AgentID,
    its place, or several of them.  `holder` is the client's ClientSessionID; `until`
    the wall time the reservation lapses."""

    dn: DeviceId | None
    agent_id: str
    place: str
    holder: str
    until: float

    @property
    def key(self) -> str:
        return f"{self.dn or ''}|{self.agent_id}|{self.place}"

    def overlaps(self, other: Reservation) -> bool:
        """Whether the two name an entity in common (the same DN, agent or place)."""
        return (
            (self.dn is not None and self.dn == other.dn)
            or (self.agent_id != "" and self.agent_id == other.agent_id)
            or (self.place != "" and self.place == other.place)
        )

    def same_entities(self, other: Reservation) -> bool:
        return (self.dn, self.agent_id, self.place) == (other.dn, other.agent_id, other.place)


@immutable
class Monitoring:
    """A supervisor's subscription to an agent's calls (RequestMonitorNextCall): the
    supervisor joins the agent's next call (OneCall) or every call (AllCalls) as an
    observer, in `mode` (mute, connect or coach), until the call ends or, with scope
    "agent", until the agent leaves it."""

    supervisor: DeviceId
    agent: DeviceId
    kind: str  # MonitorNextCallType: OneCall or AllCalls
    mode: str
    scope: str


# --- calls' treatments and DNs' features (docs/protocol.md) -----------------------------------


class TreatmentStatus(enum.Enum):
    REQUESTED = "requested"  # asked of the switch, which has not begun it yet
    APPLIED = "applied"  # the switch began it (EventTreatmentApplied)


@immutable
class Treatment:
    """A treatment of a call waiting at one of our routing points (RequestApplyTreatment).

    `message` is the switch's message played (PlayMessage); `due` the wall time a
    DURATION is over (None: until the call is routed or another treatment replaces it)."""

    conn_id: ConnId
    point: DeviceId
    treatment_type: str  # a TreatmentType value
    parms: KVList
    message: str
    status: TreatmentStatus = TreatmentStatus.REQUESTED
    due: float | None = None
    end_event: str = "EventTreatmentEnd"  # EventDigitsCollected: RequestCollectDigits


@immutable
class DnFeatures:
    """The features the switch reports a DN has set: do not disturb, forwarding (by the
    switch's forwarding type, ECMA-323's value, to a destination), the message waiting
    lamp, and whether it is in service."""

    dnd: bool = False
    forwarding: Mapping[str, DeviceId] = field(default_factory=dict)
    message_waiting: bool = False
    out_of_service: bool = False
