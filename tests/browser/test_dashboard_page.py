"""What a supervisor sees, in Chromium: agents and calls driven through the T-Library
port against pbxsim show on the page within a second (agents filtered by state and
searched, calls counted in the trend); the link going down shows on every DN; a lost
server is red and greyed, and the page comes back with the server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ctiserver.app.config import AcdQueueSettings, Address
from ctiserver.ids import DeviceId
from tests.browser.conftest import LOAD, WITHIN, SiteFactory, url
from tests.integration.conftest import expect as expect_event

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B, D, E = "7001", "7002", "7004", "7005"
Q = "8001"


async def opened(page: Page, address: str) -> None:
    from playwright.async_api import expect

    await page.goto(address)
    await expect(page.locator("#connection")).to_have_text("Live", timeout=LOAD)


async def test_an_agent_turning_ready_shows_within_a_second(
    page: Page, make_site: SiteFactory
) -> None:
    from playwright.async_api import expect

    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    await opened(page, url(site))
    await page.get_by_role("tab", name=re.compile("Agents")).click()
    d = await site.client(D)
    await d.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    row = page.locator(f'#agents-table tr[data-key="{D}"]')
    await expect(row.locator("td.state")).to_have_text("Not ready", timeout=WITHIN)
    await expect(row.locator("td").first).to_have_text("1001")
    await d.agent_ready(D)
    await expect(row.locator("td.state")).to_have_text("Ready", timeout=WITHIN)
    await expect(page.get_by_role("button", name=re.compile(r"^Ready \(1\)"))).to_be_visible(
        timeout=WITHIN
    )
    await expect(row.locator("td").nth(5)).to_have_text(re.compile(r"^0:0\d$"))


async def test_a_call_waiting_in_a_queue_shows_with_its_wait(
    page: Page, make_site: SiteFactory
) -> None:
    from playwright.async_api import expect

    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    await opened(page, url(site))
    a = await site.client(A)
    c1 = (await a.make_call(A, Q, user_data={"case": "A-17"}))["ConnID"]
    queue = page.locator(f'#overview-queues tr[data-key="{Q}"]')
    await expect(queue.locator("td").nth(1)).to_have_text("1", timeout=WITHIN)
    await expect(queue.locator("td").nth(2)).to_have_text(re.compile(r"^0:0\d$"), timeout=WITHIN)
    await expect(page.locator('[data-tile="waiting"] .tile-value')).to_have_text(
        "1", timeout=WITHIN
    )
    await expect(queue.locator("td").nth(2)).to_have_text(
        re.compile(r"^0:0[2-9]$"), timeout=4000
    )  # it counts
    await page.get_by_role("tab", name=re.compile("Calls")).click()
    call = page.locator(f'#calls-table tr[data-key="{c1}"]')
    await expect(call.locator("td.state")).to_have_text("Waiting", timeout=WITHIN)
    await expect(call.locator("td.parties")).to_have_text(f"{A} dialling{Q} waiting")
    await a.release_call(A, c1)
    await expect(call).to_have_count(0, timeout=WITHIN)
    await page.get_by_role("tab", name=re.compile("Overview")).click()
    await expect(queue.locator("td").nth(5)).to_have_text("1", timeout=WITHIN)  # abandoned


async def test_a_calls_data_and_events_open_from_the_keyboard(
    page: Page, make_site: SiteFactory
) -> None:
    from playwright.async_api import expect

    site = await make_site()
    await opened(page, url(site))
    a, b = await site.client(A), await site.client(B)
    c1 = (await a.make_call(A, B, user_data={"case": "A-17", "card": {"$binary": "AAEC"}}))[
        "ConnID"
    ]
    await page.get_by_role("tab", name=re.compile("Overview")).focus()
    for _ in range(3):
        await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name=re.compile("Calls"))).to_have_attribute(
        "aria-selected", "true"
    )
    row = page.locator(f'#calls-table tr[data-key="{c1}"]')
    await expect(row).to_be_visible(timeout=WITHIN)
    await row.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("heading", name=f"Call {c1}")).to_be_visible()
    await expect(dialog.locator("#call-data")).to_contain_text("caseA-17", timeout=WITHIN)
    await expect(dialog.locator("#call-data")).to_contain_text("binary, 4 base64 characters")
    history = dialog.locator("#call-history tbody tr td:nth-child(2)")
    await expect(history).to_have_text(["EventDialing", "EventRinging"])
    await b.answer_call(B, c1)
    await expect(history).to_have_text(
        ["EventDialing", "EventRinging", "EventEstablished", "EventEstablished"], timeout=2 * WITHIN
    )
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(row).to_be_focused()


async def test_the_link_going_down_shows_on_every_dn(page: Page, make_site: SiteFactory) -> None:
    from playwright.async_api import expect

    site = await make_site()
    await opened(page, url(site))
    await page.get_by_role("tab", name=re.compile("DNs")).click()
    statuses = page.locator("#dns-table td.state")
    await expect(statuses).to_have_count(12)
    listener = site.service.embedded.listener  # type: ignore[union-attr]
    await listener.stop()
    await expect(statuses).to_have_text(["Link down"] * 12, timeout=WITHIN)
    await expect(page.locator("#link-down")).to_be_visible()
    await expect(page.locator('#health [data-key="link"]')).to_have_text("Switch link down")
    await expect(page.locator('#health [data-key="link"]')).to_have_class(re.compile(r"\bbad\b"))
    await listener.start()
    await expect(statuses.first).to_have_text("Idle", timeout=LOAD)
    await expect(page.locator("#link-down")).to_be_hidden()


async def test_a_lost_server_is_red_and_greyed_and_the_page_comes_back(
    page: Page, make_site: SiteFactory
) -> None:
    from playwright.async_api import expect

    site = await make_site()
    assert site.service.http_address is not None
    port = site.service.http_address[1]
    await opened(page, url(site))
    a = await site.client(A)
    await a.make_call(A, B)
    await expect(page.locator('[data-tile="calls"] .tile-value')).to_have_text("1", timeout=WITHIN)
    await site.close()
    site.service.stop()
    banner = page.locator("#lost")
    await expect(banner).to_contain_text("Server lost", timeout=WITHIN)
    await expect(page.locator("#connection")).to_have_text("Server lost")
    await expect(page.locator("body")).to_have_class(re.compile(r"\blost\b"))
    assert "grayscale(1)" in await page.locator("main").evaluate(
        "main => getComputedStyle(main).filter"
    )
    background = await banner.evaluate("banner => getComputedStyle(banner).backgroundColor")
    assert background == "rgb(155, 7, 18)"  # red, and white text
    again = await make_site(server={"http_listen": Address("127.0.0.1", port)})
    await expect(page.locator("#connection")).to_have_text("Live", timeout=LOAD)
    await expect(banner).to_be_hidden()
    await expect(page.locator('[data-tile="calls"] .tile-value')).to_have_text("0")
    assert again.service.http_address == ("127.0.0.1", port)


async def test_the_wallboard_is_big_and_keyboard_driven(page: Page, make_site: SiteFactory) -> None:
    from playwright.async_api import expect

    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    await opened(page, url(site))
    await page.keyboard.press("w")
    wallboard = page.get_by_role("region", name="Wallboard")
    await expect(wallboard).to_be_visible()
    await expect(page.locator("#main")).to_be_hidden()
    a = await site.client(A)
    await a.make_call(A, Q)
    waiting = page.locator(f'[data-queue="{Q}"] .wall-number')
    await expect(waiting).to_have_text("1", timeout=WITHIN)
    size = await waiting.evaluate("n => parseFloat(getComputedStyle(n).fontSize)")
    assert size >= 60  # pixels: readable across a room
    await page.keyboard.press("Escape")
    await expect(wallboard).to_be_hidden()
    await page.goto(url(site, "wallboard"))
    await expect(page.get_by_role("region", name="Wallboard")).to_be_visible(timeout=LOAD)


async def test_a_token_from_the_url_fragment_opens_a_guarded_dashboard(
    page: Page, make_site: SiteFactory, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    token_file = tmp_path / "admin-token"
    token_file.write_text("s3cret-token-for-the-dashboard")
    site = await make_site(security={"admin_token_file": token_file, "restrict_read": True})
    await page.goto(url(site, "token=nope"))
    await expect(page.locator("#connection")).to_have_text("Not authorised", timeout=LOAD)
    await expect(page.locator("#lost")).to_contain_text("#token=")
    await page.goto(url(site, "token=s3cret-token-for-the-dashboard"))  # the same page
    await expect(page.locator("#connection")).to_have_text("Live", timeout=LOAD)


CONTRAST_PAIRS = """
(selector) => [...document.querySelectorAll(selector)].map((node) => {
  const colour = getComputedStyle(node).color;
  let back = node, background = "rgba(0, 0, 0, 0)";
  while (back && (background === "rgba(0, 0, 0, 0)" || background === "transparent")) {
    background = getComputedStyle(back).backgroundColor;
    back = back.parentElement;
  }
  if (background === "rgba(0, 0, 0, 0)") background = getComputedStyle(document.documentElement).backgroundColor;
  return [node.textContent.trim().slice(0, 30), colour, background];
})
"""


def _luminance(css: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css)[:3])
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_text_has_enough_contrast_in_both_modes(page: Page, make_site: SiteFactory) -> None:
    from playwright.async_api import expect

    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    d, a = await site.client(D), await site.client(A)
    await d.agent_login(D, "1001", queue=Q, work_mode="AutoIn")
    await expect_event(d, "EventAgentLogin")
    await a.make_call(A, "7003")
    await opened(page, url(site))
    await page.get_by_role("tab", name=re.compile("Agents")).click()
    await expect(page.locator("#agents-table .badge")).to_have_count(1, timeout=WITHIN)
    checked = []
    for selector in (
        ".badge",
        ".tile-label",
        ".tile-value",
        ".health-item",
        ".connection",
        "th",
        "td",
        ".chip",
        ".note",
        "[role=tab]",
    ):
        checked += await page.evaluate(CONTRAST_PAIRS, selector)
    await page.keyboard.press("w")
    for selector in (".wall-count", ".wall-queue h2", ".wall-queue p", ".wall-trend figcaption"):
        checked += await page.evaluate(CONTRAST_PAIRS, selector)
    assert len(checked) > 30
    poor = [
        (text, fg, bg, round(contrast(fg, bg), 2))
        for text, fg, bg in checked
        if contrast(fg, bg) < 4.5
    ]
    assert not poor


async def test_agents_filter_by_state_and_search_and_the_trends_count_calls(
    page: Page, make_site: SiteFactory
) -> None:
    from playwright.async_api import expect

    site = await make_site(site={"acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)}})
    await opened(page, url(site))
    d, e, a = await site.client(D), await site.client(E), await site.client(A)
    await d.agent_login(D, "1001", queue=Q, work_mode="ManualIn")
    await e.agent_login(E, "1002", queue=Q, work_mode="ManualIn")
    await d.agent_ready(D)
    await a.make_call(A, Q)  # a call begun: the minute's bar
    calls = page.locator("#trend-calls")
    await expect(calls).to_have_attribute(
        "aria-label", re.compile(r"at most [1-9]"), timeout=WITHIN
    )
    await expect(calls.locator("rect")).not_to_have_count(0)
    await page.get_by_role("tab", name=re.compile("Agents")).click()
    rows = page.locator("#agents-table tbody tr")
    await expect(rows).to_have_count(2, timeout=WITHIN)
    await page.locator('#agent-filters [data-value="NotReady"]').click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-key", E)
    await page.locator('#agent-filters [data-value=""]').click()
    await expect(rows).to_have_count(2)
    await page.keyboard.press("/")
    await expect(page.locator("#agent-search")).to_be_focused()
    await page.keyboard.type("1001")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-key", D)
