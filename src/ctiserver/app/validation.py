"""What a configuration must pass before a command starts with it, beyond its syntax
(app.config): the one check that `run`, `pbxsim`, `orchestrate`, `check-config` and
`reload` share, so that check-config says "valid" exactly when run would start.

    validate(config, command="run")      # raises ConfigError naming every problem

It reads the files the configuration names (strategies, TLS certificates, keys and CAs,
the admin token) and builds what the command would build from them (the simulated
PBX's configuration, the TLS contexts, the HTTP policy), so that a problem is found
here, with the key to change, instead of as a traceback once the server runs.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Final

from ctiserver.app import security
from ctiserver.app.config import Config
from ctiserver.app.embedded import pbxsim_tls
from ctiserver.app.parts import pbx_config
from ctiserver.errors import ConfigError

COMMANDS: Final = ("run", "pbxsim", "orchestrate")

Check = Callable[[Config], list[str]]
Build = Callable[[Config], object]


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
    if config.switch.link is not None:
        return []
    return _pbxsim(config)


def _pbxsim(config: Config) -> list[str]:
    try:
        pbx_config(config)
    except ValueError as exc:
        return [f"the simulated PBX cannot start with this configuration: {exc}"]
    tls = ("[pbxsim] tls-cert, tls-key", lambda config: pbxsim_tls(config.pbxsim))
    return _recordings(config) + _built(config, tls)


def _recordings(config: Config) -> list[str]:
    if config.pbxsim.recordings is None:
        return []
    folder = config.pbxsim.recordings.parent
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


def _tls(config: Config) -> list[str]:
    """Every TLS context the server builds can be built from the files named: its
    listeners', the one it connects out with (ISCC, the embedded orchestration server),
    the CSTA link's."""
    return _built(
        config,
        ("[server] tls-cert, tls-key, tls-client-ca", security.listener_tls),
        ("[server] tls-ca, tls-cert, tls-key", security.outgoing_tls),
        ("[switch] tls-ca ([server] tls-ca)", security.switch_tls),
    )


def _admin_token(config: Config) -> list[str]:
    """`[security] admin-token-file` can be read and holds a token long enough (the
    server's HTTP side, and the commands that use it, read it)."""
    return _built(config, ("[security] admin-token-file", security.http_policy))


def _orchestration_tls(config: Config) -> list[str]:
    return _built(
        config, ("[orchestration] tls ([server] tls-ca, tls-cert)", security.orchestration_tls)
    )


def _rest(config: Config) -> list[str]:
    """`ctiserver orchestrate` with `http-listen`: its REST interface is protected by the
    server's keys (the admin token, TLS on its listener), which must be usable."""
    settings = config.orchestration
    if settings is None or settings.http_listen is None:
        return []
    return _built(
        config,
        ("[security] admin-token-file", security.http_policy),
        ("[server] tls-cert, tls-key, tls-client-ca", security.listener_tls),
    )


def _built(config: Config, *builds: tuple[str, Build]) -> list[str]:
    """Build each; the problems, each named by its keys and said once."""
    problems: list[str] = []
    for keys, build in builds:
        try:
            build(config)
        except (ConfigError, ssl.SSLError, OSError) as exc:
            problem = str(exc) if keys in str(exc) else f"{keys}: {exc}"
            if not any(str(exc) in seen for seen in problems):
                problems.append(problem)
    return problems


def _servers(config: Config) -> list[str]:
    settings = config.orchestration
    if settings is None:
        return ["there is no [orchestration] section"]
    if not settings.servers:
        return ["[orchestration] servers names no CTI server"]
    return []


CHECKS: Final[dict[str, tuple[Check, ...]]] = {
    "run": (_switch, _strategies, _tls, _admin_token),
    "pbxsim": (_pbxsim,),
    "orchestrate": (_servers, _strategies, _orchestration_tls, _rest),
}
