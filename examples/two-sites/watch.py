"""Watch a call cross from SiteA to SiteB, with its data, through both CTI servers.

A caller at SiteA dials the routing point 5000; a router there (this script) sends the
call to agent 7101 at SiteB with some UserData (ISCC, transaction type `route`); the
agent answers, adds to the data, and SiteA sees the change; then the caller hangs up.
Every event the three desks receive is printed as it comes.

    python watch.py [--site-a HOST:PORT] [--site-b HOST:PORT] [--http-a URL] [--http-b URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import aiohttp
import orjson

from ctiserver.client.connection import TClient
from ctiserver.tlib.vocabulary import TMessage

SHOWN = (
    "ConnID", "OtherDN", "ThirdPartyDN", "AccessNumber", "CallType", "ANI",
    "LastTransferHomeLocation", "LastTransferConnID", "UserData",
)  # fmt: skip
QUIET = frozenset({"EventServerInfo", "EventLinkConnected", "EventRegistered"})


class Desk:
    """One DN at one site: prints its events and lets the scenario wait for one."""

    def __init__(self, site: str, dn: str, client: TClient) -> None:
        self.site, self.dn, self.client = site, dn, client
        self._seen: asyncio.Queue[TMessage] = asyncio.Queue()
        self._task = asyncio.create_task(self._watch())

    @classmethod
    async def open(cls, site: str, address: tuple[str, int], dn: str) -> Desk:
        client = await TClient.connect(*address, application_name=f"watch-{dn}")
        # The server says at once whether its switch link is up, and again when it
        # comes up: a desk started with the servers waits for it.
        async with asyncio.timeout(30):
            await client.wait_for("EventLinkConnected")
        await client.register_address(dn)
        return cls(site, dn, client)

    async def _watch(self) -> None:
        while True:
            event = await self.client.next_event()
            if event["Event"] not in QUIET:
                print(line(self.site, self.dn, event), flush=True)
            self._seen.put_nowait(event)

    async def until(self, name: str) -> TMessage:
        async with asyncio.timeout(10):
            while True:
                event = await self._seen.get()
                if event["Event"] == name:
                    return event

    async def close(self) -> None:
        self._task.cancel()
        await self.client.close()


def line(site: str, dn: str, event: TMessage) -> str:
    details = " ".join(f"{k}={shown(event[k])}" for k in SHOWN if k in event)  # type: ignore[literal-required]
    return f"{site:<6} {dn:<5} {event['Event']:<30} {details}"


def shown(value: object) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def say(text: str) -> None:
    print(f"\n--- {text}", flush=True)


async def cross(site_a: tuple[str, int], site_b: tuple[str, int]) -> None:
    """The scenario: a routed call goes from SiteA to SiteB and its data follows."""
    caller = await Desk.open("SiteA", site_a, "7001")
    router = await Desk.open("SiteA", site_a, "5000")
    agent = await Desk.open("SiteB", site_b, "7101")
    try:
        say("7001 at SiteA dials the routing point 5000")
        await caller.client.make_call("7001", "5000", user_data={"case": "demo-1"})
        request = await router.until("EventRouteRequest")
        say("the router sends the call to 7101 at SiteB, with more data")
        await router.client.route_call(
            "5000",
            request["ConnID"],
            "7101",
            Location="SiteB",
            XRouteType="Route",
            UserData={"language": "en"},
        )
        ringing = await agent.until("EventRinging")
        await router.until("EventRemoteConnectionSuccess")
        say("7101 answers, and notes an outcome: SiteA sees it")
        await agent.client.answer_call("7101", ringing["ConnID"])
        await caller.until("EventEstablished")
        await agent.client.update_user_data("7101", ringing["ConnID"], {"outcome": "sold"})
        await caller.until("EventAttachedDataChanged")
        say("the caller hangs up")
        await caller.client.release_call("7001", request["ConnID"])
        await agent.until("EventReleased")
    finally:
        for desk in (caller, router, agent):
            await desk.close()


async def ready(*health_urls: str, patience: float = 60.0) -> None:
    """Wait until every server has its switch link and its ISCC peers up."""
    deadline = time.monotonic() + patience
    async with aiohttp.ClientSession() as session:
        for url in health_urls:
            while not await _healthy(session, url):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not become ready in {patience:g} s")
                await asyncio.sleep(0.2)


async def _healthy(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url) as reply:
            body: dict[str, Any] = await reply.json()
    except (aiohttp.ClientError, ValueError):
        return False
    peers = body.get("iscc", {})
    return body.get("link") == "up" and all(state == "up" for state in peers.values())


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-a", type=address, default=("127.0.0.1", 7000))
    parser.add_argument("--site-b", type=address, default=("127.0.0.1", 7100))
    parser.add_argument("--http-a", default="http://127.0.0.1:7080/healthz")
    parser.add_argument("--http-b", default="http://127.0.0.1:7180/healthz")
    args = parser.parse_args()
    print("waiting for both sites and their links…", file=sys.stderr, flush=True)
    await ready(args.http_a, args.http_b)
    await cross(args.site_a, args.site_b)


if __name__ == "__main__":
    asyncio.run(main())
