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
DEMO_STRATEGY: Final = EXAMPLES / "skills-routing.scxml"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A CTI server's client listener, host and port; `location` is the site (switch) it
    serves, when the configuration names it, for targets at other sites (`NAME@SITE.A`)."""

    host: str
    port: int
    location: str | None = None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


SkillLevel = int | float | str


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """`[orchestration.agent."ID"]`: an agent's skills (name → level) and agent groups."""

    skills: Mapping[str, SkillLevel] = field(default_factory=dict)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectorySettings:
    """The orchestration server's own configuration of people and places: agents (by
    login ID) with their skills, agent groups (login IDs) and place groups (DNs)."""

    agents: Mapping[str, AgentProfile] = field(default_factory=dict)
    agent_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    place_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestrationSettings:
    """`[orchestration]`; see docs/configuration.md for each key.

    Attributes:
        enabled: `ctiserver run` embeds the orchestration server.
        servers: the CTI servers `ctiserver orchestrate` connects to (the embedding
            server's own client listener when embedded).
        strategies: routing point → strategy location (a path or `file:` URL).
        register: the DNs to follow besides the strategies' routing points.
        http_listen: where the REST interface listens (docs/orchestration.md), if at all.
        directory: agents, skills, agent groups and place groups.
    """

    enabled: bool = False
    servers: tuple[Endpoint, ...] = ()
    http_listen: Endpoint | None = None
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    application_name: str = "orchestration"
    strategies: Mapping[str, str] = field(default_factory=dict)
    register: tuple[str, ...] = ()
    request_timeout: float = 10.0
    orphan_timeout: float = 30.0
    max_sessions: int = 10_000
    script_time_limit: float = 1.0
    script_memory_limit: int = 32 << 20
    max_steps: int = 100_000
    context_pool: int = 0
    reconnect_interval: float = 1.0
    application_password: str | None = None
    tls: bool = False  # connect with TLS, trusting [server] tls-ca (docs/security.md)


def demo(register: tuple[str, ...], servers: tuple[Endpoint, ...]) -> OrchestrationSettings:
    """The demo site's: skills-routing.scxml on routing point 5000, and its agents' skills."""
    return OrchestrationSettings(
        enabled=True,
        servers=servers,
        strategies={DEMO_ROUTING_POINT: str(DEMO_STRATEGY)},
        register=register,
        directory=DEMO_DIRECTORY,
    )


def _generalist() -> AgentProfile:
    return AgentProfile({"sales": 5, "support": 5, "lang": "en"})


DEMO_DIRECTORY: Final = DirectorySettings(
    agents={
        "1001": AgentProfile({"sales": 8, "lang": "en"}),
        "1002": AgentProfile({"sales": 6, "lang": "fr"}),
        "1003": AgentProfile({"sales": 4, "support": 5, "lang": "en"}),
        "1004": AgentProfile({"support": 8, "lang": "fr"}),
        "1005": AgentProfile({"support": 6, "lang": "en"}),
        **{str(agent): _generalist() for agent in range(1006, 1011)},
    }
)
