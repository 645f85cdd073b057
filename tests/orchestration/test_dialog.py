"""dialog.py and treating.py: the treatment elements read in a real session (no server),
and how the CTI server's events end a running treatment."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.dialog import DIALOG_NAMESPACES, Treatment
from ctiserver.orchestration.elements import QUEUE_NAMESPACES, ActionElements, ActionRequest
from ctiserver.orchestration.genesys import PRELUDE
from ctiserver.orchestration.outcomes import Action, ErrorValue
from ctiserver.orchestration.targets import Target, TargetType
from ctiserver.orchestration.treating import Ending, Running, Treating, treatment_message
from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.driver import Driver
from ctiserver.scxml.effects import Effect, PlatformError
from ctiserver.scxml.host import Host
from ctiserver.scxml.parser import parse_document
from ctiserver.tlib.vocabulary import TreatmentType as T


def run(actions: str) -> tuple[list[ActionRequest], list[str]]:
    """The requests and the error.execution messages of a session running *actions*."""
    document = parse_document(
        f"""<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
              xmlns:dialog="www.genesyslab.com/modules/dialog"
              xmlns:queue="http://www.genesyslab.com/modules/queue">
          <datamodel><data id="reqid"/><data id="n" expr="4"/></datamodel>
          <state id="s"><onentry>{actions}</onentry></state>
        </scxml>""".encode()
    )
    registry = ActionRegistry()
    registry.register((*DIALOG_NAMESPACES, *QUEUE_NAMESPACES), ActionElements(iter(["r1"])))
    effects: list[Effect] = []
    driver = Driver(
        host=Host(actions=registry, preludes=(PRELUDE,)),
        on_effect=lambda _, effect: effects.append(effect),
    )
    driver.start(document)
    requests = [e for e in effects if isinstance(e, ActionRequest)]
    return requests, [e.message for e in effects if isinstance(e, PlatformError)]


@pytest.mark.parametrize(
    ("element", "action", "treatment"),
    [
        (
            """<dialog:playsound type="'music'" resource="'jazz'" duration="30"/>""",
            Action.PLAYSOUND,
            Treatment(T.MUSIC, {"DURATION": 30, "MUSIC_DN": "jazz"}),
        ),
        (
            """<dialog:playsound type="FastBusyTone"/>""",
            Action.PLAYSOUND,
            Treatment(T.FAST_BUSY, {}),
        ),
        (
            """<dialog:play><dialog:prompts type="ann"><dialog:prompt intid="'a'"/>
                 <dialog:prompt intid="7"/></dialog:prompts></dialog:play>""",
            Action.PLAY,
            Treatment(T.PLAY_ANNOUNCEMENT, {"PROMPT": {"1": {"ID": "a"}, "2": {"ID": "7"}}}),
        ),
        (
            """<dialog:collect><dialog:input max_digits="_data.n" term_digits="'#'"
                 digit_timeout="5"/></dialog:collect>""",
            Action.COLLECT,
            Treatment(
                T.COLLECT_DIGITS, {"TOTAL_DIGITS": 4, "TERM_DIGITS": "#", "DIGIT_TIMEOUT": 5}
            ),
        ),
        (
            """<dialog:playandcollect><dialog:prompts><dialog:prompt intid="'m'"/></dialog:prompts>
                 <dialog:input term_digits="'*'"/></dialog:playandcollect>""",
            Action.PLAYANDCOLLECT,
            Treatment(
                T.PLAY_ANNOUNCEMENT_AND_DIGITS, {"PROMPT": {"1": {"ID": "m"}}, "TERM_DIGITS": "*"}
            ),
        ),
    ],
)
def test_each_element_is_its_treatment(element: str, action: Action, treatment: Treatment) -> None:
    requests, errors = run(element.replace("/>", ' requestid="_data.reqid"/>', 1))
    assert errors == []
    assert [(r.action, r.treatment, r.request_id) for r in requests] == [(action, treatment, "r1")]


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ('<dialog:playsound type="jingle"/>', "type must be one of music, ringback"),
        ('<dialog:playsound type="ringback" resource="\'x\'"/>', "for type music only"),
        ('<dialog:playsound type="music" duration="1.5"/>', "whole number above 0"),
        ("<dialog:play/>", "needs one <dialog:prompts> child"),
        (
            '<dialog:play><dialog:prompts><dialog:prompt number="5"/></dialog:prompts></dialog:play>',
            "text-to-speech engine",
        ),
        (
            '<dialog:play><dialog:prompts type="tts"><dialog:prompt intid="1"/></dialog:prompts>'
            "</dialog:play>",
            "only announcements",
        ),
        ("<dialog:play><dialog:prompts/></dialog:play>", "names no <dialog:prompt>"),
        ('<dialog:collect><dialog:input digit_timeout="3"/></dialog:collect>', "needs max_digits"),
        (
            '<dialog:collect><dialog:input max_digits="3" total_timeout="9"/></dialog:collect>',
            "total_timeout is not supported",
        ),
        ("<dialog:remote destination=\"'1'\"/>", "needs an IVR"),
        ("<dialog:runtreatments/>", "only as a child of <queue:submit>"),
    ],
)
def test_what_cannot_be_played_is_error_execution(element: str, message: str) -> None:
    requests, errors = run(element)
    assert requests == []
    assert len(errors) == 1, errors
    assert message in errors[0], errors


def test_the_treatments_of_a_submit_in_their_order() -> None:
    requests, errors = run(
        """<queue:submit targets="'8001.GA'">
             <dialog:playsound type="ringback" duration="2"/>
             <dialog:runtreatments>
               <dialog:play><dialog:prompts><dialog:prompt intid="'wait'"/></dialog:prompts></dialog:play>
               <dialog:playsound type="music"/>
             </dialog:runtreatments>
           </queue:submit>"""
    )
    assert errors == []
    (request,) = requests
    assert request.targets == (Target(name="8001", type=TargetType.AGENT_GROUP),)
    assert request.treatments == (
        Treatment(T.RING_BACK, {"DURATION": 2}),
        Treatment(T.PLAY_ANNOUNCEMENT, {"PROMPT": {"1": {"ID": "wait"}}}),
        Treatment(T.MUSIC, {}),
    )


def test_which_treatments_end_by_themselves() -> None:
    assert not Treatment(T.MUSIC, {}).ends
    assert Treatment(T.MUSIC, {"DURATION": 3}).ends
    assert Treatment(T.COLLECT_DIGITS, {"TOTAL_DIGITS": 1}).ends
    assert Treatment(T.PLAY_ANNOUNCEMENT_AND_DIGITS, {}).collects


def test_the_request() -> None:
    treatment = Treatment(T.MUSIC, {"DURATION": 3})
    assert treatment_message("5000", "c1", treatment, {"x": 1}) == {
        "Request": "RequestApplyTreatment",
        "ThisDN": "5000",
        "ConnID": "c1",
        "TreatmentType": "Music",
        "TreatmentParms": {"DURATION": 3},
        "Extensions": {"x": 1},
    }


COLLECT = Treatment(T.COLLECT_DIGITS, {"TOTAL_DIGITS": 4})
RUNNING = Running("s", "c1", "5000", 1001, COLLECT, action=Action.COLLECT, request_id="r1")


def event(name: str, **attributes: object) -> dict[str, object]:
    return {"Event": name, "ThisDN": "5000", "ConnID": "c1", **attributes}


@pytest.mark.parametrize(
    ("ended_by", "ending"),
    [
        (
            event(
                "EventTreatmentEnd",
                CollectedDigits="1234",
                Extensions={"COMPLETION_STATUS": "NORMAL"},
            ),
            Ending(data={"digits": "1234"}),
        ),
        (
            event(
                "EventTreatmentEnd",
                CollectedDigits="12",
                Extensions={"COMPLETION_STATUS": "TIMEOUT"},
            ),
            Ending(ErrorValue.TIMEOUT, "no digit was keyed after '12' in time", {"digits": "12"}),
        ),
        (
            event("EventTreatmentApplied", ReferenceID=1002),
            Ending(ErrorValue.CANCELLED, "another treatment replaced it"),
        ),
        (
            event("EventRouteUsed", ThirdPartyDN="7004"),
            Ending(ErrorValue.CANCELLED, "the call was routed to 7004 before its end"),
        ),
        (
            event("EventAbandoned"),
            Ending(ErrorValue.INVALID_STATE, "the caller hung up during the treatment"),
        ),
    ],
)
def test_what_ends_a_running_treatment(ended_by: dict[str, object], ending: Ending) -> None:
    treating = Treating()
    assert treating.start("a", "c1", RUNNING) is None
    assert treating.on_event("a", ended_by) == (RUNNING, ending)
    assert len(treating) == 0


@pytest.mark.parametrize(
    "other",
    [
        event("EventTreatmentApplied", ReferenceID=1001),  # its own
        event("EventTreatmentEnd", ThisDN="5001"),  # another routing point
        event("EventTreatmentEnd", ConnID="c2"),  # another call
        event("EventRinging"),
    ],
)
def test_other_events_leave_it_running(other: dict[str, object]) -> None:
    treating = Treating()
    treating.start("a", "c1", RUNNING)
    assert treating.on_event("a", other) is None
    assert treating.on_event("b", event("EventTreatmentEnd")) is None  # another connection
    assert len(treating) == 1


def test_one_treatment_per_call() -> None:
    treating = Treating()
    treating.start("a", "c1", RUNNING)
    assert treating.replaced("a", "c1", 1001) is None
    assert treating.replaced("a", "c1", 1002) == RUNNING
    newer = Running("s", "c1", "5000", 1003, COLLECT)
    assert treating.start("a", "c1", newer) is None
    assert treating.start("a", "c1", RUNNING) == newer
    treating.forget_session("s")
    assert len(treating) == 0
