"""The configured DNs as the dashboard lists them: each one's kind, status and since when.

An extension is Idle or in the most telling state of its calls (Talking, Held, Ringing,
Dialing, Failed).  A queue or a routing point is Waiting while a call waits there, else
Idle: never "Available" with calls in it.  Whether the switch link is up is not a DN's
status; the page shows every DN as out of service while the link is down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctiserver.supervision.calls import most_telling


def dn_status(kind: str, states: Iterable[str]) -> str:
    states = list(states)
    if kind != "DN":
        return "Waiting" if "Queued" in states else "Idle"
    return most_telling(states) or "Idle"


@dataclass(slots=True)
class DnEntry:
    kind: str  # DN, Queue or RouteDN (the AddressType)
    status: str
    since: float
    calls: int = 0

    def row(self, agent: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "kind": self.kind,
            "status": self.status,
            "since": round(self.since, 1),
        }
        if self.calls:
            row["calls"] = self.calls
        if agent is not None:
            row["agent"] = agent
        return row


class Directory:
    def __init__(self) -> None:
        self.entries: dict[str, DnEntry] = {}

    def kind(self, dn: str) -> str | None:
        entry = self.entries.get(dn)
        return None if entry is None else entry.kind

    def configure(self, dns: Mapping[str, str], at: float) -> tuple[list[str], list[str]]:
        """Follow the configuration; returns (added, removed) DNs.  A DN whose kind
        changed is removed and added again."""
        removed = [dn for dn, e in self.entries.items() if dns.get(dn) != e.kind]
        for dn in removed:
            del self.entries[dn]
        added = [dn for dn in dns if dn not in self.entries]
        for dn in added:
            self.entries[dn] = DnEntry(dns[dn], "Idle", at)
        return added, removed

    def refresh(self, dn: str, states: Mapping[str, str], at: float) -> bool:
        """Recompute *dn*'s status from its calls' states; True if its row changed."""
        entry = self.entries.get(dn)
        if entry is None:
            return False
        status = dn_status(entry.kind, states.values())
        changed = status != entry.status or len(states) != entry.calls
        if status != entry.status:
            entry.status, entry.since = status, at
        entry.calls = len(states)
        return changed
