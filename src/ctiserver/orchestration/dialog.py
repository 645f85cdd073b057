"""The Dialog (treatment) module's elements (reference/orchestration.md § 1.4): what a
strategy plays to a caller waiting at a routing point, read into the T-Library
treatment that plays it (RequestApplyTreatment, docs/protocol.md).  Pure.

    <dialog:playsound type="music" resource="'9000'" duration="30"/>   Music, DURATION, MUSIC_DN
    <dialog:play><dialog:prompts type="ann">                           PlayAnnouncement, PROMPT
        <dialog:prompt intid="'1001'"/></dialog:prompts></dialog:play>
    <dialog:collect><dialog:input max_digits="4" term_digits="'#'"/>   CollectDigits, TOTAL_DIGITS,
        </dialog:collect>                                              TERM_DIGITS, DIGIT_TIMEOUT
    <dialog:playandcollect> prompts and input </dialog:playandcollect> PlayAnnouncementAndDigits

Standalone, each is an action answered by `dialog.<name>.done` or `error.dialog.<name>`;
as children of `<queue:submit>` (alone or inside `<dialog:runtreatments>`) they are played
in order while the call waits, with no events (as ORS does).

Rule 1: the element checks what it can without the call (kinds of values, what this
server plays); the CTI server checks the ranges (EventError 53 says which), so that the
switch's limits are stated in one place.
Rule 2: what a CSTA switch cannot play (text to speech, numbers spoken, an IVR's
dialogs) raises ExecutionError, naming what is missing, rather than being ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.orchestration.attributes import Reader
from ctiserver.scxml.document import XmlElement
from ctiserver.tlib.vocabulary import KVList, TreatmentType

DIALOG_NAMESPACES: Final = (
    "www.genesyslab.com/modules/dialog",
    "http://www.genesyslab.com/modules/dialog",
)
T = TreatmentType
SOUNDS: Final[Mapping[str, TreatmentType]] = {
    "music": T.MUSIC,
    "ringback": T.RING_BACK,
    "silence": T.SILENCE,
    "busy": T.BUSY,
    "busytone": T.BUSY,
    "fastbusy": T.FAST_BUSY,
    "fastbusytone": T.FAST_BUSY,
}
_ENDING: Final = frozenset({T.PLAY_ANNOUNCEMENT, T.COLLECT_DIGITS, T.PLAY_ANNOUNCEMENT_AND_DIGITS})
_COLLECTING: Final = frozenset({T.COLLECT_DIGITS, T.PLAY_ANNOUNCEMENT_AND_DIGITS})
_NOT_PLAYED: Final[Mapping[str, str]] = {
    "start": "runs a dialog application, which needs an IVR",
    "remote": "runs a dialog application, which needs an IVR",
    "playandverify": "verifies digits, which needs an IVR",
    "pause": "is a pause between an IVR's dialogs",
    "runtreatments": "is played only as a child of <queue:submit> here",
}
_UNSUPPORTED_INPUT: Final = ("total_timeout", "abort_digits")


@dataclass(frozen=True, slots=True)
class Treatment:
    """A T-Library treatment: its TreatmentType and TreatmentParms."""

    kind: TreatmentType
    parms: KVList

    @property
    def ends(self) -> bool:
        """True when the treatment ends by itself (EventTreatmentEnd): announcements,
        digit collection, and sounds with a duration."""
        return self.kind in _ENDING or "DURATION" in self.parms

    @property
    def collects(self) -> bool:
        return self.kind in _COLLECTING


def playsound(r: Reader) -> Treatment:
    kind = SOUNDS.get((r.token("type") or "").lower())
    if kind is None:
        raise r.fail(f"type must be one of {', '.join(SOUNDS)}")
    parms: KVList = {}
    duration = r.whole("duration")
    if duration is not None:
        parms["DURATION"] = duration
    source = r.text("resource")
    if source is not None:
        if kind is not T.MUSIC:
            raise r.fail("resource (the music source) is for type music only")
        parms["MUSIC_DN"] = source
    return Treatment(kind, parms)


def play(r: Reader) -> Treatment:
    return Treatment(T.PLAY_ANNOUNCEMENT, {"PROMPT": _prompts(r)})


def collect(r: Reader) -> Treatment:
    return Treatment(T.COLLECT_DIGITS, _input(r))


def playandcollect(r: Reader) -> Treatment:
    return Treatment(T.PLAY_ANNOUNCEMENT_AND_DIGITS, {"PROMPT": _prompts(r), **_input(r)})


TREATMENTS: Final[Mapping[str, Callable[[Reader], Treatment]]] = {
    "playsound": playsound,
    "play": play,
    "collect": collect,
    "playandcollect": playandcollect,
}


def treatment(r: Reader) -> Treatment:
    """The treatment of the dialog element *r* reads (Rule 2 for the others)."""
    name = r.element.name
    read = TREATMENTS.get(name)
    if read is None:
        why = _NOT_PLAYED.get(name, "is not a treatment this server plays")
        raise r.fail(f"<dialog:{name}> {why}")
    return read(r)


def submit_treatments(r: Reader) -> tuple[Treatment, ...]:
    """The treatments among the children of `<queue:submit>`, in their order."""
    found: list[Treatment] = []
    for child in _dialog_children(r.element):
        if child.name == "runtreatments":
            found.extend(treatment(r.of(item)) for item in _dialog_children(child))
        else:
            found.append(treatment(r.of(child)))
    return tuple(found)


def _dialog_children(element: XmlElement) -> list[XmlElement]:
    return [child for child in element.children if child.namespace in DIALOG_NAMESPACES]


def _child(r: Reader, name: str) -> XmlElement:
    found = [child for child in _dialog_children(r.element) if child.name == name]
    if len(found) != 1:
        raise r.fail(f"needs one <dialog:{name}> child")
    return found[0]


def _prompts(r: Reader) -> KVList:
    """PROMPT: each `<dialog:prompt intid>`, an announcement the switch knows, in order."""
    prompts = r.of(_child(r, "prompts"))
    kind = prompts.token("type")
    if kind not in (None, "ann"):
        raise prompts.fail(f"type {kind!r}: only announcements (ann) are played here")
    items: KVList = {}
    for number, element in enumerate(_dialog_children(prompts.element), start=1):
        prompt = prompts.of(element)
        ident = prompt.text("intid")
        if element.name != "prompt" or ident is None:
            raise prompt.fail(
                "a prompt is an announcement, intid=: numbers, digits and text would need "
                "a text-to-speech engine"
            )
        items[str(number)] = {"ID": ident}
    if not items:
        raise prompts.fail("names no <dialog:prompt>")
    return items


def _input(r: Reader) -> KVList:
    """TOTAL_DIGITS, TERM_DIGITS and DIGIT_TIMEOUT from `<dialog:input>`."""
    given = r.of(_child(r, "input"))
    for name in _UNSUPPORTED_INPUT:
        if given.element.attribute(name) is not None:
            raise given.fail(f"{name} is not supported: digit_timeout bounds each digit's wait")
    parms: KVList = {}
    total, term = given.whole("max_digits"), given.text("term_digits")
    timeout = given.whole("digit_timeout")
    if total is None and term is None:
        raise given.fail("needs max_digits or term_digits")
    if total is not None:
        parms["TOTAL_DIGITS"] = total
    if term is not None:
        parms["TERM_DIGITS"] = term
    if timeout is not None:
        parms["DIGIT_TIMEOUT"] = timeout
    return parms
