"""interpreter.py: the W3C algorithm on a bare Session, and the effects it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from ctiserver.scxml.datamodel import ExecutionError, NullDataModel
from ctiserver.scxml.document import Data, DocumentError
from ctiserver.scxml.effects import (
    CancelEvent,
    CancelInvoke,
    Effect,
    ForwardEvent,
    PlatformError,
    SendEvent,
    SessionEnded,
    StartInvoke,
    WriteLog,
)
from ctiserver.scxml.events import SCXML_IO_PROCESSOR, Event, EventType
from ctiserver.scxml.host import Host
from ctiserver.scxml.interpreter import SCXML_INVOKE_TYPE, Session
from ctiserver.scxml.parser import parse_document
from ctiserver.scxml.values import UNDEFINED
from tests.scxml.support import document, scxml, started

Run = Callable[..., "str | None"]


def logs(effects: Sequence[Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, WriteLog)]


# --- starting, receiving, ending --------------------------------------------------------------


def test_start_enters_the_initial_configuration_and_returns_effects() -> None:
    session, effects = started(
        '<state id="a"><onentry><log label="l" expr="\'in a\'"/></onentry>'
        '<state id="a1"/><state id="a2"/></state>'
    )
    assert session.running
    assert session.configuration == {"a", "a1"}
    assert session.is_in("a1")
    assert not session.is_in("a2")
    assert effects == [WriteLog(label="l", text="in a")]


def test_receive_takes_the_transition_an_external_event_enables() -> None:
    session, _ = started(
        '<state id="a"><transition event="go" cond="_event.data.n == 2" target="b"/></state>'
        '<state id="b"><onentry><log expr="_event.data.who"/></onentry></state>'
    )
    assert session.receive(Event(name="go", data={"n": 1}), 0.0) == []
    assert session.is_in("a")
    effects = session.receive(Event(name="go", data={"n": 2, "who": "host"}), 0.0)
    assert session.is_in("b")
    assert logs(effects) == ["host"]


def test_reaching_a_top_level_final_state_ends_the_session_with_its_donedata() -> None:
    session, effects = started(
        '<state id="a"><onexit><log expr="\'bye\'"/></onexit>'
        '<transition event="stop" target="end"/></state>'
        '<final id="end"><donedata><param name="code" expr="7"/></donedata></final>'
    )
    effects = session.receive(Event(name="stop"), 0.0)
    assert not session.running
    assert session.final == "end"
    assert logs(effects) == ["bye"]
    assert effects[-1] == SessionEnded(final="end", donedata={"code": 7})
    assert session.receive(Event(name="stop"), 0.0) == []


def test_a_session_starts_once_and_must_start_before_it_receives() -> None:
    session = Session(document('<state id="a"/>'), session_id="s")
    with pytest.raises(RuntimeError, match="not started"):
        session.receive(Event(name="e"), 0.0)
    session.start(0.0)
    with pytest.raises(RuntimeError, match="already started"):
        session.start(0.0)


def test_cancel_exits_every_state_and_cancels_invocations() -> None:
    session, effects = started(
        '<state id="a"><onexit><log expr="\'leaving\'"/></onexit>'
        '<invoke id="kid"><content><scxml xmlns="http://www.w3.org/2005/07/scxml" '
        'version="1.0"><state id="x"/></scxml></content></invoke></state>'
    )
    assert any(isinstance(e, StartInvoke) for e in effects)
    effects = session.cancel(5.0)
    assert logs(effects) == ["leaving"]
    assert CancelInvoke(invoke_id="kid") in effects
    assert effects[-1] == SessionEnded(final=None, reason="cancelled")
    assert session.cancel(6.0) == []


# --- errors -----------------------------------------------------------------------------------


def test_a_failing_condition_is_false_and_raises_error_execution() -> None:
    session, effects = started(
        '<state id="a"><transition cond="nope.nope" target="bad"/>'
        '<transition event="error.execution" target="good"/></state>'
        '<state id="bad"/><state id="good"/>'
    )
    assert session.is_in("good")
    (error,) = [e for e in effects if isinstance(e, PlatformError)]
    assert error.event == "error.execution"
    assert "nope" in error.message


def test_an_error_stops_its_block_but_not_the_next_one() -> None:
    _, effects = started(
        '<state id="a"><onentry><log expr="1"/><assign location="undeclared" expr="2"/>'
        "<log expr=\"'skipped'\"/></onentry><onentry><log expr=\"'second block'\"/>"
        "</onentry></state>"
    )
    assert logs(effects) == ["1", "second block"]


def test_communication_error_reports_the_send_id() -> None:
    session, _ = started(
        '<datamodel><data id="sid"/></datamodel><state id="a">'
        '<transition event="error.communication" cond="_event.sendid == \'s9\'" target="b"/>'
        '</state><state id="b"/>'
    )
    effects = session.communication_error("s9", "unreachable", 1.0)
    assert session.is_in("b")
    assert PlatformError(event="error.communication", message="unreachable") in effects


def test_a_failed_invocation_is_error_execution() -> None:
    session, effects = started(
        '<state id="a"><invoke id="i" src="child.scxml"/>'
        '<transition event="error.execution" target="b"/></state><state id="b"/>'
    )
    (start,) = [e for e in effects if isinstance(e, StartInvoke)]
    session.invoke_failed(start.invoke_id, "cannot read child.scxml", 0.0)
    assert session.is_in("b")


def test_an_eventless_loop_is_ended_after_the_microstep_limit() -> None:
    body = (
        '<datamodel><data id="n" expr="0"/></datamodel>'
        '<state id="a"><transition target="b"><assign location="n" expr="n + 1"/></transition>'
        '</state><state id="b"><transition target="a"/></state>'
    )
    session = Session(document(body), session_id="s", host=Host(max_steps=50))
    effects = session.start(0.0)
    assert not session.running
    assert effects[-1] == SessionEnded(final=None, reason="runaway macrostep: more than 50 steps")
    assert session.final is None


# --- the algorithm: compound, parallel, history, conflicts ------------------------------------


def test_done_state_events_for_compound_and_parallel_states(run: Run) -> None:
    body = (
        '<parallel id="p"><transition event="done.state.p" target="pass"/>'
        '<state id="r1"><state id="r1a"><transition target="r1f"/></state><final id="r1f"/>'
        "</state>"
        '<state id="r2"><state id="r2a"><transition event="done.state.r1" target="r2f"/>'
        '</state><final id="r2f"/></state></parallel><final id="pass"/>'
    )
    assert run(body) == "pass"


@pytest.mark.parametrize(("kind", "restored"), [("deep", "m2b"), ("shallow", "m2a")])
def test_history_restores_the_configuration(kind: str, restored: str) -> None:
    session, _ = started(
        f'<state id="main"><history id="h" type="{kind}"><transition target="m1"/></history>'
        '<state id="m1"><transition event="next" target="m2"/></state>'
        '<state id="m2"><state id="m2a"><transition event="next" target="m2b"/></state>'
        '<state id="m2b"/></state><transition event="out" target="away"/></state>'
        '<state id="away"><transition event="back" target="h"/></state>'
    )
    for name in ("next", "next", "out"):
        session.receive(Event(name=name), 0.0)
    assert session.configuration == {"away"}
    session.receive(Event(name="back"), 0.0)
    assert session.configuration == {"main", "m2", restored}


def test_the_default_history_transition_runs_its_content() -> None:
    session, effects = started(
        '<state id="s" initial="h"><history id="h"><transition target="b">'
        "<log expr=\"'default history'\"/></transition></history>"
        '<state id="a"/><state id="b"/></state>'
    )
    assert session.is_in("b")
    assert logs(effects) == ["default history"]


def test_an_internal_transition_does_not_exit_its_source() -> None:
    session, _ = started(
        '<state id="s"><onexit><log expr="\'exit s\'"/></onexit>'
        '<transition event="e" type="internal" target="s2"/>'
        '<state id="s1"/><state id="s2"/></state>'
    )
    effects = session.receive(Event(name="e"), 0.0)
    assert session.is_in("s2")
    assert logs(effects) == []


def test_a_deeper_transition_preempts_a_conflicting_one() -> None:
    session, _ = started(
        '<parallel id="p"><transition event="e" target="outside"/>'
        '<state id="r1"><transition event="e" target="r1b"/><state id="r1a"/>'
        '<state id="r1b"/></state>'
        '<state id="r2"><transition event="e" target="outside"/></state></parallel>'
        '<state id="outside"/>'
    )
    session.receive(Event(name="e"), 0.0)
    # r1's transition comes first in document order and exits only r1; r2's would exit
    # the whole parallel state, so it conflicts and loses to the earlier one.
    assert session.configuration == {"p", "r1", "r1b", "r2"}


def test_late_binding_initialises_data_on_first_entry() -> None:
    session, effects = started(
        '<state id="a"><onentry><log expr="typeof late"/></onentry>'
        '<transition event="go" target="b"/></state>'
        '<state id="b"><datamodel><data id="late" expr="42"/></datamodel>'
        '<onentry><log expr="late"/></onentry></state>',
        binding="late",
    )
    assert logs(effects) == ["undefined"]
    assert logs(session.receive(Event(name="go"), 0.0)) == ["42"]


def test_the_null_datamodel_answers_in() -> None:
    session, effects = started(
        '<parallel id="p"><state id="x"><transition cond="In(\'y\')" target="done"/></state>'
        '<state id="y"/></parallel><final id="done"/>',
        datamodel="null",
    )
    assert session.final == "done"
    assert effects[-1] == SessionEnded(final="done")


def test_the_null_datamodel_has_no_expressions() -> None:
    session, effects = started(
        '<state id="a"><onentry><log expr="1"/></onentry>'
        '<transition event="e" cond="1 == 1" target="b"/></state><state id="b"/>',
        datamodel="null",
    )
    effects += session.receive(Event(name="e"), 0.0)
    errors = [e for e in effects if isinstance(e, PlatformError)]
    assert len(errors) == 2
    assert all(e.event == "error.execution" for e in errors)
    assert session.is_in("a")


def test_a_condition_failing_after_each_error_is_a_runaway_macrostep() -> None:
    session = Session(
        document('<state id="a"><transition cond="nope()" target="b"/></state><state id="b"/>'),
        session_id="s",
        host=Host(max_steps=20),
    )
    effects = session.start(0.0)
    assert isinstance(effects[-1], SessionEnded)
    assert effects[-1].reason.startswith("runaway macrostep")


# --- sends, cancels and invocations as effects ------------------------------------------------


def test_a_delayed_send_is_an_effect_due_at_now_plus_delay() -> None:
    _, effects = started(
        '<state id="a"><onentry><send id="t" event="tick" delayexpr="\'250ms\'">'
        '<param name="k" expr="\'v\'"/></send><cancel sendid="other"/></onentry></state>',
        now=10.0,
    )
    send, cancel = effects
    assert isinstance(send, SendEvent)
    assert (send.send_id, send.target, send.type, send.due) == ("t", "", SCXML_IO_PROCESSOR, 10.25)
    assert send.event.name == "tick"
    assert send.event.data == {"k": "v"}
    assert send.event.sendid == "t"
    assert send.event.origin == "#_scxml_s1"
    assert cancel == CancelEvent(send_id="other")


def test_send_to_internal_raises_an_internal_event() -> None:
    session, _ = started(
        '<state id="a"><onentry><send event="e" target="#_internal"/></onentry>'
        '<transition event="e" cond="_event.type == \'internal\'" target="b"/></state>'
        '<state id="b"/>'
    )
    assert session.is_in("b")


@pytest.mark.parametrize(
    "send",
    [
        '<send event="e" target="mailto:x"/>',
        '<send event="e" type="http://www.w3.org/TR/scxml/#BasicHTTPEventProcessor"/>',
        '<send event="e" target="#_internal" delay="1s"/>',
        '<send eventexpr="undefined"/>',
        '<send event="e" delayexpr="\'later\'"/>',
    ],
)
def test_a_send_with_a_bad_argument_is_error_execution_and_sends_nothing(send: str) -> None:
    session, effects = started(
        f'<state id="a"><onentry>{send}</onentry>'
        '<transition event="error.execution" target="b"/></state><state id="b"/>'
    )
    assert session.is_in("b")
    assert not [e for e in effects if isinstance(e, SendEvent)]


def test_invoke_evaluates_its_arguments_into_a_start_effect() -> None:
    text = scxml(
        '<datamodel><data id="where" expr="\'kid.scxml\'"/><data id="n" expr="3"/>'
        '<data id="iid"/></datamodel>'
        '<state id="a"><invoke typeexpr="\'scxml\'" srcexpr="where" idlocation="iid" '
        'namelist="n" autoforward="true"><param name="p" expr="n * 2"/></invoke></state>'
    )
    session = Session(parse_document(text, base_url="file:///srv/main.scxml"), session_id="s")
    (start,) = session.start(0.0)
    assert isinstance(start, StartInvoke)
    assert start.type == SCXML_INVOKE_TYPE
    assert start.src == "file:///srv/kid.scxml"
    assert start.params == {"n": 3, "p": 6}
    assert start.autoforward
    assert start.content is UNDEFINED
    assert start.invoke_id.startswith("a.")
    # autoforward passes external events on; finalize runs for the child's own events
    effects = session.receive(Event(name="hello"), 0.0)
    assert effects == [ForwardEvent(invoke_id=start.invoke_id, event=Event(name="hello"))]


def test_finalize_runs_before_transitions_on_the_childs_events() -> None:
    session, _ = started(
        '<datamodel><data id="got"/></datamodel>'
        '<state id="a"><invoke id="kid" src="kid.scxml"><finalize>'
        '<assign location="got" expr="_event.data.v"/></finalize></invoke>'
        '<transition event="result" cond="got == 5" target="b"/></state><state id="b"/>'
    )
    session.receive(Event(name="result", invokeid="kid", data={"v": 5}), 0.0)
    assert session.is_in("b")


def test_an_unsupported_invoke_type_is_error_execution() -> None:
    session, effects = started(
        '<state id="a"><invoke type="http://example.com/ccxml" src="x"/>'
        '<transition event="error.execution" target="b"/></state><state id="b"/>'
    )
    assert session.is_in("b")
    assert not [e for e in effects if isinstance(e, StartInvoke)]


def test_events_carry_the_fields_of_the_event_object() -> None:
    session, _ = started(
        '<datamodel><data id="seen"/></datamodel><state id="a">'
        '<transition event="e" target="b"><assign location="seen" expr="[_event.name, '
        '_event.type, _event.sendid, _event.origin, _event.origintype, _event.invokeid]"/>'
        '</transition></state><state id="b"><onentry><log expr="seen"/></onentry></state>'
    )
    event = Event(
        name="e",
        type=EventType.EXTERNAL,
        sendid="x1",
        origin="#_scxml_other",
        origintype=SCXML_IO_PROCESSOR,
    )
    effects = session.receive(event, 0.0)
    assert logs(effects) == [f'["e","external","x1","#_scxml_other","{SCXML_IO_PROCESSOR}",null]']


def test_a_host_may_add_a_datamodel() -> None:
    host = Host(datamodels={"spy": lambda _limits: NullDataModel()})
    assert "spy" in host.datamodel_names
    text = scxml('<state id="a"><transition cond="In(\'a\')" target="f"/></state><final id="f"/>')
    with pytest.raises(DocumentError, match="unsupported datamodel 'spy'"):
        parse_document(text.replace("ecmascript", "spy"))
    parsed = parse_document(text.replace("ecmascript", "spy"), datamodels=host.datamodel_names)
    session = Session(parsed, session_id="s", host=host)
    session.start(0.0)
    assert session.final == "f"
    with pytest.raises(ValueError, match="unsupported datamodel"):
        Host().datamodel("spy")


# --- edges of the algorithm -------------------------------------------------------------------


def test_reports_after_the_end_or_about_stale_invocations_are_ignored() -> None:
    session, _ = started(
        '<state id="a"><transition event="stop" target="f"/></state><final id="f"/>'
    )
    assert session.invoke_failed("never-started", "gone", 0.0) == []
    session.receive(Event(name="stop"), 0.0)
    assert session.communication_error("s", "late", 0.0) == []
    assert session.invoke_failed("i", "late", 0.0) == []


def test_failing_host_code_and_bad_data_ids_are_error_execution() -> None:
    body = (
        '<datamodel><data id="not-an-identifier" expr="1"/></datamodel>'
        '<state id="a"><transition event="error.execution" target="b"/></state><state id="b"/>'
    )
    session = Session(
        document(body), session_id="s", host=Host(preludes=("throw new Error('prelude')",))
    )
    effects = session.start(0.0)
    messages = [e.message for e in effects if isinstance(e, PlatformError)]
    assert messages[0] == "Error: prelude"
    assert any("not an ECMAScript identifier" in m for m in messages)
    assert session.is_in("b")


def test_a_history_without_default_enters_its_parents_initial_state() -> None:
    session, _ = started(
        '<state id="s" initial="h"><history id="h"/><state id="a"/><state id="b"/></state>'
    )
    assert session.configuration == {"s", "a"}


def test_a_nested_parallel_state_is_done_when_all_its_regions_are() -> None:
    session, _ = started(
        '<parallel id="outer"><transition event="done.state.outer" target="end"/>'
        '<parallel id="inner"><state id="i1"><final id="i1f"/></state>'
        '<state id="i2"><final id="i2f"/></state></parallel>'
        '<state id="o1"><final id="o1f"/></state></parallel><final id="end"/>'
    )
    assert session.final == "end"


def test_an_invoke_type_of_the_host_is_started_like_any_other() -> None:
    host = Host(invoke_types=frozenset({"http://example.com/dialog"}))
    session = Session(
        document('<state id="a"><invoke type="http://example.com/dialog" src="menu"/></state>'),
        session_id="s",
        host=host,
    )
    (start,) = session.start(0.0)
    assert isinstance(start, StartInvoke)
    assert start.type == "http://example.com/dialog"


def test_assign_without_a_value_and_empty_content_give_undefined() -> None:
    _, effects = started(
        '<datamodel><data id="v" expr="1"/></datamodel><state id="a"><onentry>'
        '<assign location="v"/><log expr="typeof v"/><send event="e"><content/></send>'
        "</onentry></state>"
    )
    assert logs(effects) == ["undefined"]
    (send,) = [e for e in effects if isinstance(e, SendEvent)]
    assert send.event.data is UNDEFINED


def test_the_null_datamodel_refuses_everything_but_in() -> None:
    model = NullDataModel()
    failures: list[Callable[[], object]] = [
        lambda: model.declare("x"),
        lambda: model.initialize(Data(id="x")),
        lambda: model.evaluate("1"),
        lambda: model.text("1"),
        lambda: model.assign_expr("x", "1"),
        lambda: model.assign("x", 1),
        lambda: model.run_script("1"),
        lambda: list(model.foreach("a", "i", None)),
        lambda: model.set_global("g", 1),
        lambda: model.run_prelude("1"),
        lambda: model.condition("1 == 1"),
    ]
    for failure in failures:
        with pytest.raises(ExecutionError):
            failure()
    model.state_entered("a")
    assert model.condition('In("a")')
    model.state_exited("a")
    assert not model.condition("In('a')")


def test_a_parallel_state_with_an_atomic_region_is_never_done() -> None:
    session, _ = started(
        '<parallel id="p"><transition event="done.state.p" target="end"/>'
        '<state id="r1"><final id="r1f"/></state><state id="r2"/></parallel><final id="end"/>'
    )
    assert session.configuration == {"p", "r1", "r1f", "r2"}


def test_a_failing_if_condition_is_false_and_the_block_goes_on() -> None:
    _, effects = started(
        '<state id="a"><onentry><if cond="nope.nope"><log expr="\'then\'"/>'
        '<elseif cond="true"/><log expr="\'elseif\'"/></if><log expr="\'after\'"/>'
        "</onentry></state>"
    )
    assert logs(effects) == ["elseif", "after"]
    assert [e.event for e in effects if isinstance(e, PlatformError)] == ["error.execution"]
