"""The composition root: builds every part of a CTI server from a Config and runs them
in one asyncio.TaskGroup.

    switch side:  LinkSupervisor (to a CSTA switch, or to the embedded pbxsim)
    core:         TServerCore inside a Runtime
    client side:  T-Library over TCP lines, and aiohttp for WebSocket /tlib, /healthz,
                  /metrics, /reload and the dashboard (fed by the supervision view)

With `[orchestration] enabled`, the orchestration server runs beside it, in a child
process (orchestration/process.py), as a client of the server's own client listener.
With `[nats]`, `[ha]` or `[export]`, one NATS link serves the hot-standby pair
(ha.member) and the event stream (jetstream.export).

The security parts (TLS, applications, the HTTP guard, the limits on every door) are
built by app.security; a risky configuration is warned about when the run starts.
`[security] log-hide-keys` is one UserDataMask (`mask`), used by the log's filter and
by the trace alike.

Once every listener is bound, each is announced on a line of its own (`listening
client=…`, `listening http=…`, `listening csta=…` for an embedded pbxsim), so a script
can start the server on port 0; a listener that cannot be bound stops the start with a
StartupError naming the address and the key to change, before anything is announced.
stop() ends the run gracefully; reload() re-reads the configuration file, applies what
can change live (app.reload) and names what needs a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from ctiserver.app import binding, gauges, security
from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.app.embedded import EMBEDDED_LISTEN, EmbeddedSwitch
from ctiserver.app.parts import core_settings
from ctiserver.app.reload import adopt, compare, key_name
from ctiserver.app.validation import validate
from ctiserver.clock import Clock, SystemClock
from ctiserver.doors.admission import Admission
from ctiserver.errors import ConfigError
from ctiserver.ha.member import Member
from ctiserver.http.app import build_app
from ctiserver.http.dashboard import Dashboard
from ctiserver.http.door import HttpDoor
from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.supervision_feed import running_strategies
from ctiserver.iscc.peering import Peering
from ctiserver.jetstream.export import EventExport
from ctiserver.jetstream.link import NatsLink, NatsSettings
from ctiserver.link.supervisor import LinkSupervisor
from ctiserver.logs.trace import Tracer
from ctiserver.orchestration.process import OrchestrationProcess
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings
from ctiserver.security.masking import MaskingFilter, UserDataMask
from ctiserver.server.buffers import BufferBudget
from ctiserver.server.runtime import Runtime
from ctiserver.server.tcp import serve_clients
from ctiserver.tlib.vocabulary import ServerRole
from ctiserver.tserver.core import TServerCore

log = logging.getLogger(__name__)


def announce_on_stdout(line: str) -> None:
    print(line, flush=True)


class Service:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        announce: Callable[[str], None] = announce_on_stdout,
        on_log_settings: Callable[[Config], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._announce = announce
        self._announced: list[str] = []
        self._on_log_settings = on_log_settings
        self._stopping = asyncio.Event()
        self.started = asyncio.Event()  # set once every listener is bound
        self.metrics = ServerMetrics()
        core = self.fresh_core()
        self.mask = UserDataMask(config.security.log_hide_keys)  # for every log line and trace
        self.masking = MaskingFilter(self.mask)
        self.tracer = Tracer(config.log.trace, mask=self.mask)
        self.runtime = Runtime(
            core,
            clock=self.clock,
            metrics=self.metrics,
            tracer=self.tracer,
            directory=security.directory(config),
            user_data_limit=config.options.user_data_limit,
            requests_in_flight=config.server.requests_in_flight,
        )
        self.budget = BufferBudget(config.server.clients.max_client_buffers)
        self.client_limits = security.client_limits(config, self.budget, "T-Library")
        self.embedded: EmbeddedSwitch | None = None
        self.client_address: tuple[str, int] | None = None
        self.orchestration: OrchestrationProcess | None = None
        self.http_address: tuple[str, int] | None = None
        self.http_door: HttpDoor | None = None
        self.iscc_address: tuple[str, int] | None = None
        self.dashboard = self._dashboard()
        self.nats = self._nats()
        self.member = self._member()
        self.export = self._export()
        gauges.register(
            self.metrics,
            self.runtime,
            lambda: self.orchestration,
            self.budget,
            self.dashboard,
            self.member,
            self.export,
            self._doors,
        )

    # --- the core, and the pair (Switchboard) ------------------------------------------------

    def fresh_core(self) -> TServerCore:
        """The core as at the start (a member of a pair that starts again as backup)."""
        config = self.config
        return TServerCore(
            settings=core_settings(config),
            dns=config.site.dns,
            started=self.clock.now(),
            iscc=config.iscc,
        )

    def route_and_reconcile(self) -> None:
        if self.runtime.link is not None:
            self.runtime.link.take_over()

    def stop_routing(self) -> None:
        if self.runtime.link is not None:
            self.runtime.link.stop_routing()

    async def hand_over(self, deadline: float) -> None:
        """The events the old primary holds go to the stream before the new primary's."""
        if self.export is not None and self.nats is not None:
            left = min(self.nats.settings.request_timeout, deadline - time.monotonic())
            await self.export.stop(max(0.0, left))

    def _nats(self) -> NatsLink | None:
        settings = self.config.nats
        if settings is None and (self.config.ha is not None or self._exports):
            settings = NatsSettings()
        if settings is None:
            return None
        member = f" {self.config.ha.member}" if self.config.ha is not None else ""
        return NatsLink(settings, name=f"ctiserver {self.config.server.name}{member}")

    def _member(self) -> Member | None:
        if self.config.ha is None or self.nats is None:
            return None
        return Member(self.config.ha, self.nats, self.runtime, self)

    @property
    def _exports(self) -> bool:
        return self.config.export is not None and self.config.export.events

    def _export(self) -> EventExport | None:
        """`[export] events`: every event to JetStream, from the primary of a pair only
        (the core's role; a single server is always primary)."""
        settings = self.config.export
        if settings is None or not settings.events or self.nats is None:
            return None
        runtime = self.runtime
        export = EventExport(
            settings,
            self.nats,
            server=self.config.server.name,
            exporting=lambda: runtime.core.role is ServerRole.PRIMARY,
        )
        runtime.add_event_listener(export.take)
        runtime.export = export
        return export

    def stop(self) -> None:
        """Ask the service to end; run() returns once everything is closed."""
        self._stopping.set()

    async def run(self) -> None:
        security.warn_about_risks(self.config)
        security.raise_file_limit(self.config)
        async with contextlib.AsyncExitStack() as stack:
            self._mask_logs(stack)
            stack.callback(self.runtime.access.shutdown)  # its password-checking threads
            switch_address = await self._start_switch(stack)
            supervisor = LinkSupervisor(
                self.config.switch,
                self.runtime,
                address=lambda: switch_address,
                tls=security.switch_tls(self.config),
                tracer=self.tracer,
            )
            self.runtime.link = supervisor
            await self._start_clients(stack)
            await self._start_http(stack)
            await self._start_peering(stack)
            for line in self._announced:
                self._announce(line)
            self.started.set()
            async with asyncio.TaskGroup() as tasks:
                workers = [
                    tasks.create_task(supervisor.run(), name="csta-link"),
                    tasks.create_task(self.runtime.run(), name="deadlines"),
                ]
                if (orchestration := self._orchestration()) is not None:
                    workers.append(tasks.create_task(orchestration, name="orchestration"))
                if self.runtime.peering is not None:
                    workers.append(tasks.create_task(self.runtime.peering.run(), name="iscc"))
                if self.dashboard is not None:
                    workers.append(tasks.create_task(self.dashboard.run(), name="dashboard"))
                if self.nats is not None:
                    workers.append(tasks.create_task(self.nats.run(), name="nats"))
                if self.member is not None:
                    workers.append(tasks.create_task(self.member.run(), name="ha"))
                if self.export is not None:
                    workers.append(tasks.create_task(self.export.run(), name="export"))
                await self._stopping.wait()
                log.info("stopping")
                if self.member is not None:
                    await self.member.resign()
                if self.export is not None and self.nats is not None:
                    await self.export.stop(self.nats.settings.request_timeout)
                for worker in workers:
                    worker.cancel()

    async def reload(self) -> dict[str, Any]:
        """Re-read the configuration file; apply what can change live, name the rest.

        The answer: {"ok": true, "added": [DN…], "removed": [DN…], "applied": [key…],
        "restart": [key…]}, or {"ok": false, "error": "…"} when the file is refused (then
        nothing changes)."""
        source = self.config.source
        if source is None:
            return {
                "ok": False,
                "error": "the server runs the demo site; there is no file to reload",
            }
        try:
            fresh = configuration.load(source)
            validate(fresh, command="run")
        except ConfigError as exc:
            log.error("reload refused, nothing changed: %s", exc)
            return {"ok": False, "error": str(exc)}
        changes = compare(self.config, fresh)
        added = sorted(set(fresh.site.dns) - set(self.config.site.dns))
        removed = sorted(set(self.config.site.dns) - set(fresh.site.dns))
        if self.embedded is not None:
            self.embedded.reconfigure(fresh)
        await self.runtime.reconfigure(fresh.site.dns)
        if self.dashboard is not None:
            self.dashboard.load()
        self._hide(fresh.security.log_hide_keys)
        self.tracer.configure(fresh.log.trace, self.mask)
        if self._on_log_settings is not None:
            self._on_log_settings(fresh)
        live_orchestration, restart_orchestration = await self._reload_orchestration(fresh)
        live = [*changes.live, *live_orchestration]
        restart = [key for key in changes.restart if key != key_name(("orchestration",))]
        restart = self._keep_for_restart(
            fresh, [*restart, *restart_orchestration], orchestration=not restart_orchestration
        )
        log.info(
            "reloaded %s: %d DNs added, %d removed; applied: %s",
            source,
            len(added),
            len(removed),
            ", ".join(live) or "nothing",
        )
        return {
            "ok": True,
            "added": added,
            "removed": removed,
            "applied": live,
            "restart": restart,
        }

    def _keep_for_restart(
        self, fresh: Config, restart: list[str], *, orchestration: bool
    ) -> list[str]:
        """Take *fresh* as the configuration, but keep the running values of the keys that
        only a restart applies (so a later reload names them again until then); with
        *orchestration*, the orchestration server took all of its section live."""
        self.config = adopt(self.config, fresh)
        if orchestration:
            self.config = replace(self.config, orchestration=fresh.orchestration)
        if restart:
            log.warning(
                "reload: %s changed; the server applies %s at its next start",
                ", ".join(restart),
                "it" if len(restart) == 1 else "them",
            )
        return restart

    # --- parts ----------------------------------------------------------------------------

    async def _start_switch(self, stack: contextlib.AsyncExitStack) -> tuple[str, int]:
        if self.config.switch.link is not None:
            return self.config.switch.link.host, self.config.switch.link.port
        self.embedded = EmbeddedSwitch(self.config)
        listen = self.config.pbxsim.csta_listen or EMBEDDED_LISTEN
        host, port = await binding.bind(self.embedded.start(), binding.PBXSIM, listen)
        stack.push_async_callback(self.embedded.stop)
        self._announced.append(f"listening csta={host}:{port}")
        if (trunks := self.embedded.trunk_address) is not None:
            self._announced.append(f"listening trunk={trunks[0]}:{trunks[1]}")
        return host, port

    async def _start_clients(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.server.client_listen
        server = await binding.bind(
            serve_clients(self.runtime, listen.host, listen.port, limits=self.client_limits),
            binding.CLIENTS,
            listen,
        )
        self.client_address = server.sockets[0].getsockname()[:2]
        stack.push_async_callback(_close_server, server)
        stack.callback(self.runtime.close_clients, "the server is shutting down")
        self._announced.append(
            f"listening client={self.client_address[0]}:{self.client_address[1]}"
        )

    def _doors(self) -> list[Admission[Any]]:
        """The admissions of the listeners started (for ctiserver_connections_*)."""
        doors: list[Admission[Any]] = [self.client_limits.admission]
        if self.http_door is not None:
            doors.append(self.http_door.admission)
        if self.runtime.peering is not None and self.iscc_address is not None:
            doors.append(self.runtime.peering.admission)
        return doors

    def _dashboard(self) -> Dashboard | None:
        """The supervision view and its pages: with HTTP only, where pages can see it."""
        if self.config.server.http_listen is None:
            return None
        dashboard = Dashboard(
            self.runtime,
            self.config.dashboard,
            server=self.config.server.name,
            strategies=lambda: running_strategies(self.orchestration),
        )
        dashboard.load()
        return dashboard

    async def _start_http(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.server.http_listen
        if listen is None or self.dashboard is None:
            return
        embedded = self.embedded
        listener = binding.HttpListener("HTTP", security.http_settings(self.config))
        self.http_door = listener.door
        stack.push_async_callback(listener.close)
        app = build_app(
            self.runtime,
            self.metrics,
            reload=self.reload,
            limits=self.client_limits,
            guard=listener.guard,
            dashboard=self.dashboard,
            phone=embedded.listener.use_phone if embedded is not None else None,
        )
        self.http_address = await listener.start(app, listen, binding.HTTP)
        self._announced.append(f"listening http={self.http_address[0]}:{self.http_address[1]}")

    def _orchestration(self) -> Coroutine[Any, Any, None] | None:
        """The embedded orchestration server (`[orchestration] enabled`), in a child
        process: a client of this server's own client listener, like any other
        (DESIGN.md § 1, part 6)."""
        settings = self._orchestration_settings(self.config)
        if settings is None:
            return None
        self.orchestration = OrchestrationProcess(
            settings,
            tls=security.own_client_tls(self.config),
            http=security.http_settings(self.config),
        )
        return _run_orchestration(self.orchestration, self._announce)

    def _orchestration_settings(self, config: Config) -> OrchestrationSettings | None:
        settings = config.orchestration
        if settings is None or not settings.enabled or self.client_address is None:
            return None
        endpoint = Endpoint(*self.client_address, location=config.switch.name)
        return replace(settings, servers=(endpoint,))

    async def _reload_orchestration(self, fresh: Config) -> tuple[list[str], list[str]]:
        """Send a changed [orchestration] to the running orchestration server: the keys it
        applied, and those that need a restart (named as the file spells them)."""
        running, settings = self.config.orchestration, self._orchestration_settings(fresh)
        if running == fresh.orchestration:
            return [], []
        if self.orchestration is None or settings is None or running is None:
            return [], [key_name(("orchestration",))]
        restart = await self.orchestration.reload(settings)
        live = [
            key
            for key, changed in (
                ("[orchestration.strategy]", running.strategies != settings.strategies),
                ("[orchestration] agents and groups", running.directory != settings.directory),
            )
            if changed
        ]
        return live, [key_name(("orchestration", name)) for name in restart]

    async def _start_peering(self, stack: contextlib.AsyncExitStack) -> None:
        config = self.config
        if config.iscc is None:
            return
        peering = Peering(
            config.iscc,
            self.runtime,
            location=config.switch.name,
            server=config.server.name,
            tls=security.peering_tls(config),
            tracer=self.tracer,
        )
        self.runtime.peering = peering
        bound = await binding.bind(peering.start(), binding.ISCC, config.iscc.listen)
        stack.push_async_callback(peering.stop)
        if bound is not None:
            self.iscc_address = bound
            self._announced.append(f"listening iscc={bound[0]}:{bound[1]}")

    def _mask_logs(self, stack: contextlib.AsyncExitStack) -> None:
        """`[security] log-hide-keys`: every handler of the root logger masks UserData
        (the filter does nothing while no key is hidden; a reload may hide some)."""
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.masking)
            stack.callback(handler.removeFilter, self.masking)

    def _hide(self, keys: tuple[str, ...]) -> None:
        """A reload's `[security] log-hide-keys`, for the log and the trace at once."""
        self.mask = UserDataMask(keys)
        self.masking.mask = self.mask


async def _run_orchestration(
    process: OrchestrationProcess, announce: Callable[[str], None]
) -> None:
    """Run the orchestration process; if it fails, the CTI server carries on."""
    announcer = asyncio.create_task(_announce_rest(process, announce))
    try:
        await process.run()
    except Exception:
        log.exception("the orchestration process cannot be run")
    finally:
        announcer.cancel()


async def _announce_rest(process: OrchestrationProcess, announce: Callable[[str], None]) -> None:
    """Once the orchestration server follows its DNs: its REST port, and that it is ready
    (calls that reach a routing point before that get the switch's default routing)."""
    await process.ready.wait()
    if process.http_address is not None:
        host, port = process.http_address
        announce(f"listening orchestration-http={host}:{port}")
    announce("orchestration ready")


async def _close_server(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(2):
            await server.wait_closed()
