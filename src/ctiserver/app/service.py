"""The composition root: builds every part of a CTI server from a Config and runs them
in one asyncio.TaskGroup.

    switch side:  LinkSupervisor (to a CSTA switch, or to the embedded pbxsim)
    core:         TServerCore inside a Runtime
    client side:  T-Library over TCP lines, and aiohttp for WebSocket /tlib, /healthz,
                  /metrics, /reload and the dashboard

With `[orchestration] enabled`, the orchestration server runs beside it, in a child
process (orchestration/process.py), as a client of the server's own client listener.

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

from ctiserver.app import binding, gauges, security
from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.app.embedded import EMBEDDED_LISTEN, EmbeddedSwitch
from ctiserver.app.reload import IGNORED, LIVE, compare
from ctiserver.app.validation import validate
from ctiserver.clock import Clock, SystemClock
from ctiserver.errors import ConfigError
from ctiserver.http.app import build_app
from ctiserver.http.door import HttpDoor
from ctiserver.http.metrics import ServerMetrics
from ctiserver.iscc.peering import Peering, PeeringSettings
from ctiserver.iscc.transactions import XRoute
from ctiserver.link.supervisor import LinkSettings, LinkSupervisor
from ctiserver.logs.trace import Tracer, TraceSettings
from ctiserver.orchestration.process import OrchestrationProcess
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings
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
        core = TServerCore(
            settings=CoreSettings(
                name=config.server_name,
                location=config.switch_name,
                answer_timeout=config.reply_timeout,
                consult_user_data=config.consult_user_data,
                private_namespace=config.private_namespace,
                accode_name=config.accode_name,
                accode_data=config.accode_data,
                accode_privateservice=config.accode_privateservice,
            ),
            dns=config.dns,
            started=self.clock.now(),
            iscc=iscc_settings(config),
        )
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
        self.orchestration: OrchestrationProcess | None = None
        self.http_address: tuple[str, int] | None = None
        self.http_door: HttpDoor | None = None
        self.iscc_address: tuple[str, int] | None = None
        gauges.register(self.metrics, self.runtime, lambda: self.orchestration, self.budget)

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
        self._hide(fresh.log_hide_keys)
        self.tracer.configure(trace_settings(fresh), self.mask)
        if self._on_log_settings is not None:
            self._on_log_settings(fresh)
        live_orchestration, restart_orchestration = await self._reload_orchestration(fresh)
        live = [*changes.live, *live_orchestration]
        restart = [key for key in changes.restart if key != "[orchestration]"]
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
        live = LIVE | IGNORED | ({"orchestration"} if orchestration else set())
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

    async def _start_http(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.http_listen
        if listen is None:
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
        endpoint = Endpoint(*self.client_address, location=config.switch_name)
        return replace(settings, servers=(endpoint,))

    async def _reload_orchestration(self, fresh: Config) -> tuple[list[str], list[str]]:
        """Send a changed [orchestration] to the running orchestration server: the keys it
        applied, and those that need a restart."""
        running, settings = self.config.orchestration, self._orchestration_settings(fresh)
        if running == fresh.orchestration:
            return [], []
        if self.orchestration is None or settings is None or running is None:
            return [], ["[orchestration]"]
        restart = await self.orchestration.reload(settings)
        live = [
            key
            for key, changed in (
                ("[orchestration.strategy]", running.strategies != settings.strategies),
                ("[orchestration] agents and groups", running.directory != settings.directory),
            )
            if changed
        ]
        return live, [f"[orchestration] {name.replace('_', '-')}" for name in restart]

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
