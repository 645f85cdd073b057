"""A real nats-server with JetStream (tests.nats_process), a standalone pbxsim, and pairs of
servers on them.  Every pair gets a pair name of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ctiserver.app.config import Address, Config
from ctiserver.app.parts import pbx_config
from ctiserver.ha.member import Member, Role
from ctiserver.ha.settings import HaSettings
from ctiserver.jetstream.link import NatsSettings
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.switch import Switch
from tests.integration.conftest import Site, start_site, stop_site, within
from tests.nats_process import NatsServer, nats_server, own_nats_server

__all__ = ["NatsServer", "nats_server", "own_nats_server"]  # fixtures, and what tests import

PAIRS = itertools.count(1)


@pytest.fixture
async def switch() -> AsyncIterator[tuple[str, int]]:
    """A standalone pbxsim with the demo site's DNs, which both members link to."""
    from tests.integration.conftest import site_config

    listener = PbxListener(Switch(pbx_config(site_config())), "127.0.0.1", 0)
    address = await listener.start()
    yield address
    await listener.stop()


@dataclasses.dataclass
class Pair:
    """Two members of one pair, in this process."""

    a: Site
    b: Site
    tasks: list[asyncio.Task[None]]

    def member(self, site: Site) -> Member:
        member = site.service.member
        assert member is not None
        return member

    async def roles(self) -> tuple[Site, Site]:
        """(primary, backup), once one is each."""
        await within(
            asyncio.wait(
                [
                    asyncio.create_task(self.member(s).became(Role.PRIMARY))
                    for s in (self.a, self.b)
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
        )
        primary = self.a if self.member(self.a).role is Role.PRIMARY else self.b
        backup = self.b if primary is self.a else self.a
        await within(self.member(backup).became(Role.BACKUP))
        return primary, backup


def member_config(url: str, switch: tuple[str, int], ha: HaSettings, **overrides: Any) -> Config:
    from tests.integration.conftest import site_config

    return site_config(
        switch={"link": Address(*switch)}, nats=NatsSettings(urls=(url,)), ha=ha, **overrides
    )


def pair_settings(member: str, **ha: Any) -> HaSettings:
    return HaSettings(pair=f"t{os.getpid()}x{next(PAIRS)}", member=member, **ha)


@contextlib.asynccontextmanager
async def pair_of(
    nats: NatsServer,
    switch: tuple[str, int],
    *,
    urls: tuple[str, str] | None = None,
    ha: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[Pair]:
    """Members a and b of a new pair; *urls*: each member's NATS URL (a proxy's)."""
    settings = pair_settings("a", **(ha or {"lease_ttl": 1.0}))
    started: list[tuple[Site, asyncio.Task[None]]] = []
    try:
        for n, member in enumerate(("a", "b")):
            url = urls[n] if urls is not None else nats.url
            config = member_config(
                url, switch, dataclasses.replace(settings, member=member), **overrides
            )
            started.append(await start_site(config))
        (a, ta), (b, tb) = started
        yield Pair(a, b, [ta, tb])
    finally:
        for site, task in started:
            with contextlib.suppress(Exception):
                await stop_site(site, task)


class MemberProcess:
    """`ctiserver run` of one member, in a process of its own (it may be killed -9)."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.address: tuple[str, int] = ("", 0)
        self.http = ""  # the base URL of its HTTP listener
        self.lines: list[str] = []
        self._draining: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ctiserver", "run", "--config", str(self.config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        while line := (await within(self.process.stdout.readline(), 20)).decode():
            self.lines.append(line.rstrip())
            if line.startswith("listening client="):
                host, port = line.split("=", 1)[1].strip().rsplit(":", 1)
                self.address = (host, int(port))
            if line.startswith("listening http="):  # printed after the client listener's
                self.http = "http://" + line.split("=", 1)[1].strip()
                self._draining = asyncio.get_running_loop().create_task(self._drain())
                return
        raise AssertionError(f"the member did not start: {self.lines[-10:]}")

    async def _drain(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode().rstrip())

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def close(self) -> None:
        """Kill it if it runs, and reap it (its output read to the end)."""
        if self.process is None:
            return
        self.kill()
        await within(self.process.wait(), 10)
        if self._draining is not None:
            await within(self._draining, 10)


def member_toml(
    directory: Path, nats: NatsServer, switch: tuple[str, int], pair: str, member: str
) -> Path:
    path = directory / f"{pair}-{member}.toml"
    path.write_text(
        f"""
[server]
name = "tserver"
client-listen = "127.0.0.1:0"
http-listen = "127.0.0.1:0"
resume-window = 30

[switch]
link = "{switch[0]}:{switch[1]}"
reply-timeout = 2
reconnect-min = 0.05
reconnect-max = 0.2

[dn]
extensions = ["7001-7010"]
acd-queues = ["8001"]
routing-points = ["5000"]

[nats]
url = "{nats.url}"

[ha]
pair = "{pair}"
member = "{member}"
lease-ttl = 1
""",
        encoding="utf-8",
    )
    return path
