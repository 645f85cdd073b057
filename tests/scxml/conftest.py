"""Fixtures for the SCXML tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ctiserver.scxml.driver import Driver
from ctiserver.scxml.host import Host
from tests.scxml.support import Recorder, document


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def run(recorder: Recorder) -> Callable[..., str | None]:
    """Run a document body to completion on a fresh driver; returns its final state id."""

    def run_body(body: str, *, host: Host | None = None, **attributes: str) -> str | None:
        driver = Driver(host=host, on_effect=recorder)
        session = driver.start(document(body, **attributes))
        ended = driver.run_until_done(session.session_id, timeout=60.0)
        return ended.final if ended is not None else None

    return run_body
