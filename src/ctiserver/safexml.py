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

PARSER: Final = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeXml(ValueError):
    """Not well-formed, or carrying what a hardened parser refuses (a DTD, an entity)."""


def parse(document: bytes) -> Any:
    """The root element of *document*.  Raises UnsafeXml saying what is wrong."""
    if b"<!" in document and _DECLARATION.search(document):
        raise UnsafeXml("document carries a DTD or entity declaration; refused")
    try:
        root = etree.fromstring(document, PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeXml("document carries a DTD; refused")
    return root
