"""The composition root: builds every part of a CTI server from a Config and runs them
in one asyncio.TaskGroup.

    switch side:  LinkSupervisor (to a CSTA switch, or to the embedded pbxsim)
    core:         TServerCore inside a Runtime
    client side:  T-Library over TCP lines, and aiohttp for WebSocket /tlib, /healthz,
                  /metrics, /reload and the dashboard

With `[orchestration] enabled`, the orchestration server runs here too, as a client of
the server's own client listener.

Once bound, each listener is announced on a line of its own (`listening client=…`,
`listening http=…`, `listening csta=…` for an embedded pbxsim), so a script can start
the server on port 0.  stop() ends the run gracefully; reload() re-reads the
configuration file and applies `[dn]` changes live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from aiohttp import web

from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.app.embedded import EmbeddedSwitch
from ctiserver.clock import Clock, SystemClock
from ctiserver.errors import ConfigError
from ctiserver.http.app import build_app
from ctiserver.http.metrics import ServerMetrics
from ctiserver.iscc.peering import Peering, PeeringSettings
from ctiserver.iscc.transactions import XRoute
from ctiserver.link.supervisor import LinkSettings, LinkSupervisor
from ctiserver.orchestration.runtime import OrchestrationServer
from ctiserver.orchestration.settings import Endpoint
from ctiserver.server.runtime import Runtime
from ctiserver.server.tcp import serve_clients
from ctiserver.tserver.core import CoreSettings, TServerCore
from ctiserver.tserver.iscc import IsccSettings, PeerSettings

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
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._announce = announce
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
        self.runtime = Runtime(core, clock=self.clock, metrics=self.metrics)
        self.embedded: EmbeddedSwitch | None = None
        self.client_address: tuple[str, int] | None = None
        self.orchestration: OrchestrationServer | None = None
        self.http_address: tuple[str, int] | None = None
        self.iscc_address: tuple[str, int] | None = None
        self._register_gauges()

    def stop(self) -> None:
        """Ask the service to end; run() returns once everything is closed."""
        self._stopping.set()

    async def run(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            switch_address = await self._start_switch(stack)
            supervisor = LinkSupervisor(self._link_settings(switch_address), self.runtime)
            self.runtime.link = supervisor
            await self._start_clients(stack)
            await self._start_http(stack)
            await self._start_peering(stack)
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
        """Re-read the configuration file; apply `[dn]` changes, report the rest."""
        source = self.config.source
        if source is None:
            return {
                "ok": False,
                "error": "the server runs the demo site; there is no file to reload",
            }
        try:
            fresh = configuration.load(source)
        except ConfigError as exc:
            log.error("reload refused: %s", exc)
            return {"ok": False, "error": str(exc)}
        added = sorted(set(fresh.dns) - set(self.config.dns))
        removed = sorted(set(self.config.dns) - set(fresh.dns))
        if self.embedded is not None:
            self.embedded.reconfigure(fresh)
        await self.runtime.reconfigure(fresh.dns)
        self.config = fresh
        log.info("reloaded %s: %d DNs added, %d removed", source, len(added), len(removed))
        return {"ok": True, "added": added, "removed": removed}

    # --- parts ----------------------------------------------------------------------------

    async def _start_switch(self, stack: contextlib.AsyncExitStack) -> tuple[str, int]:
        if self.config.link is not None:
            return self.config.link.host, self.config.link.port
        self.embedded = EmbeddedSwitch(self.config)
        host, port = await self.embedded.start()
        stack.push_async_callback(self.embedded.stop)
        self._announce(f"listening csta={host}:{port}")
        if (trunks := self.embedded.trunk_address) is not None:
            self._announce(f"listening trunk={trunks[0]}:{trunks[1]}")
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
            request_window=config.request_window,
        )

    async def _start_clients(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.client_listen
        server = await serve_clients(
            self.runtime, listen.host, listen.port, max_buffer=self.config.max_client_buffer
        )
        self.client_address = server.sockets[0].getsockname()[:2]
        stack.push_async_callback(_close_server, server)
        stack.callback(self.runtime.close_clients, "the server is shutting down")
        self._announce(f"listening client={self.client_address[0]}:{self.client_address[1]}")

    async def _start_http(self, stack: contextlib.AsyncExitStack) -> None:
        listen = self.config.http_listen
        if listen is None:
            return
        embedded = self.embedded
        app = build_app(
            self.runtime,
            self.metrics,
            reload=self.reload,
            max_buffer=self.config.max_client_buffer,
            phone=embedded.listener.act if embedded is not None else None,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, listen.host, listen.port).start()
        host, port = runner.addresses[0][:2]
        self.http_address = (host, port)
        self._announce(f"listening http={self.http_address[0]}:{self.http_address[1]}")

    def _orchestration(self) -> Coroutine[Any, Any, None] | None:
        """The embedded orchestration server (`[orchestration] enabled`): a client of this
        server's own client listener, like any other (DESIGN.md § 1, part 6)."""
        settings = self.config.orchestration
        if settings is None or not settings.enabled or self.client_address is None:
            return None
        endpoint = Endpoint(*self.client_address)
        self.orchestration = OrchestrationServer(replace(settings, servers=(endpoint,)))
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
        )
        peering = Peering(settings, self.runtime)
        self.runtime.peering = peering
        bound = await peering.start()
        stack.push_async_callback(peering.stop)
        if bound is not None:
            self.iscc_address = bound
            self._announce(f"listening iscc={bound[0]}:{bound[1]}")

    def _register_gauges(self) -> None:
        runtime = self.runtime
        self.metrics.gauge("ctiserver_clients", "connected clients", lambda: runtime.client_count)
        self.metrics.gauge(
            "ctiserver_calls", "calls in progress", lambda: len(runtime.core.model.calls)
        )
        self.metrics.gauge(
            "ctiserver_link_up",
            "1 when the link to the switch is up",
            lambda: 1.0 if runtime.link is not None and runtime.link.up else 0.0,
        )
        self.metrics.gauge(
            "ctiserver_dns_unmonitored",
            "configured DNs the switch would not monitor (asked for again at each keep-alive)",
            lambda: len(runtime.link.unmonitored) if runtime.link is not None else 0,
        )
        self.metrics.gauge(
            "ctiserver_iscc_peers_up",
            "ISCC peer sites connected",
            lambda: len(runtime.peering.connected) if runtime.peering is not None else 0,
        )


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
