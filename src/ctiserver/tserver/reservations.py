"""Agent reservation (docs/agents.md, Agent reservation): RequestReserveAgent reserves
an agent, named by its DN (ThisDN), AgentID or Place, for the client that asks, so that
several routers do not pick the same agent; the answer is EventAgentReserved, or
EventError 1700 for the clients that lost.

The T-Server's own feature (no switch has it); its options are the Genesys
[agent-reservation] section (tserver.feature_options.ReservationOptions):
- requests for the same agent are collected for request-collection-time; then the one
  of the highest Priority that came first wins (Genesys picks one of them at random),
  and the others fail.  With collect-lower-priority-requests off, a request of lower
  priority than one collected fails at once, and one of higher priority fails those
  collected before it.
- a reservation lasts Timeout milliseconds (-1, or none given: reservation-time); a
  Timeout of 0 cancels the client's reservation.  Asking again for an agent one holds
  fails, unless reject-subsequent-request is off: then it sets a new duration.
- a reservation never stops the agent from changing state or getting calls.

Granted reservations are in the model (they survive a switchover, held by the client's
ClientSessionID); requests being collected are not (a request in flight at a switchover
gets EventError 57 like any other).

An ISCC transaction of RequestReserveAgentAndGetAccessNumber holds an agent too (hold,
release: tserver.iscc.destination), as its holder (iscc.transactions.agent_holder): it
is decided at once, not collected, because the other site waits for its access number;
it loses to any reservation held or being collected for the same DN, agent or place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, DeviceId
from ctiserver.model.changes import Change
from ctiserver.model.model import Model
from ctiserver.model.states import DnKind
from ctiserver.model.values import Reservation
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.errors import DnNotConfigured, InvalidAttribute, RequestRefused
from ctiserver.tserver.events import ack_event, error_event
from ctiserver.tserver.port import Core, CoreSettings, RequestContext, Requester

DEFAULT_TIMEOUT = -1  # the reservation-time option


class AgentAlreadyReserved(RequestRefused):
    code = TError.AGENT_ALREADY_RESERVED


class Host(Protocol):
    @property
    def settings(self) -> CoreSettings: ...

    def change(self, changes: list[Change], at: Instant) -> None: ...

    def send(
        self,
        event: TMessage,
        clients: Iterable[ClientId],
        at: Instant,
        *,
        answering: Requester | None = None,
    ) -> None: ...

    def session_of(self, client: ClientId) -> str | None: ...


@dataclass(slots=True)
class Candidate:
    """One RequestReserveAgent waiting for its collection to end."""

    client: ClientId
    reference_id: int
    wanted: Reservation  # its `until` is set when granted
    duration: float  # seconds
    priority: int


@dataclass(slots=True)
class Collection:
    due: float  # monotonic
    candidates: list[Candidate] = field(default_factory=list)

    def overlaps(self, wanted: Reservation) -> bool:
        return any(c.wanted.overlaps(wanted) for c in self.candidates)


class ReservationDesk:
    def __init__(self, host: Host, model: Model) -> None:
        self._host = host
        self._model = model
        self._options = host.settings.reservations
        self._collections: list[Collection] = []

    # --- requests ----------------------------------------------------------------------

    def ask(self, candidate: Candidate, at: Instant) -> None:
        """A checked RequestReserveAgent (duration 0: cancel)."""
        if candidate.duration == 0:
            self._cancel(candidate, at)
            return
        held = [r for r in self._model.reservations.values() if r.overlaps(candidate.wanted)]
        if held:
            self._again(candidate, held, at)
            return
        self._collect(candidate, at)

    def _cancel(self, candidate: Candidate, at: Instant) -> None:
        wanted = candidate.wanted
        mine = self._model.reservations.get(wanted.key)
        if mine is None or mine.holder != wanted.holder:
            text = f"this client holds no reservation of {_named(wanted)} to cancel"
            self._fail(candidate, text, at, code=TError.INVALID_ATTR)
            return
        self._host.change(self._model.reserve(mine, reserved=False), at)
        self._answer(candidate, ack_event(wanted.dn), at)

    def _again(self, candidate: Candidate, held: list[Reservation], at: Instant) -> None:
        """The agent is reserved already: by this client for a new duration (when
        reject-subsequent-request is off), else a failure."""
        wanted = candidate.wanted
        mine = held[0] if len(held) == 1 else None
        if mine is None or mine.holder != wanted.holder:
            self._fail(candidate, f"{_named(wanted)} is reserved by another client", at)
        elif self._options.reject_subsequent_request or not mine.same_entities(wanted):
            self._fail(candidate, f"{_named(wanted)} is reserved by this client already", at)
        else:
            self._grant(candidate, at)

    def _collect(self, candidate: Candidate, at: Instant) -> None:
        collection = next((c for c in self._collections if c.overlaps(candidate.wanted)), None)
        if collection is None:
            due = at.monotonic + self._options.request_collection_time
            collection = Collection(due)
            self._collections.append(collection)
        if not self._options.collect_lower_priority_requests and collection.candidates:
            best = max(c.priority for c in collection.candidates)
            if candidate.priority < best:
                self._fail(candidate, "a request of higher priority is being served", at)
                return
            if candidate.priority > best:
                for beaten in collection.candidates:
                    self._fail(beaten, "a request of higher priority came", at)
                collection.candidates.clear()
        collection.candidates.append(candidate)
        if self._options.request_collection_time <= 0:
            self.tick(at)

    # --- ISCC ----------------------------------------------------------------------------

    def hold(self, wanted: Reservation, at: Instant) -> str | None:
        """Reserve *wanted* for an ISCC transaction, until `wanted.until`; or say why not."""
        held = [r for r in self._model.reservations.values() if r.overlaps(wanted)]
        if held:
            return f"{_named(wanted)} is reserved already"
        if any(c.overlaps(wanted) for c in self._collections):
            return f"{_named(wanted)} is being reserved by another request"
        self._host.change(self._model.reserve(wanted), at)
        return None

    def release(self, holder: str, at: Instant) -> None:
        """End the reservations *holder* holds (its transaction ended)."""
        for reservation in [r for r in self._model.reservations.values() if r.holder == holder]:
            self._host.change(self._model.reserve(reservation, reserved=False), at)

    # --- time --------------------------------------------------------------------------

    def tick(self, at: Instant) -> None:
        """Collections whose time is over: grant one request each; reservations that
        have lapsed end."""
        due = [c for c in self._collections if c.due <= at.monotonic]
        for collection in due:
            self._collections.remove(collection)
            self._decide(collection, at)
        for reservation in list(self._model.reservations.values()):
            if reservation.until <= at.wall:
                self._host.change(self._model.reserve(reservation, reserved=False), at)

    def _decide(self, collection: Collection, at: Instant) -> None:
        candidates = collection.candidates
        top = max(c.priority for c in candidates)
        winner = next(c for c in candidates if c.priority == top)  # the first to come
        for candidate in candidates:
            if candidate is winner:
                held = [r for r in self._model.reservations.values() if r.overlaps(winner.wanted)]
                if held:  # another collection was granted the agent meanwhile
                    self._again(winner, held, at)
                else:
                    self._grant(winner, at)
            else:
                self._fail(
                    candidate, f"{_named(candidate.wanted)} was reserved for another request", at
                )

    def next_deadline(self) -> float | None:
        """The monotonic time the first collection ends."""
        return min((c.due for c in self._collections), default=None)

    def next_due(self) -> float | None:
        """The wall time the first reservation lapses."""
        return min((r.until for r in self._model.reservations.values()), default=None)

    # --- answers -----------------------------------------------------------------------

    def _grant(self, candidate: Candidate, at: Instant) -> None:
        granted = replace(candidate.wanted, until=at.wall + candidate.duration)
        self._host.change(self._model.reserve(granted), at)
        self._answer(candidate, reserved_event(granted), at)

    def _fail(
        self,
        candidate: Candidate,
        message: str,
        at: Instant,
        *,
        code: TError = TError.AGENT_ALREADY_RESERVED,
    ) -> None:
        event = error_event(candidate.reference_id, code, message, dn=candidate.wanted.dn)
        self._host.send(event, (candidate.client,), at)

    def _answer(self, candidate: Candidate, event: TMessage, at: Instant) -> None:
        event["ReferenceID"] = candidate.reference_id
        self._host.send(event, (candidate.client,), at)


def reserved_event(reservation: Reservation) -> TMessage:
    """EventAgentReserved: the entities reserved, as the request named them."""
    event: TMessage = {"Event": "EventAgentReserved"}
    if reservation.dn is not None:
        event["ThisDN"] = reservation.dn
    if reservation.agent_id:
        event["AgentID"] = reservation.agent_id
    if reservation.place:
        event["Place"] = reservation.place
    return event


def _named(wanted: Reservation) -> str:
    parts = [
        f"DN {wanted.dn}" if wanted.dn else "",
        f"agent {wanted.agent_id}" if wanted.agent_id else "",
        f"place {wanted.place}" if wanted.place else "",
    ]
    return ", ".join(p for p in parts if p)


# --- the request -----------------------------------------------------------------------------


def reserve_agent(core: Core, ctx: RequestContext) -> None:
    message = ctx.message
    dn = message.get("ThisDN")
    agent_id, place = message.get("AgentID", ""), message.get("Place", "")
    if dn is None and not agent_id and not place:
        raise InvalidAttribute("RequestReserveAgent names the agent: ThisDN, AgentID or Place")
    if dn is not None:
        kind = core.model.kind(DeviceId(dn))
        if kind is None:
            raise DnNotConfigured(dn)
        if kind is not DnKind.EXTENSION:
            raise InvalidAttribute(f"agents are reserved on extensions; {dn} is a {kind.value}")
    timeout = message.get("Timeout", DEFAULT_TIMEOUT)
    if timeout < -1:
        raise InvalidAttribute("Timeout is milliseconds, 0 to cancel, or -1 for reservation-time")
    duration = core.settings.reservations.reservation_time if timeout == -1 else timeout / 1000
    session = core.session_of(ctx.client) or ""
    wanted = Reservation(
        None if dn is None else DeviceId(dn), agent_id, place, holder=session, until=0.0
    )
    core.reserve(ctx, wanted, duration, message.get("Priority", 0))


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestReserveAgent": reserve_agent,
}
