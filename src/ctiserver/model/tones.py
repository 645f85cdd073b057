"""What is played or keyed in a call: DTMF digits sent, and treatments of calls waiting
at our routing points (docs/protocol.md: RequestSendDTMF, RequestApplyTreatment).

    DigitsGeneratedEvent      on the sender's own monitor: DtmfSent (EventDTMFSent)
    PlayEvent                 at a routing point: the treatment requested is applied
    StopEvent                 at a routing point: it ended (EventTreatmentEnd), or it was
                              replaced (nextMessage) or its call left (nothing is said)

A treatment is recorded when it is requested, with its type and parameters, which the
switch's events do not repeat; the switch's message ids name a kind of message, not a
treatment, so a call has at most one treatment and events find it by the call.  Stop
events at other devices are the recordings' (model.private).
"""

from __future__ import annotations

import dataclasses
import logging

from ctiserver.csta.call_associated import DigitsGeneratedEvent
from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.voice import PlayEvent, StopEvent
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model import private
from ctiserver.model.changes import DtmfSent, TreatmentChanged, TreatmentEvent
from ctiserver.model.state import State
from ctiserver.model.states import DnKind
from ctiserver.model.values import Treatment, TreatmentStatus

log = logging.getLogger(__name__)


def on_digits_generated(state: State, dn: DeviceId, event: DigitsGeneratedEvent) -> None:
    """Only the sender's own monitor tells (model rule 1: one event per DN)."""
    call = state.call_by_call_id(event.connection.call_id)
    if event.connection.device_id != dn or call is None or state.party(dn, call.conn_id) is None:
        return
    state.emit(DtmfSent(call=call, dn=dn, digits=event.digit_generated_list))


# --- treatments ------------------------------------------------------------------------------


def requested(state: State, treatment: Treatment) -> None:
    """A client asked for *treatment*; it replaces the call's earlier one."""
    state.emit(TreatmentChanged(treatment=treatment, what=TreatmentEvent.REQUESTED))


def dropped(state: State, conn_id: ConnId) -> None:
    """The call's treatment is gone without an event (the switch refused it)."""
    treatment = state.treatment(conn_id)
    if treatment is not None:
        state.emit(TreatmentChanged(treatment=treatment, what=TreatmentEvent.DROPPED))


def duration_over(state: State, conn_id: ConnId) -> None:
    """The call's treatment has played its DURATION: it ends, or, if the call left the
    routing point meanwhile, it is dropped."""
    treatment = state.treatment(conn_id)
    if treatment is None:
        return
    if state.party(treatment.point, conn_id) is None:
        state.emit(TreatmentChanged(treatment=treatment, what=TreatmentEvent.DROPPED))
        return
    state.emit(TreatmentChanged(treatment=treatment, what=TreatmentEvent.ENDED, cause="duration"))


def _at_point(state: State, dn: DeviceId, event: PlayEvent | StopEvent) -> Treatment | None:
    """The treatment an event at routing point *dn* is about, if it is ours and current."""
    if event.connection.device_id != dn:
        return None
    call = state.call_by_call_id(event.connection.call_id)
    treatment = None if call is None else state.treatment(call.conn_id)
    if treatment is None or treatment.point != dn or treatment.message != event.message:
        return None
    return treatment


def on_play(state: State, dn: DeviceId, event: PlayEvent) -> None:
    if state.kind(dn) is not DnKind.ROUTING_POINT:
        return
    treatment = _at_point(state, dn, event)
    if treatment is None or treatment.status is not TreatmentStatus.REQUESTED:
        log.info("a message played at %s that no client asked for", dn)
        return
    applied = dataclasses.replace(treatment, status=TreatmentStatus.APPLIED)
    state.emit(TreatmentChanged(treatment=applied, what=TreatmentEvent.APPLIED))


def on_stop(state: State, dn: DeviceId, event: StopEvent) -> None:
    """At a routing point, a treatment's end; elsewhere, a recording's (model.private)."""
    if state.kind(dn) is not DnKind.ROUTING_POINT:
        private.on_stop(state, dn, event)
        return
    treatment = _at_point(state, dn, event)
    if treatment is None or event.cause is EventCause.NEXT_MESSAGE:
        return  # a treatment replaced by the next one: that one is current
    gone = state.party(dn, treatment.conn_id) is None
    if gone or treatment.status is not TreatmentStatus.APPLIED:
        state.emit(TreatmentChanged(treatment=treatment, what=TreatmentEvent.DROPPED))
        return
    report = event.private_data
    digits = report.find("collectDigits") if report is not None else None
    interrupted = report.find("interrupted") if report is not None else None
    state.emit(
        TreatmentChanged(
            treatment=treatment,
            what=TreatmentEvent.ENDED,
            cause=event.cause.value if event.cause is not None else "",
            digits=digits.text if digits is not None else "",
            interrupted=interrupted is not None and interrupted.text == "true",
        )
    )
