"""Who each client connection is and what it may do: the asyncio side of
ctiserver.security (DESIGN.md § 8), consulted by the runtime before the core.

Every request of every connection (TCP or WebSocket) comes here first:
- RequestRegisterClient is authenticated when applications are configured or
  `require-auth` is on: after the per-address delay, the password is checked by scrypt
  in a worker thread, so the event loop never waits for it.  A failure is answered
  with EventError, logged, counted, and the connection is closed after the answer.
- Any other request is checked against the application's permission and DN scope, and
  its UserData against `user-data-limit`.  A refusal is EventError through the core's
  error path: nothing reaches a handler or the switch.
- While a client's authentication runs, its later requests wait, in order (at most
  MAX_HELD of them; a client that sends more is disconnected).
- A client has at most `requests-in-flight` requests at the switch (sent by the core
  for its requests, not yet answered by the switch); the listeners stop taking its
  requests (and reading) until one is answered, so a client flooding requests that go
  to the switch cannot queue unbounded work in front of everyone else's.  The runtime
  counts them by the core's SendToSwitch tokens, so what a client sends cannot fool it.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
from dataclasses import dataclass, field
from typing import Final, Protocol

from ctiserver.ids import ClientId
from ctiserver.logs.context import about
from ctiserver.security.applications import Application, Refusal, authorize
from ctiserver.security.authentication import Claim, Directory, FailureThrottle
from ctiserver.security.data import user_data_refusal
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import KVList, TMessage

log = logging.getLogger(__name__)

MAX_HELD: Final = 256
DEFAULT_IN_FLIGHT: Final = 8
CHECKERS: Final = 2  # scrypt checks at once; each takes tens of MiB for tens of ms


class AccessHooks(Protocol):
    """What access control needs of the runtime."""

    def admit(self, client: ClientId, message: TMessage) -> None:
        """Hand an allowed request to the core."""

    def refuse(self, client: ClientId, message: TMessage, refusal: Refusal) -> None:
        """Answer *message* with EventError."""

    def disconnect(self, client: ClientId, reason: str) -> None:
        """Close the client's connection once what is queued for it is written."""

    def user_data_of(self, conn_id: str) -> KVList | None:
        """The UserData of the call *conn_id*, if there is such a call."""

    def authentication_failed(self) -> None:
        """Count one failure (ctiserver_auth_failures_total)."""

    def resume(self, client: ClientId) -> None:
        """The client may send requests again (it was at its in-flight limit)."""

    def client_registered(self, client: ClientId) -> None:
        """The client registered: it no longer gives way at a full door."""


@dataclass(slots=True)
class Session:
    address: str
    registered: bool = False
    application: Application | None = None
    checking: asyncio.Task[None] | None = None
    held: collections.deque[TMessage] = field(default_factory=collections.deque)
    in_flight: int = 0


class Access:
    def __init__(
        self,
        hooks: AccessHooks,
        *,
        directory: Directory,
        user_data_limit: int,
        throttle: FailureThrottle | None = None,
        in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self._hooks = hooks
        self.in_flight = in_flight
        self.directory = directory
        self.user_data_limit = user_data_limit
        self.throttle = throttle or FailureThrottle()
        self._sessions: dict[ClientId, Session] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def opened(self, client: ClientId, address: str) -> None:
        self._sessions[client] = Session(address)

    def closed(self, client: ClientId) -> None:
        session = self._sessions.pop(client, None)
        if session is not None and session.checking is not None:
            session.checking.cancel()

    def registered(self, client: ClientId) -> bool:
        """Whether *client* has registered (and authenticated, when that is asked)."""
        session = self._sessions.get(client)
        return session is not None and session.registered

    def busy(self, client: ClientId) -> bool:
        """Whether *client* has as many requests in flight as it may."""
        session = self._sessions.get(client)
        return session is not None and session.in_flight >= self.in_flight

    def sent(self, client: ClientId) -> None:
        """One of *client*'s requests went to the switch."""
        session = self._sessions.get(client)
        if session is not None:
            session.in_flight += 1

    def switch_answered(self, client: ClientId) -> None:
        """The switch answered one of *client*'s requests (or failed to)."""
        session = self._sessions.get(client)
        if session is None or session.in_flight == 0:
            return
        session.in_flight -= 1
        if session.in_flight == self.in_flight - 1:
            self._hooks.resume(client)

    def application(self, client: ClientId) -> Application | None:
        session = self._sessions.get(client)
        return None if session is None else session.application

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # --- requests ---------------------------------------------------------------------

    def request(self, client: ClientId, message: TMessage) -> None:
        session = self._sessions.get(client)
        if session is None:
            return
        if log.isEnabledFor(logging.DEBUG):  # UserData masked by the service's log filter
            log.debug("request from client %s: %s", client, message)
        if session.checking is not None:
            if len(session.held) >= MAX_HELD:
                self._hooks.disconnect(client, f"sent over {MAX_HELD} requests while registering")
                return
            session.held.append(message)
        elif message["Request"] == "RequestRegisterClient" and self.directory.active:
            session.checking = asyncio.create_task(
                self._authenticate(client, session, message), name=f"authenticate-{client}"
            )
        else:
            self._take(client, session, message)

    def _take(self, client: ClientId, session: Session, message: TMessage) -> None:
        refusal = self._refusal(session, message)
        if refusal is not None:
            log.info(
                "refused %s from client %s (%s): %s",
                message["Request"],
                client,
                session.address,
                refusal.message,
            )
            self._hooks.refuse(client, message, refusal)
            return
        if message["Request"] == "RequestRegisterClient" and not session.registered:
            session.registered = True
            self._hooks.client_registered(client)
        self._hooks.admit(client, message)

    def _refusal(self, session: Session, message: TMessage) -> Refusal | None:
        first = message["Request"] == "RequestRegisterClient"
        if self.directory.active and not session.registered and not first:
            return Refusal(
                TError.CSTA_SECURITY,
                "this server admits only authenticated applications: send "
                "RequestRegisterClient with ApplicationName and ApplicationPassword first",
            )
        refusal = authorize(session.application, message)
        if refusal is None and "UserData" in message:
            existing = self._hooks.user_data_of(str(message.get("ConnID", "")))
            refusal = user_data_refusal(message, existing, self.user_data_limit)
        return refusal

    # --- authentication -----------------------------------------------------------------

    async def _authenticate(self, client: ClientId, session: Session, message: TMessage) -> None:
        loop = asyncio.get_running_loop()
        delay = self.throttle.delay(session.address, loop.time())
        if delay:
            await asyncio.sleep(delay)
        outcome = self.directory.claim(message)
        if isinstance(outcome, Claim):
            matches = await self._check(outcome)
            outcome = self.directory.outcome(outcome, matches)
        if isinstance(outcome, Refusal):
            self._failed(client, session, message, outcome)
            return
        session.application = outcome
        session.checking = None
        self._take(client, session, message)
        while session.held and session.checking is None and client in self._sessions:
            held = session.held.popleft()
            with about(dn=held.get("ThisDN"), conn_id=held.get("ConnID")):
                self.request(client, held)

    async def _check(self, claim: Claim) -> bool:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                CHECKERS, thread_name_prefix="password-check"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.directory.check, claim)

    def _failed(
        self, client: ClientId, session: Session, message: TMessage, refusal: Refusal
    ) -> None:
        name = message.get("ApplicationName")
        log.warning(
            "client %s (%s) failed to authenticate as application %r", client, session.address, name
        )
        self.throttle.failed(session.address, asyncio.get_running_loop().time())
        self._hooks.authentication_failed()
        session.registered = False
        session.held.clear()
        self._hooks.refuse(client, message, refusal)
        self._hooks.disconnect(client, f"failed to authenticate as application {name!r}")
