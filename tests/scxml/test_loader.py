"""loader.py: local files only, optionally confined to a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.scxml.document import DocumentError
from ctiserver.scxml.loader import (
    MAX_FILE_BYTES,
    confined_fetch,
    fetch_file,
    load_document,
    url_of,
)
from tests.scxml.support import scxml


def test_fetch_reads_paths_and_file_urls(tmp_path: Path) -> None:
    path = tmp_path / "a b.txt"
    path.write_text("content")
    assert fetch_file(str(path)) == "content"
    assert fetch_file(url_of(path)) == "content"
    assert url_of(path).startswith("file:///")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/doc.scxml", "only file: URLs"),
        ("file://otherhost/etc/passwd", "names a host"),
    ],
)
def test_fetch_refuses_the_network(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fetch_file(url)


def test_fetch_refuses_huge_files(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ValueError, match="larger than"):
        fetch_file(str(path))


def test_confined_fetch_stays_under_its_root(tmp_path: Path) -> None:
    inside = tmp_path / "docs"
    inside.mkdir()
    (inside / "ok.json").write_text("{}")
    (tmp_path / "secret").write_text("s")
    fetch = confined_fetch(inside)
    assert fetch(url_of(inside / "ok.json")) == "{}"
    with pytest.raises(ValueError, match="outside"):
        fetch(str(inside / ".." / "secret"))


def test_load_document_resolves_src_against_the_document(tmp_path: Path) -> None:
    (tmp_path / "v.json").write_text('{"n": 1}')
    path = tmp_path / "doc.scxml"
    path.write_text(scxml('<datamodel><data id="v" src="v.json"/></datamodel><state id="a"/>'))
    document = load_document(str(path))
    assert document.base_url == url_of(path)
    (data,) = document.root.data
    assert data.inline is not None
    assert data.inline.text == '{"n": 1}'


def test_load_document_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        load_document(str(tmp_path / "absent.scxml"))
