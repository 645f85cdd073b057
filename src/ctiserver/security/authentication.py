"""Who a client is: RequestRegisterClient's ApplicationName and ApplicationPassword
checked against `[application."NAME"]`, and the slowing down of addresses that keep
failing (DESIGN.md § 8).  Pure: time comes in as an argument.

How the runtime drives it, per RequestRegisterClient:

    delay = throttle.delay(address, now)          wait that long first (never blocking)
    claim = directory.claim(message)               a Claim to check, or a Refusal
    ok = directory.check(claim)                    in a worker thread: scrypt is slow
    directory.outcome(claim, ok) -> Application | None, or a Refusal
    throttle.failed(address, now) on a refusal

Rules:
- An application that is configured always has its password checked and its scope and
  permissions applied, whatever `require-auth` says; `require-auth` decides whether a
  client naming no configured application is admitted (with every permission).
- Every failure gets the same ErrorMessage and, for an unknown name, the same scrypt
  work against a stand-in hash, so that the answer does not tell which names exist.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.security.applications import Application, Refusal
from ctiserver.security.passwords import ScryptHash, hash_password, verify_password
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import TMessage

FAILURES_BEFORE_DELAY: Final = 5
FAILURE_WINDOW: Final = 60.0
DELAY: Final = 1.0
MAX_TRACKED_ADDRESSES: Final = 10_000


@dataclass(frozen=True, slots=True)
class Claim:
    """An application name and password to check against `stored`."""

    name: str
    password: str
    stored: ScryptHash | None  # None: an unknown name, to check against the stand-in
    application: Application | None


class Directory:
    """The configured applications and the `require-auth` switch."""

    def __init__(self, applications: Mapping[str, Application], *, require_auth: bool) -> None:
        self.applications = dict(applications)
        self.require_auth = require_auth
        self._stand_in: ScryptHash | None = None

    @property
    def active(self) -> bool:
        """Whether any client must authenticate (else every client has every permission)."""
        return self.require_auth or bool(self.applications)

    def claim(self, message: TMessage) -> Claim | Application | Refusal | None:
        """What RequestRegisterClient *message* claims: a Claim to check, or at once the
        outcome (None: an unknown application admitted without require-auth)."""
        name = str(message.get("ApplicationName", ""))
        password = message.get("ApplicationPassword")
        application = self.applications.get(name)
        if application is None and not self.require_auth:
            return None
        if not isinstance(password, str):
            return refusal(name)
        stored = application.password_hash if application else None
        return Claim(name, password, stored, application)

    def check(self, claim: Claim) -> bool:
        """Whether the claim's password matches: the slow part, for a worker thread (an
        unknown name costs the same work, against the stand-in)."""
        return verify_password(claim.password, claim.stored or self.stand_in())

    def outcome(self, claim: Claim, matches: bool) -> Application | Refusal:
        if matches and claim.application is not None:
            return claim.application
        return refusal(claim.name)

    def stand_in(self) -> ScryptHash:
        """A hash of nothing anyone can send, with the default cost (made once, in
        the first check that needs it)."""
        if self._stand_in is None:
            self._stand_in = hash_password("\x00 no such application \x00")
        return self._stand_in


def refusal(name: str) -> Refusal:
    return Refusal(
        TError.CSTA_SECURITY,
        f"authentication failed for application {name!r}: "
        "no such application, or a missing or wrong ApplicationPassword",
    )


@dataclass(slots=True)
class _Record:
    failures: collections.deque[float] = field(default_factory=collections.deque)
    slowed_until: float = 0.0
    next_turn: float = 0.0  # when the next attempt from the address may be checked


class FailureThrottle:
    """After `threshold` failures from one address within `window` seconds, every
    attempt from that address waits `delay` seconds, until `window` seconds after its
    last such failure.  Attempts made at once wait in turn (1 s, 2 s, …): an address
    gets one attempt per `delay` however many connections it opens."""

    def __init__(
        self,
        *,
        threshold: int = FAILURES_BEFORE_DELAY,
        window: float = FAILURE_WINDOW,
        delay: float = DELAY,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.wait = delay
        self.max_addresses = max_addresses
        self._records: dict[str, _Record] = {}

    def delay(self, address: str, now: float) -> float:
        """How long an attempt from *address*, made *now*, must wait before it is
        checked; the attempt takes its turn (call once per attempt)."""
        record = self._records.get(address)
        if record is None or now >= record.slowed_until:
            return 0.0
        record.next_turn = max(now, record.next_turn) + self.wait
        return record.next_turn - now

    def failed(self, address: str, now: float) -> None:
        record = self._records.pop(address, None) or _Record()
        self._records[address] = record  # last in the dict: the most recent
        record.failures.append(now)
        while record.failures and record.failures[0] <= now - self.window:
            record.failures.popleft()
        while len(record.failures) > self.threshold:
            record.failures.popleft()
        if len(record.failures) >= self.threshold:
            record.slowed_until = now + self.window
        self._forget(now)

    def _forget(self, now: float) -> None:
        """Bounded memory: drop addresses with nothing to remember, then the oldest."""
        if len(self._records) <= self.max_addresses:
            return
        for address, record in list(self._records.items()):
            if record.slowed_until <= now and record.failures[-1] <= now - self.window:
                del self._records[address]
        while len(self._records) > self.max_addresses:
            del self._records[next(iter(self._records))]
