"""driver.py: the virtual clock, routing between sessions, and invoked children."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.scxml.driver import Driver
from ctiserver.scxml.effects import (
    CancelInvoke,
    ForwardEvent,
    PlatformError,
    SendEvent,
    SessionEnded,
    StartInvoke,
    WriteLog,
)
from ctiserver.scxml.events import Event
from ctiserver.scxml.host import Host
from ctiserver.scxml.loader import url_of
from ctiserver.scxml.parser import parse_document
from ctiserver.scxml.values import Value
from tests.scxml.support import SCXML, Recorder, document, scxml

TICKS = (
    '<state id="a"><onentry><send id="late" event="late" delay="2s"/>'
    '<send id="early" event="early" delay="500ms"/></onentry>'
    '<transition event="early" target="b"/></state>'
    '<state id="b"><transition event="late" target="done"/></state><final id="done"/>'
)


def logs(recorder: Recorder) -> list[str]:
    return [e.text for e in recorder.of_type(WriteLog) if isinstance(e, WriteLog)]


# --- the virtual clock ------------------------------------------------------------------------


def test_delayed_sends_fire_in_due_order_as_the_clock_moves() -> None:
    driver = Driver(now=100.0)
    session = driver.start(document(TICKS))
    assert driver.next_due() == 100.5
    driver.advance(0.4)
    assert session.is_in("a")
    driver.advance(0.1)
    assert session.is_in("b")
    assert driver.now == 100.5
    driver.advance(10.0)
    assert session.final == "done"
    assert driver.now == 110.5
    assert driver.next_due() is None


def test_run_until_done_jumps_from_timer_to_timer() -> None:
    driver = Driver()
    session = driver.start(document(TICKS))
    ended = driver.run_until_done(session.session_id)
    assert ended == SessionEnded(final="done")
    assert driver.now == 2.0
    assert driver.ended(session.session_id) == ended


def test_run_until_done_gives_up_at_the_timeout_or_when_nothing_is_scheduled() -> None:
    driver = Driver()
    session = driver.start(document(TICKS))
    assert driver.run_until_done(session.session_id, timeout=1.0) is None
    assert session.is_in("b")
    waiting = driver.start(document('<state id="idle"/>'))
    assert driver.run_until_done(waiting.session_id) is None


def test_a_cancelled_send_never_arrives() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<state id="a"><onentry><send id="t" event="timeout" delay="1s"/>'
            '<send event="ok" delay="2s"/><cancel sendidexpr="\'t\'"/></onentry>'
            '<transition event="timeout" target="bad"/><transition event="ok" target="good"/>'
            '</state><final id="bad"/><final id="good"/>'
        )
    )
    assert driver.run_until_done(session.session_id) == SessionEnded(final="good")


def test_external_events_carry_data_to_the_datamodel(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    session = driver.start(
        document(
            '<state id="a"><transition event="call.arrived" target="b">'
            "<log expr=\"_event.data.ani + ' ' + _event.data.udata.case\"/></transition></state>"
            '<state id="b"/>'
        )
    )
    data: Value = {"ani": "0612345678", "udata": {"case": "A-17"}}
    driver.deliver(session.session_id, Event(name="call.arrived", data=data))
    assert session.is_in("a")  # nothing happens until the driver runs
    driver.run()
    assert driver.session(session.session_id).is_in("b")
    assert logs(recorder) == ["0612345678 A-17"]


# --- routing between sessions -----------------------------------------------------------------


def test_sessions_reach_each_other_by_scxml_session_id() -> None:
    driver = Driver()
    echo = driver.start(
        document(
            '<state id="e"><transition event="ping" target="e">'
            '<send event="pong" targetexpr="_event.origin" typeexpr="_event.origintype"/>'
            "</transition></state>"
        ),
        session_id="echo",
    )
    caller = driver.start(
        document(
            '<state id="c"><onentry><send event="ping" target="#_scxml_echo"/></onentry>'
            '<transition event="pong" target="done"/></state><final id="done"/>'
        )
    )
    assert driver.run_until_done(caller.session_id) == SessionEnded(final="done")
    assert echo.running


def test_an_unknown_session_is_error_communication_at_once() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<state id="a"><onentry><send event="e" target="#_scxml_nobody"/>'
            '<raise event="after"/></onentry>'
            '<transition event="error.communication" target="pass"/>'
            '<transition event="*" target="fail"/></state><final id="pass"/><final id="fail"/>'
        )
    )
    assert session.final == "pass"


def test_a_delayed_send_to_a_session_that_has_gone_is_error_communication() -> None:
    driver = Driver()
    short = driver.start(
        document('<state id="s"><transition event="stop" target="f"/></state><final id="f"/>'),
        session_id="short",
    )
    session = driver.start(
        document(
            '<state id="a"><onentry><send event="e" target="#_scxml_short" delay="1s"/>'
            '</onentry><transition event="error.communication" target="pass"/></state>'
            '<final id="pass"/>'
        )
    )
    driver.deliver("short", Event(name="stop"))
    driver.run()
    assert short.final == "f"
    assert driver.run_until_done(session.session_id) == SessionEnded(final="pass")


def test_sends_of_a_host_io_processor_go_to_the_host(recorder: Recorder) -> None:
    kind = "http://example.com/fm"
    host = Host(event_processors={kind: "fm://local"})
    driver = Driver(host=host, on_effect=recorder)
    session = driver.start(
        document(
            f'<state id="a"><onentry><send type="{kind}" target="queue" event="q.submit">'
            '<param name="vq" expr="\'VQ1\'"/></send>'
            f"<log expr=\"_ioprocessors['{kind}'].location\"/></onentry></state>"
        )
    )
    (send,) = recorder.of_type(SendEvent)
    assert isinstance(send, SendEvent)
    assert (send.type, send.target, send.event.data) == (kind, "queue", {"vq": "VQ1"})
    assert logs(recorder) == ["fm://local"]
    assert session.running


def test_without_a_host_handler_a_host_send_is_undeliverable() -> None:
    kind = "http://example.com/fm"
    driver = Driver(host=Host(event_processors={kind: "fm://local"}))
    session = driver.start(
        document(
            f'<state id="a"><onentry><send type="{kind}" target="q" event="e"/></onentry>'
            '<transition event="error.communication" target="b"/></state><state id="b"/>'
        )
    )
    driver.run()
    assert session.is_in("b")


# --- invoked children -------------------------------------------------------------------------


CHILD = scxml(
    '<datamodel><data id="greeting" expr="\'default\'"/></datamodel>'
    '<state id="c"><onentry><send target="#_parent" event="hello">'
    '<param name="greeting" expr="greeting"/></send></onentry>'
    '<transition event="bye" target="end"/></state>'
    '<final id="end"><donedata><param name="answer" expr="42"/></donedata></final>'
)


def test_an_invoked_file_gets_params_talks_to_its_parent_and_reports_done(
    tmp_path: Path, recorder: Recorder
) -> None:
    (tmp_path / "child.scxml").write_text(CHILD)
    parent = scxml(
        '<datamodel><data id="kid"/></datamodel>'
        '<state id="p"><invoke src="child.scxml" idlocation="kid">'
        '<param name="greeting" expr="\'hi\'"/></invoke>'
        '<state id="p1"><transition event="hello" cond="_event.invokeid == kid" target="p2">'
        '<log expr="_event.data.greeting"/><send event="bye" targetexpr="\'#_\' + kid"/>'
        "</transition></state>"
        '<state id="p2"><transition event="done.invoke" target="end">'
        '<log expr="_event.data.answer"/></transition></state></state><final id="end"/>'
    )
    driver = Driver(on_effect=recorder)
    main = tmp_path / "main.scxml"
    session = driver.start(parse_document(parent, base_url=url_of(main)))
    assert driver.run_until_done(session.session_id) == SessionEnded(final="end")
    assert logs(recorder) == ["hi", "42"]


def test_an_invocation_that_cannot_start_is_error_execution(tmp_path: Path) -> None:
    driver = Driver()
    text = scxml(
        '<state id="p"><invoke src="absent.scxml"/>'
        '<transition event="error.execution" target="end"/></state><final id="end"/>'
    )
    session = driver.start(parse_document(text, base_url=url_of(tmp_path / "main.scxml")))
    assert session.final == "end"


def test_content_expr_may_hold_scxml_text() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<datamodel><data id="source" expr="\'&lt;scxml xmlns=&quot;'
            f"{SCXML}&quot; version=&quot;1.0&quot;&gt;&lt;final/&gt;&lt;/scxml&gt;'\"/>"
            '</datamodel><state id="p"><invoke><content expr="source"/></invoke>'
            '<transition event="done.invoke" target="end"/></state><final id="end"/>'
        )
    )
    assert driver.run_until_done(session.session_id) == SessionEnded(final="end")


def test_leaving_the_invoking_state_cancels_the_child(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    session = driver.start(
        document(
            '<state id="p"><invoke id="kid"><content>'
            f'<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">'
            '<state id="c"><onentry><send event="late" delay="5s"/></onentry>'
            '<onexit><send target="#_parent" event="lastwords"/></onexit>'
            '<transition event="late" target="f"/></state><final id="f"/></scxml>'
            '</content></invoke><transition event="leave" target="q"/></state>'
            '<state id="q"><transition event="*" target="fail"/></state><final id="fail"/>'
        )
    )
    driver.deliver(session.session_id, Event(name="leave"))
    driver.run()
    assert driver.run_until_done(session.session_id, timeout=60.0) is None
    assert session.is_in("q")
    ended = recorder.of_type(SessionEnded)
    assert ended == [SessionEnded(final=None, reason="cancelled")]


def test_autoforward_copies_external_events_to_the_child(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    session = driver.start(
        document(
            '<state id="p"><invoke autoforward="true"><content>'
            f'<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">'
            '<state id="c"><transition event="news" target="f">'
            '<send target="#_parent" event="seen"><content expr="_event.data"/></send>'
            '</transition></state><final id="f"/></scxml></content></invoke>'
            '<transition event="seen" cond="_event.data == \'x\'" target="end"/></state>'
            '<final id="end"/>'
        )
    )
    driver.deliver(session.session_id, Event(name="news", data="x"))
    assert driver.run_until_done(session.session_id) == SessionEnded(final="end")


def test_platform_errors_reach_on_effect(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    driver.start(
        document('<state id="a"><onentry><assign location="x" expr="1"/></onentry></state>')
    )
    (error,) = recorder.of_type(PlatformError)
    assert isinstance(error, PlatformError)
    assert error.event == "error.execution"


def test_unknown_sessions_are_key_errors() -> None:
    driver = Driver()
    with pytest.raises(KeyError):
        driver.deliver("nobody", Event(name="e"))
    with pytest.raises(KeyError):
        driver.session("nobody")


def test_two_pending_sends_with_one_id_both_fire_and_cancel_together() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<datamodel><data id="n" expr="0"/></datamodel>'
            '<state id="a"><onentry><send id="t" event="tick" delay="1s"/>'
            '<send id="t" event="tick" delay="2s"/></onentry>'
            '<transition event="tick" cond="n == 1" target="b"/>'
            '<transition event="tick"><assign location="n" expr="n + 1"/></transition></state>'
            '<state id="b"><onentry><send id="u" event="late" delay="1s"/>'
            '<send id="u" event="late" delay="2s"/><cancel sendid="u"/></onentry>'
            '<transition event="late" target="bad"/></state><final id="bad"/>'
        )
    )
    assert driver.run_until_done(session.session_id) is None
    assert session.is_in("b")
    assert driver.now == 2.0


def test_advance_to_follows_an_outside_clock() -> None:
    driver = Driver(now=1000.0)
    session = driver.start(document(TICKS))
    driver.advance_to(1000.5)
    assert session.is_in("b")
    driver.advance_to(999.0)  # a clock never goes back
    assert driver.now == 1000.5


def test_discard_cancels_a_running_session_and_forgets_it(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    session = driver.start(document('<state id="a"><onexit><log expr="\'bye\'"/></onexit></state>'))
    driver.discard(session.session_id)
    driver.discard(session.session_id)
    assert logs(recorder) == ["bye"]
    assert not session.running
    with pytest.raises(KeyError):
        driver.ended(session.session_id)
    assert driver.next_due() is None


def test_a_runaway_child_is_error_execution_in_its_parent() -> None:
    host = Host(max_steps=100)
    driver = Driver(host=host)
    session = driver.start(
        document(
            '<state id="p"><invoke><content>'
            f'<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">'
            '<state id="x"><transition target="y"/></state>'
            '<state id="y"><transition target="x"/></state></scxml></content></invoke>'
            '<transition event="error.execution" target="end"/></state><final id="end"/>'
        )
    )
    assert driver.run_until_done(session.session_id) == SessionEnded(final="end")


def test_a_finished_child_can_no_longer_be_reached() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<state id="p"><invoke id="kid"><content>'
            f'<scxml xmlns="{SCXML}" version="1.0"><final id="f"/></scxml></content></invoke>'
            '<state id="p1"><transition event="done.invoke.kid" target="p2"/></state>'
            '<state id="p2"><onentry><send event="hello" target="#_kid"/></onentry>'
            '<transition event="error.communication" target="end"/></state></state>'
            '<final id="end"/>'
        )
    )
    assert driver.run_until_done(session.session_id) == SessionEnded(final="end")


def test_discard_forgets_an_ended_session_and_the_children_of_a_running_one() -> None:
    driver = Driver()
    done = driver.start(document('<final id="f"/>'))
    driver.discard(done.session_id)
    running = driver.start(
        document(
            '<state id="p"><invoke><content>'
            f'<scxml xmlns="{SCXML}" version="1.0"><state id="c"><onentry>'
            '<send event="tick" delay="1s"/></onentry></state></scxml></content></invoke></state>'
        )
    )
    assert driver.next_due() == 1.0
    driver.discard(running.session_id)
    assert driver.next_due() is None


def test_an_invoke_without_src_or_content_cannot_start() -> None:
    driver = Driver()
    session = driver.start(
        document(
            '<state id="p"><invoke type="scxml"/>'
            '<transition event="error.execution" target="end"/></state><final id="end"/>'
        )
    )
    assert session.final == "end"


def test_a_host_invoke_type_goes_to_the_host_which_answers_with_events(
    recorder: Recorder,
) -> None:
    kind = "http://example.com/dialog"
    driver = Driver(host=Host(invoke_types=frozenset({kind})), on_effect=recorder)
    session = driver.start(
        document(
            f'<state id="p"><invoke id="menu" type="{kind}" autoforward="true"/>'
            '<transition event="done.invoke.menu" target="q"/></state>'
            f'<state id="q"><invoke id="again" type="{kind}"/>'
            '<transition event="leave" target="end"/></state><final id="end"/>'
        )
    )
    start = recorder.of_type(StartInvoke)[0]
    assert isinstance(start, StartInvoke)
    assert start.invoke_id == "menu"
    driver.deliver(session.session_id, Event(name="key", data="1"))
    driver.run()
    assert ForwardEvent(invoke_id="menu", event=Event(name="key", data="1")) in [
        e for _, e in recorder.effects
    ]
    driver.deliver(session.session_id, Event(name="done.invoke.menu", invokeid="menu"))
    driver.deliver(session.session_id, Event(name="leave"))
    driver.run()
    assert session.final == "end"
    cancels = recorder.of_type(CancelInvoke)
    assert cancels == [CancelInvoke(invoke_id="menu"), CancelInvoke(invoke_id="again")]


def test_without_a_host_a_host_invoke_type_cannot_start() -> None:
    kind = "http://example.com/dialog"
    driver = Driver(host=Host(invoke_types=frozenset({kind})))
    session = driver.start(
        document(
            f'<state id="p"><invoke type="{kind}"/>'
            '<transition event="error.execution" target="end"/></state><final id="end"/>'
        )
    )
    assert session.final == "end"


def test_session_ids_are_unique_in_a_driver() -> None:
    driver = Driver()
    driver.start(document('<state id="a"/>'), session_id="one")
    with pytest.raises(ValueError, match="already in use"):
        driver.start(document('<state id="a"/>'), session_id="one")
