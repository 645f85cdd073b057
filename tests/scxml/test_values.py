"""values.py, events.py, delays.py and xmltree.py: the small pure pieces."""

from __future__ import annotations

import pytest

from ctiserver.scxml.delays import parse_delay
from ctiserver.scxml.events import (
    EventType,
    any_descriptor_matches,
    descriptor_matches,
    error_event,
)
from ctiserver.scxml.values import UNDEFINED, XmlValue, as_text, content_value, normalise_space
from ctiserver.scxml.xmltree import from_tree, to_tree


@pytest.mark.parametrize(
    ("descriptor", "name", "matches"),
    [
        ("*", "anything.at.all", True),
        ("error", "error.execution", True),
        ("error.*", "error.execution", True),
        ("error.", "error.execution", True),
        ("error", "errors", False),
        ("error.execution", "error", False),
        ("done.invoke", "done.invoke.kid", True),
    ],
)
def test_event_descriptors_match_by_token_prefix(descriptor: str, name: str, matches: bool) -> None:
    assert descriptor_matches(descriptor, name) is matches


def test_any_descriptor_of_a_transition_may_match() -> None:
    assert any_descriptor_matches(("a", "b.c"), "b.c.d")
    assert not any_descriptor_matches((), "a")


def test_error_events_are_platform_events() -> None:
    event = error_event("error.communication", sendid="s1")
    assert (event.type, event.sendid) == (EventType.PLATFORM, "s1")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("250ms", 0.25), (" 1.5s ", 1.5), (".5s", 0.5), ("2m", 120.0), ("1h", 3600.0)],
)
def test_delays(text: str, seconds: float) -> None:
    assert parse_delay(text) == seconds


@pytest.mark.parametrize("text", ["2", "s", "-1s", "1 second", ""])
def test_bad_delays(text: str) -> None:
    with pytest.raises(ValueError, match="is not a delay"):
        parse_delay(text)


def test_content_is_xml_json_or_a_normalised_string() -> None:
    assert content_value("ignored", XmlValue("<a/>")) == XmlValue("<a/>")
    assert content_value(' {"a": [1, 2]} ', None) == {"a": [1, 2]}
    assert content_value("123", None) == 123
    assert content_value("\n this  is\n a string ", None) == "this is a string"
    assert normalise_space("  a \t b  ") == "a b"


def test_xml_trees_round_trip() -> None:
    fragment = XmlValue('text<a xmlns="urn:x" k="v"><b>inner</b>tail</a><c/>end')
    tree = to_tree(fragment)
    assert tree[0] == "text"
    assert tree[1] == ["urn:x", "a", {"k": "v"}, [["urn:x", "b", {}, ["inner"]], "tail"]]
    assert from_tree(tree) == fragment


def test_bad_xml_and_bad_trees_are_value_errors() -> None:
    with pytest.raises(ValueError, match="not well-formed"):
        to_tree(XmlValue("<a>"))
    with pytest.raises(ValueError, match="malformed XML tree"):
        from_tree([["only", "three", {}]])


def test_as_text_writes_values_as_ecmascript_would() -> None:
    assert as_text("plain") == "plain"
    assert as_text(UNDEFINED) == "undefined"
    assert as_text(None) == "null"
    assert as_text(True) == "true"
    assert as_text(3.0) == "3"
    assert as_text(2.5) == "2.5"
    assert as_text(1e300) == "1e+300"
    assert as_text(XmlValue("<a/>")) == "<a/>"
    assert as_text({"x": XmlValue("<a/>"), "n": [1, None]}) == '{"x":"<a/>","n":[1,null]}'


def test_as_text_falls_back_for_what_json_cannot_hold() -> None:
    assert as_text({"u": UNDEFINED}) == '{"u":null}'
    assert as_text([2**70]) == "[1180591620717411303424]"
    assert as_text([object()]).startswith("[<object object")  # type: ignore[list-item]
