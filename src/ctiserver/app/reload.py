"""What a reload changes: the keys of a configuration file that differ from the running
server's, split into those applied live and those that take effect at the next start.

    changes = compare(running_config, fresh_config)
    changes.live        ["[dn]", "[log] trace"]           applied by Service.reload()
    changes.restart     ["[server] client-listen"]        named in its answer and the log
    adopt(running, fresh)                                 the running configuration after it

Live: the site (`[dn]`, with the simulated PBX's lines and per-DN settings), the log's
level, format and trace, and the hidden UserData keys.  Everything else (listeners, the
switch link, ISCC, orchestration, options, call clean-up) is read once at start.  Keys
are named as the file spells them, from app.schema.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final

from ctiserver.app.config import Config, amend
from ctiserver.app.schema import ORCHESTRATION_KEYS, SECTIONS, Keys

Path = tuple[str, ...]  # Config's attribute, then the settings' field

# The keys an operator sees for the settings app.schema does not name key by key.
NAMES: Final[dict[Path, str]] = {
    ("site", "dns"): "[dn]",
    ("site", "agent_logins"): "[agents] logins",
    ("site", "agent_passwords"): "[agent]",
    ("site", "routing_points"): "[routing-point]",
    ("site", "acd_queues"): "[acd-queue]",
    ("pbxsim", "trunks"): "[pbxsim.trunk]",
    ("security", "applications"): "[application]",
    ("iscc",): "[iscc]",
    ("orchestration",): "[orchestration]",
    ("nats",): "[nats]",
    ("ha",): "[ha]",
    ("export",): "[export]",
}
LIVE: Final[frozenset[Path]] = frozenset(
    {
        ("site",),
        ("log", "level"),
        ("log", "format"),
        ("log", "trace"),
        ("security", "log_hide_keys"),
    }
)
IGNORED: Final[frozenset[Path]] = frozenset({("source",)})
# compared as one
WHOLE: Final = frozenset({"iscc", "orchestration", "nats", "ha", "export", "source"})
# The keys of the sections compared whole, for naming one of their fields on its own (the
# orchestration server reloads its section itself and names what it could not apply).
WHOLE_KEYS: Final[dict[str, Keys]] = {"orchestration": ORCHESTRATION_KEYS}


@dataclass(frozen=True, slots=True)
class Changes:
    live: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)


def key_name(path: Path) -> str:
    """`("server", "client_listen")` -> `[server] client-listen`."""
    if path in NAMES:
        return NAMES[path]
    for key, (name, _parser) in WHOLE_KEYS.get(path[0], {}).items():
        if (name,) == path[1:]:
            return f"[{path[0]}] {key}"
    for section in SECTIONS.values():
        if section.attribute == path[0]:
            for key, (name, _parser) in section.keys.items():
                if tuple(name.split(".")) == path[1:]:  # "clients.max_connections"
                    return f"[{section.name}] {key}"
    return ".".join(path)


def compare(running: Config, fresh: Config) -> Changes:
    """The keys that differ, each once, in the order of Config's sections and fields."""
    live: dict[str, None] = {}
    restart: dict[str, None] = {}
    for path in _paths(running):
        if path in IGNORED or _get(running, path) == _get(fresh, path):
            continue
        (live if _is_live(path) else restart)[key_name(path)] = None
    return Changes(list(live), list(restart))


def adopt(running: Config, fresh: Config) -> Config:
    """*fresh* where a reload applies it, *running* elsewhere (so that a later reload
    names the keys that wait for a restart again until then)."""
    changes: dict[str, Any] = {}
    for path in LIVE | IGNORED:
        *within, name = path
        target = changes
        for part in within:
            target = target.setdefault(part, {})
        target[name] = _get(fresh, path)
    return amend(running, changes)


def _paths(config: Config) -> list[Path]:
    """Every key's path: the section's attribute, then the field (the part's field too,
    for the keys of a part's settings: `("server", "clients", "max_connections")`)."""
    parts = {section.attribute: section.parts for section in SECTIONS.values()}
    paths: list[Path] = []
    for spec in dataclasses.fields(config):
        value = getattr(config, spec.name)
        if spec.name in WHOLE or not dataclasses.is_dataclass(value):
            paths.append((spec.name,))
            continue
        for inner in dataclasses.fields(value):
            if inner.name in parts.get(spec.name, ()):
                part = getattr(value, inner.name)
                paths += [(spec.name, inner.name, f.name) for f in dataclasses.fields(part)]
            else:
                paths.append((spec.name, inner.name))
    return paths


def _get(config: Config, path: Path) -> Any:
    value: Any = config
    for name in path:
        value = getattr(value, name)
    return value


def _is_live(path: Path) -> bool:
    return any(path[: len(live)] == live for live in LIVE)
