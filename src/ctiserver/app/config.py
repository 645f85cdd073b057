"""The configuration: a TOML file in, a checked tree of typed settings out
(docs/configuration.md documents every key).

    config = load(Path("site.toml"))
    config.switch            LinkSettings            [switch]
    config.iscc              IsccSettings | None     [iscc], [iscc.peer."LOCATION"]
    config.site.dns          {DN: kind}              [dn] …

Config holds one settings object per section, each the settings of the part that reads
it, passed to that part whole by the composition root (app.service); app.parts builds
the settings of the parts that read several sections.  Reading is app.toml_reader's,
the keys app.schema's, the sections app.sections'; this module joins them, checks what
no single key can get wrong, and gives the demo site and amend(), which changes some
settings of a tree (tests, a reload, `run --orchestrate`).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ctiserver.app import nats_sections, sections
from ctiserver.app.schema import (
    CALL_CLEANUP,
    DASHBOARD,
    LOG,
    OPTIONS,
    SERVER,
    SWITCH,
    TOP_LEVEL,
)
from ctiserver.app.sections import AcdQueueSettings, RoutingPointSettings, Site
from ctiserver.app.toml_reader import Reader, Where, key_name
from ctiserver.doors.address import Address
from ctiserver.errors import ConfigError
from ctiserver.ha.settings import HaSettings
from ctiserver.ids import DeviceId
from ctiserver.iscc.settings import IsccPeer, IsccSettings
from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.link import NatsSettings
from ctiserver.link.settings import LinkSettings
from ctiserver.logs.trace import LogSettings
from ctiserver.model.states import DnKind
from ctiserver.orchestration import settings as orchestration
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings
from ctiserver.pbxsim.config import PbxsimSettings
from ctiserver.security.settings import SecuritySettings
from ctiserver.server.settings import ServerSettings
from ctiserver.supervision.view import DashboardSettings
from ctiserver.tserver.port import CallCleanup, Options

__all__ = [
    "AcdQueueSettings",
    "Address",
    "Config",
    "IsccPeer",
    "IsccSettings",
    "RoutingPointSettings",
    "Site",
    "amend",
    "demo",
    "listeners",
    "load",
    "parse",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, one field per section (in the order a reload names them)."""

    server: ServerSettings = field(default_factory=ServerSettings)
    switch: LinkSettings = field(default_factory=LinkSettings)
    site: Site = field(default_factory=Site)
    options: Options = field(default_factory=Options)
    call_cleanup: CallCleanup = field(default_factory=CallCleanup)
    pbxsim: PbxsimSettings = field(default_factory=PbxsimSettings)
    log: LogSettings = field(default_factory=LogSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    iscc: IsccSettings | None = None  # None: no [iscc] section
    orchestration: OrchestrationSettings | None = None  # None: no [orchestration] section
    nats: NatsSettings | None = None  # None: no [nats] and no [ha]
    ha: HaSettings | None = None  # None: a single server
    export: ExportSettings | None = None  # None: no [export] section
    source: Path | None = None  # the file it was read from


def load(path: Path) -> Config:
    """Read and check the configuration file *path*.  Raises ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}; check the path") from None
    return parse(text, path)


def parse(text: str, path: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path or '<configuration>'}: not valid TOML: {exc}") from None
    reader = Reader(data, text, path)
    for section in data:
        if section not in TOP_LEVEL:
            raise reader.fail(f"unknown section [{section}]", section)
    server: ServerSettings = sections.settings(reader, SERVER)
    switch: LinkSettings = sections.settings(reader, SWITCH)
    site = sections.site(reader)
    listen = server.client_listen
    own = Endpoint(listen.host, listen.port, switch.name)
    config = Config(
        server=server,
        switch=switch,
        site=site,
        options=sections.settings(reader, OPTIONS),
        call_cleanup=sections.settings(reader, CALL_CLEANUP),
        pbxsim=sections.pbxsim(reader),
        log=sections.settings(reader, LOG),
        security=sections.security(reader),
        dashboard=sections.settings(reader, DASHBOARD),
        iscc=sections.iscc(reader, site.dns),
        orchestration=sections.orchestration(reader, own, site.dns),
        nats=nats_sections.nats(reader),
        ha=nats_sections.ha(reader),
        export=nats_sections.export(reader, server.name),
        source=path,
    )
    _check_tls(reader, config)
    _check_consistent(reader, config)
    return config


def _check_tls(reader: Reader, config: Config) -> None:
    """A certificate goes with its key; a client CA needs the server's own certificate."""
    server, pbxsim = config.server, config.pbxsim
    for section, cert, key in (
        ("server", server.tls_cert, server.tls_key),
        ("pbxsim", pbxsim.tls_cert, pbxsim.tls_key),
    ):
        if (cert is None) != (key is None):
            raise reader.fail(f"[{section}] tls-cert and tls-key go together", section)
    if server.tls_client_ca is not None and server.tls_cert is None:
        raise reader.fail(
            "[server] tls-client-ca needs tls-cert and tls-key", "server", "tls-client-ca"
        )


def _check_consistent(reader: Reader, config: Config) -> None:
    """What no single key can say wrong: back-off bounds, listeners sharing a port."""
    switch = config.switch
    if switch.reconnect_min > switch.reconnect_max:
        raise reader.fail(
            f"[switch] reconnect-min ({switch.reconnect_min:g} s) is above reconnect-max "
            f"({switch.reconnect_max:g} s)",
            "switch",
            "reconnect-min",
        )
    bound: dict[int, tuple[str, Address]] = {}
    for where, address in listeners(config):
        if address is None or address.port == 0:
            continue
        other = bound.get(address.port)
        if other is not None and _overlap(other[1].host, address.host):
            raise reader.fail(
                f"{key_name(where)} and {other[0]} both listen on port {address.port}", *where
            )
        bound[address.port] = (key_name(where), address)


def listeners(config: Config) -> list[tuple[Where, Address | None]]:
    """Every address this configuration listens on, with the key that sets it."""
    return [
        (("server", "client-listen"), config.server.client_listen),
        (("server", "http-listen"), config.server.http_listen),
        (("pbxsim", "csta-listen"), config.pbxsim.csta_listen),
        (("pbxsim", "trunk-listen"), config.pbxsim.trunk_listen),
        (("iscc", "listen"), config.iscc.listen if config.iscc is not None else None),
    ]


def _overlap(first: str, second: str) -> bool:
    """Whether two listening hosts would take the same port (a wildcard takes all)."""
    wildcards = {"", "0.0.0.0", "::", "*"}
    return first == second or first in wildcards or second in wildcards


def amend(settings: T, changes: Mapping[str, Any] | None = None, /, **more: Any) -> T:
    """*settings* (a Config, or any settings dataclass) with some fields changed.

    A field whose value is settings takes a mapping of its own changes; any other value
    replaces the field whole:

        amend(config, switch={"reply_timeout": 2.0}, site={"dns": dns}, iscc=IsccSettings())
    """
    replaced: dict[str, Any] = {}
    for name, value in {**(changes or {}), **more}.items():
        current = getattr(settings, name)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            value = amend(current, value)
        replaced[name] = value
    return dataclasses.replace(settings, **replaced)  # type: ignore[type-var]


def with_orchestration(config: Config) -> Config:
    """*config* with the orchestration server embedded (`ctiserver run --orchestrate`):
    its own `[orchestration]`, enabled, or else the demo's strategy on routing point 5000."""
    if config.orchestration is not None:
        return amend(config, orchestration={"enabled": True})
    listen = config.server.client_listen
    own = Endpoint(listen.host, listen.port, config.switch.name)
    settings = orchestration.demo(tuple(config.site.dns), (own,))
    return amend(config, orchestration=settings)


def demo() -> Config:
    """The demo site: ten extensions, a queue with ten agents, a routing point."""
    dns: dict[DeviceId, DnKind] = {DeviceId(str(n)): DnKind.EXTENSION for n in range(7001, 7011)}
    dns[DeviceId("8001")] = DnKind.ACD_QUEUE
    dns[DeviceId("5000")] = DnKind.ROUTING_POINT
    site = Site(
        dns=dns,
        agent_logins=tuple(str(n) for n in range(1001, 1011)),
        routing_points={DeviceId("5000"): RoutingPointSettings(10.0, DeviceId("8001"))},
        acd_queues={DeviceId("8001"): AcdQueueSettings(0.0)},
    )
    return Config(site=site)
