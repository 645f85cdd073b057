"""The configuration's schema: every section of the file, the settings it fills, and for
each key the field it sets and the parser that reads it (docs/configuration.md documents
every key named here).

    SECTIONS["switch"].keys["reply-timeout"] == ("reply_timeout", number(minimum=0.05))

A Section is one table of `key = value` lines that fills one part's settings whole
(`[switch]` -> link.settings.LinkSettings); its sub-tables, if any, are read by
app.sections.  A field named "part.field" is a field of the settings of a part that
reads some of the section's keys, built whole from them (`[server] max-connections` ->
ServerSettings.clients, the client door's ClientDoorSettings).  The site's sections
(`[dn]`, `[agents]`, `[agent."ID"]`, `[routing-point."N"]`, `[acd-queue."N"]`), `[iscc]`
and `[orchestration]` hold tables keyed by number or name; their keys are here too,
their builders in app.sections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctiserver.app.toml_reader import (
    Parser,
    Reader,
    Where,
    address,
    boolean,
    bounded,
    key_name,
    listed,
    numbers,
    optional_address,
    path,
    string,
    strings,
)
from ctiserver.app.toml_reader import number as num
from ctiserver.csta.session import INVOKE_IDS
from ctiserver.doors.address import Address
from ctiserver.link.settings import LinkSettings
from ctiserver.logs.trace import LogSettings, TraceSettings
from ctiserver.model.states import DnKind
from ctiserver.orchestration.settings import Endpoint, SkillLevel
from ctiserver.pbxsim.config import PbxsimSettings
from ctiserver.security.settings import SecuritySettings
from ctiserver.server.settings import ServerSettings
from ctiserver.supervision.view import DashboardSettings
from ctiserver.tserver.port import CallCleanup, Options

EDITIONS: Final = ("ed2", "ed3", "ed4", "ed5", "ed6")
Keys = Mapping[str, tuple[str, Parser]]


@dataclass(frozen=True, slots=True)
class Section:
    """A section of `key = value` lines that fills one settings object."""

    name: str  # as the file spells it: "call-cleanup"
    attribute: str  # Config's: "call_cleanup"
    settings: type[Any]  # the part's settings class, built with the fields of keys
    keys: Keys  # key -> (field, parser)
    tables: tuple[str, ...] = ()  # its sub-tables, read by app.sections

    @property
    def parts(self) -> frozenset[str]:
        """The fields that are the settings of a part, whole ("clients", "http")."""
        return frozenset(name.partition(".")[0] for name, _ in self.keys.values() if "." in name)


def _link(reader: Reader, value: Any, where: Where) -> Address | None:
    """`[switch] link`: "embedded" (the simulated PBX in this process) or HOST:PORT."""
    if value == "embedded":
        return None
    return address(reader, value, where)


def _trace(reader: Reader, value: Any, where: Where) -> TraceSettings:
    """`[log] trace = true` (everything), false, or a list of DNs and ranges."""
    if isinstance(value, bool):
        return TraceSettings(everything=value)
    if isinstance(value, list):
        return TraceSettings(dns=frozenset(numbers(reader, value, where)))
    raise reader.fail(f"{key_name(where)} must be true, false or a list of DNs", *where)


def _origins(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    """Exact origins, `scheme://host[:port]`, as browsers send them."""
    origins = strings(reader, value, where)
    for origin in origins:
        if not re.fullmatch(
            r"https?://[^/\s:]+(:\d{1,5})?|https?://\[[0-9a-fA-F:.]+\](:\d{1,5})?", origin
        ):
            raise reader.fail(
                f"{key_name(where)}: {origin!r} is not an origin like https://host:port", *where
            )
    return origins


def _endpoint(reader: Reader, value: Any, where: Where) -> Endpoint:
    found = address(reader, value, where)
    return Endpoint(found.host, found.port)


def _server(reader: Reader, value: Any, where: Where) -> Endpoint:
    """ "HOST:PORT", or a table {address = "HOST:PORT", location = "SiteB"}: the site (the
    switch's name) it serves, for targets at other sites."""
    if not isinstance(value, dict):
        return _endpoint(reader, value, where)
    if not set(value) <= {"address", "location"} or "address" not in value:
        raise reader.fail(f"{key_name(where)}: a server is {{address = …, location = …}}", *where)
    location = string()(reader, value.get("location", ""), where) or None
    found = address(reader, value["address"], where)
    return Endpoint(found.host, found.port, location)


def _servers(reader: Reader, value: Any, where: Where) -> tuple[Endpoint, ...]:
    return tuple(_server(reader, item, where) for item in listed(reader, value, where))


def _skills(reader: Reader, value: Any, where: Where) -> dict[str, SkillLevel]:
    """`skills = { sales = 8, lang = "fr" }`: a level is a number (or text)."""
    if not isinstance(value, dict):
        raise reader.fail(f"{key_name(where)} must be a table of name = level", *where)
    skills: dict[str, SkillLevel] = {}
    for name, level in value.items():
        if not re.fullmatch(r"[A-Za-z_][\w.\-]*", name):
            raise reader.fail(f"{key_name(where)}: {name!r} is not a skill name", *where)
        if isinstance(level, bool) or not isinstance(level, int | float | str):
            raise reader.fail(f"{key_name(where)}: {name} must be a number or text", *where)
        skills[name] = level
    return skills


def _names(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    return tuple(str(item) for item in listed(reader, value, where))


def _logins(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    """Agent login IDs: any word, or an inclusive range of numbers ("1001-1010")."""
    ids: list[str] = []
    for item in listed(reader, value, where):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if isinstance(text, str) and re.fullmatch(r"\d+-\d+", text):
            ids += numbers(reader, [text], where)
        elif isinstance(text, str) and text and not text.isspace():
            ids.append(text)
        else:
            raise reader.fail(f"{key_name(where)}: {item!r} is not a login ID or a range", *where)
    return tuple(ids)


def _count(minimum: int) -> Parser:
    return num(minimum=minimum, integer=True)


def _window(reader: Reader, value: Any, where: Where) -> int:
    """`[switch] request-window`: 1 to the 9998 invoke ids ECMA-323 allows."""
    window = int(_count(1)(reader, value, where))
    if window > INVOKE_IDS:
        raise reader.fail(f"{key_name(where)} must be at most {INVOKE_IDS}", *where)
    return window


SERVER = Section(
    "server",
    "server",
    ServerSettings,
    {
        "name": ("name", string()),
        "client-listen": ("client_listen", address),
        "http-listen": ("http_listen", optional_address),
        "max-client-buffer": ("clients.max_client_buffer", _count(4096)),
        "max-client-buffers": ("clients.max_client_buffers", _count(1 << 20)),
        "max-connections": ("clients.max_connections", _count(1)),
        "max-connections-per-address": ("clients.max_connections_per_address", _count(1)),
        "register-timeout": ("clients.register_timeout", num(minimum=0.1)),
        "resume-window": ("sessions.window", num()),
        "resume-max-events": ("sessions.max_events", _count(1)),
        "requests-per-turn": ("clients.requests_per_turn", _count(1)),
        "requests-in-flight": ("requests_in_flight", _count(1)),
        "http-max-connections": ("http.max_connections", _count(1)),
        "http-max-connections-per-address": ("http.max_connections_per_address", _count(1)),
        "http-request-timeout": ("http.request_timeout", num(minimum=0.1)),
        "log-repeat-interval": ("log_repeat_interval", num()),
        "tls-cert": ("tls_cert", path),
        "tls-key": ("tls_key", path),
        "tls-client-ca": ("tls_client_ca", path),
        "tls-ca": ("tls_ca", path),
    },
)
SWITCH = Section(
    "switch",
    "switch",
    LinkSettings,
    {
        "name": ("name", string()),
        "link": ("link", _link),
        "session": ("session", string(("implicit", "ecma-354"))),
        "namespace": ("namespace", string(EDITIONS)),
        "application-id": ("application_id", string()),
        "private-namespace": ("private_namespace", string()),
        "reply-timeout": ("reply_timeout", num(minimum=0.05)),
        "keepalive-interval": ("keepalive_interval", num(minimum=0.1)),
        "session-duration": ("session_duration", _count(10)),
        "reconnect-min": ("reconnect_min", num(minimum=0.01)),
        "reconnect-max": ("reconnect_max", num(minimum=0.01)),
        "request-window": ("request_window", _window),
        "tls": ("tls", boolean),
        "tls-ca": ("tls_ca", path),
    },
)
OPTIONS = Section(
    "options",
    "options",
    Options,
    {
        "consult-user-data": ("consult_user_data", string(("separate", "inherited", "joint"))),
        "accode-name": ("accode_name", string()),
        "accode-data": ("accode_data", string(("none", "udata", "ext"))),
        "accode-privateservice": ("accode_privateservice", boolean),
        "user-data-limit": ("user_data_limit", _count(2)),
    },
)
CALL_CLEANUP = Section(
    "call-cleanup",
    "call_cleanup",
    CallCleanup,
    {
        "notify-idle-tout": ("notify_idle_timeout", num()),
        "cleanup-idle-tout": ("cleanup_idle_timeout", num()),
        "periodic-check-tout": ("periodic_check", num()),
    },
)
LOG = Section(
    "log",
    "log",
    LogSettings,
    {
        "level": ("level", string(("debug", "info", "warning", "error"))),
        "format": ("format", string(("text", "json"))),
        "trace": ("trace", _trace),
    },
)
DASHBOARD = Section(
    "dashboard",
    "dashboard",
    DashboardSettings,
    {
        "service-level-seconds": ("service_level_seconds", num(minimum=1)),
        "push-interval": ("push_interval", bounded(0.05, 10.0)),
    },
)
PBXSIM = Section(
    "pbxsim",
    "pbxsim",
    PbxsimSettings,
    {
        "csta-listen": ("csta_listen", address),
        "conference-size": ("conference_size", _count(3)),
        "trunk-listen": ("trunk_listen", address),
        "recordings": ("recordings", path),
        "tls-cert": ("tls_cert", path),
        "tls-key": ("tls_key", path),
        "max-connections": ("max_connections", _count(1)),
        "max-connections-per-address": ("max_connections_per_address", _count(1)),
        "announcement-length": ("announcement_length", bounded(0.1, 3600.0)),
        "no-answer-time": ("no_answer_time", bounded(1.0, 3600.0)),
    },
    tables=("trunk",),
)
SECURITY = Section(
    "security",
    "security",
    SecuritySettings,
    {
        "require-auth": ("require_auth", boolean),
        "admin-token-file": ("admin_token_file", path),
        "allowed-origins": ("allowed_origins", _origins),
        "log-hide-keys": ("log_hide_keys", strings),
        "restrict-read": ("restrict_read", boolean),
    },
)
SECTIONS: Final = {
    section.name: section
    for section in (SERVER, SWITCH, OPTIONS, CALL_CLEANUP, LOG, DASHBOARD, PBXSIM, SECURITY)
}

# --- the sections of tables --------------------------------------------------------------

DN_KEYS: Final = {
    "extensions": DnKind.EXTENSION,
    "acd-queues": DnKind.ACD_QUEUE,
    "routing-points": DnKind.ROUTING_POINT,
}
ROUTING_POINT_KEYS: Final[Keys] = {
    "route-timeout": ("route_timeout", num(minimum=0.1)),
    "default-destination": ("default_destination", string()),
}
ACD_QUEUE_KEYS: Final[Keys] = {"wrap-up-time": ("wrap_up_time", num())}
TRUNK_KEYS: Final[Keys] = {
    "prefix": ("prefix", string()),
    "peer": ("peer", lambda r, v, w: str(address(r, v, w))),
    "ani-prefix": ("ani_prefix", string()),
}
ISCC_KEYS: Final[Keys] = {
    "listen": ("listen", address),
    "request-tout": ("request_timeout", num(minimum=0.05)),
    "timeout": ("timeout", num(minimum=0.05)),
    "reconnect-tout": ("reconnect_timeout", num(minimum=0.01)),
    "addp-timeout": ("addp_timeout", num(minimum=0.1)),
    "default-dn": ("default_dn", string()),
    "match-call-once": ("match_call_once", boolean),
    "direct-digits-key": ("direct_digits_key", string()),
    "external-routing-points": ("external_routing_points", numbers),
    "dnis-pool": ("dnis_pool", numbers),
    "event-propagation": ("event_propagation", boolean),
    "max-reservations-per-peer": ("max_reservations_per_peer", _count(1)),
    "network-call-id-wait": ("network_call_id_wait", num(minimum=0)),
    "max-connections": ("max_connections", _count(1)),
    "max-connections-per-address": ("max_connections_per_address", _count(1)),
}
PEER_KEYS: Final[Keys] = {
    "address": ("address", address),
    "access-code": ("access_code", string()),
    "secret": ("secret", string()),
}
APPLICATION_KEYS: Final = ("password-hash", "dns", "may")
ORCHESTRATION_KEYS: Final[Keys] = {
    "enabled": ("enabled", boolean),
    "servers": ("servers", _servers),
    "http-listen": ("http_listen", _endpoint),
    "application-name": ("application_name", string()),
    "register": ("register", numbers),
    "request-timeout": ("request_timeout", num(minimum=0.05)),
    "orphan-timeout": ("orphan_timeout", num()),
    "max-sessions": ("max_sessions", _count(1)),
    "script-time-limit": ("script_time_limit", num(minimum=0.01)),
    "script-memory-limit": ("script_memory_limit", _count(1)),  # MiB in the file
    "max-steps": ("max_steps", _count(100)),
    "context-pool": ("context_pool", _count(0)),
    "reconnect-interval": ("reconnect_interval", num(minimum=0.01)),
    "application-password": ("application_password", string()),
    "tls": ("tls", boolean),
}
# The orchestration server's directory: `[orchestration.agent."ID"]`,
# `[orchestration.agent-group."NAME"]` and `[orchestration.place-group."NAME"]`.
DIRECTORY_KEYS: Final[Mapping[str, Keys]] = {
    "agent": {"skills": ("skills", _skills), "groups": ("groups", _names)},
    "agent-group": {"agents": ("agents", _logins)},
    "place-group": {"places": ("places", numbers)},
}
TOP_LEVEL: Final = frozenset(
    {
        *SECTIONS,
        "dn",
        "agents",
        "agent",
        "routing-point",
        "acd-queue",
        "iscc",
        "orchestration",
        "application",
        "nats",
        "ha",
        "export",
    }
)
