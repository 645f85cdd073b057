"""A site with an orchestration server: the real CTI server and its embedded pbxsim on
127.0.0.1 (tests/integration/conftest.py), and an OrchestrationServer connected to it
over TCP like any client, running the strategies a test gives as text.

Tests see what strategies do through their `<log>` lines and the end of their sessions
(`Rig.log()`, `Rig.ended()`), and see the calls through their own clients.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from ctiserver.app.binding import HttpSettings
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings
from ctiserver.scxml.effects import Effect, PlatformError, SessionEnded, WriteLog
from ctiserver.scxml.parser import parse_document
from tests.integration.conftest import Site, SiteFactory, make_site, within

__all__ = ["make_site"]

HEADER = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
  xmlns:ixn="http://www.genesyslab.com/modules/interaction"
  xmlns:queue="www.genesyslab.com/modules/queue"
  xmlns:dialog="http://www.genesyslab.com/modules/dialog" datamodel="ecmascript" initial="{initial}">
  <datamodel><data id="ixnid"/><data id="reqid"/><data id="consult"/></datamodel>
"""
# Reports the event being processed to the test, as `<log label="outcome">`.
REPORT = (
    '<log label="outcome" '
    "expr=\"_event.name + ' ' + JSON.stringify(_event.data === undefined ? null : _event.data)\"/>"
)
RESULTS = (
    "voice.* error.* interaction.redirect interaction.terminate queue.submit interaction.deleted "
    "dialog"
)


def strategy(body: str, initial: str = "start") -> str:
    """An SCXML strategy: the common header (ixn:, queue:, _data.ixnid, …) around *body*."""
    return HEADER.format(initial=initial) + body + "\n</scxml>"


def flow(logic: str) -> str:
    """A strategy whose *logic* states start in "start" (which takes interaction.added into
    _data.ixnid and goes to "routing"), beside a region that REPORTs every result event."""
    return strategy(
        f"""
  <parallel id="main">
    <state id="logic" initial="start">
      <state id="start">
        <transition event="interaction.added" target="routing">
          <assign location="_data.ixnid" expr="_event.data.interactionid"/>
        </transition>
      </state>
      {logic}
    </state>
    <state id="reporter">
      <transition event="{RESULTS}">{REPORT}</transition>
    </state>
  </parallel>""",
        initial="main",
    )


class Rig:
    """A site, an orchestration server on it, and what its sessions report."""

    def __init__(self, site: Site | None, server: OrchestrationServer) -> None:
        self._site = site
        self.server = server
        self._logs: dict[str, asyncio.Queue[str]] = collections.defaultdict(asyncio.Queue)
        self._ended: asyncio.Queue[SessionEnded] = asyncio.Queue()
        self.errors: list[str] = []  # PlatformError messages, e.g. error.execution

    @property
    def site(self) -> Site:
        assert self._site is not None, "this rig runs against a fake server"
        return self._site

    def observe(self, session_id: str, effect: Effect) -> None:
        if isinstance(effect, WriteLog):
            self._logs[effect.label].put_nowait(effect.text)
        elif isinstance(effect, SessionEnded):
            self._ended.put_nowait(effect)
        elif isinstance(effect, PlatformError):
            self.errors.append(f"{effect.event}: {effect.message}")

    async def log(self, label: str = "outcome", seconds: float = 5.0) -> str:
        """The text of the next `<log>` with *label* from any session."""
        text: str = await within(self._logs[label].get(), seconds)
        return text

    async def outcome(self, seconds: float = 5.0) -> tuple[str, dict[str, Any]]:
        """The next result event a strategy reported with REPORT: (name, data)."""
        name, _, data = (await self.log("outcome", seconds)).partition(" ")
        return name, orjson.loads(data) or {}

    async def ended(self, seconds: float = 5.0) -> SessionEnded:
        ended: SessionEnded = await within(self._ended.get(), seconds)
        return ended


class Orchestrate:
    """Starts orchestration servers for one test, and stops them after it."""

    def __init__(self, make_site: SiteFactory) -> None:
        self._make_site = make_site
        self._tasks: list[asyncio.Task[None]] = []

    async def __call__(
        self,
        scxml: dict[str, str],
        *,
        site: dict[str, Any] | None = None,
        http: HttpSettings | None = None,
        **settings: Any,
    ) -> Rig:
        """A site (with *site* overrides) and an orchestration server on it running the
        strategies *scxml* (routing point → SCXML text), following every DN.  *http*
        protects its REST interface (the default: no credential, loopback only).  Other
        keyword arguments are OrchestrationSettings; with `strategies=` among them
        (routing point → file), the server loads its strategies itself."""
        running = await self._make_site(**(site or {}))
        options = {"register": tuple(running.service.config.site.dns), **settings}
        return await self.against(running.address, scxml, site=running, http=http, **options)

    async def against(
        self,
        address: tuple[str, int],
        scxml: dict[str, str],
        *,
        site: Site | None = None,
        http: HttpSettings | None = None,
        **settings: Any,
    ) -> Rig:
        """An orchestration server connected to the CTI server at *address*."""
        options: dict[str, Any] = {
            "servers": (Endpoint(*address),),
            "request_timeout": 2.0,
            "reconnect_interval": 0.05,
            **settings,
        }
        documents = {point: parse_document(text.encode()) for point, text in scxml.items()}
        rig: Rig
        server = OrchestrationServer(
            OrchestrationSettings(**options),
            strategies=documents or None,
            observer=lambda session_id, effect: rig.observe(session_id, effect),
            http=http,
        )
        rig = Rig(site, server)
        self._tasks.append(asyncio.create_task(server.run(), name="orchestration-under-test"))
        await within(server.ready.wait())
        return rig

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def orchestrate(make_site: SiteFactory) -> AsyncIterator[Orchestrate]:
    running = Orchestrate(make_site)
    yield running
    await running.stop()
