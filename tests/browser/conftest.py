"""The dashboard in a real browser: Debian's Chromium, one per module, a new page per
test, a real server per test (tests/integration's sites).  Everything here runs on the
module's event loop, the browser's.  Without Chromium the tests are skipped, and
`./dev test` says so on a line of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tests.browser.chromium import chromium, missing
from tests.integration.conftest import Site, site_config, start_site, stop_site

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

WITHIN = 1000  # ms: what a test drives through the T-Library shows on the page within a second
LOAD = 10_000  # ms: a page's first load and connection, on a busy machine

MISSING = missing()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MISSING is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=MISSING))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserContext]:
    async with chromium(
        tmp_path_factory.mktemp("profile"), viewport={"width": 1280, "height": 800}
    ) as context:
        yield context


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: BrowserContext) -> AsyncIterator[Page]:
    tab = await browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        await tab.close()
    assert not errors, f"the page raised: {errors}"


SiteFactory = Callable[..., Awaitable[Site]]


@pytest_asyncio.fixture(loop_scope="module")
async def make_site() -> AsyncIterator[SiteFactory]:
    started: list[tuple[Site, Any]] = []

    async def make(**overrides: Any) -> Site:
        running, task = await start_site(site_config(**overrides))
        started.append((running, task))
        return running

    yield make
    for running, task in started:
        with contextlib.suppress(Exception):
            await stop_site(running, task)


def url(site: Site, fragment: str = "") -> str:
    assert site.service.http_address is not None
    host, port = site.service.http_address
    return f"http://{host}:{port}/" + (f"#{fragment}" if fragment else "")
