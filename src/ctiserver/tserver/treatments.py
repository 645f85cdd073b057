"""RequestApplyTreatment (docs/protocol.md, Treatments at routing points): music, silence,
ringback, busy, announcements and digit collection for a call waiting at a routing
point, over the switch's PlayMessage as the Genesys CSTA connector does it
(docs/pbxsim.md § 8.5).

    TreatmentType              message  TreatmentParms
    Busy, FastBusy             0        DURATION
    Music                      1        DURATION, MUSIC_DN (the music source)
    RingBack                   2        DURATION
    Silence                    3        DURATION
    CollectDigits              3        TOTAL_DIGITS, TERM_DIGITS, DIGIT_TIMEOUT
    PlayAnnouncement           4        PROMPT (a list of {ID: announcement})
    PlayAnnouncementAndDigits  4        PROMPT, and those of CollectDigits

The switch's PlayEvent is EventTreatmentApplied to the routing point's registrants (the
requester's copy answers it); its refusal is EventTreatmentNotApplied with the error.
A DURATION (seconds) is the server's to keep: when it is over the server stops the
message (Stop) and says EventTreatmentEnd; without one, music, ringback, silence and
busy go on until the call is routed or another treatment replaces them, with no
EventTreatmentEnd (as the Events and Models Reference says).  Announcements and digit
collection end at the switch, which reports the digits (EventTreatmentEnd).  The other
TreatmentTypes need an IVR or a text-to-speech engine, which a CSTA switch does not
offer: EventError 53 says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.clock import Instant
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.csta.voice import PlayMessage, Stop
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.model.values import Call, Treatment, TreatmentStatus
from ctiserver.tlib.vocabulary import KVList, TMessage, TreatmentType
from ctiserver.tserver.calls import connection
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute, ResourceSeized
from ctiserver.tserver.port import Core, Queries, RequestContext, Requester

T = TreatmentType
_DIGIT: Final = re.compile(r"[0-9*#]")
MAX_DIGITS: Final = 32
DEFAULT_DIGIT_TIMEOUT: Final = 10  # seconds to wait for each digit
_TONES: Final = ("DURATION",)
_COLLECT: Final = ("TOTAL_DIGITS", "TERM_DIGITS", "DIGIT_TIMEOUT")


@dataclass(frozen=True, slots=True)
class Plan:
    """How the switch plays one TreatmentType, and the TreatmentParms it takes."""

    message: str
    parms: tuple[str, ...]
    collects: bool = False
    announces: bool = False


PLANS: Final[Mapping[TreatmentType, Plan]] = {
    T.BUSY: Plan("0", _TONES),
    T.FAST_BUSY: Plan("0", _TONES),
    T.MUSIC: Plan("1", (*_TONES, "MUSIC_DN")),
    T.RING_BACK: Plan("2", _TONES),
    T.SILENCE: Plan("3", _TONES),
    T.COLLECT_DIGITS: Plan("3", _COLLECT, collects=True),
    T.PLAY_ANNOUNCEMENT: Plan("4", ("PROMPT",), announces=True),
    T.PLAY_ANNOUNCEMENT_AND_DIGITS: Plan("4", ("PROMPT", *_COLLECT), collects=True, announces=True),
}
NOT_SERVED: Final[Mapping[TreatmentType, str]] = {
    T.UNKNOWN: "TreatmentType Unknown names no treatment",
    **{
        kind: f"TreatmentType {kind} needs an IVR, which a CSTA switch does not offer"
        for kind in (
            T.IVR,
            T.VERIFY_DIGITS,
            T.RECORD_USER_ANNOUNCEMENT,
            T.DELETE_USER_ANNOUNCEMENT,
            T.PLAY_APPLICATION,
            T.RAN,
        )
    },
    **{
        kind: f"TreatmentType {kind} needs a text-to-speech engine, which a CSTA switch "
        "does not offer"
        for kind in (T.TEXT_TO_SPEECH, T.TEXT_TO_SPEECH_AND_DIGITS)
    },
    T.CANCEL_CALL: (
        "TreatmentType CancelCall is not served: reject the call with RequestRouteCall "
        "(RouteType Reject)"
    ),
    T.SET_DEFAULT_ROUTE: (
        "TreatmentType SetDefaultRoute is not served: the routing point's default-destination "
        "is its configuration's"
    ),
}
_REFUSALS: Final = {
    "requestIncompatibleWithObject": "treatments are played only at routing points",
    "invalidMsgID": "the switch does not play that treatment",
    "invalidParameterValue": "the switch cannot play the treatment with those TreatmentParms",
    "invalidConnectionID": "the call is no longer at the routing point",
}


def apply_treatment(core: Core, ctx: RequestContext) -> None:
    kind = TreatmentType(ctx.message["TreatmentType"])
    treat(core, ctx, kind, dict(ctx.message.get("TreatmentParms") or {}))


def treat(
    core: Core,
    ctx: RequestContext,
    kind: TreatmentType,
    parms: KVList,
    *,
    end_event: str = "EventTreatmentEnd",
) -> None:
    """Treat the call ConnID at the routing point ThisDN with *kind* and *parms*; its end
    is *end_event* (the older RequestCollectDigits ends with EventDigitsCollected)."""
    point = controlled_dn(core, ctx)
    if core.model.kind(point) is not DnKind.ROUTING_POINT:
        raise InvalidAttribute(f"treatments are applied at routing points; {point} is not one")
    call, _party = call_at(core, ctx, point)
    current = core.model.treatment(call.conn_id)
    if current is not None and current.status is TreatmentStatus.REQUESTED:
        raise ResourceSeized(
            f"a {current.treatment_type} treatment of call {call.conn_id} is being applied; "
            "wait for its EventTreatmentApplied (or EventTreatmentNotApplied)"
        )
    plan = _plan(kind)
    private, duration = _switch_parms(core, kind, plan, parms)
    request = PlayMessage(
        message_to_be_played=plan.message,
        over_connection=connection(call, point),
        private_data=private,
    )
    refused = _not_applied(call, point, kind, parms)
    answers = [("EventTreatmentApplied", call.conn_id)]
    pending = core.pending(ctx, point, answers, explain=_REFUSALS, on_refusal=refused)
    pending.calls.add(call.conn_id)
    core.to_switch(ctx, request, pending)
    due = ctx.at.wall + duration if duration is not None else None
    treatment = Treatment(
        call.conn_id, point, kind, parms, plan.message, due=due, end_event=end_event
    )
    core.treat(treatment, ctx.at)


def _plan(kind: TreatmentType) -> Plan:
    plan = PLANS.get(kind)
    if plan is None:
        raise InvalidAttribute(NOT_SERVED[kind])
    return plan


def _switch_parms(
    core: Core, kind: TreatmentType, plan: Plan, parms: KVList
) -> tuple[PrivateData | None, int | None]:
    """The PlayMessage's private data, and the DURATION the server keeps.  Raises
    InvalidAttribute for a parameter the treatment does not take or that makes no sense."""
    for key in parms:
        if key not in plan.parms:
            taken = ", ".join(plan.parms)
            raise InvalidAttribute(
                f"TreatmentParms {key} is not taken by TreatmentType {kind}; it takes {taken}"
            )
    elements: list[PrivateElement] = []
    if kind is T.FAST_BUSY:
        elements.append(PrivateElement("busyPattern", "fast"))
    if "MUSIC_DN" in parms:
        elements.append(PrivateElement("audioUrl", _text(parms, "MUSIC_DN")))
    if plan.announces:
        elements.extend(PrivateElement("audioUrl", item) for item in _prompt(parms))
    if plan.collects:
        elements.append(_collect_digits(parms))
    duration = _positive(parms, "DURATION") if "DURATION" in parms else None
    private = PrivateData(core.settings.private_namespace, tuple(elements)) if elements else None
    return private, duration


def _text(parms: KVList, key: str) -> str:
    value = parms[key]
    if not isinstance(value, str) or not value:
        raise InvalidAttribute(f"TreatmentParms {key} must be a non-empty string")
    return value


def _positive(parms: KVList, key: str, *, most: int | None = None) -> int:
    value = parms[key]
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if type(value) is not int or value <= 0 or (most is not None and value > most):
        bound = f" up to {most}" if most is not None else ""
        raise InvalidAttribute(f"TreatmentParms {key} must be a whole number above 0{bound}")
    return value


def _prompt(parms: KVList) -> list[str]:
    """PROMPT: a list of prompts, each {ID: the announcement}, played in their order."""
    prompt = parms.get("PROMPT")
    if not isinstance(prompt, dict) or not prompt:
        raise InvalidAttribute("TreatmentParms PROMPT must list the prompts, each with an ID")
    announcements = []
    for name, item in prompt.items():
        ident = item.get("ID") if isinstance(item, dict) else None
        if not isinstance(ident, str | int) or isinstance(ident, bool) or not str(ident):
            raise InvalidAttribute(f"TreatmentParms PROMPT {name} needs an ID")
        announcements.append(str(ident))
    return announcements


def _collect_digits(parms: KVList) -> PrivateElement:
    """<collectDigits>: numChars, flushChar and timeout (milliseconds) of ECMA-269's
    digits reporting criteria."""
    children = []
    if "TOTAL_DIGITS" in parms:
        total = _positive(parms, "TOTAL_DIGITS", most=MAX_DIGITS)
        children.append(PrivateElement("numChars", str(total)))
    if "TERM_DIGITS" in parms:
        term = parms["TERM_DIGITS"]
        if not isinstance(term, str) or not _DIGIT.fullmatch(term):
            raise InvalidAttribute("TreatmentParms TERM_DIGITS must be one digit: 0-9, * or #")
        children.append(PrivateElement("flushChar", term))
    if not children:
        raise InvalidAttribute("collecting digits needs TOTAL_DIGITS or TERM_DIGITS")
    timeout = _positive(parms, "DIGIT_TIMEOUT") if "DIGIT_TIMEOUT" in parms else None
    seconds = timeout or DEFAULT_DIGIT_TIMEOUT
    children.append(PrivateElement("timeout", str(seconds * 1000)))
    return PrivateElement("collectDigits", children=tuple(children))


def _not_applied(
    call: Call, point: DeviceId, kind: TreatmentType, parms: KVList
) -> Callable[[Core, Requester, TMessage, Instant], None]:
    """What the switch's refusal (or silence) does: the treatment is forgotten, and the
    routing point's registrants hear EventTreatmentNotApplied (the requester's copy
    with the ReferenceID)."""

    def refused(core: Core, pending: Requester, error: TMessage, at: Instant) -> None:
        core.forget_treatment(call.conn_id, at)
        current = core.model.call(call.conn_id) or call
        event: TMessage = {
            "Event": "EventTreatmentNotApplied",
            "ThisDN": point,
            "ConnID": current.conn_id,
            "CallID": current.call_id,
            "CallType": current.call_type,
            "TreatmentType": kind,
            "ErrorCode": error["ErrorCode"],
            "ErrorMessage": error["ErrorMessage"],
        }
        if parms:
            event["TreatmentParms"] = parms
        event["UserData"] = current.user_data
        core.send(event, core.clients_of(point), at, answering=pending)

    return refused


# --- time -------------------------------------------------------------------------------------


def due(model: Queries) -> float | None:
    """The wall time the first DURATION of an applied treatment is over."""
    timers = model.treatment_timers
    return min(timers.values()) if timers else None


def end_due(core: Core, at: Instant) -> None:
    """Every treatment whose DURATION is over ends: the switch stops it, and the
    routing point's registrants hear EventTreatmentEnd."""
    for treatment in _over(core.model, at.wall):
        call = core.model.call(treatment.conn_id)
        if call is not None and core.model.party(treatment.point, call.conn_id) is not None:
            here = connection(call, treatment.point)
            core.to_switch_alone(Stop(connection=here, message_to_be_stopped=treatment.message))
        core.treatment_over(treatment.conn_id, at)


def _over(model: Queries, wall: float) -> list[Treatment]:
    over = [conn_id for conn_id, due in model.treatment_timers.items() if due <= wall]
    return [t for t in map(model.treatment, over) if t is not None]


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestApplyTreatment": apply_treatment
}
