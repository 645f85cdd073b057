"""One hardened way to parse XML that comes from outside: CSTA frames from a switch,
SCXML documents and the XML fragments a strategy builds.

The parser resolves no entity, loads no DTD, reads nothing from the network, refuses
trees deeper or larger than lxml's safe limits, and drops comments and processing
instructions; a document that declares a DTD or an entity is refused before parsing,
so that no entity expansion (a "billion laughs") or external fetch (XXE) can happen.
"""

from __future__ import annotations

import re
from typing import Any, Final

from lxml import etree

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF8_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>'


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


# lxml's feed parser holds the document it is reading: it serves one thread (nothing in
# ctiserver parses XML off its event loop's thread).
_PARSER: Final = hardened_parser()


class UnsafeXml(ValueError):
    """Not well-formed, or carrying what a hardened parser refuses (a DTD, an entity)."""


def parse(document: bytes) -> Any:
    """The root element of *document*.  Raises UnsafeXml saying what is wrong.

    lxml's feed parser reads a whole document for a fifth fewer instructions than
    fromstring() (it keeps its parser context); it resets itself after close() and
    after a failed feed().
    """
    declared = b"<!" in document
    if declared and _DECLARATION.search(document):
        raise UnsafeXml("document carries a DTD or entity declaration; refused")
    try:
        _PARSER.feed(document)
        root = _PARSER.close()
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from None
    # In UTF-8 a DOCTYPE is the bytes "<!"; in another encoding it may not be, so the
    # parsed document is asked as well unless the bytes are surely UTF-8.
    surely_utf8 = document.startswith(_UTF8_DECLARATION) or (
        document[:1] == b"<" and document[1:2] not in (b"?", b"\x00")
    )
    if (declared or not surely_utf8) and root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeXml("document carries a DTD; refused")
    return root
