"""What every test run shares: a loud word at the end when the W3C SCXML suite was not
there to run (tests/scxml/test_w3c.py), so that a green run without it is never taken
for the whole suite."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    absent = [r for r in skipped if "W3C SCXML suite is absent" in str(r.longrepr)]
    if not absent:
        return
    from tests.scxml.test_w3c import ABSENT

    terminalreporter.write_sep("!", "THE W3C SCXML SUITE WAS NOT RUN", red=True, bold=True)
    terminalreporter.write_line(f"{ABSENT}.", red=True, bold=True)
    terminalreporter.write_line(
        "Without it the conformance tests (181 documents) are skipped: this run is not the "
        "whole suite.",
        red=True,
    )
