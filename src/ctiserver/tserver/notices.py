"""From the change records of DTMF, treatments and DN features to T-Library events, with
the attributes of the Genesys Events and Models Reference (docs/protocol.md § 5).

    DtmfSent                               EventDTMFSent        to the sender's registrants
    TreatmentChanged APPLIED / ENDED       EventTreatmentApplied / EventTreatmentEnd
                                                                to the routing point's
    DnFeaturesChanged                      EventDNDOn/Off, EventForwardSet/Cancel,
                                           EventMessageWaitingOn/Off,
                                           EventDNOutOfService/BackInService  to the DN's

The requester whose request an event answers gets its ReferenceID.  tellers() gives the
publisher (tserver.publishing) what tells of each kind of record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, ConnId, DeviceId
from ctiserver.model.changes import (
    DnFeature,
    DnFeaturesChanged,
    DtmfSent,
    TreatmentChanged,
    TreatmentEvent,
)
from ctiserver.model.values import Call, Treatment
from ctiserver.tlib.vocabulary import CallState, DNRole, ForwardMode, TMessage
from ctiserver.tserver.correlation import NO_CALL, Correlator
from ctiserver.tserver.port import Queries, Requester

log = logging.getLogger(__name__)

# TreatmentTypes that collect digits, and those that play an announcement.
COLLECTING = frozenset({"CollectDigits", "PlayAnnouncementAndDigits"})
ANNOUNCING = frozenset({"PlayAnnouncement", "PlayAnnouncementAndDigits"})
# ECMA-269 causes that end a collection as asked (COMPLETION_STATUS NORMAL).
_COLLECTED = frozenset({"characterCountReached", "terminationCharacterReceived"})


class Host(Protocol):
    """What telling needs of the core."""

    @property
    def model(self) -> Queries: ...

    correlator: Correlator

    def clients_of(self, dn: DeviceId) -> list[ClientId]: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...


Teller = Callable[[Any, Instant], None]


def tellers(host: Host) -> dict[type[Any], Teller]:
    def tell(dn: DeviceId, conn_id: ConnId, event: TMessage, at: Instant) -> None:
        answering = host.correlator.answer(dn, conn_id, event["Event"])
        host.send(event, host.clients_of(dn), at, answering=answering)

    def dtmf_sent(change: DtmfSent, at: Instant) -> None:
        tell(change.dn, change.call.conn_id, dtmf_sent_event(change), at)

    def treatment_changed(change: TreatmentChanged, at: Instant) -> None:
        treatment = change.treatment
        call = host.model.call(treatment.conn_id)
        if call is None or change.what not in (TreatmentEvent.APPLIED, TreatmentEvent.ENDED):
            return
        if change.what is TreatmentEvent.APPLIED:
            event = treatment_applied(call, treatment, host.model)
        elif treatment.end_event == "EventDigitsCollected":
            event = digits_collected(call, change, host.model)
        else:
            event = treatment_end(call, change)
        tell(treatment.point, call.conn_id, event, at)

    def features_changed(change: DnFeaturesChanged, at: Instant) -> None:
        event = feature_event(change)
        if event is not None:
            tell(change.dn, NO_CALL, event, at)

    return {
        DtmfSent: dtmf_sent,
        TreatmentChanged: treatment_changed,
        DnFeaturesChanged: features_changed,
    }


# --- events ----------------------------------------------------------------------------------


def dtmf_sent_event(change: DtmfSent) -> TMessage:
    call = change.call
    event: TMessage = {
        "Event": "EventDTMFSent",
        "ThisDN": change.dn,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
    }
    _add_ani_dnis(event, call)
    event["UserData"] = call.user_data
    return event


def _add_ani_dnis(event: TMessage, call: Call) -> None:
    if call.ani is not None:
        event["ANI"] = call.ani
    if call.dnis is not None:
        event["DNIS"] = call.dnis


def _treatment_event(name: str, call: Call, treatment: Treatment) -> TMessage:
    event: TMessage = {
        "Event": name,
        "ThisDN": treatment.point,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type,
        "TreatmentType": treatment.treatment_type,
    }
    if treatment.parms:
        event["TreatmentParms"] = treatment.parms
    event["UserData"] = call.user_data
    return event


def treatment_applied(call: Call, treatment: Treatment, model: Queries) -> TMessage:
    event = _treatment_event("EventTreatmentApplied", call, treatment)
    party = model.party(treatment.point, call.conn_id)
    if party is not None:
        event["ThisDNRole"] = party.role
    event["Extensions"] = {}
    return event


def treatment_end(call: Call, change: TreatmentChanged) -> TMessage:
    """EventTreatmentEnd: the digits collected, and Extensions COMPLETION_STATUS (a
    collection: NORMAL, or TIMEOUT) and INTERRUPTED (an announcement: NO or KEYPAD)."""
    treatment = change.treatment
    event = _treatment_event("EventTreatmentEnd", call, treatment)
    extensions: dict[str, Any] = {}
    if treatment.treatment_type in COLLECTING:
        event["CollectedDigits"] = change.digits
        last = _last_digit(change)
        if last:
            event["LastCollectedDigit"] = last
        extensions["COMPLETION_STATUS"] = "NORMAL" if change.cause in _COLLECTED else "TIMEOUT"
    if treatment.treatment_type in ANNOUNCING:
        extensions["INTERRUPTED"] = "KEYPAD" if change.interrupted else "NO"
    if extensions:
        event["Extensions"] = extensions
    return event


def digits_collected(call: Call, change: TreatmentChanged, model: Queries) -> TMessage:
    """EventDigitsCollected: the end of the older RequestCollectDigits."""
    treatment = change.treatment
    event: TMessage = {
        "Event": "EventDigitsCollected",
        "ThisDN": treatment.point,
        "ConnID": call.conn_id,
        "CallID": call.call_id,
        "CallType": call.call_type,
        "CallState": CallState.OK,
        "CollectedDigits": change.digits,
    }
    party = model.party(treatment.point, call.conn_id)
    event["ThisDNRole"] = party.role if party is not None else DNRole.DESTINATION
    last = _last_digit(change)
    if last:
        event["LastCollectedDigit"] = last
    if call.calling is not None:
        event["OtherDN"] = call.calling
        event["OtherDNRole"] = DNRole.ORIGINATION
    event["UserData"] = call.user_data
    return event


def _last_digit(change: TreatmentChanged) -> str:
    """The last digit the caller keyed: the terminating digit when one ended it."""
    if change.cause == "terminationCharacterReceived":
        parms = change.treatment.parms
        flush = parms.get("TERM_DIGITS")
        if isinstance(flush, str) and flush:
            return flush
    return change.digits[-1:] if change.digits else ""


_FEATURE_EVENTS: dict[DnFeature, tuple[str, str]] = {
    DnFeature.DND: ("EventDNDOn", "EventDNDOff"),
    DnFeature.FORWARDING: ("EventForwardSet", "EventForwardCancel"),
    DnFeature.MESSAGE_WAITING: ("EventMessageWaitingOn", "EventMessageWaitingOff"),
    DnFeature.SERVICE: ("EventDNOutOfService", "EventDNBackInService"),
}


# The switch's forwarding types (ECMA-323) as the T-Library's ForwardMode.
FORWARD_MODES: dict[str, ForwardMode] = {
    **dict.fromkeys(
        ("forwardImmediate", "forwardImmInt", "forwardImmExt"), ForwardMode.UNCONDITIONAL
    ),
    **dict.fromkeys(("forwardBusy", "forwardBusyInt", "forwardBusyExt"), ForwardMode.ON_BUSY),
    **dict.fromkeys(
        ("forwardNoAns", "forwardNoAnsInt", "forwardNoAnsExt"), ForwardMode.ON_NO_ANSWER
    ),
}


def feature_event(change: DnFeaturesChanged) -> TMessage | None:
    """The event of a DN's feature; None for a forwarding type the T-Library has no
    ForwardMode for (forwarding on do not disturb), which the model keeps all the same."""
    features = change.features
    kind = change.forwarding_type
    if change.what is DnFeature.FORWARDING and kind not in FORWARD_MODES:
        log.info("forwarding %s at %s has no ForwardMode: no event", kind, change.dn)
        return None
    on = {
        DnFeature.DND: features.dnd,
        DnFeature.FORWARDING: kind in features.forwarding,
        DnFeature.MESSAGE_WAITING: features.message_waiting,
        DnFeature.SERVICE: features.out_of_service,
    }[change.what]
    set_name, cleared_name = _FEATURE_EVENTS[change.what]
    event: TMessage = {"Event": set_name if on else cleared_name, "ThisDN": change.dn}
    if change.what is DnFeature.FORWARDING:
        event["ForwardMode"] = FORWARD_MODES[kind]
        if on:
            event["OtherDN"] = features.forwarding[kind]
    return event
