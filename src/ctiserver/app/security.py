"""The security parts of a server, built from its Config (DESIGN.md § 8,
docs/security.md): TLS contexts, the application directory, the HTTP listeners'
protection (the server's and the orchestration server's REST interface), the client
limits, the log mask, and the warnings a risky configuration deserves.
"""

from __future__ import annotations

import logging
import resource
import ssl

from ctiserver.app.binding import HttpSettings
from ctiserver.app.config import Address, Config
from ctiserver.doors.admission import Admission, is_loopback
from ctiserver.doors.tls import ClientTls, ListenerTls, client_context
from ctiserver.errors import ConfigError
from ctiserver.http.guard import HttpPolicy, admins_of
from ctiserver.orchestration.settings import Endpoint
from ctiserver.security.authentication import Directory
from ctiserver.server.buffers import BufferBudget
from ctiserver.server.limits import ClientLimits

log = logging.getLogger(__name__)


def listener_tls(config: Config) -> ssl.SSLContext | None:
    """`[server] tls-cert`/`tls-key` (and `tls-client-ca`): every listener on TLS."""
    files = listener_files(config)
    return files.context() if files is not None else None


def listener_files(config: Config) -> ListenerTls | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    return ListenerTls(config.tls_cert, config.tls_key, config.tls_client_ca)


def outgoing_tls(config: Config) -> ssl.SSLContext | None:
    """For connecting to other sites and to our own listener: trusts `[server] tls-ca`
    and presents the server's own certificate (mutual TLS)."""
    if config.tls_cert is None and config.tls_ca is None:
        return None
    return client_context(config.tls_ca, cert=config.tls_cert, key=config.tls_key)


def switch_tls(config: Config) -> ssl.SSLContext | None:
    """`[switch] tls`: TLS to the switch, trusting `[switch] tls-ca`, else `[server] tls-ca`."""
    if not config.switch_tls:
        return None
    return client_context(config.switch_tls_ca or config.tls_ca)


def own_client_tls(config: Config) -> ClientTls | None:
    """For the embedded orchestration server (a child process, given files): the
    server's own client listener, on TLS when the server's listeners are."""
    if config.tls_cert is None:
        return None
    return ClientTls(config.tls_ca, config.tls_cert, config.tls_key)


def orchestration_tls(config: Config) -> ssl.SSLContext | None:
    """`[orchestration] tls`: the orchestration server reaches its CTI servers over TLS."""
    settings = config.orchestration
    if settings is None or not (settings.tls or config.tls_cert is not None):
        return None
    return client_context(config.tls_ca, cert=config.tls_cert, key=config.tls_key)


def directory(config: Config) -> Directory:
    return Directory(config.applications, require_auth=config.require_auth)


def http_policy(config: Config) -> HttpPolicy:
    return HttpPolicy(
        token=_admin_token(config),
        admins=admins_of(config.applications),
        allowed_origins=frozenset(config.allowed_origins),
        restrict_read=config.restrict_read,
    )


def _admin_token(config: Config) -> str | None:
    path = config.admin_token_file
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read [security] admin-token-file {path}: {exc.strerror}"
        ) from None
    if len(token) < 16:
        raise ConfigError(f"{path}: the admin token must have 16 characters at least")
    return token


def client_limits(config: Config, budget: BufferBudget, listener: str) -> ClientLimits:
    return ClientLimits(
        Admission(
            listener,
            total=config.max_connections,
            per_address=config.max_connections_per_address,
            interval=config.log_repeat_interval,
        ),
        budget=budget,
        max_buffer=config.max_client_buffer,
        register_timeout=config.register_timeout,
        requests_per_turn=config.requests_per_turn,
        ssl=listener_tls(config),
    )


def http_settings(config: Config) -> HttpSettings:
    """Every HTTP listener's protection: `[server] http-listen`'s and `[orchestration]
    http-listen`'s are the same."""
    return HttpSettings(
        policy=http_policy(config),
        tls=listener_files(config),
        max_connections=config.http_max_connections,
        max_connections_per_address=config.http_max_connections_per_address,
        request_timeout=config.http_request_timeout,
        log_repeat_interval=config.log_repeat_interval,
    )


def warn_about_risks(config: Config) -> None:
    """A listener open beyond this machine without TLS, or without authentication, says
    so at startup, naming the risk."""
    tls = config.tls_cert is not None
    doors: list[tuple[str, Address | Endpoint | None]] = [
        ("client-listen", config.client_listen),
        ("http-listen", config.http_listen),
    ]
    if config.iscc is not None:
        doors.append(("[iscc] listen", config.iscc.listen))
    if config.orchestration is not None and config.orchestration.enabled:
        doors.append(("[orchestration] http-listen", config.orchestration.http_listen))
    for key, address in doors:
        if address is None or is_loopback(address.host):
            continue
        if not tls:
            log.warning(
                "%s %s is reachable from other machines without TLS: anyone on the network "
                "can read call data and passwords, and take over connections",
                key,
                address,
            )
        if key == "client-listen" and not config.require_auth:
            log.warning(
                "client-listen %s is reachable from other machines without [security] "
                "require-auth: any process that reaches it can register any DN, read its "
                "call data and control its calls",
                address,
            )
    _warn_about_peers(config)


def _warn_about_peers(config: Config) -> None:
    iscc = config.iscc
    if iscc is None or iscc.listen is None or is_loopback(iscc.listen.host):
        return
    for location, peer in iscc.peers.items():
        if not peer.secret and config.tls_client_ca is None:
            log.warning(
                "ISCC peer %s is not authenticated (no secret, no tls-client-ca): a stranger "
                "that says hello as %s can take its place and change its calls' data",
                location,
                location,
            )


def raise_file_limit(config: Config) -> None:
    """Let the process hold what the listeners may take (the soft limit of open files up
    to the hard one), and say so when even that is too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = config.max_connections + config.http_max_connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning(
            "the process may open %d files, fewer than max-connections and "
            "http-max-connections need (%d): lower them, or raise the limit",
            soft,
            wanted,
        )
