"""Take the pictures of docs/dashboard.md: start a site on free ports with its embedded
pbxsim, drive agents and calls through the T-Library port as a morning in a contact
centre, and photograph the page in Debian's Chromium (through Playwright).

    ./dev shell python scripts/dashboard_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.chromium import chromium, missing  # noqa: E402

from ctiserver.app.config import (  # noqa: E402
    AcdQueueSettings,
    Address,
    RoutingPointSettings,
    amend,
    demo,
)
from ctiserver.app.service import Service  # noqa: E402
from ctiserver.client.connection import TClient  # noqa: E402
from ctiserver.ids import DeviceId  # noqa: E402
from ctiserver.model.states import DnKind  # noqa: E402

SALES, SUPPORT, FRONT = "8001", "8002", "5000"
AGENTS = {  # DN: (AgentID, queue, how it logs in)
    "7021": ("1001", SALES, "AutoIn"),
    "7022": ("1002", SALES, "AutoIn"),
    "7023": ("1003", SALES, "AutoIn"),
    "7024": ("1004", SALES, "ManualIn"),
    "7025": ("1005", SALES, "AfterCallWork"),
    "7026": ("1006", SUPPORT, "AutoIn"),
    "7027": ("1007", SUPPORT, "AutoIn"),
    "7028": ("1008", SUPPORT, "ManualIn"),
    "7029": ("1009", SUPPORT, "AutoIn"),
}


def site() -> Any:
    dns = {DeviceId(str(n)): DnKind.EXTENSION for n in range(7001, 7041)}
    dns |= {DeviceId(SALES): DnKind.ACD_QUEUE, DeviceId(SUPPORT): DnKind.ACD_QUEUE}
    dns[DeviceId(FRONT)] = DnKind.ROUTING_POINT
    return amend(
        demo(),
        server={
            "name": "tserver-paris",
            "client_listen": Address("127.0.0.1", 0),
            "http_listen": Address("127.0.0.1", 0),
        },
        site={
            "dns": dns,
            "agent_logins": tuple(agent for agent, _, _ in AGENTS.values()),
            "routing_points": {DeviceId(FRONT): RoutingPointSettings(120.0, DeviceId(SALES))},
            "acd_queues": {
                DeviceId(SALES): AcdQueueSettings(0.0),
                DeviceId(SUPPORT): AcdQueueSettings(0.0),
            },
        },
    )


class Morning:
    """Agents log in and answer; callers dial; some wait, one gives up."""

    def __init__(self, client: TClient) -> None:
        self.client = client
        self.answering = True
        self.answerer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for dn in [str(n) for n in range(7001, 7041)] + [SALES, SUPPORT, FRONT]:
            await self.client.register_address(dn)
        for dn, (agent, queue, mode) in AGENTS.items():
            login = "ManualIn" if mode == "AfterCallWork" else mode
            await self.client.agent_login(dn, agent, queue=queue, work_mode=login)
        await self.client.agent_not_ready("7025", "AfterCallWork")
        await self.client.agent_not_ready("7028", "AuxWork", Reasons={"ReasonCode": "Training"})

    async def answer(self) -> None:
        async for event in self.client.events():
            if event["Event"] == "EventRinging" and event["ThisDN"] in AGENTS and self.answering:
                await self.client.answer_call(event["ThisDN"], event["ConnID"])

    async def call(self, caller: str, to: str, **data: str) -> str:
        dialing = await self.client.make_call(caller, to, user_data=data)
        return str(dialing["ConnID"])


async def morning(service: Service) -> Morning:
    assert service.client_address is not None
    client = await TClient.connect(*service.client_address, application_name="screenshots")
    people = Morning(client)
    await people.start()
    people.answerer = asyncio.create_task(people.answer())
    done = [await people.call(str(7001 + n), SALES, customer=f"C-{40 + n}") for n in range(3)]
    await asyncio.sleep(1.5)
    for conn_id, caller in zip(done, ("7001", "7002", "7003"), strict=True):
        await client.release_call(caller, conn_id)
    await people.call("7004", SUPPORT, customer="C-77")
    await people.call("7005", SUPPORT, customer="C-1187", reason="billing", language="fr")
    await people.call("7006", SUPPORT, customer="C-2044", reason="delivery")
    await people.call("7007", SALES, customer="C-3101", reason="new contract", segment="gold")
    await people.call("7008", SALES, customer="C-3102")
    await people.call("7009", SALES, customer="C-3103")
    await asyncio.sleep(1.0)
    people.answering = False  # every agent is busy or away: calls wait from here on
    await people.call("7010", SALES, customer="C-3104", reason="upgrade")
    await people.call("7011", SUPPORT, customer="C-3105")
    await people.call("7012", FRONT, customer="C-3106", intent="sales")
    tired = await people.call("7013", SALES, customer="C-3107")
    await asyncio.sleep(2.0)
    await client.release_call("7013", tired)  # gave up waiting
    return people


async def photograph(out: Path, service: Service) -> None:
    assert service.http_address is not None
    host, port = service.http_address
    url = f"http://{host}:{port}/"
    with tempfile.TemporaryDirectory() as profile:
        await photograph_in(Path(profile), url, out, service)


async def photograph_in(profile: Path, url: str, out: Path, service: Service) -> None:
    async with chromium(profile, viewport={"width": 1280, "height": 860}) as browser:
        page = await browser.new_page()
        await page.goto(url)
        await page.wait_for_selector("#connection.live")
        await asyncio.sleep(6)  # durations and waits that read as a morning's
        await page.screenshot(path=out / "dashboard-overview.png", full_page=True)
        await page.get_by_role("tab", name="Agents").click()
        await page.screenshot(path=out / "dashboard-agents.png")
        await page.get_by_role("tab", name="Calls").click()
        await page.locator("#calls-table tbody tr", has_text="7007").click()
        await page.wait_for_selector("#call-history tbody tr")
        await page.screenshot(path=out / "dashboard-call.png")
        await page.keyboard.press("Escape")
        await page.keyboard.press("w")
        await page.screenshot(path=out / "dashboard-wallboard.png")
        await page.keyboard.press("w")
        await page.get_by_role("tab", name="DNs").click()
        assert service.embedded is not None
        await service.embedded.listener.stop()
        await page.wait_for_selector("#link-down:not([hidden])")
        await page.screenshot(path=out / "dashboard-link-down.png")
        await service.embedded.listener.start()
        await page.wait_for_selector("#link-down[hidden]", state="attached")
        await page.get_by_role("tab", name="Overview").click()
        service.stop()
        await page.wait_for_selector("#connection.lost")
        await page.screenshot(path=out / "dashboard-lost.png")


async def main(out: Path) -> None:
    service = Service(site(), announce=lambda line: None)
    running = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    await morning(service)
    await photograph(out, service)
    await running


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    arguments = parser.parse_args()
    if (why := missing()) is not None:
        sys.exit(f"cannot take the pictures: {why}")
    out = arguments.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out))
    for picture in sorted(out.glob("dashboard-*.png")):
        print(picture.relative_to(ROOT) if picture.is_relative_to(ROOT) else picture)
