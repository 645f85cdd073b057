"""ctiserver.safexml: the one hardened parser for XML from outside."""

from __future__ import annotations

import pytest

from ctiserver.safexml import UnsafeXml, parse

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>"""


@pytest.mark.parametrize("document", [LAUGHS, EXTERNAL, b"<!doctype x><x/>"])
def test_declarations_are_refused_before_parsing(document: bytes) -> None:
    with pytest.raises(UnsafeXml, match="DTD or entity"):
        parse(document)


def test_a_document_that_is_not_well_formed_is_refused() -> None:
    with pytest.raises(UnsafeXml, match="not well-formed"):
        parse(b"<a><b></a>")


def test_comments_and_processing_instructions_are_dropped() -> None:
    root = parse(b"<a><!-- hidden --><?pi x?><b>text</b></a>")
    assert [child.tag for child in root] == ["b"]
