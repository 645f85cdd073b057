"""Loading the strategy of each routing point: at start, and again on reload.

A strategy is an SCXML document read from a local file (`file:` URL or path), whose
`<data src>` and `<invoke src>` may read files from its own folder only, or from an
`http:`/`https:` URL (web.py), which reads nothing else.

Rule: a strategy that cannot be loaded is logged as an error naming the routing point,
the location and the problem (with its line), and that routing point is then not
served: its calls get the switch's default routing (`route-timeout`,
`default-destination`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

import aiohttp

from ctiserver.orchestration.web import fetch_document
from ctiserver.scxml.document import Document, DocumentError
from ctiserver.scxml.loader import confined_fetch, load_document

log = logging.getLogger(__name__)


async def load_strategies(
    applications: Mapping[str, str], web: aiohttp.ClientSession
) -> dict[str, Document]:
    """The documents of *applications* (routing point → location) that load."""
    loaded: dict[str, Document] = {}
    for point, location in applications.items():
        try:
            loaded[point] = await load_any(location, web)
        except DocumentError as exc:
            log.error(
                "routing point %s: strategy %s cannot be loaded: %s; "
                "its calls get the switch's default routing",
                point,
                location,
                exc,
            )
        else:
            log.info("routing point %s: strategy %s", point, location)
    return loaded


async def load_any(location: str, web: aiohttp.ClientSession) -> Document:
    """A strategy from a file or an http(s) URL.  Raises DocumentError."""
    if urlparse(location).scheme in ("http", "https"):
        return await fetch_document(web, location)
    return load_strategy(location)


def load_strategy(location: str) -> Document:
    """One strategy document from a file.  Raises DocumentError."""
    path = (
        Path(unquote(urlparse(location).path)) if location.startswith("file:") else Path(location)
    )
    return load_document(str(path.resolve()), fetch=confined_fetch(path.resolve().parent))
