"""When a primary must stop acting: the fencing rule of the pair's lease (DESIGN.md § 7,
"Takeover").

The lease is a key-value entry that JetStream deletes `lease-ttl` seconds after its last
write.  A renewal sent at monotonic time t reaches NATS after t, so the entry lives at
least until t + ttl: the holder may act until then, less a margin for the two clocks'
drift and the time the last action takes to reach the switch.  The other member can
take the lease only after the entry is gone, so if the holder stops at its deadline,
two primaries never act at once.  Pure: times are arguments.
"""

from __future__ import annotations

MARGIN = 0.2  # of the ttl: the holder stops this much before the entry can expire
RENEWALS_PER_TTL = 4


class Lease:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.revision = 0  # of the entry as this member last wrote it; 0: not held
        self._deadline = 0.0  # monotonic time until which the holder may act

    @property
    def renew_every(self) -> float:
        return self.ttl / RENEWALS_PER_TTL

    def written(self, revision: int, sent_at: float) -> None:
        """A create or update sent at *sent_at* was accepted as *revision*."""
        self.revision = revision
        self._deadline = max(self._deadline, sent_at + self.ttl * (1 - MARGIN))

    def deadline(self) -> float:
        return self._deadline

    def valid(self, now: float) -> bool:
        """Whether the holder may still act at *now*."""
        return self.revision > 0 and now < self._deadline

    def lost(self) -> None:
        self.revision = 0
        self._deadline = 0.0
