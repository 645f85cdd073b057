"""A listener's or a link's address as the configuration writes it: `HOST:PORT`.

Every door names one (`[server] client-listen`, `[switch] link`, `[pbxsim] csta-listen`,
`[iscc] listen`, a trunk's peer); the configuration reads it, the shells bind or dial it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"
