"""parser.py: hardened parsing, structural validation, and the shape of the frozen IR."""

from __future__ import annotations

import dataclasses

import pytest

from ctiserver.scxml.document import (
    Assign,
    Binding,
    Cancel,
    CustomAction,
    DocumentError,
    Foreach,
    HistoryType,
    If,
    Log,
    Raise,
    Script,
    Send,
    StateKind,
    TransitionType,
)
from ctiserver.scxml.parser import MAX_DOCUMENT_BYTES, parse_document
from ctiserver.scxml.values import XmlValue
from tests.scxml.support import SCXML, document, scxml

IXN = "www.genesyslab.com/modules/interaction"


# --- hardened parsing -------------------------------------------------------------------------


def test_a_dtd_is_refused_before_parsing() -> None:
    text = f'<!DOCTYPE scxml [<!ENTITY x "boom">]><scxml xmlns="{SCXML}">&x;</scxml>'
    with pytest.raises(DocumentError, match="DTD"):
        parse_document(text)


def test_an_external_entity_is_refused() -> None:
    text = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<scxml xmlns="{SCXML}"><state id="a"><onentry><log expr="\'&e;\'"/></onentry>'
        "</state></scxml>"
    )
    with pytest.raises(DocumentError, match="DTD or entity"):
        parse_document(text.encode())


def test_an_oversized_document_is_refused() -> None:
    with pytest.raises(DocumentError, match="larger than"):
        parse_document(b" " * (MAX_DOCUMENT_BYTES + 1))


def test_malformed_xml_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="not well-formed"):
        parse_document("<scxml")


def test_the_root_must_be_scxml() -> None:
    with pytest.raises(DocumentError, match="not <scxml>"):
        parse_document(f'<state xmlns="{SCXML}"/>')


# --- structural errors name the line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<state id="a"/><state id="a"/>', "duplicate state id 'a'"),
        ('<state id="a"><transition target="nowhere"/></state>', "no state has id 'nowhere'"),
        ('<state id="a" initial="b"/><state id="b"/>', "initial= on a state without children"),
        ('<state id="a" initial="c"><state id="b"/></state><state id="c"/>', "not a descendant"),
        ('<state id="a"><onentry><frobnicate/></onentry></state>', "unknown SCXML element"),
        ('<state id="a"><onentry><else/></onentry></state>', "<else> outside <if>"),
        ('<state id="a"><onentry><state id="x"/></onentry></state>', "not executable content"),
        (
            '<state id="a"><onentry><send event="e" eventexpr="\'e\'"/></onentry></state>',
            "event= or eventexpr=, not both",
        ),
        ('<state id="a"><onentry><send event="e" delay="soon"/></onentry></state>', "delay"),
        ('<state id="a"><onentry><cancel/></onentry></state>', "needs sendid= or sendidexpr="),
        ('<state id="a"><onentry><raise/></onentry></state>', "<raise> needs event="),
        ('<history id="h"/>', "<history> cannot be a child of <scxml>"),
        ('<state id="a"><transition/></state>', "needs event, cond or target"),
        ('<state id="a"><transition type="sideways" target="a"/></state>', "transition type"),
        (
            '<state id="a"><invoke autoforward="yes"><content/></invoke></state>',
            "autoforward= must be true or false",
        ),
        (
            '<state id="a"><onentry><if cond="1"><else/><else/></if></onentry></state>',
            "<else> after <else>",
        ),
        (
            '<state id="a"><onentry><send event="e" namelist="x"><content>1</content></send>'
            "</onentry></state>",
            "<content> or namelist",
        ),
        ('<script>1</script><script>2</script><state id="a"/>', "more than one <script>"),
        (
            '<state id="a" initial="b"><initial><transition target="b"/></initial>'
            '<state id="b"/></state>',
            "both initial= and <initial>",
        ),
        ('<state id="a"><initial/><state id="b"/></state>', "<initial> needs one <transition>"),
        (
            '<state id="a"><history id="h"><transition/></history><state id="b"/></state>',
            "<history> takes one <transition>",
        ),
        ('<state id="a"><history id="h"/></state>', "without child states"),
        (
            '<state id="a"><history id="h" type="wide"/><state id="b"/></state>',
            "history type 'wide'",
        ),
        ('<state id="a"><transition target=" "/></state>', "empty target"),
        ('<datamodel><data id="d" expr="1">2</data></datamodel>', "<data> takes one of"),
        (
            '<final id="f"><donedata><content>1</content><param name="p" expr="1"/></donedata>'
            "</final>",
            "<donedata> takes <content> or <param>",
        ),
        (
            '<final id="f"><donedata><param name="p" expr="1" location="x"/></donedata></final>',
            "<param> takes expr or location",
        ),
        ('<final id="f"><donedata><param name="p"/></donedata></final>', "needs expr or location"),
        (
            '<final id="f"><donedata><content expr="1">2</content></donedata></final>',
            "<content> takes expr or children",
        ),
        (
            '<state id="a"><onentry><assign location="x" expr="1">2</assign></onentry></state>',
            "<assign> takes expr or children",
        ),
        (
            '<state id="a"><onentry><script src="x.js">1</script></onentry></state>',
            "<script> takes src or content",
        ),
    ],
)
def test_invalid_documents_are_rejected(body: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message) as caught:
        document(body)
    assert caught.value.line >= 1


def test_version_datamodel_and_binding_are_checked() -> None:
    with pytest.raises(DocumentError, match="version"):
        parse_document(f'<scxml xmlns="{SCXML}" version="2.0"/>')
    with pytest.raises(DocumentError, match="unsupported datamodel"):
        parse_document(f'<scxml xmlns="{SCXML}" datamodel="xpath"/>')
    with pytest.raises(DocumentError, match="binding"):
        parse_document(f'<scxml xmlns="{SCXML}" binding="lazy"/>')


def test_a_script_src_that_cannot_be_fetched_rejects_the_document() -> None:
    # REC 5.8: the document is non-conformant and the processor must reject it.
    with pytest.raises(DocumentError, match="cannot fetch script"):
        document('<script src="missing.js"/><state id="a"/>')


# --- the IR ---------------------------------------------------------------------------------


def test_states_are_numbered_in_document_order_with_their_ancestors() -> None:
    parsed = document(
        '<state id="a"><state id="a1"/><parallel id="p"><state id="x"/><state id="y"/>'
        '</parallel></state><final id="done"/>',
        name="machine",
    )
    assert [s.id for s in parsed.states[1:]] == ["a", "a1", "p", "x", "y", "done"]
    assert parsed.name == "machine"
    x = parsed.state("x")
    assert x.ancestors == (parsed.state("p").index, parsed.state("a").index, 0)
    assert x.is_atomic
    assert parsed.state("a").is_compound
    assert parsed.state("p").kind is StateKind.PARALLEL
    assert parsed.state("done").kind is StateKind.FINAL
    with pytest.raises(KeyError):
        parsed.state("nope")


def test_the_default_initial_state_is_the_first_child() -> None:
    parsed = document('<state id="a"><state id="b"/><state id="c"/></state>')
    initial = parsed.state("a").initial
    assert initial is not None
    assert initial.targets == (parsed.state("b").index,)
    assert parsed.root.initial is not None
    assert parsed.root.initial.targets == (parsed.state("a").index,)


def test_an_initial_element_keeps_its_executable_content() -> None:
    parsed = document(
        '<state id="a"><initial><transition target="c"><raise event="in"/></transition>'
        '</initial><state id="b"/><state id="c"/></state>'
    )
    initial = parsed.state("a").initial
    assert initial is not None
    assert initial.targets == (parsed.state("c").index,)
    assert initial.actions == (Raise(event="in"),)


def test_history_states_keep_type_and_default_transition() -> None:
    parsed = document(
        '<state id="a"><history id="h" type="deep"><transition target="b"/></history>'
        '<state id="b"/></state>'
    )
    history = parsed.state("h")
    assert history.kind is StateKind.HISTORY
    assert history.history_type is HistoryType.DEEP
    assert history.initial is not None
    assert history.transitions == ()
    assert parsed.state("a").histories == (history.index,)
    assert parsed.state("a").child_states == (parsed.state("b").index,)


def test_transitions_keep_events_cond_type_and_order() -> None:
    parsed = document(
        '<state id="a"><transition event="x.y  z" cond="ok" type="internal" target="a"/>'
        '<transition event="w"/></state>'
    )
    first, second = parsed.state("a").transitions
    assert first.events == ("x.y", "z")
    assert first.cond == "ok"
    assert first.type is TransitionType.INTERNAL
    assert second.targets == ()
    assert first.order < second.order


def test_executable_content_is_parsed_in_order() -> None:
    parsed = document(
        '<state id="a"><onentry><log label="l" expr="1"/><assign location="x" expr="2"/>'
        '<if cond="c1"><raise event="one"/><elseif cond="c2"/><raise event="two"/><else/>'
        '<raise event="three"/></if><foreach array="arr" item="i" index="n"><raise event="e"/>'
        '</foreach><script>var s = 1;</script><cancel sendid="s1"/></onentry></state>'
    )
    (block,) = parsed.state("a").onentry
    log, assign, choice, loop, script, cancel = block
    assert log == Log(label="l", expr="1")
    assert assign == Assign(location="x", expr="2")
    assert isinstance(choice, If)
    assert [b.cond for b in choice.branches] == ["c1", "c2", None]
    assert choice.branches[1].actions == (Raise(event="two"),)
    assert isinstance(loop, Foreach)
    assert loop.index == "n"
    assert script == Script(source="var s = 1;")
    assert cancel == Cancel(sendid="s1")


def test_send_keeps_every_argument_and_converts_a_static_delay() -> None:
    parsed = document(
        '<state id="a"><onentry><send event="e" target="#_parent" type="scxml" id="i" '
        'delay="1.5s" namelist="a b"><param name="p" expr="1"/></send></onentry></state>'
    )
    (send,) = parsed.state("a").onentry[0]
    assert isinstance(send, Send)
    assert (send.event, send.target, send.type, send.id) == ("e", "#_parent", "scxml", "i")
    assert send.delay == 1.5
    assert send.namelist == ("a", "b")
    assert send.params[0].name == "p"


def test_data_content_is_kept_as_text_or_xml() -> None:
    parsed = document(
        '<datamodel><data id="t">  [1, 2] </data><data id="x"><books xmlns="">'
        '<book title="t1"/></books></data><data id="e" expr="1"/></datamodel>'
        '<state id="a"/>'
    )
    text, xml, expr = parsed.root.data
    assert text.inline is not None
    assert text.inline.text.strip() == "[1, 2]"
    assert xml.inline is not None
    assert xml.inline.xml == XmlValue('<books xmlns=""><book title="t1"/></books>')
    assert expr.expr == "1"
    assert expr.inline is None


def test_a_data_src_that_cannot_be_fetched_is_recorded_for_runtime() -> None:
    parsed = document('<datamodel><data id="d" src="missing.json"/></datamodel><state id="a"/>')
    (data,) = parsed.root.data
    assert data.fetch_error is not None
    assert "missing.json" in data.fetch_error


def test_a_data_src_is_fetched_relative_to_the_document() -> None:
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        return "<r><i/></r>" if url.endswith(".xml") else '{"a": 1}'

    text = scxml(
        '<datamodel><data id="j" src="data/v.json"/><data id="x" src="v.xml"/></datamodel>'
        '<state id="a"/>'
    )
    parsed = parse_document(text, base_url="file:///srv/doc.scxml", fetch=fetch)
    assert fetched == ["file:///srv/data/v.json", "file:///srv/v.xml"]
    json_data, xml_data = parsed.root.data
    assert json_data.inline is not None
    assert json_data.inline.text == '{"a": 1}'
    assert xml_data.inline is not None
    assert xml_data.inline.xml == XmlValue("<r><i/></r>")


def test_inline_invoke_content_is_parsed_into_a_document() -> None:
    parsed = document(
        '<state id="a"><invoke id="child" autoforward="true"><content>'
        f'<scxml xmlns="{SCXML}" version="1.0"><final id="f"/></scxml></content>'
        '<finalize><raise event="fin"/></finalize></invoke></state>'
    )
    (invoke,) = parsed.state("a").invokes
    assert invoke.document is not None
    assert invoke.document.state("f").kind is StateKind.FINAL
    assert invoke.autoforward
    assert invoke.finalize == (Raise(event="fin"),)
    assert invoke.content is None


def test_custom_actions_keep_namespace_name_attributes_and_children() -> None:
    text = (
        f'<scxml xmlns="{SCXML}" xmlns:ixn="{IXN}" xmlns:q="http://{IXN}" version="1.0">'
        '<state id="a"><onentry>'
        '<ixn:createcall requestid="_data.reqid" from="\'701\'" to="\'702\'"/>'
        '<q:submit queue="\'vq\'"><q:target name="t1">text</q:target></q:submit>'
        "</onentry></state><ixn:ignored-outside-executable-content/></scxml>"
    )
    parsed = parse_document(text)
    create, submit = parsed.state("a").onentry[0]
    assert isinstance(create, CustomAction)
    assert isinstance(submit, CustomAction)
    assert (create.namespace, create.name) == (IXN, "createcall")
    assert create.element.attribute("from") == "'701'"
    assert create.element.attribute("missing") is None
    assert submit.namespace == f"http://{IXN}"
    (target,) = submit.element.children
    assert (target.name, target.text, target.attribute("name")) == ("target", "text", "t1")


def test_the_ir_is_frozen() -> None:
    parsed = document('<state id="a"/>', binding="late")
    assert parsed.binding is Binding.LATE
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.name = "changed"  # type: ignore[misc]


def test_a_document_without_namespace_is_read_as_scxml() -> None:
    parsed = parse_document(
        '<scxml version="1.0"><state id="a"><onentry><raise event="e"/></onentry></state></scxml>'
    )
    assert parsed.state("a").onentry == ((Raise(event="e"),),)


def test_comments_and_foreign_elements_inside_if_are_handled() -> None:
    text = scxml(
        '<state id="a"><onentry><if cond="1"><!-- a comment --><raise event="x"/>'
        '<other:thing xmlns:other="urn:o"/></if></onentry></state>'
    )
    (block,) = parse_document(text).state("a").onentry
    (choice,) = block
    assert isinstance(choice, If)
    raise_x, custom = choice.branches[0].actions
    assert raise_x == Raise(event="x")
    assert isinstance(custom, CustomAction)


def test_fetched_text_that_looks_like_broken_xml_stays_text() -> None:
    text = scxml('<datamodel><data id="d" src="d.txt"/></datamodel><state id="a"/>')
    parsed = parse_document(text, fetch=lambda _url: "<not closed")
    (data,) = parsed.root.data
    assert data.inline is not None
    assert (data.inline.text, data.inline.xml) == ("<not closed", None)
