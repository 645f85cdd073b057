"""`[ha]`: the hot-standby pair this server is a member of (DESIGN.md § 7), and the
names of what the pair keeps in JetStream, all derived from the pair's name."""

from __future__ import annotations

import re
from dataclasses import dataclass

PAIR_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class HaSettings:
    pair: str  # both members use the same; it names the lease, journal and snapshot
    member: str  # unique within the pair
    lease_ttl: float = 1.0  # seconds
    snapshot_interval: float = 60.0  # seconds between snapshots of the whole state

    @property
    def bucket(self) -> str:
        """The key-value bucket of the lease (key `lease`)."""
        return f"ctiserver_{self.pair}"

    @property
    def stream(self) -> str:
        """The journal's stream."""
        return f"CTISERVER_{self.pair}_JOURNAL"

    @property
    def subject(self) -> str:
        """The journal's subject."""
        return f"ctiserver.{self.pair}.journal"

    @property
    def snapshots(self) -> str:
        """The object store that holds the latest snapshot (object `snapshot`)."""
        return f"ctiserver_{self.pair}_snapshot"
