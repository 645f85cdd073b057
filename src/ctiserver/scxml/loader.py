"""Reading SCXML documents and the files they refer to, from local files only.

This is the I/O edge of the package: the parser and the interpreter never open a file
themselves; they are given `fetch_file` (or a host's own fetcher) to call.

Rule: only `file:` URLs (and plain paths) are read, up to MAX_FILE_BYTES; a document
cannot make the server fetch anything from the network.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse

from ctiserver.scxml.content import Fetch
from ctiserver.scxml.document import Document, DocumentError
from ctiserver.scxml.parser import DATAMODELS, parse_document

MAX_FILE_BYTES: Final = 4 << 20


def fetch_file(url: str) -> str:
    """The text of a `file:` URL or a path.  Raises OSError or ValueError."""
    return _read(_path_of(url))


def confined_fetch(root: str | Path) -> Fetch:
    """A fetch that reads only files under the directory *root*.

    A server should give sessions this rather than fetch_file, so that a document
    cannot read arbitrary local files into its datamodel with `<data src>`.
    """
    top = Path(root).resolve()

    def fetch(url: str) -> str:
        path = _path_of(url).resolve()
        if not path.is_relative_to(top):
            raise ValueError(f"{path} is outside {top}")
        return _read(path)

    return fetch


def _path_of(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"only file: URLs are fetched, not {parsed.scheme}:")
    if parsed.netloc not in ("", "localhost"):
        raise ValueError(f"file URL {url!r} names a host")
    return Path(unquote(parsed.path))


def _read(path: Path) -> str:
    with path.open("rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8")


def url_of(path: str | Path) -> str:
    """The absolute `file:` URL of a path."""
    return Path(path).resolve().as_uri()


def load_document(
    url: str, *, fetch: Fetch = fetch_file, datamodels: Collection[str] = DATAMODELS
) -> Document:
    """Fetch and parse the document at *url* (a `file:` URL or a path).

    *datamodels* are the datamodel names the document may use (see parse_document).

    Raises:
        DocumentError: the document cannot be read or is not valid SCXML.
    """
    if urlparse(url).scheme == "":
        url = url_of(url)
    try:
        text = fetch(url)
    except (OSError, ValueError) as exc:
        raise DocumentError(f"cannot read {url}: {exc}") from None
    return parse_document(text.encode("utf-8"), base_url=url, fetch=fetch, datamodels=datamodels)
