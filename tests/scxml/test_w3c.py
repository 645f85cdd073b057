"""The W3C SCXML 1.0 conformance suite: the 181 files of yardstick.txt, run unmodified.

The suite is never copied into the project (DESIGN.md section 6): it is read from
$SCXML_W3C_DIR, or from ../shared/scxml-w3c beside the repository, and these tests are
skipped, saying so, when it is absent (scripts/fetch_scxml_w3c.py fetches it; the test
run ends with a banner that says so, tests/conftest.py).  With CTISERVER_REQUIRE_W3C=1
(CI) an absent suite is a failure.

A test passes when its document halts in the top-level final state `pass`.  Delayed
sends run on the driver's virtual clock, so the whole suite takes about a second.  It
runs twice: with a fresh ECMAScript context per session, and with contexts lent by one
pool to the sessions of every file in turn (ecmascript_pool.py): what a pooled context
changes must change no outcome, and no file may see what an earlier one left.
Expected failures go in XFAIL with one reason each; xfail_strict makes a fixed one fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctiserver.scxml.driver import Driver
from ctiserver.scxml.ecmascript import EcmaScriptDataModel, Limits
from ctiserver.scxml.ecmascript_pool import ContextPool
from ctiserver.scxml.host import Host
from ctiserver.scxml.loader import load_document
from tests.shared import SHARED

pytestmark = pytest.mark.w3c

REPOSITORY = Path(__file__).resolve().parents[2]
VIRTUAL_TIMEOUT = 120.0  # seconds of virtual time; the suite's longest delay is 20 s

# file name -> why it is expected to fail.  Empty: all 181 pass.
XFAIL: dict[str, str] = {}
LIMITS = Limits()
POOL = ContextPool(memory=LIMITS.memory, stack=LIMITS.stack, time=LIMITS.time, preludes=(), size=2)
POOLED = Host(datamodels={"ecmascript": lambda limits: EcmaScriptDataModel(limits, pool=POOL)})


def w3c_directory() -> Path:
    """$SCXML_W3C_DIR, or scxml-w3c in the shared folder (tests.shared), or
    <repo>/../shared/scxml-w3c."""
    configured = os.environ.get("SCXML_W3C_DIR")
    if configured:
        return Path(configured)
    if SHARED is not None:
        return SHARED / "scxml-w3c"
    return REPOSITORY.parent / "shared" / "scxml-w3c"


ABSENT = (
    "the W3C SCXML suite is absent: get it with `./dev shell python scripts/fetch_scxml_w3c.py`"
    " (from the W3C site; add --npm to take it from the npm registry), or name its folder "
    "in SCXML_W3C_DIR"
)


def yardstick() -> list[object]:
    listing = w3c_directory() / "yardstick.txt"
    if not listing.is_file():
        if os.environ.get("CTISERVER_REQUIRE_W3C"):
            return [pytest.param("absent")]  # test_w3c fails, saying why
        return [pytest.param("absent", marks=pytest.mark.skip(reason=ABSENT))]
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


@pytest.mark.parametrize("pooled", [False, True], ids=["fresh", "pooled"])
@pytest.mark.parametrize("name", yardstick())
def test_w3c(name: str, pooled: bool) -> None:
    if name == "absent":
        pytest.fail(f"{ABSENT} (CTISERVER_REQUIRE_W3C is set)")
    document = load_document(str(w3c_directory() / "ecma" / name))
    driver = Driver(host=POOLED) if pooled else Driver()
    session = driver.start(document)
    ended = driver.run_until_done(session.session_id, timeout=VIRTUAL_TIMEOUT)
    assert ended is not None, "no top-level final state reached"
    assert ended.final == "pass"
    driver.discard(session.session_id)  # a pooled context goes back for the next file


def test_yardstick_has_181_files() -> None:
    """181 files, or 180 from the npm copy, which is the 2014 suite (no test288)."""
    listing = w3c_directory() / "yardstick.txt"
    if not listing.is_file():
        pytest.skip(ABSENT)
    expected = 180 if "# source: npm " in listing.read_text() else 181
    names = [p for p in yardstick() if p != "absent"]
    assert len(names) == expected
    assert all((w3c_directory() / "ecma" / str(n)).is_file() for n in names)
