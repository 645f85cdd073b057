"""What HotStandbyClient tells an application about its session (docs/sdk.md): the
notices it puts in the event stream when the primary is lost, when the session goes on
and when it had to start afresh, the errors a request may raise across a switchover,
and the counts of all these (for monitoring and benchmarks).

The notices are values of their own, not T-Library events: they carry no
EventSequenceNumber and cannot be mistaken for something the server sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ctiserver.errors import CtiError


@dataclass(frozen=True, slots=True)
class PrimaryLost:
    """The connection that carried the session is lost: it closed, its server answered
    as a backup, or another member announced itself primary.  Requests made from now
    on wait for a primary (up to `failover_timeout`); events resume with SessionResumed
    or SessionRestarted."""

    address: str  # "host:port" of the member that held the session
    reason: str


@dataclass(frozen=True, slots=True)
class SessionResumed:
    """The session goes on at *address*.  Next in the stream come the events numbered
    above *last_sequence* that the session missed (as first sent), then the
    EventServerInfo and link event answering the resume, then live events.
    *switchover* is True when *address* is another member than the one before."""

    address: str
    session_id: str
    last_sequence: int
    switchover: bool


@dataclass(frozen=True, slots=True)
class SessionRestarted:
    """The session could not be resumed (*reason*: its resume-window passed, the server
    restarted, …): a new one started at *address*, and the DNs in *registered* are being
    registered again (their EventRegistered follow).  Events between the loss and now
    are lost, and EventSequenceNumbers may start again from 1 (a restarted server):
    query the state the application depends on (RequestQueryAddress, …)."""

    address: str
    session_id: str
    previous_session_id: str
    reason: str
    registered: tuple[str, ...]


Notice = PrimaryLost | SessionResumed | SessionRestarted


class NoPrimary(CtiError):
    """No member served as primary in time: the request was not sent."""


class RequestInDoubt(CtiError):
    """The primary went away after the request was sent and before it answered, and the
    session's next primary has no answer for it: it may or may not have been carried
    out.  The SDK does not send it again; look (RequestQueryCall, …) before retrying."""

    def __init__(self, request: str, reference_id: int, why: str) -> None:
        self.request = request
        self.reference_id = reference_id
        super().__init__(
            f"{request} (ReferenceID {reference_id}) may or may not have been carried out: {why}"
        )


@dataclass(slots=True)
class Counts:
    """What happened to a client's session since it connected (HotStandbyClient.counts
    gives a copy).  `repeated` and `restarted` are the ones to watch: an event the
    server sent again under a number already delivered (not delivered again), and a
    session that could not be resumed (the events meanwhile are lost)."""

    events: int = 0  # T-Library events delivered to the application
    repeated: int = 0  # events not delivered: numbered at or below the last one delivered
    lost: int = 0  # PrimaryLost notices
    resumed: int = 0  # sessions resumed (on the same server or another)
    switchovers: int = 0  # of those, resumed on another server
    restarted: int = 0  # sessions started afresh (SessionRestarted)
    in_doubt: int = 0  # requests that raised RequestInDoubt
    resent: int = 0  # requests refused by a backup (EventError 58) and sent to the primary

    def copy(self) -> Counts:
        return replace(self)
