"""`[server]`: this server's name, its listeners and their limits, its TLS files and the
clients' sessions (docs/configuration.md, docs/security.md).

The section as it is written.  The composition root gives each door what it reads of it
(the client listener its caps and buffers, the HTTP side its own caps, every listener the
TLS context built from the files), and the core the name and the session keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ctiserver.doors.address import Address

CLIENT_LISTEN: Final = Address("127.0.0.1", 7000)
HTTP_LISTEN: Final = Address("127.0.0.1", 7080)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    name: str = "tserver"
    client_listen: Address = CLIENT_LISTEN
    http_listen: Address | None = HTTP_LISTEN  # None: no HTTP side
    max_client_buffer: int = 16 << 20
    max_client_buffers: int = 256 << 20  # all clients' buffers together
    max_connections: int = 1000
    max_connections_per_address: int = 100
    register_timeout: float = 10.0
    resume_window: float = 60.0
    resume_max_events: int = 1000
    requests_per_turn: int = 4
    requests_in_flight: int = 8
    http_max_connections: int = 256
    http_max_connections_per_address: int = 64
    http_request_timeout: float = 10.0
    log_repeat_interval: float = 10.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    tls_ca: Path | None = None
