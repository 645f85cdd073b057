"""The T-Library's older treatment requests (docs/protocol.md, Treatments at routing
points), served as the RequestApplyTreatment they amount to (tserver.treatments):

    RequestGiveMusicTreatment     Music      MusicPath -> MUSIC_DN, Timeout -> DURATION
    RequestGiveSilenceTreatment   Silence    Timeout -> DURATION
    RequestGiveRingBackTreatment  RingBack   Timeout -> DURATION
    RequestCollectDigits          CollectDigits  NumberOfDigits -> TOTAL_DIGITS,
                                  TerminateDigits -> TERM_DIGITS, Timeout -> DIGIT_TIMEOUT;
                                  it ends with EventDigitsCollected (CollectedDigits)

Each is answered by EventTreatmentApplied, or refused as RequestApplyTreatment is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ctiserver.tlib.vocabulary import KVList, KVValue, TreatmentType
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.port import Core, RequestContext
from ctiserver.tserver.treatments import treat

# Each request's TreatmentType, and its attributes as TreatmentParms keys.
OLDER: Final[Mapping[str, tuple[TreatmentType, Mapping[str, str]]]] = {
    "RequestGiveMusicTreatment": (
        TreatmentType.MUSIC,
        {"MusicPath": "MUSIC_DN", "Timeout": "DURATION"},
    ),
    "RequestGiveSilenceTreatment": (TreatmentType.SILENCE, {"Timeout": "DURATION"}),
    "RequestGiveRingBackTreatment": (TreatmentType.RING_BACK, {"Timeout": "DURATION"}),
    "RequestCollectDigits": (
        TreatmentType.COLLECT_DIGITS,
        {
            "NumberOfDigits": "TOTAL_DIGITS",
            "TerminateDigits": "TERM_DIGITS",
            "Timeout": "DIGIT_TIMEOUT",
        },
    ),
}


def older_treatment(core: Core, ctx: RequestContext) -> None:
    kind, keys = OLDER[ctx.name]
    if ctx.message.get("Timeout", 1) <= 0:
        raise InvalidAttribute(f"{ctx.name} takes a Timeout above 0 (seconds)")
    given: Mapping[str, KVValue] = ctx.message  # type: ignore[assignment]
    parms: KVList = {key: given[attribute] for attribute, key in keys.items() if attribute in given}
    end = "EventDigitsCollected" if ctx.name == "RequestCollectDigits" else "EventTreatmentEnd"
    treat(core, ctx, kind, parms, end_event=end)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = dict.fromkeys(OLDER, older_treatment)
