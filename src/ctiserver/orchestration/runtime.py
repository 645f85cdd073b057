"""The orchestration server's asyncio shell: T-Library connections in, the core in the
middle, requests and HTTP fetches out, on the event loop's clock; and the REST
interface (rest.py) when `http-listen` is set.

    server = OrchestrationServer(settings)
    await server.run()          # until cancelled; `ctiserver orchestrate`, or its child
                                # process under `ctiserver run` (process.py)

One task per CTI server keeps a TClient connected (reconnecting every
`reconnect-interval`) and puts what it reads in one inbox; one loop takes the inbox in
order, gives each item to the core with `loop.time()`, wakes up when the core's next
deadline comes, and carries out what the core returns.  It is a client of the public
protocol like any other (DESIGN.md § 1, part 6).

Rule 1: nothing here decides anything; that is core.py's job.
Rule 2: only the drive loop touches the core: the REST interface and finished HTTP
fetches put jobs in the inbox like the connections do.  All sessions run on this loop's
thread (QuickJS is not thread-safe); a strategy holds the loop for at most
`script-time-limit` per evaluation, which is why `ctiserver run` keeps the
orchestration server in a process of its own.
Rule 3: the REST interface is an HTTP listener of the product like the CTI server's
(app/binding.py): the same guard (admin token, loopback only without one, origins,
restrict-read), TLS and caps, from `http` (the server's own when embedded).  The
connections to CTI servers carry `application-password`, and use `tls` when given.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from ctiserver.app.binding import ORCHESTRATION_HTTP, HttpListener, HttpSettings
from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.orchestration.core import Observer, Orchestrator, SessionRefused
from ctiserver.orchestration.links import CoreSettings, Output, SendRequest
from ctiserver.orchestration.rest import RequestError, build_rest
from ctiserver.orchestration.settings import DirectorySettings, Endpoint, OrchestrationSettings
from ctiserver.orchestration.statistics import snapshot
from ctiserver.orchestration.strategies import load_any, load_strategies
from ctiserver.orchestration.web import fetch
from ctiserver.orchestration.web_elements import FetchRequest, FetchResult
from ctiserver.scxml.document import Document, DocumentError
from ctiserver.scxml.ecmascript import Limits
from ctiserver.scxml.events import Event
from ctiserver.scxml.values import Value
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
        directory=settings.directory,
        context_pool=settings.context_pool,
    )


class LinkChange(enum.Enum):
    UP = "up"
    DOWN = "down"


Work = Callable[[Orchestrator, float], tuple[object, list[Output]]]


@dataclass(slots=True)
class Job:
    """Work for the core from outside the connections; its result goes to `done`."""

    work: Work
    done: asyncio.Future[object] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


Item = tuple[str, TMessage | LinkChange] | Job | FetchResult


class OrchestrationServer:
    """Runs an Orchestrator against the CTI servers of *settings*.

    `ready` is set once every server is connected and has answered every registration;
    `core` is there once run() has started, and `http_address` once the REST interface
    listens.
    """

    def __init__(
        self,
        settings: OrchestrationSettings,
        *,
        strategies: Mapping[str, Document] | None = None,
        observer: Observer | None = None,
        tls: ssl.SSLContext | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        self.settings = settings
        self._tls = tls  # for servers on TLS ([orchestration] tls)
        self._http = http or HttpSettings()  # the REST interface's protection (Rule 3)
        self._observer = observer
        self.ready = asyncio.Event()
        self.core: Orchestrator | None = None
        self.http_address: tuple[str, int] | None = None
        self._strategies = strategies
        self._inbox: asyncio.Queue[Item] = asyncio.Queue()
        self._clients: dict[str, TClient] = {}
        self._fetches: set[asyncio.Task[None]] = set()
        self._web: aiohttp.ClientSession | None = None

    async def run(self) -> None:
        """Connect, serve the routing points, reconnect when a server goes; until cancelled."""
        loop = asyncio.get_running_loop()
        links = {str(endpoint): endpoint for endpoint in self.settings.servers}
        async with contextlib.AsyncExitStack() as stack:
            self._web = await stack.enter_async_context(aiohttp.ClientSession())
            strategies = self._strategies
            if strategies is None:
                strategies = await load_strategies(self.settings.strategies, self._web)
            self.core = Orchestrator(
                settings=core_settings(self.settings),
                strategies=strategies,
                now=loop.time(),
                links=tuple(links),
                locations={name: e.location for name, e in links.items() if e.location},
                observer=self._observer,
            )
            if self.settings.http_listen is not None:
                await self._serve_rest(self.settings.http_listen, stack)
            stack.callback(self._cancel_fetches)
            async with asyncio.TaskGroup() as tasks:
                for name, endpoint in links.items():
                    tasks.create_task(
                        self._connection(name, endpoint), name=f"orchestration-{name}"
                    )
                tasks.create_task(self._drive(self.core, loop), name="orchestration")

    async def reload(self, settings: OrchestrationSettings) -> list[str]:
        """Apply what can change live (strategies, the directory); return the names of the
        changed keys that need a restart."""
        if self._web is None or self.core is None:
            log.warning("reload: the orchestration server is still starting; try again")
            return []
        strategies = None
        if settings.strategies != self.settings.strategies:
            strategies = await load_strategies(settings.strategies, self._web)
        directory = settings.directory if settings.directory != self.settings.directory else None
        await self._job(
            lambda core, now: (
                None,
                core.reconfigured(now, strategies=strategies, directory=directory),
            )
        )
        live = replace(self.settings, strategies=settings.strategies, directory=settings.directory)
        restart = [
            name
            for name in OrchestrationSettings.__dataclass_fields__
            if getattr(live, name) != getattr(settings, name) and name not in ("enabled",)
        ]
        self.settings = replace(live, enabled=settings.enabled)
        return restart

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
            except Exception as exc:
                # A bug must not stop every session: log it, drop the item, go on.
                log.exception("orchestration: could not take %r", item)
                if isinstance(item, Job) and not item.done.done():
                    item.done.set_exception(exc)
                continue
            self._carry_out(core, out, loop)
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

    def _take(self, core: Orchestrator, item: Item, now: float) -> list[Output]:
        if isinstance(item, Job):
            try:
                result, out = item.work(core, now)
            except (KeyError, SessionRefused) as exc:
                item.done.set_exception(exc)
                return []
            item.done.set_result(result)
            return out
        if isinstance(item, FetchResult):
            return core.fetched(item, now)
        link, what = item
        if what is LinkChange.UP:
            return core.link_up(link, now)
        if what is LinkChange.DOWN:
            self.ready.clear()
            return core.link_down(link, now)
        assert not isinstance(what, LinkChange)
        return core.on_event(link, what, now)

    def _carry_out(
        self, core: Orchestrator, out: list[Output], loop: asyncio.AbstractEventLoop
    ) -> None:
        while out:
            failed: list[SendRequest] = []
            for request in out:
                if isinstance(request, FetchRequest):
                    self._start_fetch(request)
                    continue
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

    # --- HTTP fetches ---------------------------------------------------------------------

    def _start_fetch(self, request: FetchRequest) -> None:
        task = asyncio.create_task(self._fetch(request), name=f"fetch-{request.request_id}")
        self._fetches.add(task)
        task.add_done_callback(self._fetches.discard)

    async def _fetch(self, request: FetchRequest) -> None:
        assert self._web is not None
        self._inbox.put_nowait(await fetch(self._web, request))

    def _cancel_fetches(self) -> None:
        for task in self._fetches:
            task.cancel()

    # --- the REST interface (rest.Orchestration) --------------------------------------------

    async def _serve_rest(self, listen: Endpoint, stack: contextlib.AsyncExitStack) -> None:
        """Behind the guard and the door of the CTI server's own HTTP listener (Rule 3)."""
        listener = HttpListener("orchestration HTTP", self._http)
        stack.push_async_callback(listener.close)
        app = build_rest(self, listener.guard)
        host, port = await listener.start(app, listen, ORCHESTRATION_HTTP)
        self.http_address = (host, port)
        scheme = "https" if listener.tls is not None else "http"
        log.info("orchestration REST interface on %s://%s:%d", scheme, host, port)

    async def _job(
        self, work: Callable[[Orchestrator, float], tuple[object, list[Output]]]
    ) -> object:
        job = Job(work)
        self._inbox.put_nowait(job)
        return await job.done

    async def start_session(self, src: str, params: Mapping[str, Value]) -> str:
        assert self._web is not None
        try:
            document = await load_any(src, self._web)
        except DocumentError as exc:
            raise RequestError(f"the strategy cannot be loaded: {exc}") from None
        try:
            started = await self._job(lambda core, now: core.start_session(document, now, params))
        except SessionRefused as exc:
            raise RequestError(str(exc), 503) from None
        assert isinstance(started, str)
        return started

    async def send_event(self, session_id: str, name: str, data: Value) -> None:
        event = Event(name=name, data=data)
        await self._job(lambda core, now: (None, core.send_event(session_id, event, now)))

    async def terminate(self, session_id: str) -> None:
        await self._job(lambda core, now: (None, core.terminate(session_id, now)))

    def query(self, session_id: str) -> dict[str, Any]:
        core = self._core()
        record = core.interactions.sessions[session_id]
        return {
            "sessionid": session_id,
            "routingpoint": record.routing_point,
            "interactions": list(record.interactions),
            "configuration": sorted(core.driver.session(session_id).configuration),
        }

    def directory(self) -> DirectorySettings:
        return self._core().directory.settings

    async def change_directory(self, directory: DirectorySettings) -> None:
        self._core()
        await self._job(lambda core, now: (None, core.reconfigured(now, directory=directory)))

    def statistics(self) -> dict[str, Value]:
        core = self._core()
        seats = [seat for link in core.links.values() for seat in link.agents.seats.values()]
        return snapshot(seats, core.directory, core.queues, asyncio.get_running_loop().time())

    def health(self) -> dict[str, Any]:
        core = self._core()
        links = {name: "up" if link.up else "down" for name, link in core.links.items()}
        ok = all(link.up for link in core.links.values())
        return {
            "status": "ok" if ok else "degraded",
            "servers": links,
            "sessions": len(core.interactions.sessions),
        }

    def _core(self) -> Orchestrator:
        if self.core is None:
            raise RequestError("the orchestration server is starting", 503)
        return self.core
