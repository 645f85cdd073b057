"""How the call-model scenarios say what a client must receive: each event in full, as a
plain dict without its envelope, built from the call as its parties see it.

    c1 = Seen(conn_id, "1")
    assert heard(wire, a) == [c1.event("EventDialing", "7001", ORIGINATION, "7002", ReferenceID=r)]

`heard` takes what a client received since the last look, checks the envelope of every
event (Server, strictly increasing EventSequenceNumber, a UTC time stamp) and the
CallUUID of every call event (the server's, for its ConnID), and returns the events
without them, so that a scenario compares every other attribute exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ctiserver.ids import ClientId
from ctiserver.tserver.events import call_uuid
from tests.wire import Wire

ORIGINATION, DESTINATION = "Origination", "Destination"
LOCAL, REMOTE, UNKNOWN = "1 Local", "2 Remote", "3 Unknown"  # Extensions ReleasingParty
AT_A_QUEUE = ("EventQueued", "EventDiverted", "EventRouteRequest", "EventRouteUsed")
ENVELOPE = ("Server", "EventSequenceNumber", "time")
UNCOMPARED = (*ENVELOPE, "CallUUID")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")

Event = dict[str, Any]


def heard(wire: Wire, client: ClientId) -> list[Event]:
    """The events *client* received since the last look, without their envelope."""
    events = wire.take(client)
    numbers = [event["EventSequenceNumber"] for event in events]
    assert numbers == sorted(set(numbers)), numbers
    out = []
    server = wire.core.settings.name
    for event in events:
        assert event["Server"] == server
        assert _TIME.fullmatch(event["time"]), event["time"]
        if "CallUUID" in event:  # a call event's: checked here, then left out like the envelope
            assert event["CallUUID"] == call_uuid(server, event["ConnID"]), event
        out.append({key: value for key, value in event.items() if key not in UNCOMPARED})
    return out


def names(events: list[Event]) -> list[str]:
    return [event["Event"] for event in events]


def _other_role(role: str) -> str:
    return DESTINATION if role == ORIGINATION else ORIGINATION


@dataclass(frozen=True)
class Seen:
    """One call as every party's events describe it: the attributes each call event
    carries, whoever receives it (docs/protocol.md § 5)."""

    conn_id: str
    call_id: str
    call_type: str = "Internal"
    user_data: dict[str, Any] = field(default_factory=dict)
    previous: str | None = None  # a consultation's PreviousConnID
    network_call_id: str | None = None  # a call across a trunk: its NetworkCallID,
    trunk: str | None = None  # the trunk (ThisTrunk at a queue or routing point,
    far: str | None = None  # OtherTrunk where OtherDN is the party across it, `far`)

    def but(self, **changes: Any) -> Seen:
        """The same call with some of its attributes changed (UserData, CallType, …)."""
        return replace(self, **changes)

    def event(
        self,
        name: str,
        this_dn: str,
        role: str,
        other: str | None = None,
        *,
        state: str = "Ok",
        other_role: str | None = None,
        released: str | None = None,
        **more: Any,
    ) -> Event:
        """Call event *name* at *this_dn* (whose role in the call is *role*), with
        OtherDN *other* and whatever *more* the event adds; *released* is who released
        the call (Extensions ReleasingParty of EventReleased and EventAbandoned: LOCAL,
        REMOTE)."""
        event: Event = {
            "Event": name,
            "ThisDN": this_dn,
            "ThisDNRole": role,
            "ConnID": self.conn_id,
            "CallID": self.call_id,
            "CallType": self.call_type,
        }
        if self.previous is not None:
            event["PreviousConnID"] = self.previous
        event["UserData"] = self.user_data
        if self.network_call_id is not None:
            event["NetworkCallID"] = self.network_call_id
        event["CallState"] = state
        if other is not None:
            event["OtherDN"] = other
            event["OtherDNRole"] = other_role or _other_role(role)
        if self.trunk is not None and name in AT_A_QUEUE:
            event["ThisTrunk"] = self.trunk
        elif self.trunk is not None and other is not None and other == self.far:
            event["OtherTrunk"] = self.trunk
        if released is not None:
            more["Extensions"] = {"ReleasingParty": released, **more.get("Extensions", {})}
        event.update(more)
        return event

    def data_changed(self, this_dn: str, role: str, by: str, **more: Any) -> Event:
        """EventAttachedDataChanged at *this_dn*: the whole UserData, changed by *by*."""
        return {
            "Event": "EventAttachedDataChanged",
            "ThisDN": this_dn,
            "ConnID": self.conn_id,
            "CallID": self.call_id,
            "CallType": self.call_type,
            "ThirdPartyDN": by,
            "UserData": self.user_data,
            "ThisDNRole": role,
            **more,
        }


def error(reference_id: int, code: int, message: str, this_dn: str | None = None) -> Event:
    event: Event = {
        "Event": "EventError",
        "ReferenceID": reference_id,
        "ErrorCode": code,
        "ErrorMessage": message,
    }
    if this_dn is not None:
        event["ThisDN"] = this_dn
    return event
