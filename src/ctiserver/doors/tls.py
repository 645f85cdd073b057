"""TLS contexts for every door (DESIGN.md § 8): servers, and clients of our servers.

Built from PEM files named by the configuration.  Servers use TLS 1.2 at least and,
with a client CA, require and verify a client certificate (mutual TLS).  Clients
verify the server's certificate and name against a CA file (or the system's), and
present a certificate of their own when given one (mutual TLS between ISCC peers).
Errors name the file that could not be used.

`ListenerTls` and `ClientTls` are the same as files (plain values): what a process that
is given only values, as the orchestration server's child process is, makes its context
from.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ctiserver.errors import ConfigError


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """For a listener: its certificate; with *client_ca*, client certificates required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, cert, key)
    if client_ca is not None:
        _load_ca(context, client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(
    ca: Path | None = None, *, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext:
    """For connecting out: trusts *ca* (else the system's CAs), checks the host name,
    and presents *cert* when given."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca is not None:
        _load_ca(context, ca)
    if cert is not None and key is not None:
        _load_chain(context, cert, key)
    return context


@dataclass(frozen=True, slots=True)
class ListenerTls:
    """A listener's certificate and key, and the CA of its clients' (mutual TLS)."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def context(self) -> ssl.SSLContext:
        return server_context(self.cert, self.key, self.client_ca)


@dataclass(frozen=True, slots=True)
class ClientTls:
    """The CA trusted when connecting out (None: the system's), and a certificate to show."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def context(self) -> ssl.SSLContext:
        return client_context(self.ca, cert=self.cert, key=self.key)


def peer_names(certificate: dict[str, object] | None) -> set[str]:
    """The DNS names and IP addresses a verified peer certificate is for."""
    if not certificate:
        return set()
    names = certificate.get("subjectAltName", ())
    if not isinstance(names, tuple):
        return set()
    return {str(value) for kind, value in names if kind in ("DNS", "IP Address")}


def _load_chain(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the TLS certificate {cert} with key {key}: {exc}") from None


def _load_ca(context: ssl.SSLContext, ca: Path) -> None:
    try:
        context.load_verify_locations(cafile=ca)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the TLS CA file {ca}: {exc}") from None
