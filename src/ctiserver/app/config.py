"""The configuration: TOML in, a checked, typed Config out (DESIGN.md § 2).

Every key is declared in SCHEMA with its parser and default, and documented in
docs/configuration.md.  Unknown keys, wrong types and inconsistent values are errors
that name the file, the line and the key.  `demo()` is the site `ctiserver run` starts
with no configuration file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ctiserver.app.toml_lines import KeyLines
from ctiserver.errors import ConfigError
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.orchestration import settings as orchestration
from ctiserver.orchestration.settings import Endpoint, OrchestrationSettings

MAX_RANGE = 100_000
EDITIONS = ("ed2", "ed3", "ed4", "ed5", "ed6")


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RoutingPointSettings:
    route_timeout: float = 10.0
    default_destination: DeviceId | None = None


@dataclass(frozen=True, slots=True)
class AcdQueueSettings:
    wrap_up_time: float = 0.0


@dataclass(frozen=True, slots=True)
class TrunkConfig:
    """A trunk of the simulated PBX to another simulated PBX (docs/pbxsim.md § 9)."""

    prefix: str
    peer: Address | None = None
    ani_prefix: str = ""


@dataclass(frozen=True, slots=True)
class IsccPeer:
    address: Address
    access_code: str = ""


@dataclass(frozen=True, slots=True)
class IsccConfig:
    listen: Address | None = None
    peers: Mapping[str, IsccPeer] = field(default_factory=dict)
    cast_types: tuple[str, ...] = ()
    request_timeout: float = 20.0
    timeout: float = 60.0
    reconnect_timeout: float = 5.0
    addp_timeout: float = 10.0
    default_dn: DeviceId | None = None
    match_call_once: bool = True
    direct_digits_key: str = "CDT_Track_Num"
    external_routing_points: tuple[DeviceId, ...] = ()
    dnis_pool: tuple[DeviceId, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    server_name: str = "tserver"
    client_listen: Address = Address("127.0.0.1", 7000)
    http_listen: Address | None = Address("127.0.0.1", 7080)
    max_client_buffer: int = 16 << 20
    switch_name: str = "SwitchA"
    link: Address | None = None  # None: the embedded pbxsim
    session: str = "implicit"
    namespace: str = "ed4"
    application_id: str = "ctiserver"
    reply_timeout: float = 5.0
    keepalive_interval: float = 10.0
    session_duration: int = 180
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    request_window: int = 500
    dns: Mapping[DeviceId, DnKind] = field(default_factory=dict)
    agent_logins: tuple[str, ...] = ()
    agent_passwords: Mapping[str, str] = field(default_factory=dict)
    consult_user_data: str = "separate"
    accode_name: str = "AccountCode"
    accode_data: str = "none"
    accode_privateservice: bool = False
    csta_listen: Address | None = None  # embedded: 127.0.0.1:0; alone: 127.0.0.1:1040
    conference_size: int = 6
    routing_points: Mapping[DeviceId, RoutingPointSettings] = field(default_factory=dict)
    acd_queues: Mapping[DeviceId, AcdQueueSettings] = field(default_factory=dict)
    orchestration: OrchestrationSettings | None = None  # None: no [orchestration] section
    iscc: IsccConfig | None = None
    trunk_listen: Address | None = None
    trunks: Mapping[str, TrunkConfig] = field(default_factory=dict)
    recordings: Path | None = None
    private_namespace: str = "urn:ctiserver:csta:private"
    source: Path | None = None


class _Reader:
    """Reads one file's values, raising ConfigError that names the key's line."""

    def __init__(self, data: dict[str, Any], text: str, path: Path | None) -> None:
        self.data = data
        self.lines = KeyLines(text)
        self.path = path

    def fail(self, message: str, *where: str) -> ConfigError:
        line = self.lines.line(*where)
        place = str(self.path) if self.path else "<configuration>"
        if line is not None:
            place += f":{line}"
        return ConfigError(f"{place}: {message}")


Parser = Callable[[_Reader, Any, tuple[str, ...]], Any]


def _string(choices: tuple[str, ...] = ()) -> Parser:
    def parse(reader: _Reader, value: Any, where: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise reader.fail(f"{_name(where)} must be a string", *where)
        if choices and value not in choices:
            raise reader.fail(f"{_name(where)} must be one of {', '.join(choices)}", *where)
        return value

    return parse


def _number(*, minimum: float = 0, maximum: float | None = None, integer: bool = False) -> Parser:
    def parse(reader: _Reader, value: Any, where: tuple[str, ...]) -> float:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
            kind = "an integer" if integer else "a number"
            raise reader.fail(f"{_name(where)} must be {kind} of at least {minimum:g}", *where)
        if maximum is not None and value > maximum:
            raise reader.fail(f"{_name(where)} must be at most {maximum:g}", *where)
        return value

    return parse


def _boolean(reader: _Reader, value: Any, where: tuple[str, ...]) -> bool:
    if not isinstance(value, bool):
        raise reader.fail(f"{_name(where)} must be true or false", *where)
    return value


def _address(reader: _Reader, value: Any, where: tuple[str, ...]) -> Address:
    match = re.fullmatch(r"(\[[^\]]+\]|[^:]+):(\d{1,5})", value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) > 65535:
        raise reader.fail(f'{_name(where)} must be "HOST:PORT", got {value!r}', *where)
    return Address(match.group(1).strip("[]"), int(match.group(2)))


def _optional_address(reader: _Reader, value: Any, where: tuple[str, ...]) -> Address | None:
    if value == "":
        return None
    return _address(reader, value, where)


def _path(reader: _Reader, value: Any, where: tuple[str, ...]) -> Path:
    text = _string()(reader, value, where)
    path = Path(text)
    if not path.is_absolute() and reader.path is not None:
        path = reader.path.parent / path  # relative to the configuration file
    return path


def _link(reader: _Reader, value: Any, where: tuple[str, ...]) -> Address | None:
    if value == "embedded":
        return None
    return _address(reader, value, where)


def _numbers(reader: _Reader, value: Any, where: tuple[str, ...]) -> tuple[str, ...]:
    """A list of numbers and inclusive ranges such as "7001-7010"."""
    if not isinstance(value, list):
        raise reader.fail(f"{_name(where)} must be a list of numbers or ranges", *where)
    numbers: list[str] = []
    for item in value:
        numbers += _expand(reader, item, where)
    return tuple(numbers)


def _expand(reader: _Reader, item: Any, where: tuple[str, ...]) -> list[str]:
    text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
    if not isinstance(text, str):
        raise reader.fail(f"{_name(where)}: {item!r} is not a number or a range", *where)
    match = re.fullmatch(r"(\d+)-(\d+)", text)
    if match is None:
        if not re.fullmatch(r"[0-9*#]+", text):
            raise reader.fail(f"{_name(where)}: {text!r} is not a number or a range", *where)
        return [text]
    first, last = match.groups()
    if len(first) != len(last) or int(first) > int(last):
        raise reader.fail(f"{_name(where)}: range {text!r} must go up, with equal widths", *where)
    if int(last) - int(first) >= MAX_RANGE:
        raise reader.fail(f"{_name(where)}: range {text!r} is larger than {MAX_RANGE}", *where)
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _name(where: tuple[str, ...]) -> str:
    return "[" + ".".join(where[:-1]) + "] " + where[-1] if len(where) > 1 else where[0]


# section -> key -> (Config field, parser)
SCHEMA: dict[str, dict[str, tuple[str, Parser]]] = {
    "server": {
        "name": ("server_name", _string()),
        "client-listen": ("client_listen", _address),
        "http-listen": ("http_listen", _optional_address),
        "max-client-buffer": ("max_client_buffer", _number(minimum=4096, integer=True)),
    },
    "switch": {
        "name": ("switch_name", _string()),
        "link": ("link", _link),
        "session": ("session", _string(("implicit", "ecma-354"))),
        "namespace": ("namespace", _string(EDITIONS)),
        "application-id": ("application_id", _string()),
        "private-namespace": ("private_namespace", _string()),
        "reply-timeout": ("reply_timeout", _number(minimum=0.05)),
        "keepalive-interval": ("keepalive_interval", _number(minimum=0.1)),
        "session-duration": ("session_duration", _number(minimum=10, integer=True)),
        "reconnect-min": ("reconnect_min", _number(minimum=0.01)),
        "reconnect-max": ("reconnect_max", _number(minimum=0.01)),
        "request-window": ("request_window", _number(minimum=1, maximum=9998, integer=True)),
    },
    "options": {
        "consult-user-data": ("consult_user_data", _string(("separate", "inherited", "joint"))),
        "accode-name": ("accode_name", _string()),
        "accode-data": ("accode_data", _string(("none", "udata", "ext"))),
        "accode-privateservice": ("accode_privateservice", _boolean),
    },
    "pbxsim": {
        "csta-listen": ("csta_listen", _address),
        "conference-size": ("conference_size", _number(minimum=3, integer=True)),
        "trunk-listen": ("trunk_listen", _address),
        "recordings": ("recordings", _path),
    },
}
DN_KEYS = {
    "extensions": DnKind.EXTENSION,
    "acd-queues": DnKind.ACD_QUEUE,
    "routing-points": DnKind.ROUTING_POINT,
}
TOP_LEVEL = {
    *SCHEMA,
    "dn",
    "agents",
    "agent",
    "routing-point",
    "acd-queue",
    "iscc",
    "orchestration",
}
ISCC_TYPES = (
    "route", "route-uui", "direct-callid", "direct-ani", "direct-uui", "direct-notoken",
    "direct-digits", "dnis-pool", "pullback", "reroute", "direct-network-callid",
)  # fmt: skip
ISCC_ALIASES = {"direct": "direct-callid", "route-notoken": "route"}
ISCC_KEYS: dict[str, tuple[str, Parser]] = {
    "listen": ("listen", _address),
    "request-tout": ("request_timeout", _number(minimum=0.05)),
    "timeout": ("timeout", _number(minimum=0.05)),
    "reconnect-tout": ("reconnect_timeout", _number(minimum=0.01)),
    "addp-timeout": ("addp_timeout", _number(minimum=0.1)),
    "default-dn": ("default_dn", _string()),
    "match-call-once": ("match_call_once", _boolean),
    "direct-digits-key": ("direct_digits_key", _string()),
    "external-routing-points": ("external_routing_points", _numbers),
    "dnis-pool": ("dnis_pool", _numbers),
}


def load(path: Path) -> Config:
    """Read and check the configuration file *path*.  Raises ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, path)


def parse(text: str, path: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path or '<configuration>'}: not valid TOML: {exc}") from None
    reader = _Reader(data, text, path)
    values: dict[str, Any] = {"source": path}
    for section in data:
        if section not in TOP_LEVEL:
            raise reader.fail(f"unknown section [{section}]", section)
    for section, keys in SCHEMA.items():
        values.update(_section(reader, section, keys))
    values["dns"] = _dns(reader)
    values.update(_agents(reader))
    values["routing_points"] = _per_dn(reader, values["dns"], "routing-point", DnKind.ROUTING_POINT)
    values["acd_queues"] = _per_dn(reader, values["dns"], "acd-queue", DnKind.ACD_QUEUE)
    values["orchestration"] = _orchestration(reader, values)
    if "iscc" in data:
        values["iscc"] = _iscc(reader, values["dns"])
    return Config(**values)


def _table(reader: _Reader, *where: str) -> dict[str, Any]:
    value = reader.data
    for key in where:
        value = value.get(key, {})
    if not isinstance(value, dict):
        raise reader.fail(f"[{'.'.join(where)}] must be a table", *where)
    return value


def _section(reader: _Reader, section: str, keys: dict[str, tuple[str, Parser]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in _table(reader, section).items():
        if (section, key) == ("pbxsim", "trunk"):
            values["trunks"] = _trunks(reader, value)
            continue
        if key not in keys:
            raise reader.fail(f"unknown key {key!r} in [{section}]", section, key)
        attribute, parser = keys[key]
        values[attribute] = parser(reader, value, (section, key))
    return values


def _dns(reader: _Reader) -> dict[DeviceId, DnKind]:
    dns: dict[DeviceId, DnKind] = {}
    for key, value in _table(reader, "dn").items():
        if key not in DN_KEYS:
            raise reader.fail(f"unknown key {key!r} in [dn]", "dn", key)
        for number in _numbers(reader, value, ("dn", key)):
            if number in dns:
                raise reader.fail(f"DN {number} is configured twice", "dn", key)
            dns[DeviceId(number)] = DN_KEYS[key]
    return dns


def _agents(reader: _Reader) -> dict[str, Any]:
    logins: tuple[str, ...] = ()
    for key, value in _table(reader, "agents").items():
        if key != "logins":
            raise reader.fail(f"unknown key {key!r} in [agents]", "agents", key)
        logins = _numbers(reader, value, ("agents", "logins"))
    passwords: dict[str, str] = {}
    for agent, settings in _table(reader, "agent").items():
        if agent not in logins:
            raise reader.fail(f"[agent.{agent}] is not in [agents] logins", "agent", agent)
        for key, value in (settings if isinstance(settings, dict) else {}).items():
            if key != "password":
                raise reader.fail(f"unknown key {key!r} in [agent.{agent}]", "agent", agent, key)
            passwords[agent] = _string()(reader, value, ("agent", agent, key))
    return {"agent_logins": logins, "agent_passwords": passwords}


def _per_dn(reader: _Reader, dns: Mapping[DeviceId, DnKind], section: str, kind: DnKind) -> Any:
    settings: dict[DeviceId, Any] = {}
    for number, table in _table(reader, section).items():
        if dns.get(DeviceId(number)) is not kind:
            raise reader.fail(
                f"[{section}.{number}]: {number} is not a configured {kind.value}", section, number
            )
        if not isinstance(table, dict):
            raise reader.fail(f"[{section}.{number}] must be a table", section, number)
        settings[DeviceId(number)] = _dn_settings(reader, section, number, table, dns)
    return settings


def _dn_settings(
    reader: _Reader,
    section: str,
    number: str,
    table: dict[str, Any],
    dns: Mapping[DeviceId, DnKind],
) -> RoutingPointSettings | AcdQueueSettings:
    where = (section, number)
    if section == "acd-queue":
        for key in table:
            if key != "wrap-up-time":
                raise reader.fail(f"unknown key {key!r} in [{section}.{number}]", *where, key)
        wrap_up = _number()(reader, table.get("wrap-up-time", 0), (*where, "wrap-up-time"))
        return AcdQueueSettings(wrap_up_time=wrap_up)
    for key in table:
        if key not in ("route-timeout", "default-destination"):
            raise reader.fail(f"unknown key {key!r} in [{section}.{number}]", *where, key)
    timeout = _number(minimum=0.1)(
        reader, table.get("route-timeout", 10), (*where, "route-timeout")
    )
    default = table.get("default-destination")
    if default is not None:
        default = _string()(reader, default, (*where, "default-destination"))
    return RoutingPointSettings(route_timeout=timeout, default_destination=default)


def _trunks(reader: _Reader, tables: Any) -> dict[str, TrunkConfig]:
    trunks: dict[str, TrunkConfig] = {}
    for name, table in (tables if isinstance(tables, dict) else {}).items():
        where = ("pbxsim", "trunk", name)
        if not isinstance(table, dict) or "prefix" not in table:
            raise reader.fail(f"[pbxsim.trunk.{name}] needs a prefix", *where)
        for key in table:
            if key not in ("prefix", "peer", "ani-prefix"):
                raise reader.fail(f"unknown key {key!r} in [pbxsim.trunk.{name}]", *where, key)
        prefix = _string()(reader, table["prefix"], (*where, "prefix"))
        peer = _address(reader, table["peer"], (*where, "peer")) if "peer" in table else None
        ani = _string()(reader, table.get("ani-prefix", ""), (*where, "ani-prefix"))
        trunks[name] = TrunkConfig(prefix, peer, ani)
    return trunks


def _iscc(reader: _Reader, dns: Mapping[DeviceId, DnKind]) -> IsccConfig:
    """[iscc] and its [iscc.peer."LOCATION"] tables (docs/iscc.md)."""
    values: dict[str, Any] = {}
    for key, value in _table(reader, "iscc").items():
        if key == "peer":
            continue
        if key == "cast-type":
            values["cast_types"] = _cast_types(reader, value)
            continue
        if key not in ISCC_KEYS:
            raise reader.fail(f"unknown key {key!r} in [iscc]", "iscc", key)
        attribute, parser = ISCC_KEYS[key]
        values[attribute] = parser(reader, value, ("iscc", key))
    for key in ("external_routing_points", "dnis_pool"):
        for number in values.get(key, ()):
            if dns.get(DeviceId(number)) is not DnKind.ROUTING_POINT:
                name = key.replace("_", "-")
                raise reader.fail(
                    f"[iscc] {name}: {number} is not a configured routing point", "iscc", name
                )
    values["peers"] = _peers(reader)
    return IsccConfig(**values)


def _cast_types(reader: _Reader, value: Any) -> tuple[str, ...]:
    words = re.split(r"[\s,;]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        raise reader.fail(
            "[iscc] cast-type must be a list of transaction types", "iscc", "cast-type"
        )
    types = []
    for word in words:
        word = ISCC_ALIASES.get(word, word)
        if word not in ISCC_TYPES:
            raise reader.fail(
                f"[iscc] cast-type: unknown transaction type {word!r}", "iscc", "cast-type"
            )
        types.append(word)
    return tuple(types)


def _peers(reader: _Reader) -> dict[str, IsccPeer]:
    peers: dict[str, IsccPeer] = {}
    for location, table in _table(reader, "iscc", "peer").items():
        where = ("iscc", "peer", location)
        if not isinstance(table, dict) or "address" not in table:
            raise reader.fail(f"[iscc.peer.{location}] needs an address", *where)
        for key in table:
            if key not in ("address", "access-code"):
                raise reader.fail(f"unknown key {key!r} in [iscc.peer.{location}]", *where, key)
        address = _address(reader, table["address"], (*where, "address"))
        code = _string()(reader, table.get("access-code", ""), (*where, "access-code"))
        peers[location] = IsccPeer(address, code)
    return peers


# --- [orchestration] (docs/configuration.md; the server itself is ctiserver.orchestration) ---

ORCHESTRATION_KEYS: dict[str, tuple[str, Parser]] = {
    "enabled": ("enabled", _boolean),
    "servers": ("servers", lambda r, v, w: tuple(_endpoint(r, i, w) for i in _list(r, v, w))),
    "application-name": ("application_name", _string()),
    "register": ("register", _numbers),
    "request-timeout": ("request_timeout", _number(minimum=0.05)),
    "orphan-timeout": ("orphan_timeout", _number()),
    "max-sessions": ("max_sessions", _number(minimum=1, integer=True)),
    "script-time-limit": ("script_time_limit", _number(minimum=0.01)),
    "script-memory-limit": ("script_memory_limit", _number(minimum=1, integer=True)),
    "max-steps": ("max_steps", _number(minimum=100, integer=True)),
    "reconnect-interval": ("reconnect_interval", _number(minimum=0.01)),
}


def _list(reader: _Reader, value: Any, where: tuple[str, ...]) -> list[Any]:
    if not isinstance(value, list):
        raise reader.fail(f"{_name(where)} must be a list", *where)
    return value


def _endpoint(reader: _Reader, value: Any, where: tuple[str, ...]) -> Endpoint:
    address = _address(reader, value, where)
    return Endpoint(address.host, address.port)


def _orchestration(reader: _Reader, values: dict[str, Any]) -> OrchestrationSettings | None:
    if "orchestration" not in reader.data:
        return None
    table = _table(reader, "orchestration")
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key == "strategy":
            settings["strategies"] = _strategies(reader, value, values["dns"])
            continue
        if key not in ORCHESTRATION_KEYS:
            raise reader.fail(f"unknown key {key!r} in [orchestration]", "orchestration", key)
        attribute, parser = ORCHESTRATION_KEYS[key]
        settings[attribute] = parser(reader, value, ("orchestration", key))
    if "script_memory_limit" in settings:
        settings["script_memory_limit"] <<= 20  # MiB in the file
    listen = values.get("client_listen", Address("127.0.0.1", 7000))
    if "servers" not in settings and listen.port != 0:
        settings["servers"] = (Endpoint(listen.host, listen.port),)
    settings.setdefault("register", tuple(values["dns"]))
    return OrchestrationSettings(**settings)


def _strategies(reader: _Reader, value: Any, dns: Mapping[DeviceId, DnKind]) -> dict[str, str]:
    """`[orchestration.strategy."5000"] application = "…"`, paths made absolute."""
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
        location = _string()(reader, table["application"], (*where, "application"))
        if location.startswith("file:"):
            strategies[number] = location
        else:
            strategies[number] = str((base / location).resolve())
    return strategies


def with_orchestration(config: Config) -> Config:
    """*config* with the orchestration server embedded (`ctiserver run --orchestrate`):
    its own `[orchestration]`, enabled, or else the demo's strategy on routing point 5000."""
    if config.orchestration is not None:
        return replace(config, orchestration=replace(config.orchestration, enabled=True))
    endpoint = Endpoint(config.client_listen.host, config.client_listen.port)
    settings = orchestration.demo(tuple(config.dns), (endpoint,))
    return replace(config, orchestration=settings)


def demo() -> Config:
    """The demo site: ten extensions, a queue with ten agents, a routing point."""
    dns: dict[DeviceId, DnKind] = {DeviceId(str(n)): DnKind.EXTENSION for n in range(7001, 7011)}
    dns[DeviceId("8001")] = DnKind.ACD_QUEUE
    dns[DeviceId("5000")] = DnKind.ROUTING_POINT
    return Config(
        dns=dns,
        agent_logins=tuple(str(n) for n in range(1001, 1011)),
        routing_points={DeviceId("5000"): RoutingPointSettings(10.0, DeviceId("8001"))},
        acd_queues={DeviceId("8001"): AcdQueueSettings(0.0)},
    )
