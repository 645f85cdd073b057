"""`[switch]`: the switch this server links to and how (docs/configuration.md).

The link's settings are the section as it is written; the supervisor reads the keys of
the link itself (session, namespace, timeouts, back-off), and the composition root reads
`name` and `private-namespace` for the parts that speak of this switch (the core, ISCC,
the embedded pbxsim).  `tls` and `tls-ca` name files; the TLS context built from them is
given to the supervisor beside these settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctiserver.doors.address import Address

PRIVATE_NAMESPACE = "urn:ctiserver:csta:private"


@dataclass(frozen=True, slots=True)
class LinkSettings:
    name: str = "SwitchA"  # this switch's name: this site's Location for ISCC
    link: Address | None = None  # None: the embedded pbxsim
    session: str = "implicit"  # or "ecma-354"
    namespace: str = "ed4"  # the ECMA-323 edition
    application_id: str = "ctiserver"
    private_namespace: str = PRIVATE_NAMESPACE  # of the switch's private data
    reply_timeout: float = 5.0
    keepalive_interval: float = 10.0
    session_duration: int = 180
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    request_window: int = 500  # requests outstanding at once when asking about many DNs
    tls: bool = False  # TLS to the switch
    tls_ca: Path | None = None  # else [server] tls-ca
    connect_timeout: float = 5.0  # not in the file
    association_timeout: float = 10.0  # not in the file
