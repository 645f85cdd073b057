"""`[security]` and the `[application."NAME"]` tables: who may connect and what they may
do, who may use the HTTP admin routes, and which UserData keys the logs hide
(docs/security.md).

The sections as they are written, with each application already checked
(security.applications).  The composition root builds from them the directory of
applications, the HTTP policy and the log mask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ctiserver.security.applications import Application


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    require_auth: bool = False
    admin_token_file: Path | None = None
    allowed_origins: tuple[str, ...] = ()  # empty: only the server's own origin
    log_hide_keys: tuple[str, ...] = ()
    restrict_read: bool = False
    applications: Mapping[str, Application] = field(default_factory=dict)  # [application.*]
