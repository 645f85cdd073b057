"""The composition root: builds every part of a CTI server from a Config and runs them
in one asyncio.TaskGroup.

    switch side:  LinkSupervisor (to a CSTA switch, or to the embedded pbxsim)
    core:         TServerCore inside a Runtime
    client side:  T-Library over TCP lines, and aiohttp for WebSocket /tlib, /healthz,
                  /metrics, /reload and the dashboard (fed by the supervision view)

With `[orchestration] enabled`, the orchestration server runs here too, as a client of
the server's own client listener.

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
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from aiohttp import web

from ctiserver.app import binding, gauges, security
from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.app.embedded import EMBEDDED_LISTEN, EmbeddedSwitch
from ctiserver.app.reload import IGNORED, LIVE, compare
from ctiserver.app.validation import validate
from ctiserver.clock import Clock, SystemClock
from ctiserver.errors import ConfigError
from ctiserver.ha.member import Member
from ctiserver.http.app import build_app
from ctiserver.http.dashboard import Dashboard, DashboardSettings
from ctiserver.http.door import HttpDoor
from ctiserver.http.guard import Guard
from ctiserver.http.metrics import ServerMetrics
from ctiserver.http.supervision_feed import running_strategies
from ctiserver.iscc.peering import Peering, PeeringSettings
from ctiserver.iscc.transactions import XRoute
from ctiserver.jetstream.link import NatsLink, NatsSettings
from ctiserver.link.supervisor import LinkSettings, LinkSupervisor
from ctiserver.logs.trace import Tracer, TraceSettings
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import Endpoint
from ctiserver.security.masking import MaskingFilter, UserDataMask
from ctiserver.server.buffers import BufferBudget
from ctiserver.server.runtime import Runtime
from ctiserver.server.tcp import serve_clients
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.iscc.settings import IsccSettings, PeerSettings
from ctiserver.tserver.port import CoreSettings

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
        self.mask = UserDataMask(config.log_hide_keys)  # for every log line and trace
        self.masking = MaskingFilter(self.mask)
        self.tracer = Tracer(trace_settings(config), mask=self.mask)
        self.runtime = Runtime(
            core,
            clock=self.clock,
            metrics=self.metrics,
            tracer=self.tracer,
            directory=security.directory(config),
            user_data_limit=config.user_data_limit,
            requests_in_flight=config.requests_in_flight,
        )
        self.budget = BufferBudget(config.max_client_buffers)
        self.client_limits = security.client_limits(config, self.budget, "T-Library")
        self.embedded: EmbeddedSwitch | None = None
        self.client_address: tuple[str, int] | None = None
        self.orchestration: OrchestrationServer | None = None
        self.session_counts = gauges.SessionCounts()
        self.http_address: tuple[str, int] | None = None
        self.http_door: HttpDoor | None = None
        self.iscc_address: tuple[str, int] | None = None
        self.dashboard = self._dashboard()
        self.nats = self._nats()
        self.member = self._member()
        gauges.register(
            self.metrics,
            self.runtime,
            lambda: self.orchestration,
            self.session_counts,
            self.budget,
            self.dashboard,
        )

    # --- the core, and the pair (Switchboard) ------------------------------------------------

    def fresh_core(self) -> TServerCore:
        config = self.config
        return TServerCore(
            settings=CoreSettings(
                name=config.server_name,
                location=config.switch_name,
                answer_timeout=config.reply_timeout,
                consult_user_data=config.consult_user_data,
                private_namespace=config.private_namespace,
                accode_name=config.accode_name,
                accode_data=config.accode_data,
                accode_privateservice=config.accode_privateservice,
                resume_window=config.resume_window,
                resume_max_events=config.resume_max_events,
                member=config.ha.member if config.ha is not None else "",
            ),
            dns=config.dns,
            started=self.clock.now(),
            iscc=iscc_settings(config),
        )

    def route_and_reconcile(self) -> None:
        if self.runtime.link is not None:
            self.runtime.link.take_over()

    def stop_routing(self) -> None:
        if self.runtime.link is not None:
            self.runtime.link.stop_routing()

    def _nats(self) -> NatsLink | None:
        settings = self.config.nats
        if settings is None and self.config.ha is not None:
            settings = NatsSettings()
        if settings is None:
            return None
        member = f" {self.config.ha.member}" if self.config.ha is not None else ""
        return NatsLink(settings, name=f"ctiserver {self.config.server_name}{member}")

    def _member(self) -> Member | None:
        if self.config.ha is None or self.nats is None:
            return None
        return Member(self.config.ha, self.nats, self.runtime, self)

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
                self._link_settings(switch_address), self.runtime, tracer=self.tracer
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
                await self._stopping.wait()
                log.info("stopping")
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
        added = sorted(set(fresh.dns) - set(self.config.dns))
        removed = sorted(set(self.config.dns) - set(fresh.dns))
        if self.embedded is not None:
            self.embedded.reconfigure(fresh)
        await self.runtime.reconfigure(fresh.dns)
        if self.dashboard is not None:
            self.dashboard.load()
        self._hide(fresh.log_hide_keys)
        self.tracer.configure(trace_settings(fresh), self.mask)
        if self._on_log_settings is not None:
            self._on_log_settings(fresh)
        restart = self._keep_for_restart(fresh, changes.restart)
        log.info(
            "reloaded %s: %d DNs added, %d removed; applied: %s",
            source,
            len(added),
            len(removed),
            ", ".join(changes.live) or "nothing",
        )
        return {
            "ok": True,
            "added": added,
            "removed": removed,
            "applied": changes.live,
            "restart": restart,
        }

    def _keep_for_restart(self, fresh: Config, restart: list[str]) -> list[str]:
        """Take *fresh* as the configuration, but keep the running values of the keys that
        only a restart applies (so a later reload names them again until then)."""
        live = LIVE | IGNORED
        self.config = replace(self.config, **{name: getattr(fresh, name) for name in live})
        if restart:
            log.warning(
                "reload: %s changed; the server applies %s at its next start",
                ", ".join(restart),
                "it" if len(restart) == 1 else "them",
            )
        return restart

    # --- parts ----------------------------------------------------------------------------

    async def _start_switch(self, stack: contextlib.AsyncExitStack) -> tuple[str, int]:
        if self.config.link is not None:
            return self.config.link.host, self.config.link.port
        self.embedded = EmbeddedSwitch(self.config)
        listen = self.config.csta_listen or EMBEDDED_LISTEN
        host, port = await binding.bind(self.embedded.start(), binding.PBXSIM, listen)
        stack.push_async_callback(self.embedded.stop)
        self._announced.append(f"listening csta={host}:{port}")
        if (trunks := self.embedded.trunk_address) is not None:
            self._announced.append(f"listening trunk={trunks[0]}:{trunks[1]}")
        return host, port

    def _link_settings(self, address: tuple[str, int]) -> LinkSettings:
        config = self.config
        return LinkSettings(
            address=lambda: address,
            session=config.session,
            edition=config.namespace,
            application_id=config.application_id,
            reply_timeout=config.reply_timeout,
            keepalive_interval=config.keepalive_interval,
            session_duration=config.session_duration,
            reconnect_min=config.reconnect_min,
            reconnect_max=config.reconnect_max,
            tls=security.switch_tls(config),
        )

    async def _start_clients(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.client_listen
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

    def _dashboard(self) -> Dashboard | None:
        """The supervision view and its pages: with HTTP only, where pages can see it."""
        if self.config.http_listen is None:
            return None
        settings = DashboardSettings(
            service_level_seconds=self.config.service_level_seconds,
            push_interval=self.config.push_interval,
        )
        dashboard = Dashboard(
            self.runtime,
            settings,
            server=self.config.server_name,
            strategies=lambda: running_strategies(self.orchestration),
        )
        dashboard.load()
        return dashboard

    async def _start_http(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.http_listen
        if listen is None or self.dashboard is None:
            return
        embedded = self.embedded
        tls = security.listener_tls(self.config)
        door = HttpDoor(
            security.http_admission(self.config), request_timeout=self.config.http_request_timeout
        )
        self.http_door = door
        guard = Guard(security.http_policy(self.config), door, scheme="https" if tls else "http")
        app = build_app(
            self.runtime,
            self.metrics,
            reload=self.reload,
            limits=self.client_limits,
            guard=guard,
            dashboard=self.dashboard,
            phone=embedded.listener.use_phone if embedded is not None else None,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        server = await binding.bind(
            door.serve(runner, listen.host, listen.port, tls=tls), binding.HTTP, listen
        )
        stack.push_async_callback(_close_server, server)
        host, port = server.sockets[0].getsockname()[:2]
        self.http_address = (host, port)
        self._announced.append(f"listening http={self.http_address[0]}:{self.http_address[1]}")

    def _orchestration(self) -> Coroutine[Any, Any, None] | None:
        """The embedded orchestration server (`[orchestration] enabled`): a client of this
        server's own client listener, like any other (docs/orchestration.md)."""
        settings = self.config.orchestration
        if settings is None or not settings.enabled or self.client_address is None:
            return None
        endpoint = Endpoint(*self.client_address)
        tls = security.outgoing_tls(self.config) if self.config.tls_cert else None
        self.orchestration = OrchestrationServer(
            replace(settings, servers=(endpoint,)), observer=self.session_counts, tls=tls
        )
        return _run_orchestration(self.orchestration)

    async def _start_peering(self, stack: contextlib.AsyncExitStack) -> None:
        iscc = self.config.iscc
        if iscc is None:
            return
        settings = PeeringSettings(
            location=self.config.switch_name,
            server=self.config.server_name,
            listen=(iscc.listen.host, iscc.listen.port) if iscc.listen else None,
            peers={
                name: (peer.address.host, peer.address.port) for name, peer in iscc.peers.items()
            },
            reconnect_timeout=iscc.reconnect_timeout,
            addp_timeout=iscc.addp_timeout,
            secrets={name: peer.secret for name, peer in iscc.peers.items() if peer.secret},
            server_tls=security.listener_tls(self.config),
            client_tls=security.outgoing_tls(self.config),
            client_certificates=self.config.tls_client_ca is not None,
            max_connections=iscc.max_connections,
            max_connections_per_address=iscc.max_connections_per_address,
        )
        peering = Peering(settings, self.runtime, tracer=self.tracer)
        self.runtime.peering = peering
        bound = await binding.bind(peering.start(), binding.ISCC, iscc.listen)
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


def trace_settings(config: Config) -> TraceSettings:
    return TraceSettings(everything=config.trace_all, dns=frozenset(config.trace_dns))


def iscc_settings(config: Config) -> IsccSettings | None:
    """The core's ISCC settings from [iscc]; None when the section is absent."""
    iscc = config.iscc
    if iscc is None:
        return None
    cast = tuple(XRoute(name) for name in iscc.cast_types) or tuple(XRoute)
    return IsccSettings(
        location=config.switch_name,
        peers={name: PeerSettings(peer.access_code) for name, peer in iscc.peers.items()},
        cast_types=cast,
        request_timeout=iscc.request_timeout,
        timeout=iscc.timeout,
        default_dn=iscc.default_dn,
        match_call_once=iscc.match_call_once,
        direct_digits_key=iscc.direct_digits_key,
        external_routing_points=iscc.external_routing_points,
        dnis_pool=iscc.dnis_pool,
        private_namespace=config.private_namespace,
        event_propagation=iscc.event_propagation,
        max_reservations_per_peer=iscc.max_reservations_per_peer,
        network_call_id_wait=iscc.network_call_id_wait,
    )


async def _run_orchestration(server: OrchestrationServer) -> None:
    """Run the embedded orchestration server; if it fails, the CTI server carries on."""
    try:
        await server.run()
    except Exception:
        log.exception("the orchestration server stopped")


async def _close_server(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(2):
            await server.wait_closed()
