"""What a reload changes: the keys of a configuration file that differ from the running
server's, split into those applied live and those that take effect at the next start.

    changes = compare(running_config, fresh_config)
    changes.live        ["[dn]", "[log] trace"]           applied by Service.reload()
    changes.restart     ["[server] client-listen"]        named in its answer and the log

Live: the DN table (`[dn]`, with the simulated PBX's lines and per-DN settings), the
log's level, format and trace, and the hidden UserData keys.  Everything else (listeners,
the switch link, ISCC, orchestration, options) is read once at start.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final

from ctiserver.app.config import SCHEMA, Config

# Config fields -> the key an operator sees, for the fields SCHEMA does not name.
SECTIONS: Final = {
    "dns": "[dn]",
    "agent_logins": "[agents] logins",
    "agent_passwords": "[agent]",
    "routing_points": "[routing-point]",
    "acd_queues": "[acd-queue]",
    "orchestration": "[orchestration]",
    "iscc": "[iscc]",
    "trunks": "[pbxsim.trunk]",
    "applications": "[application]",
    "trace_all": "[log] trace",
    "trace_dns": "[log] trace",
}
LIVE: Final = frozenset(
    {
        "dns",
        "agent_logins",
        "agent_passwords",
        "routing_points",
        "acd_queues",
        "log_level",
        "log_format",
        "trace_all",
        "trace_dns",
        "log_hide_keys",
    }
)
IGNORED: Final = frozenset({"source"})


@dataclass(frozen=True, slots=True)
class Changes:
    live: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)


def key_name(attribute: str) -> str:
    """`client_listen` -> `[server] client-listen`."""
    if attribute in SECTIONS:
        return SECTIONS[attribute]
    for section, keys in SCHEMA.items():
        for key, (name, _parser) in keys.items():
            if name == attribute:
                return f"[{section}] {key}"
    return attribute


def compare(running: Config, fresh: Config) -> Changes:
    """The keys that differ, each once, in the order of Config's fields."""
    live: dict[str, None] = {}
    restart: dict[str, None] = {}
    for spec in dataclasses.fields(Config):
        name = spec.name
        if name in IGNORED or getattr(running, name) == getattr(fresh, name):
            continue
        (live if name in LIVE else restart)[key_name(name)] = None
    return Changes(list(live), list(restart))
