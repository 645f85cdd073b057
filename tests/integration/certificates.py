"""Certificates for TLS tests, made at test time by a throwaway CA (trustme): never
committed, never valid anywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Identity:
    cert: Path  # the certificate chain, PEM
    key: Path


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA's certificate, PEM
    server: Identity  # for 127.0.0.1 and localhost
    client: Identity  # another identity of the same CA, for 127.0.0.1
    stranger: Identity  # the same CA, for a name no peer has


def make_certificates(folder: Path) -> Certificates:
    authority = trustme.CA()
    ca = folder / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))

    def identity(name: str, *names: str) -> Identity:
        leaf = authority.issue_cert(*names)
        cert, key = folder / f"{name}.pem", folder / f"{name}.key"
        cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(key))
        return Identity(cert, key)

    return Certificates(
        ca,
        identity("server", "127.0.0.1", "localhost"),
        identity("client", "127.0.0.1"),
        identity("stranger", "stranger.example"),
    )
