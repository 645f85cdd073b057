"""`[server]`: this server's name, its listeners and their doors, its TLS files and the
clients' sessions (docs/configuration.md, docs/security.md).

The section as it is written.  The keys of each door are one value declared beside the
door and read whole by it: the client listeners' (server.limits.ClientDoorSettings,
`max-connections`, `max-client-buffer`, …) and the HTTP listeners' (http.door.
HttpDoorSettings, `http-max-connections`, …); the session keys are the core's
(tserver.port.SessionSettings, `resume-window`, `resume-max-events`).  The
composition root gives the core the name and the sessions whole, and every listener the
TLS context built from the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ctiserver.doors.address import Address
from ctiserver.http.door import HttpDoorSettings
from ctiserver.server.limits import ClientDoorSettings
from ctiserver.tserver.port import SessionSettings

CLIENT_LISTEN: Final = Address("127.0.0.1", 7000)
HTTP_LISTEN: Final = Address("127.0.0.1", 7080)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    name: str = "tserver"
    client_listen: Address = CLIENT_LISTEN
    http_listen: Address | None = HTTP_LISTEN  # None: no HTTP side
    clients: ClientDoorSettings = field(default_factory=ClientDoorSettings)
    http: HttpDoorSettings = field(default_factory=HttpDoorSettings)
    sessions: SessionSettings = field(default_factory=SessionSettings)  # resume-*
    requests_in_flight: int = 8
    log_repeat_interval: float = 10.0  # every door's rate-limited log lines
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    tls_ca: Path | None = None
