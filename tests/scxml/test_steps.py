"""steps.py: what the interpreter remembers per document changes no session's behaviour."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ctiserver.scxml import steps
from ctiserver.scxml.document import Document
from ctiserver.scxml.effects import Effect, WriteLog
from ctiserver.scxml.events import Event
from ctiserver.scxml.interpreter import Session
from ctiserver.scxml.steps import memo_of
from tests.scxml.support import document


def logs(effects: Sequence[Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, WriteLog)]


def run(doc: Document, session_id: str, events: Sequence[str]) -> tuple[list[str], frozenset[str]]:
    """The logs of a new session of *doc* given *events*, and its last configuration."""
    session = Session(doc, session_id=session_id)
    written = logs(session.start(0.0))
    for name in events:
        written += logs(session.receive(Event(name=name), 0.0))
    return written, session.configuration


def entry_exit(state_id: str) -> str:
    return (
        f"<onentry><log expr=\"'+{state_id}'\"/></onentry>"
        f"<onexit><log expr=\"'-{state_id}'\"/></onexit>"
    )


PARALLEL = document(
    '<parallel id="p">'
    + entry_exit("p")
    + '<state id="l">'
    + entry_exit("l")
    + '<state id="l1">'
    + entry_exit("l1")
    + '<transition event="e" target="l2"/></state>'
    '<state id="l2">' + entry_exit("l2") + '<transition event="e" target="l1"/></state>'
    "</state>"
    '<state id="r">'
    + entry_exit("r")
    + '<state id="r1">'
    + entry_exit("r1")
    + '<transition event="e" target="r2"/><transition event="out" target="done"/></state>'
    '<state id="r2">' + entry_exit("r2") + '<transition event="e" target="r1"/></state>'
    "</state></parallel>"
    '<final id="done"/>'
)


def test_a_second_session_replays_the_first_ones_plans_exactly() -> None:
    first = run(PARALLEL, "s1", ["e", "e", "e", "out"])
    assert len(memo_of(PARALLEL)) > 0
    second = run(PARALLEL, "s2", ["e", "e", "e", "out"])
    assert first == second
    assert first[0] == [
        "+p", "+l", "+l1", "+r", "+r1",
        "-r1", "-l1", "+l2", "+r2",
        "-r2", "-l2", "+l1", "+r1",
        "-r1", "-l1", "+l2", "+r2",
    ]  # fmt: skip
    assert first[1] == frozenset({"p", "l", "l2", "r", "r2"})  # `out` leaves r1 only


HISTORY = document(
    '<state id="s">'
    '<history id="h"><transition target="s1"><log expr="\'default\'"/></transition></history>'
    '<state id="s1"><transition event="next" target="s2"/></state>'
    '<state id="s2"/>'
    '<transition event="away" target="t"/>'
    "</state>"
    '<state id="t"><transition event="back" target="h"/></state>',
    initial="t",
)


def test_a_microstep_through_history_is_computed_again_for_every_session() -> None:
    # The first session stores s2 in the history, then goes back through it.
    written, configuration = run(HISTORY, "s1", ["back", "next", "away", "back"])
    assert written == ["default"]
    assert configuration == frozenset({"s", "s2"})
    # A new session has no stored history: the default applies again, not s2.
    written, configuration = run(HISTORY, "s2", ["back"])
    assert written == ["default"]
    assert configuration == frozenset({"s", "s1"})


def test_in_answers_from_the_configuration_when_a_condition_names_it() -> None:
    doc = document(
        '<parallel id="p">'
        '<state id="a"><state id="a1"><transition event="e" target="a2"/></state>'
        '<state id="a2"/></state>'
        '<state id="b"><state id="b1">'
        '<transition event="f" cond="In(\'a2\')" target="b2"/>'
        '<transition event="f" target="b3"/></state>'
        '<state id="b2"/><state id="b3"/></state></parallel>'
    )
    assert run(doc, "s1", ["e", "f"])[1] == frozenset({"p", "a", "a2", "b", "b2"})
    assert run(doc, "s2", ["f"])[1] == frozenset({"p", "a", "a1", "b", "b3"})


def test_the_memo_stops_growing_at_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "MAX_ENTRIES", 3)
    doc = document(
        '<state id="a"><transition event="go" target="b"/></state>'
        '<state id="b"><transition event="go" target="a"/></state>'
    )
    session = Session(doc, session_id="s1")
    session.start(0.0)
    for n in range(20):
        session.receive(Event(name=f"other.{n}"), 0.0)  # each name a candidate list
        session.receive(Event(name="go"), 0.0)
    assert session.configuration == frozenset({"a"})
    assert len(memo_of(doc)) <= 3 * 3  # candidate lists, plans, conflict resolutions
