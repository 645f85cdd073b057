"""The orchestration server's settings: what `[orchestration]` says (docs/configuration.md),
checked by app.config and handed to the runtime.  Also the demo's settings.

Rule 1: strategy locations are absolute here (app.config resolves them against the
configuration file's folder), so the server does not depend on its working directory.
Rule 2: this module imports nothing heavy: reading a configuration must not load the
SCXML interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

# The example strategies ship in the package (ctiserver/strategies/, also reachable as
# examples/strategies/ in a source checkout), so the demo runs from an installed wheel.
EXAMPLES: Final = Path(__file__).resolve().parents[1] / "strategies"
DEMO_ROUTING_POINT: Final = "5000"
DEMO_STRATEGY: Final = EXAMPLES / "route-to-agent.scxml"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A CTI server's client listener, host and port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestrationSettings:
    """`[orchestration]`; see docs/configuration.md for each key.

    Attributes:
        enabled: `ctiserver run` embeds the orchestration server.
        servers: the CTI servers `ctiserver orchestrate` connects to (the embedding
            server's own client listener when embedded).
        strategies: routing point → strategy location (a path or `file:` URL).
        register: the DNs to follow besides the strategies' routing points.
    """

    enabled: bool = False
    servers: tuple[Endpoint, ...] = ()
    application_name: str = "orchestration"
    strategies: Mapping[str, str] = field(default_factory=dict)
    register: tuple[str, ...] = ()
    request_timeout: float = 10.0
    orphan_timeout: float = 30.0
    max_sessions: int = 10_000
    script_time_limit: float = 1.0
    script_memory_limit: int = 32 << 20
    max_steps: int = 100_000
    reconnect_interval: float = 1.0
    application_password: str | None = None
    tls: bool = False  # connect with TLS, trusting [server] tls-ca (docs/security.md)


def demo(register: tuple[str, ...], servers: tuple[Endpoint, ...]) -> OrchestrationSettings:
    """The demo site's: route-to-agent.scxml on routing point 5000."""
    return OrchestrationSettings(
        enabled=True,
        servers=servers,
        strategies={DEMO_ROUTING_POINT: str(DEMO_STRATEGY)},
        register=register,
    )
