"""Watch a hot-standby pair carry its calls on when the primary is killed.

Three desks call three others through the pair, with UserData, and the calls are
answered.  The script then kills the primary with SIGKILL.  The backup takes over, the
desks' session moves to it (HotStandbyClient), and the script shows each call as the new
primary knows it (its ConnID and UserData, from RequestQueryCall), changes the data of
one, and ends every call through the new primary.  Every event and every notice of the
desks' session is printed as it comes.

    python watch.py --member a 127.0.0.1:7500 http://127.0.0.1:7580 PID_A \\
                    --member b 127.0.0.1:7510 http://127.0.0.1:7590 PID_B
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ctiserver.client import HotStandbyClient, Notice
from ctiserver.client.switchover import SessionResumed
from ctiserver.tlib.vocabulary import TMessage

CALLS = (("7001", "7002"), ("7003", "7004"), ("7005", "7006"))
SHOWN = ("ThisDN", "ConnID", "OtherDN", "UserData", "ServerRole")


@dataclass(frozen=True)
class Member:
    name: str
    client: tuple[str, int]
    http: str  # the base URL of its HTTP listener
    pid: int


class Desks:
    """The session of the six desks: prints what comes and lets the scenario wait."""

    def __init__(self, client: HotStandbyClient) -> None:
        self.client = client
        self._seen: asyncio.Queue[TMessage | Notice] = asyncio.Queue()
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        async for item in self.client.events():
            print(line(item), flush=True)
            self._seen.put_nowait(item)

    async def until(self, wanted: str, dn: str | None = None) -> Any:
        """The next event named *wanted* (at *dn*), or notice of that class name."""
        async with asyncio.timeout(30):
            while True:
                item = await self._seen.get()
                name = item.get("Event") if isinstance(item, dict) else type(item).__name__
                if name == wanted and (dn is None or item.get("ThisDN") == dn):  # type: ignore[union-attr]
                    return item

    async def close(self) -> None:
        self._task.cancel()
        await self.client.close()


def line(item: TMessage | Notice) -> str:
    if not isinstance(item, dict):
        return f"        ** {type(item).__name__}: {item}"
    details = " ".join(f"{k}={shown(item[k])}" for k in SHOWN if k in item)  # type: ignore[literal-required]
    return f"        {item['Event']:<24} {details}"


def shown(value: object) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def say(text: str) -> None:
    print(f"\n--- {text}", flush=True)


async def role(session: aiohttp.ClientSession, member: Member) -> str | None:
    """The member's role in the pair, or None while it does not answer."""
    try:
        async with session.get(f"{member.http}/healthz") as reply:
            body: dict[str, Any] = await reply.json()
    except (aiohttp.ClientError, ValueError):
        return None
    if body.get("link") != "up":
        return None
    return str(body.get("ha", {}).get("role"))


async def primary_of(members: list[Member], patience: float = 60.0) -> Member:
    """The primary, once one member is primary and the other backup, both linked."""
    deadline = time.monotonic() + patience
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            roles = {m.name: await role(session, m) for m in members}
            if sorted(map(str, roles.values())) == ["backup", "primary"]:
                return next(m for m in members if roles[m.name] == "primary")
            await asyncio.sleep(0.2)
    raise SystemExit(f"the pair was not ready within {patience:g} s")


async def show(members: list[Member]) -> int:
    """The scenario; returns how many calls the new primary knew with their data."""
    primary = await primary_of(members)
    client = await HotStandbyClient.connect(
        [m.client for m in members], application_name="ha-demo", failover_timeout=30
    )
    desks = Desks(client)
    try:
        say(f"the desks' session is on member {primary.name}, the primary")
        for dn in (dn for call in CALLS for dn in call):
            await client.register_address(dn)
        conn_ids = await place_calls(desks)
        say(f"kill -9 member {primary.name} (pid {primary.pid})")
        killed = time.monotonic()
        os.kill(primary.pid, signal.SIGKILL)
        resumed: SessionResumed = await desks.until("SessionResumed")
        say(
            f"{time.monotonic() - killed:.1f} s later the session goes on at "
            f"{resumed.address} after event {resumed.last_sequence}"
        )
        kept = await check_calls(desks, conn_ids)
        await end_calls(desks, conn_ids)
        say(f"{kept} of {len(CALLS)} calls kept their ConnID and UserData")
        return kept
    finally:
        await desks.close()


async def place_calls(desks: Desks) -> list[str]:
    conn_ids = []
    for number, (caller, callee) in enumerate(CALLS, 1):
        say(f"{caller} calls {callee} (case demo-{number}); {callee} answers")
        dialing = await desks.client.make_call(
            caller, callee, user_data={"case": f"demo-{number}", "priority": number}
        )
        conn_ids.append(str(dialing["ConnID"]))
        await desks.until("EventRinging", callee)
        await desks.client.answer_call(callee, conn_ids[-1])
        await desks.until("EventEstablished", caller)
    return conn_ids


async def check_calls(desks: Desks, conn_ids: list[str]) -> int:
    """Ask the new primary for each call; count those it knows with their data."""
    kept = 0
    for number, ((caller, _), conn_id) in enumerate(zip(CALLS, conn_ids, strict=True), 1):
        info = await desks.client.query_call(caller, conn_id)
        data = info.get("UserData", {})
        same = info.get("ConnID") == conn_id and data.get("case") == f"demo-{number}"
        kept += same
        print(f"        call {conn_id}: UserData {shown(data)}: {'kept' if same else 'LOST'}")
    return kept


async def end_calls(desks: Desks, conn_ids: list[str]) -> None:
    caller, callee = CALLS[0]
    say(f"{callee} notes an outcome on the new primary; every caller hangs up")
    await desks.client.update_user_data(callee, conn_ids[0], {"outcome": "resolved"})
    await desks.until("EventAttachedDataChanged", caller)
    for (caller, callee), conn_id in zip(CALLS, conn_ids, strict=True):
        await desks.client.release_call(caller, conn_id)
        await desks.until("EventReleased", callee)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--member", nargs=4, action="append", required=True,
        metavar=("NAME", "CLIENT", "HTTP", "PID"),
    )  # fmt: skip
    args = parser.parse_args()
    members = []
    for name, client, http, pid in args.member:
        host, _, port = client.rpartition(":")
        members.append(Member(name, (host, int(port)), http, int(pid)))
    logging.basicConfig(level=logging.ERROR)  # the SDK's own lines: its notices are shown
    print("waiting for the pair…", file=sys.stderr, flush=True)
    kept = asyncio.run(show(members))
    sys.exit(0 if kept == len(CALLS) else 1)


if __name__ == "__main__":
    main()
