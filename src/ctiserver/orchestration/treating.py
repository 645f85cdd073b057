"""Treatments being played to calls at routing points, and what the CTI server's events
mean for them.  Pure bookkeeping for the core (docs/orchestration.md, Treatments).

A treatment is asked for with RequestApplyTreatment; its EventTreatmentApplied (the copy
with our ReferenceID) starts it.  One that ends by itself (Treatment.ends) is then
*running* here until an event ends it:

    EventTreatmentEnd at its routing point          over: done, with the digits collected
                                                    (COMPLETION_STATUS TIMEOUT: timeout)
    EventTreatmentApplied of another request        replaced by another treatment: cancelled
    EventRouteUsed, EventDiverted at its point      the call was routed on: cancelled
    EventAbandoned, EventReleased at its point      the caller hung up: invalidstate

Rule 1: a call has one treatment at a time (docs/protocol.md): starting one ends the
running one of the same call, as the switch does.
Rule 2: a treatment either answers a dialog action of a session (`action` set) or is one
of a `<queue:submit>`'s (`submission` set), whose end only lets the next one play.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ctiserver.orchestration.dialog import Treatment
from ctiserver.orchestration.outcomes import Action, ErrorValue
from ctiserver.scxml.values import Value
from ctiserver.tlib.vocabulary import KVList, TMessage

_ROUTED: Final = frozenset({"EventRouteUsed", "EventDiverted"})
_HUNG_UP: Final = frozenset({"EventAbandoned", "EventReleased"})


@dataclass(frozen=True, slots=True)
class Running:
    """A treatment that ends by itself, playing now."""

    session_id: str
    interaction_id: str
    point: str
    reference: int
    treatment: Treatment
    action: Action | None = None  # the dialog action it answers (Rule 2)
    request_id: str = ""
    submission: str | None = None  # else the <queue:submit> it is played for


@dataclass(frozen=True, slots=True)
class Ending:
    """How a running treatment ended: `error` None is done."""

    error: ErrorValue | None = None
    description: str = ""
    data: dict[str, Value] | None = None


def treatment_message(
    point: str, conn_id: str, treatment: Treatment, extensions: KVList | None
) -> TMessage:
    """RequestApplyTreatment of *treatment* to the call *conn_id* waiting at *point*."""
    message: TMessage = {
        "Request": "RequestApplyTreatment",
        "ThisDN": point,
        "ConnID": conn_id,
        "TreatmentType": treatment.kind.value,
    }
    if treatment.parms:
        message["TreatmentParms"] = treatment.parms
    if extensions:
        message["Extensions"] = extensions
    return message


class Treating:
    """The running treatments, one per call (Rule 1), by connection and ConnID."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], Running] = {}

    def __len__(self) -> int:
        return len(self._running)

    def start(self, link: str, conn_id: str, running: Running) -> Running | None:
        """*running* plays now; returns the treatment of the call it replaced."""
        replaced = self._running.pop((link, conn_id), None)
        self._running[(link, conn_id)] = running
        return replaced

    def replaced(self, link: str, conn_id: str, reference: int) -> Running | None:
        """A treatment that does not end by itself started (request *reference*): the
        running one of the call, if another, is over."""
        running = self._running.get((link, conn_id))
        if running is None or running.reference == reference:
            return None
        return self._running.pop((link, conn_id))

    def on_event(self, link: str, event: TMessage) -> tuple[Running, Ending] | None:
        """The running treatment *event* ends, and how; it is forgotten."""
        key = (link, event.get("ConnID", ""))
        running = self._running.get(key)
        if running is None or event.get("ThisDN") != running.point:
            return None
        ending = _ending(running, event)
        if ending is not None:
            del self._running[key]
            return running, ending
        return None

    def call_ended(self, link: str, conn_id: str) -> Running | None:
        return self._running.pop((link, conn_id), None)

    def of_link(self, link: str) -> list[Running]:
        """Forget the link's treatments (it went away); returns them."""
        keys = [key for key in self._running if key[0] == link]
        return [self._running.pop(key) for key in keys]

    def forget_session(self, session_id: str) -> None:
        for key in [k for k, r in self._running.items() if r.session_id == session_id]:
            del self._running[key]


def _ending(running: Running, event: TMessage) -> Ending | None:
    name = event.get("Event", "")
    if name == "EventTreatmentEnd":
        return _end(running.treatment, event)
    if name == "EventTreatmentApplied" and event.get("ReferenceID") != running.reference:
        return Ending(ErrorValue.CANCELLED, "another treatment replaced it")
    if name in _ROUTED:
        where = event.get("ThirdPartyDN") or "another DN"
        return Ending(ErrorValue.CANCELLED, f"the call was routed to {where} before its end")
    if name in _HUNG_UP:
        return Ending(ErrorValue.INVALID_STATE, "the caller hung up during the treatment")
    return None


def _end(treatment: Treatment, event: TMessage) -> Ending:
    """EventTreatmentEnd: done, with the digits when it collected; or timeout when the
    caller stopped keying before the collection was complete."""
    if not treatment.collects:
        return Ending()
    digits = str(event.get("CollectedDigits", ""))
    data: dict[str, Value] = {"digits": digits}
    status = (event.get("Extensions") or {}).get("COMPLETION_STATUS")
    if status == "TIMEOUT":
        keyed = f"after {digits!r}" if digits else "at all"
        return Ending(ErrorValue.TIMEOUT, f"no digit was keyed {keyed} in time", data)
    return Ending(data=data)
