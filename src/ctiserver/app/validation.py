"""What a configuration must pass before a command starts with it, beyond its syntax
(app.config): the one check that `run`, `pbxsim`, `orchestrate`, `check-config` and
`reload` share, so that check-config says "valid" exactly when run would start.

    validate(config, command="run")      # raises ConfigError naming every problem

It reads the files the configuration names (strategies) and builds what the command
would build from it (the simulated PBX's configuration), so that a problem is found
here, with the key to change, instead of as a traceback once the server runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ctiserver.app.config import Config
from ctiserver.app.embedded import pbx_config
from ctiserver.errors import ConfigError

COMMANDS: Final = ("run", "pbxsim", "orchestrate")

Check = Callable[[Config], list[str]]


def validate(config: Config, *, command: str = "run") -> None:
    """Raise ConfigError with one line per problem that would stop *command*."""
    problems: list[str] = []
    for check in CHECKS[command]:
        problems += check(config)
    if problems:
        place = str(config.source) if config.source is not None else "<configuration>"
        raise ConfigError("\n".join(f"{place}: {problem}" for problem in problems))


def problems_of(config: Config, *, command: str = "run") -> list[str]:
    """The problems validate() would raise, one string each (empty: valid)."""
    try:
        validate(config, command=command)
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def _switch(config: Config) -> list[str]:
    """The simulated PBX refuses what its own configuration cannot hold (names, numbers)."""
    if config.link is not None:
        return []
    return _pbxsim(config)


def _pbxsim(config: Config) -> list[str]:
    try:
        pbx_config(config)
    except ValueError as exc:
        return [f"the simulated PBX cannot start with this configuration: {exc}"]
    return _recordings(config)


def _recordings(config: Config) -> list[str]:
    if config.recordings is None:
        return []
    folder = config.recordings.parent
    if not folder.is_dir():
        return [f"[pbxsim] recordings: the folder {folder} does not exist; create it"]
    return []


def _strategies(config: Config) -> list[str]:
    """Every strategy file loads and parses (only when there is one: the SCXML
    interpreter is not loaded otherwise); strategies at http URLs are not fetched."""
    settings = config.orchestration
    if settings is None or not settings.strategies:
        return []
    from ctiserver.orchestration.strategies import load_strategy
    from ctiserver.scxml.document import DocumentError

    problems = []
    for point, location in settings.strategies.items():
        if location.startswith(("http://", "https://")):
            continue  # fetched when the orchestration server starts, not read here
        try:
            load_strategy(location)
        except DocumentError as exc:
            problems.append(
                f'[orchestration.strategy."{point}"] application: {location} cannot be '
                f"loaded: {exc}"
            )
    return problems


def _servers(config: Config) -> list[str]:
    settings = config.orchestration
    if settings is None:
        return ["there is no [orchestration] section"]
    if not settings.servers:
        return ["[orchestration] servers names no CTI server"]
    return []


CHECKS: Final[dict[str, tuple[Check, ...]]] = {
    "run": (_switch, _strategies),
    "pbxsim": (_pbxsim,),
    "orchestrate": (_servers, _strategies),
}
