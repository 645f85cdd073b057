"""The builders of the configuration's sections: each reads its tables with the keys of
app.schema and returns the settings it fills, whole.

    settings(reader, SWITCH)          -> LinkSettings           [switch]
    site(reader)                      -> Site                   [dn], [agents], [agent.*],
                                                                [routing-point.*], [acd-queue.*]
    pbxsim(reader) / security(reader) -> with their sub-tables  [pbxsim.trunk.*], [application.*]
    iscc(reader, dns)                 -> IsccSettings | None    [iscc], [iscc.peer.*]
    orchestration(reader, …)          -> OrchestrationSettings | None  [orchestration],
                                                                [orchestration.strategy.*],
                                                                [orchestration.agent.*] …

Also the settings of the one section that belongs to no one part: the site's numbers,
read by the core, the simulated PBX and the orchestration server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctiserver.app.schema import (
    ACD_QUEUE_KEYS,
    APPLICATION_KEYS,
    DIRECTORY_KEYS,
    DN_KEYS,
    ISCC_KEYS,
    ORCHESTRATION_KEYS,
    PBXSIM,
    PEER_KEYS,
    ROUTING_POINT_KEYS,
    SECURITY,
    TRUNK_KEYS,
    Keys,
    Section,
)
from ctiserver.app.toml_reader import Reader, Where, numbers, string, strings
from ctiserver.ids import DeviceId
from ctiserver.iscc.settings import IsccPeer, IsccSettings
from ctiserver.iscc.transactions import XRoute, transaction_type
from ctiserver.model.states import DnKind
from ctiserver.orchestration.settings import (
    AgentProfile,
    DirectorySettings,
    Endpoint,
    OrchestrationSettings,
)
from ctiserver.pbxsim.config import PbxsimSettings, Trunk
from ctiserver.security.applications import DEFAULT_PERMISSIONS, Application, permissions
from ctiserver.security.passwords import parse_hash
from ctiserver.security.settings import SecuritySettings


@dataclass(frozen=True, slots=True)
class RoutingPointSettings:
    route_timeout: float = 10.0
    default_destination: DeviceId | None = None


@dataclass(frozen=True, slots=True)
class AcdQueueSettings:
    wrap_up_time: float = 0.0


@dataclass(frozen=True, slots=True)
class Site:
    """The site's numbers: `[dn]`, `[agents]` logins, `[agent."ID"]` passwords, and the
    settings of each `[routing-point."N"]` and `[acd-queue."N"]`."""

    dns: Mapping[DeviceId, DnKind] = field(default_factory=dict)
    agent_logins: tuple[str, ...] = ()
    agent_passwords: Mapping[str, str] = field(default_factory=dict)
    routing_points: Mapping[DeviceId, RoutingPointSettings] = field(default_factory=dict)
    acd_queues: Mapping[DeviceId, AcdQueueSettings] = field(default_factory=dict)


def fields(reader: Reader, keys: Keys, table: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The fields a table of `key = value` lines sets; an unknown key is an error."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in keys:
            raise reader.fail(f"unknown key {key!r} in [{'.'.join(where)}]", *where, key)
        name, parser = keys[key]
        values[name] = parser(reader, value, (*where, key))
    return values


def settings(reader: Reader, section: Section, **tables: Any) -> Any:
    """*section*'s settings, with the values of its sub-tables given as *tables*; the
    settings of its parts ("part.field" keys) are built whole, each from its own keys."""
    table = {k: v for k, v in reader.table(section.name).items() if k not in section.tables}
    values = fields(reader, section.keys, table, (section.name,))
    return section.settings(**_parts(section, values), **tables)


def _parts(section: Section, values: dict[str, Any]) -> dict[str, Any]:
    """*values* with each part's "part.field" values made into that part's settings."""
    found: dict[str, Any] = {k: v for k, v in values.items() if "." not in k}
    defaults = {spec.name: spec for spec in dataclasses.fields(section.settings)}
    for part in section.parts:
        own = {k.partition(".")[2]: v for k, v in values.items() if k.startswith(part + ".")}
        factory = defaults[part].default_factory
        assert factory is not dataclasses.MISSING, f"{part} has no default settings"
        found[part] = dataclasses.replace(factory(), **own)
    return found


def _tables(reader: Reader, *where: str) -> dict[str, dict[str, Any]]:
    """The named tables under *where* (`[pbxsim.trunk."AB"]` …), each checked a table."""
    found = reader.table(*where)
    for name, table in found.items():
        if not isinstance(table, dict):
            raise reader.fail(f"[{'.'.join((*where, name))}] must be a table", *where, name)
    return found


# --- the site ------------------------------------------------------------------------------


def site(reader: Reader) -> Site:
    dns = _dns(reader)
    logins = _logins(reader)
    return Site(
        dns=dns,
        agent_logins=logins,
        agent_passwords=_passwords(reader, logins),
        routing_points=_per_dn(reader, dns, "routing-point", DnKind.ROUTING_POINT),
        acd_queues=_per_dn(reader, dns, "acd-queue", DnKind.ACD_QUEUE),
    )


def _dns(reader: Reader) -> dict[DeviceId, DnKind]:
    dns: dict[DeviceId, DnKind] = {}
    for key, value in reader.table("dn").items():
        if key not in DN_KEYS:
            raise reader.fail(f"unknown key {key!r} in [dn]", "dn", key)
        for number in numbers(reader, value, ("dn", key)):
            if number in dns:
                raise reader.fail(f"DN {number} is configured twice", "dn", key)
            dns[DeviceId(number)] = DN_KEYS[key]
    return dns


def _logins(reader: Reader) -> tuple[str, ...]:
    logins: tuple[str, ...] = ()
    for key, value in reader.table("agents").items():
        if key != "logins":
            raise reader.fail(f"unknown key {key!r} in [agents]", "agents", key)
        logins = numbers(reader, value, ("agents", "logins"))
    return logins


def _passwords(reader: Reader, logins: tuple[str, ...]) -> dict[str, str]:
    passwords: dict[str, str] = {}
    for agent, table in reader.table("agent").items():
        if agent not in logins:
            raise reader.fail(f"[agent.{agent}] is not in [agents] logins", "agent", agent)
        for key, value in (table if isinstance(table, dict) else {}).items():
            if key != "password":
                raise reader.fail(f"unknown key {key!r} in [agent.{agent}]", "agent", agent, key)
            passwords[agent] = string()(reader, value, ("agent", agent, key))
    return passwords


def _per_dn(reader: Reader, dns: Mapping[DeviceId, DnKind], section: str, kind: DnKind) -> Any:
    keys, build = (
        (ACD_QUEUE_KEYS, AcdQueueSettings)
        if kind is DnKind.ACD_QUEUE
        else (ROUTING_POINT_KEYS, RoutingPointSettings)
    )
    found: dict[DeviceId, Any] = {}
    for number, table in reader.table(section).items():
        where = (section, number)
        if dns.get(DeviceId(number)) is not kind:
            raise reader.fail(
                f"[{section}.{number}]: {number} is not a configured {kind.value}", *where
            )
        if not isinstance(table, dict):
            raise reader.fail(f"[{section}.{number}] must be a table", *where)
        found[DeviceId(number)] = build(**fields(reader, keys, table, where))
    return found


# --- [pbxsim] and [security], with their sub-tables ----------------------------------------


def pbxsim(reader: Reader) -> PbxsimSettings:
    trunks = []
    for name, table in _tables(reader, "pbxsim", "trunk").items():
        where = ("pbxsim", "trunk", name)
        if "prefix" not in table:
            raise reader.fail(f"[pbxsim.trunk.{name}] needs a prefix", *where)
        trunks.append(Trunk(name=name, **fields(reader, TRUNK_KEYS, table, where)))
    settings_: PbxsimSettings = settings(reader, PBXSIM, trunks=tuple(trunks))
    return settings_


def security(reader: Reader) -> SecuritySettings:
    applications: dict[str, Application] = {}
    for name, table in reader.table("application").items():
        where = ("application", name)
        if not isinstance(table, dict) or "password-hash" not in table:
            raise reader.fail(f'[application."{name}"] needs a password-hash', *where)
        for key in table:
            if key not in APPLICATION_KEYS:
                raise reader.fail(f'unknown key {key!r} in [application."{name}"]', *where, key)
        applications[name] = _application(reader, name, table)
    settings_: SecuritySettings = settings(reader, SECURITY, applications=applications)
    return settings_


def _application(reader: Reader, name: str, table: dict[str, Any]) -> Application:
    where = ("application", name)
    text = string()(reader, table["password-hash"], (*where, "password-hash"))
    try:
        stored = parse_hash(text)
    except ValueError as exc:
        raise reader.fail(
            f'[application."{name}"] password-hash: {exc}', *where, "password-hash"
        ) from None
    dns = None
    if "dns" in table:
        dns = frozenset(numbers(reader, table["dns"], (*where, "dns")))
    may = DEFAULT_PERMISSIONS
    if "may" in table:
        try:
            may = permissions(strings(reader, table["may"], (*where, "may")))
        except ValueError as exc:
            raise reader.fail(f'[application."{name}"] may: {exc}', *where, "may") from None
    shown = ", ".join(str(item) for item in table.get("dns", ["all"]))
    return Application(name, stored, dns, may, shown)


# --- [iscc] --------------------------------------------------------------------------------


def iscc(reader: Reader, dns: Mapping[DeviceId, DnKind]) -> IsccSettings | None:
    """[iscc] and its [iscc.peer."LOCATION"] tables (docs/iscc.md); None without [iscc]."""
    if "iscc" not in reader.data:
        return None
    table = reader.table("iscc")
    options = {k: v for k, v in table.items() if k not in ("peer", "cast-type")}
    values = fields(reader, ISCC_KEYS, options, ("iscc",))
    if "cast-type" in table:
        values["cast_types"] = _cast_types(reader, table["cast-type"])
    for key in ("external_routing_points", "dnis_pool"):
        for number in values.get(key, ()):
            if dns.get(DeviceId(number)) is not DnKind.ROUTING_POINT:
                name = key.replace("_", "-")
                raise reader.fail(
                    f"[iscc] {name}: {number} is not a configured routing point", "iscc", name
                )
    return IsccSettings(peers=_peers(reader), **values)


def _cast_types(reader: Reader, value: Any) -> tuple[XRoute, ...]:
    where = ("iscc", "cast-type")
    words = value.replace(",", " ").replace(";", " ").split() if isinstance(value, str) else value
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        raise reader.fail("[iscc] cast-type must be a list of transaction types", *where)
    types = []
    for word in words:
        row = transaction_type(word)
        if row is None:
            raise reader.fail(f"[iscc] cast-type: unknown transaction type {word!r}", *where)
        types.append(row.xroute)
    return tuple(types)


def _peers(reader: Reader) -> dict[str, IsccPeer]:
    peers: dict[str, IsccPeer] = {}
    for location, table in reader.table("iscc", "peer").items():
        where = ("iscc", "peer", location)
        if not isinstance(table, dict) or "address" not in table:
            raise reader.fail(f"[iscc.peer.{location}] needs an address", *where)
        peers[location] = IsccPeer(**fields(reader, PEER_KEYS, table, where))
    return peers


# --- [orchestration] -----------------------------------------------------------------------


def orchestration(
    reader: Reader, own: Endpoint, dns: Mapping[DeviceId, DnKind]
) -> OrchestrationSettings | None:
    """[orchestration], its strategies and its directory; by default it connects to *own*
    (this server's client listener, at this site) and follows every DN."""
    if "orchestration" not in reader.data:
        return None
    table = reader.table("orchestration")
    tables = ("strategy", *DIRECTORY_KEYS)
    options = {k: v for k, v in table.items() if k not in tables}
    values = fields(reader, ORCHESTRATION_KEYS, options, ("orchestration",))
    if "strategy" in table:
        values["strategies"] = _strategies(reader, table["strategy"], dns)
    if "script_memory_limit" in values:
        values["script_memory_limit"] <<= 20  # MiB in the file
    if "servers" not in values and own.port != 0:
        values["servers"] = (own,)
    values.setdefault("register", tuple(dns))
    return OrchestrationSettings(directory=_directory(reader), **values)


def _strategies(reader: Reader, value: Any, dns: Mapping[DeviceId, DnKind]) -> dict[str, str]:
    """`[orchestration.strategy."5000"] application = "…"`: a path (made absolute), a
    `file:` URL, or an http(s) URL (fetched when the orchestration server starts)."""
    base = reader.path.parent if reader.path is not None else Path.cwd()
    if not isinstance(value, dict):
        raise reader.fail("[orchestration.strategy] must be a table", "orchestration", "strategy")
    strategies: dict[str, str] = {}
    for number, table in value.items():
        where = ("orchestration", "strategy", number)
        if dns and dns.get(DeviceId(number)) is not DnKind.ROUTING_POINT:
            raise reader.fail(f"[orchestration.strategy.{number}]: not a routing point", *where)
        if not isinstance(table, dict) or set(table) != {"application"}:
            raise reader.fail(
                f"[orchestration.strategy.{number}] takes one key, application", *where
            )
        location = string()(reader, table["application"], (*where, "application"))
        if location.startswith(("file:", "http://", "https://")):
            strategies[number] = location
        else:
            strategies[number] = str((base / location).resolve())
    return strategies


def _directory(reader: Reader) -> DirectorySettings:
    """`[orchestration.agent."ID"]` (skills, groups), `[orchestration.agent-group."NAME"]`
    (agents: login IDs) and `[orchestration.place-group."NAME"]` (places: DNs)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, keys in DIRECTORY_KEYS.items():
        found[kind] = {
            name: fields(reader, keys, table, ("orchestration", kind, name))
            for name, table in _named(reader, kind).items()
        }
    return DirectorySettings(
        agents={name: AgentProfile(**values) for name, values in found["agent"].items()},
        agent_groups={name: v.get("agents", ()) for name, v in found["agent-group"].items()},
        place_groups={name: v.get("places", ()) for name, v in found["place-group"].items()},
    )


def _named(reader: Reader, kind: str) -> dict[str, dict[str, Any]]:
    value = reader.table("orchestration").get(kind, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise reader.fail(f'[orchestration.{kind}."NAME"] must be tables', "orchestration", kind)
    return value
