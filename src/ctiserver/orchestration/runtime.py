"""The orchestration server's asyncio shell: T-Library connections in, the core in the
middle, requests out, on the event loop's clock.

    server = OrchestrationServer(settings)
    await server.run()          # until cancelled; `ctiserver orchestrate`, or inside run

One task per CTI server keeps a TClient connected (reconnecting every
`reconnect-interval`) and puts what it reads in one inbox; one loop takes the inbox in
order, gives each item to the core with `loop.time()`, wakes up when the core's next
deadline comes, and writes the requests the core returns.  It is a client of the public
protocol like any other (DESIGN.md § 1, part 6).

Rule 1: nothing here decides anything; that is core.py's job.
Rule 2: all sessions run on this loop's thread (QuickJS is not thread-safe).  A strategy
holds the loop for at most `script-time-limit` per evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import ssl
from collections.abc import Mapping

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.orchestration.core import Observer, Orchestrator
from ctiserver.orchestration.links import CoreSettings, SendRequest
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings
from ctiserver.orchestration.strategies import load_strategies
from ctiserver.scxml.document import Document
from ctiserver.scxml.ecmascript import Limits
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)


def core_settings(settings: OrchestrationSettings) -> CoreSettings:
    return CoreSettings(
        name=settings.application_name,
        register=settings.register,
        request_timeout=settings.request_timeout,
        orphan_timeout=settings.orphan_timeout,
        max_sessions=settings.max_sessions,
        limits=Limits(time=settings.script_time_limit, memory=settings.script_memory_limit),
        max_steps=settings.max_steps,
    )


class LinkChange(enum.Enum):
    UP = "up"
    DOWN = "down"


Item = tuple[str, TMessage | LinkChange]


class OrchestrationServer:
    """Runs an Orchestrator against the CTI servers of *settings*.

    `ready` is set once every server is connected and has answered every registration;
    `core` is there once run() has started.
    """

    def __init__(
        self,
        settings: OrchestrationSettings,
        *,
        strategies: Mapping[str, Document] | None = None,
        observer: Observer | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._tls = tls  # for servers on TLS ([orchestration] tls)
        self._observer = observer
        self.ready = asyncio.Event()
        self.core: Orchestrator | None = None
        self._strategies = strategies
        self._inbox: asyncio.Queue[Item] = asyncio.Queue()
        self._clients: dict[str, TClient] = {}

    async def run(self) -> None:
        """Connect, serve the routing points, reconnect when a server goes; until cancelled."""
        loop = asyncio.get_running_loop()
        strategies = self._strategies
        if strategies is None:
            strategies = load_strategies(self.settings.strategies)
        links = {str(endpoint): endpoint for endpoint in self.settings.servers}
        self.core = Orchestrator(
            settings=core_settings(self.settings),
            strategies=strategies,
            now=loop.time(),
            links=tuple(links),
            observer=self._observer,
        )
        async with asyncio.TaskGroup() as tasks:
            for name, endpoint in links.items():
                tasks.create_task(self._connection(name, endpoint), name=f"orchestration-{name}")
            tasks.create_task(self._drive(self.core, loop), name="orchestration")

    # --- connections ----------------------------------------------------------------------

    async def _connection(self, name: str, endpoint: Endpoint) -> None:
        unreachable = ""  # the last failure said; repeats go to the debug log
        while True:
            try:
                client = await TClient.connect(
                    endpoint.host,
                    endpoint.port,
                    application_name=self.settings.application_name,
                    application_password=self.settings.application_password,
                    ssl=self._tls,
                )
            except (OSError, TimeoutError, TServerError) as exc:
                problem = f"cannot reach CTI server {name}: {exc or type(exc).__name__}"
                level = logging.DEBUG if problem == unreachable else logging.WARNING
                log.log(level, "%s; retrying every %g s", problem, self.settings.reconnect_interval)
                unreachable = problem
                await asyncio.sleep(self.settings.reconnect_interval)
                continue
            unreachable = ""
            log.info("connected to CTI server %s", name)
            self._clients[name] = client
            self._inbox.put_nowait((name, LinkChange.UP))
            try:
                async for event in client.events():
                    self._inbox.put_nowait((name, event))
            finally:
                del self._clients[name]
                self._inbox.put_nowait((name, LinkChange.DOWN))
                await client.close()
            log.warning("lost the CTI server %s", name)
            await asyncio.sleep(self.settings.reconnect_interval)

    # --- the loop -------------------------------------------------------------------------

    async def _drive(self, core: Orchestrator, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            item = await self._next(core.next_due())
            now = loop.time()
            try:
                out = core.advance_to(now) if item is None else self._take(core, item, now)
            except Exception:
                # A bug must not stop every session: log it, drop the item, go on.
                log.exception("orchestration: could not take %r", item)
                continue
            self._send(core, out, loop)
            self._check_ready(core)

    async def _next(self, due: float | None) -> Item | None:
        """The next inbox item, or None when the core's deadline *due* comes first."""
        if not self._inbox.empty():
            return self._inbox.get_nowait()
        if due is None:
            return await self._inbox.get()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(due):
                return await self._inbox.get()
        return None

    def _take(self, core: Orchestrator, item: Item, now: float) -> list[SendRequest]:
        link, what = item
        if what is LinkChange.UP:
            return core.link_up(link, now)
        if what is LinkChange.DOWN:
            self.ready.clear()
            return core.link_down(link, now)
        assert not isinstance(what, LinkChange)
        return core.on_event(link, what, now)

    def _send(
        self, core: Orchestrator, out: list[SendRequest], loop: asyncio.AbstractEventLoop
    ) -> None:
        while out:
            failed: list[SendRequest] = []
            for request in out:
                client = self._clients.get(request.link)
                message = dict(request.message)
                name = str(message.pop("Request"))
                try:
                    if client is None:
                        raise ConnectionClosed("not connected")
                    client.send(name, **message)
                except ConnectionClosed:
                    failed.append(request)
            out = []
            for request in failed:
                reference = request.message.get("ReferenceID", 0)
                out += core.send_failed(request.link, reference, loop.time())

    def _check_ready(self, core: Orchestrator) -> None:
        if all(core.registered(link) for link in core.links):
            self.ready.set()
