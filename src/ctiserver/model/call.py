"""A call as the server knows it: its ConnID, the switch's CallID, its parties and data.

A Call is mutable and owned by the Model; nothing outside the model changes it.  Each
party records its DN's part in the call.  For one of our DNs the party's `state` is the
DN's own view, changed only by events reported on that DN's monitor, so decisions such
as "abandoned or released?" never depend on the order in which a switch copies one event
to several monitors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.model.states import PartyState
from ctiserver.tlib.vocabulary import CallType, DNRole, KVList


class ConsultPurpose(enum.Enum):
    """Why a consultation call was made: it decides TransferConnID or ConferenceConnID."""

    TRANSFER = "transfer"
    CONFERENCE = "conference"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a call that crossed from another site came from (ISCC)."""

    location: str
    conn_id: str
    dn: str


@dataclass(slots=True)
class Party:
    dn: DeviceId
    state: PartyState
    role: DNRole
    other_dn: DeviceId | None = None
    this_queue: DeviceId | None = None
    added_by: DeviceId | None = None  # who brought this party in (single-step conference)
    present: bool = True  # False once any monitor reported its connection cleared


@dataclass(slots=True)
class Call:
    conn_id: ConnId
    call_id: CallId
    call_type: CallType = CallType.INTERNAL
    calling: DeviceId | None = None
    called: DeviceId | None = None
    parties: dict[DeviceId, Party] = field(default_factory=dict)
    user_data: KVList = field(default_factory=dict)
    previous_conn_id: ConnId | None = None  # the call this one consults
    purpose: ConsultPurpose | None = None
    shares_data_with: set[ConnId] = field(default_factory=set)  # consult-user-data = joint
    deleted_by: dict[DeviceId, DeviceId] = field(default_factory=dict)
    uui: str = ""  # user-to-user information, as the switch reports it
    network_call_id: str = ""  # the same at every site the call crosses
    origin: Origin | None = None  # set when an ISCC transaction matched the call
    expected: set[DeviceId] = field(default_factory=set)  # our DNs it was sent on to
    account_code: str = ""  # the last one set on the switch

    def party(self, dn: DeviceId) -> Party | None:
        return self.parties.get(dn)

    def others(self, dn: DeviceId) -> list[Party]:
        """The parties still present other than *dn*, in the order they joined."""
        return [party for party in self.parties.values() if party.dn != dn and party.present]

    @property
    def present(self) -> list[Party]:
        return [party for party in self.parties.values() if party.present]

    @property
    def ani(self) -> DeviceId | None:
        return self.calling

    @property
    def dnis(self) -> DeviceId | None:
        return self.called
