"""ecmascript.py: the QuickJS datamodel, its limits, system variables and Value marshalling."""

from __future__ import annotations

import pytest

from ctiserver.scxml.datamodel import ExecutionError, SystemVariables
from ctiserver.scxml.document import Data, Inline
from ctiserver.scxml.ecmascript import EcmaScriptDataModel, Limits
from ctiserver.scxml.effects import PlatformError, SessionEnded
from ctiserver.scxml.events import Event, EventType
from ctiserver.scxml.host import Host
from ctiserver.scxml.interpreter import Session
from ctiserver.scxml.values import UNDEFINED, Value, XmlValue
from tests.scxml.support import document

FAST = Limits(time=0.05, memory=8 << 20)


@pytest.fixture
def datamodel() -> EcmaScriptDataModel:
    model = EcmaScriptDataModel(FAST)
    model.bind_system(
        SystemVariables(session_id="sid", name="machine", io_processors={"scxml": "#_scxml_sid"})
    )
    return model


# --- limits -----------------------------------------------------------------------------------


def test_a_runaway_script_is_stopped_by_the_time_limit(datamodel: EcmaScriptDataModel) -> None:
    with pytest.raises(ExecutionError, match="time limit"):
        datamodel.run_script("while (true) {}")
    assert datamodel.evaluate("1 + 1") == 2  # the session goes on


def test_a_runaway_allocation_is_stopped_by_the_memory_limit(
    datamodel: EcmaScriptDataModel,
) -> None:
    with pytest.raises(ExecutionError, match="memory limit"):
        datamodel.run_script(
            "(function () { var a = []; while (true) { a.push('x' + a.length); } })()"
        )
    assert datamodel.evaluate("'still' + ' alive'") == "still alive"


def test_deep_recursion_is_an_execution_error(datamodel: EcmaScriptDataModel) -> None:
    with pytest.raises(ExecutionError, match="stack overflow"):
        datamodel.run_script("function f() { return f() + 1; } f();")


def test_a_runaway_script_in_a_session_raises_error_execution() -> None:
    body = (
        '<state id="a"><onentry><script>while (true) {}</script></onentry>'
        '<transition event="error.execution" target="stopped"/></state><final id="stopped"/>'
    )
    session = Session(document(body), session_id="s", host=Host(limits=FAST))
    effects = session.start(0.0)
    assert session.final == "stopped"
    errors = [e for e in effects if isinstance(e, PlatformError)]
    assert errors
    assert "time limit" in errors[0].message
    assert isinstance(effects[-1], SessionEnded)


# --- expressions, locations, scripts ----------------------------------------------------------


def test_assignment_to_an_undeclared_location_fails(datamodel: EcmaScriptDataModel) -> None:
    with pytest.raises(ExecutionError, match="not defined"):
        datamodel.assign("nowhere", 1)
    with pytest.raises(ExecutionError):
        datamodel.assign_expr("a.b.c", "1")
    with pytest.raises(ExecutionError, match="empty location"):
        datamodel.assign(" ", 1)


def test_scripts_declare_globals_and_expressions_see_them(datamodel: EcmaScriptDataModel) -> None:
    datamodel.run_script("var counter = 1; function bump(n) { counter += n; return counter; }")
    assert datamodel.evaluate("bump(2)") == 3
    assert datamodel.condition("counter === 3")
    assert not datamodel.condition("counter > 3")
    assert datamodel.evaluate("new Date(0).toISOString();") == "1970-01-01T00:00:00.000Z"


def test_syntax_errors_are_execution_errors(datamodel: EcmaScriptDataModel) -> None:
    with pytest.raises(ExecutionError, match="SyntaxError"):
        datamodel.evaluate("1 +")
    with pytest.raises(ExecutionError, match="SyntaxError"):
        datamodel.condition("return")
    with pytest.raises(ExecutionError, match="SyntaxError"):
        datamodel.run_script("var = ;")


def test_the_system_variables_are_bound_and_read_only(datamodel: EcmaScriptDataModel) -> None:
    assert datamodel.evaluate("[_sessionid, _name, _ioprocessors.scxml.location]") == [
        "sid",
        "machine",
        "#_scxml_sid",
    ]
    assert datamodel.evaluate("_event") is UNDEFINED
    for name in ("_sessionid", "_name", "_ioprocessors", "_event"):
        with pytest.raises(ExecutionError, match="TypeError"):
            datamodel.assign(name, 27)
    assert datamodel.evaluate("_sessionid") == "sid"


def test_the_event_object_has_every_field(datamodel: EcmaScriptDataModel) -> None:
    datamodel.set_event(Event(name="e.x", type=EventType.PLATFORM, data={"k": [1, None]}))
    assert datamodel.evaluate("_event.name + ' ' + _event.type") == "e.x platform"
    assert datamodel.evaluate("_event.data.k") == [1, None]
    assert datamodel.condition(
        "'sendid' in _event && _event.sendid === undefined && _event.origin === undefined"
    )


def test_foreach_iterates_a_shallow_copy_and_declares_its_variables(
    datamodel: EcmaScriptDataModel,
) -> None:
    datamodel.run_script("var items = [10, 20, 30]; var seen = [];")
    for _ in datamodel.foreach("items", "item", "position"):
        datamodel.run_script("seen.push([position, item]); items.push(0);")
    assert datamodel.evaluate("seen") == [[0, 10], [1, 20], [2, 30]]
    with pytest.raises(ExecutionError, match="not an array"):
        list(datamodel.foreach("seen.length", "item", None))
    with pytest.raises(ExecutionError, match="legal variable name"):
        list(datamodel.foreach("items", "'quoted'", None))


def test_text_shows_values_as_log_writes_them(datamodel: EcmaScriptDataModel) -> None:
    assert datamodel.text("'plain'") == "plain"
    assert datamodel.text("({a: [1, 2.5, true, null]})") == '{"a":[1,2.5,true,null]}'
    assert datamodel.text("undefined") == "undefined"


# --- marshalling Values both ways -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -7,
        2.5,
        "text with \u00e9 and \u0000",
        [1, "two", [3], {"four": 4}],
        {"nested": {"list": [None, False]}, "": "empty key"},
        2**53 - 1,
    ],
)
def test_values_survive_a_round_trip(datamodel: EcmaScriptDataModel, value: Value) -> None:
    datamodel.declare("v")
    datamodel.assign("v", value)
    assert datamodel.evaluate("v") == value


def test_undefined_is_not_null(datamodel: EcmaScriptDataModel) -> None:
    datamodel.declare("v")
    datamodel.assign("v", UNDEFINED)
    assert datamodel.condition("v === undefined")
    assert datamodel.evaluate("v") is UNDEFINED
    assert datamodel.evaluate("null") is None
    assert datamodel.evaluate("(function () {})") is UNDEFINED


def test_xml_values_become_a_dom_and_come_back(datamodel: EcmaScriptDataModel) -> None:
    datamodel.declare("books")
    datamodel.assign(
        "books", XmlValue('<books xmlns="urn:b"><book title="one">first</book><book/></books>')
    )
    assert datamodel.evaluate("books.getElementsByTagName('book').length") == 2
    assert datamodel.evaluate("books.documentElement.namespaceURI") == "urn:b"
    assert (
        datamodel.evaluate("books.getElementsByTagName('book')[0].getAttribute('title')") == "one"
    )
    assert (
        datamodel.evaluate("books.getElementsByTagName('book').item(1).hasAttribute('x')") is False
    )
    assert datamodel.evaluate("books.textContent") == "first"
    datamodel.run_script(
        "var b = books.getElementsByTagName('book')[1]; b.setAttribute('title', 'two');"
    )
    exported = datamodel.evaluate("books")
    assert exported == XmlValue(
        '<books xmlns="urn:b"><book title="one">first</book><book title="two"/></books>'
    )
    assert datamodel.evaluate("({doc: books.documentElement.firstChild})") == {
        "doc": XmlValue('<book xmlns="urn:b" title="one">first</book>')
    }


def test_unmarshallable_values_fail_cleanly(datamodel: EcmaScriptDataModel) -> None:
    datamodel.declare("v")
    with pytest.raises(ExecutionError, match="cannot pass"):
        datamodel.assign("v", XmlValue("<broken"))
    with pytest.raises(ExecutionError, match="TypeError"):
        datamodel.evaluate("(function () { var o = {}; o.self = o; return o; })()")


# --- data initialisation ----------------------------------------------------------------------


def test_data_takes_its_value_from_expr_content_or_the_invoker(
    datamodel: EcmaScriptDataModel,
) -> None:
    for name in ("e", "j", "s", "x", "given", "missing"):
        datamodel.declare(name)
    datamodel.initialize(Data(id="e", expr="6 * 7"))
    datamodel.initialize(Data(id="j", inline=Inline(text=' {"a": [1]} ')))
    datamodel.initialize(Data(id="s", inline=Inline(text="  some \n  words ")))
    datamodel.initialize(Data(id="x", inline=Inline(text="", xml=XmlValue("<r/>"))))
    datamodel.initialize(Data(id="given", expr="1"), "from parent")
    assert datamodel.evaluate("[e, j, s, given]") == [42, {"a": [1]}, "some words", "from parent"]
    assert datamodel.evaluate("x.documentElement.tagName") == "r"
    with pytest.raises(ExecutionError, match="cannot fetch"):
        datamodel.initialize(Data(id="missing", fetch_error="cannot fetch 'x.json'"))
    with pytest.raises(ExecutionError, match="identifier"):
        datamodel.declare("not-an-identifier")


# --- host globals and preludes ----------------------------------------------------------------


def test_host_globals_and_preludes_exist_before_the_documents_data() -> None:
    body = (
        '<datamodel><data id="dn" expr="_genesys.ixn.interactions[0].voice.dnis"/>'
        '<data id="shown" expr="uneval({a: 1})"/></datamodel>'
        '<state id="a"><transition event="check" cond="_genesys.session.name == \'new\'" '
        'target="b"/></state><state id="b"/>'
    )
    host = Host(preludes=("function uneval(v) { return JSON.stringify(v); }",))
    genesys: Value = {"ixn": {"interactions": [{"voice": {"dnis": "5000"}}]}, "session": {}}
    session = Session(document(body), session_id="s", host=host, globals={"_genesys": genesys})
    session.start(0.0)
    session.set_global("_genesys", {"session": {"name": "new"}})
    session.receive(Event(name="check"), 0.0)
    assert session.is_in("b")


def test_event_data_that_cannot_cross_leaves_data_undefined(
    datamodel: EcmaScriptDataModel,
) -> None:
    datamodel.set_event(Event(name="bad", data=XmlValue("<unclosed")))
    assert datamodel.evaluate("_event.name") == "bad"
    assert datamodel.evaluate("_event.data") is UNDEFINED


def test_nested_undefined_becomes_null_and_nested_dom_comes_back(
    datamodel: EcmaScriptDataModel,
) -> None:
    datamodel.declare("v")
    datamodel.assign("v", [UNDEFINED, {"doc": XmlValue("<a/>")}])
    assert datamodel.evaluate("v[0]") is None
    assert datamodel.evaluate("[v[1].doc, {'$scxml.dom': 1}]") == [
        XmlValue("<a/>"),
        {"$scxml.dom": 1},
    ]
    with pytest.raises(ExecutionError, match="cannot pass"):
        datamodel.assign("v", [object()])  # type: ignore[list-item]
