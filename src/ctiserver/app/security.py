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
from ctiserver.app.config import Config
from ctiserver.doors.address import Address
from ctiserver.doors.admission import is_loopback
from ctiserver.doors.tls import ClientTls, ListenerTls, client_context
from ctiserver.errors import ConfigError
from ctiserver.http.guard import HttpPolicy, admins_of
from ctiserver.iscc.peering import PeeringTls
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
    """The same as files, for a listener made elsewhere (the orchestration process's)."""
    server = config.server
    if server.tls_cert is None or server.tls_key is None:
        return None
    return ListenerTls(server.tls_cert, server.tls_key, server.tls_client_ca)


def outgoing_tls(config: Config) -> ssl.SSLContext | None:
    """For connecting to other sites and to our own listener: trusts `[server] tls-ca`
    and presents the server's own certificate (mutual TLS)."""
    server = config.server
    if server.tls_cert is None and server.tls_ca is None:
        return None
    return client_context(server.tls_ca, cert=server.tls_cert, key=server.tls_key)


def peering_tls(config: Config) -> PeeringTls:
    """The connections between sites: the listeners' context, the dialer's, and whether
    the listener requires client certificates (`[server] tls-client-ca`)."""
    return PeeringTls(
        listener=listener_tls(config),
        dialer=outgoing_tls(config),
        client_certificates=config.server.tls_client_ca is not None,
    )


def switch_tls(config: Config) -> ssl.SSLContext | None:
    """`[switch] tls`: TLS to the switch, trusting `[switch] tls-ca`, else `[server] tls-ca`."""
    if not config.switch.tls:
        return None
    return client_context(config.switch.tls_ca or config.server.tls_ca)


def own_client_tls(config: Config) -> ClientTls | None:
    """For the embedded orchestration server (a child process, given files): the
    server's own client listener, on TLS when the server's listeners are."""
    server = config.server
    if server.tls_cert is None:
        return None
    return ClientTls(server.tls_ca, server.tls_cert, server.tls_key)


def orchestration_tls(config: Config) -> ssl.SSLContext | None:
    """`[orchestration] tls`: the orchestration server reaches its CTI servers over TLS."""
    settings, server = config.orchestration, config.server
    if settings is None or not (settings.tls or server.tls_cert is not None):
        return None
    return client_context(server.tls_ca, cert=server.tls_cert, key=server.tls_key)


def directory(config: Config) -> Directory:
    return Directory(config.security.applications, require_auth=config.security.require_auth)


def http_policy(config: Config) -> HttpPolicy:
    security = config.security
    return HttpPolicy(
        token=_admin_token(config),
        admins=admins_of(security.applications),
        allowed_origins=frozenset(security.allowed_origins),
        restrict_read=security.restrict_read,
    )


def _admin_token(config: Config) -> str | None:
    path = config.security.admin_token_file
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
    """The client listeners' door: `[server]`'s client door settings whole, with their TLS."""
    server = config.server
    return ClientLimits.of(
        listener,
        server.clients,
        budget=budget,
        tls=listener_tls(config),
        log_repeat_interval=server.log_repeat_interval,
    )


def http_settings(config: Config) -> HttpSettings:
    """Every HTTP listener's protection, from `[server]` (the HTTP door's settings whole)
    and `[security]`: `[server] http-listen`'s and `[orchestration] http-listen`'s are
    the same."""
    server = config.server
    return HttpSettings(
        policy=http_policy(config),
        tls=listener_files(config),
        door=server.http,
        log_repeat_interval=server.log_repeat_interval,
    )


def warn_about_risks(config: Config) -> None:
    """A listener open beyond this machine without TLS, or without authentication, says
    so at startup, naming the risk."""
    tls = config.server.tls_cert is not None
    doors: list[tuple[str, Address | Endpoint | None]] = [
        ("client-listen", config.server.client_listen),
        ("http-listen", config.server.http_listen),
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
        if key == "client-listen" and not config.security.require_auth:
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
        if not peer.secret and config.server.tls_client_ca is None:
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
    server = config.server
    wanted = server.clients.max_connections + server.http.max_connections + 256
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
