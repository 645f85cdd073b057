"""The per-message trace: every T-Library message, CSTA frame and ISCC message, one
line each, naming its direction, peer, DNs and ConnIDs (docs/logging.md).

The shells (server.runtime for T-Library, link for CSTA, iscc.peering for ISCC) build a
TraceRecord for what they send or receive and hand it to the Tracer, which writes it to
the log (`[log] trace`: everything, or only some DNs) and to each follower (`ctiserver
trace [--dn N]` over /trace, with its own DN filter).

Rule 1: when nobody traces, a shell pays one attribute read per message (`active`).
Rule 2: a shell asks `wants(dns)` before it renders a message, so a trace of one DN
costs little for the others.
Rule 3: records are rendered with hidden UserData keys masked and passwords replaced,
before they reach any sink: nothing downstream sees the values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from ctiserver.security.masking import UserDataMask
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger("ctiserver.trace")

# T-Library attributes that name a DN, and those that name a call.
DN_ATTRIBUTES: Final = ("ThisDN", "OtherDN", "ThirdPartyDN", "ThisQueue")
CONN_ID_ATTRIBUTES: Final = ("ConnID", "PreviousConnID", "TransferConnID", "ConferenceConnID")


@dataclass(frozen=True, slots=True)
class TraceSettings:
    """`[log] trace`: off, everything (`all`), or the messages about these DNs."""

    everything: bool = False
    dns: frozenset[str] = frozenset()

    @property
    def on(self) -> bool:
        return self.everything or bool(self.dns)


@dataclass(frozen=True, slots=True)
class LogSettings:
    """`[log]`: the level and format (None: the command line's, the environment's, or
    info and text), and the trace."""

    level: str | None = None
    format: str | None = None
    trace: TraceSettings = TraceSettings()


@dataclass(frozen=True, slots=True)
class TraceRecord:
    protocol: str  # tlib | csta | iscc
    direction: str  # in | out
    peer: str  # the client(s), the switch, or the other site
    message: str  # as on the wire (one line), masked
    dns: tuple[str, ...] = ()
    conn_ids: tuple[str, ...] = ()
    call_ids: tuple[str, ...] = ()  # CSTA: the switch's callIDs in the frame
    invoke_id: int | None = None  # CSTA

    def text(self) -> str:
        words = [self.protocol, self.direction, ("from " if self.direction == "in" else "to ")]
        words[-1] += self.peer
        if self.dns:
            words.append("DN=" + ",".join(self.dns))
        if self.conn_ids:
            words.append("ConnID=" + ",".join(self.conn_ids))
        if self.call_ids:
            words.append("callID=" + ",".join(self.call_ids))
        if self.invoke_id is not None:
            words.append(f"invokeID={self.invoke_id:04d}")
        words.append(self.message)
        return " ".join(words)

    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "trace": self.protocol,
            "direction": self.direction,
            "peer": self.peer,
            "DN": list(self.dns),
            "ConnID": list(self.conn_ids),
            "wire": self.message,
        }
        if self.call_ids:
            fields["callID"] = list(self.call_ids)
        if self.invoke_id is not None:
            fields["invokeID"] = self.invoke_id
        return fields


Deliver = Callable[[TraceRecord], None]


@dataclass(eq=False, slots=True)
class Follower:
    dns: frozenset[str] | None  # None: everything
    deliver: Deliver
    dropped: int = field(default=0)


class Tracer:
    def __init__(
        self, settings: TraceSettings | None = None, *, mask: UserDataMask | None = None
    ) -> None:
        self.mask = mask or UserDataMask()
        self._settings = settings or TraceSettings()
        self._followers: list[Follower] = []
        self.active = False
        self._update()

    @property
    def settings(self) -> TraceSettings:
        return self._settings

    def configure(self, settings: TraceSettings, mask: UserDataMask | None = None) -> None:
        """New `[log] trace` settings (a reload)."""
        self._settings = settings
        if mask is not None:
            self.mask = mask
        self._update()

    def follow(self, dns: frozenset[str] | None, deliver: Deliver) -> Callable[[], None]:
        """Send every record about *dns* (None: every record) to *deliver*, until the
        returned function is called."""
        follower = Follower(dns, deliver)
        self._followers.append(follower)
        self._update()

        def unfollow() -> None:
            if follower in self._followers:
                self._followers.remove(follower)
                self._update()

        return unfollow

    @property
    def followers(self) -> int:
        return len(self._followers)

    def wants(self, dns: Iterable[str]) -> bool:
        """Does any sink want a record about *dns*?"""
        settings = self._settings
        if settings.everything:
            return True
        wanted = frozenset(dns)
        if settings.dns & wanted:
            return True
        return any(f.dns is None or f.dns & wanted for f in self._followers)

    def emit(self, record: TraceRecord) -> None:
        settings = self._settings
        if settings.everything or not settings.dns.isdisjoint(record.dns):
            log.info(record.text(), extra={"fields": record.fields(), "context": {}})
        for follower in self._followers:
            if follower.dns is None or not follower.dns.isdisjoint(record.dns):
                follower.deliver(record)

    def _update(self) -> None:
        self.active = self._settings.on or bool(self._followers)
        # The trace goes to the log at INFO whatever the server's level: asking for it
        # in the configuration is asking to see it.
        log.setLevel(logging.INFO if self._settings.on else logging.NOTSET)

    # --- T-Library messages, as the server.runtime shell sees them ----------------------

    def tlib(self, direction: str, peer: str, message: TMessage) -> None:
        """Trace one T-Library request or event, if anybody wants it."""
        dns = tuple(str(message[a]) for a in DN_ATTRIBUTES if a in message)
        if not self.wants(dns):
            return
        conn_ids = tuple(str(message[a]) for a in CONN_ID_ATTRIBUTES if a in message)
        wire = orjson.dumps(self.mask.message(message)).decode()  # passwords hidden too
        self.emit(TraceRecord("tlib", direction, peer, wire, dns, _unique(conn_ids)))


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
