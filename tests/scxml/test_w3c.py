"""The W3C SCXML 1.0 conformance suite: the 181 files of yardstick.txt, run unmodified.

The suite is never copied into the project (DESIGN.md section 6): it is read from
$SCXML_W3C_DIR, or from ../shared/scxml-w3c beside the repository, and these tests are
skipped, saying so, when it is absent (scripts/fetch_scxml_w3c.py fetches it).

A test passes when its document halts in the top-level final state `pass`.  Delayed
sends run on the driver's virtual clock, so the whole suite takes about a second.
Expected failures go in XFAIL with one reason each; xfail_strict makes a fixed one fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctiserver.scxml.driver import Driver
from ctiserver.scxml.loader import load_document
from tests.shared import SHARED

pytestmark = pytest.mark.w3c

REPOSITORY = Path(__file__).resolve().parents[2]
VIRTUAL_TIMEOUT = 120.0  # seconds of virtual time; the suite's longest delay is 20 s

# file name -> why it is expected to fail.  Empty: all 181 pass.
XFAIL: dict[str, str] = {}


def w3c_directory() -> Path:
    """$SCXML_W3C_DIR, or scxml-w3c in the shared folder (tests.shared), or
    <repo>/../shared/scxml-w3c."""
    configured = os.environ.get("SCXML_W3C_DIR")
    if configured:
        return Path(configured)
    if SHARED is not None:
        return SHARED / "scxml-w3c"
    return REPOSITORY.parent / "shared" / "scxml-w3c"


def yardstick() -> list[object]:
    listing = w3c_directory() / "yardstick.txt"
    if not listing.is_file():
        reason = (
            f"W3C SCXML suite not found at {w3c_directory()}; set SCXML_W3C_DIR or run "
            "scripts/fetch_scxml_w3c.py"
        )
        return [pytest.param("absent", marks=pytest.mark.skip(reason=reason))]
    names = [
        line.strip()
        for line in listing.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=XFAIL[name]))
        if name in XFAIL
        else name
        for name in names
    ]


@pytest.mark.parametrize("name", yardstick())
def test_w3c(name: str) -> None:
    document = load_document(str(w3c_directory() / "ecma" / name))
    driver = Driver()
    session = driver.start(document)
    ended = driver.run_until_done(session.session_id, timeout=VIRTUAL_TIMEOUT)
    assert ended is not None, "no top-level final state reached"
    assert ended.final == "pass"


def test_yardstick_has_181_files() -> None:
    listing = w3c_directory() / "yardstick.txt"
    if not listing.is_file():
        pytest.skip(f"W3C SCXML suite not found at {w3c_directory()}")
    assert len([p for p in yardstick() if p != "absent"]) == 181
