"""A synchronous driver for SCXML sessions on a virtual clock: the SCXML Event I/O processor.

It owns what the interpreter leaves out: each session's external queue, delayed sends
(timers on a clock that moves only when told to), the routing of `<send>` between
sessions (`#_parent`, `#_<invokeid>`, `#_scxml_<sessionid>`, REC appendix C.1), and the
child sessions of `<invoke>` with their done.invoke events.  Tests and `ctiserver scxml
run` use it directly; an asyncio runtime can do the same with a real clock.

How to drive it:

    driver = Driver(host=Host())
    session = driver.start(document)          # runs to the first stable point
    driver.deliver(session.session_id, Event(name="go"))
    driver.run()                              # process queued events at the current time
    driver.advance(5.0)                       # move the clock, firing delayed sends in order
    ended = driver.run_until_done(session.session_id, timeout=60.0)

Rule 1: nothing here sleeps or reads a clock; time is `Driver.now`, moved by advance(),
advance_to() and run_until_done().  An asyncio runtime gives it real time by calling
advance_to(loop.time()) when next_due() comes round, so the same routing serves both.
Rule 2: sessions with queued events take turns, one external event each, in the order
they became ready, so a run is deterministic.
Rule 3: effects the driver does not know (a host's own) go to `on_effect`.
Rule 4: an invoked child is forgotten once it ends; a top-level session stays until
discard(), so that its outcome can be read.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ctiserver.scxml.content import Fetch
from ctiserver.scxml.document import Document, DocumentError
from ctiserver.scxml.effects import (
    CancelEvent,
    CancelInvoke,
    Effect,
    ForwardEvent,
    SendEvent,
    SessionEnded,
    StartInvoke,
)
from ctiserver.scxml.events import SCXML_IO_PROCESSOR, Event, EventType
from ctiserver.scxml.host import Host
from ctiserver.scxml.interpreter import SCXML_INVOKE_TYPE, Session
from ctiserver.scxml.loader import fetch_file, load_document
from ctiserver.scxml.parser import parse_document
from ctiserver.scxml.values import Value, XmlValue

EffectHandler = Callable[[str, Effect], None]


@dataclass(slots=True)
class _Entry:
    """A session the driver runs, with its queue and its place in the invoke tree."""

    session: Session
    queue: deque[Event] = field(default_factory=deque)
    parent: str | None = None
    invoke_id: str = ""
    children: dict[str, str] = field(default_factory=dict)
    ended: SessionEnded | None = None
    cancelled: bool = False
    hosted: set[str] = field(default_factory=set)


@dataclass(order=True, slots=True)
class _Timer:
    """A delayed send; cancelled timers stay in the heap until they reach its top."""

    due: float
    sequence: int
    session_id: str = field(compare=False)
    send: SendEvent = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Driver:
    """Runs SCXML sessions, with their invocations, on a virtual clock.

    Args:
        host: what every session gets (custom actions, limits, …).
        fetch: reads `src` URLs for invocations; local files only by default.
        on_effect: called with (session id, effect) for effects the driver does not
            handle itself, and for every WriteLog, PlatformError and SessionEnded.  It
            may deliver() events but must not call run() or advance(): the driver is in
            the middle of applying effects.
        now: the clock's starting time, in seconds.
    """

    def __init__(
        self,
        *,
        host: Host | None = None,
        fetch: Fetch = fetch_file,
        on_effect: EffectHandler | None = None,
        now: float = 0.0,
    ) -> None:
        self.host = host if host is not None else Host()
        self.now = now
        self._fetch = fetch
        self._on_effect = on_effect
        self._entries: dict[str, _Entry] = {}
        self._timers: list[_Timer] = []
        self._timers_of: dict[str, dict[str, list[_Timer]]] = {}
        self._ready: deque[str] = deque()
        self._sequence = itertools.count()

    # --- sessions -------------------------------------------------------------------------

    def start(
        self,
        document: Document,
        *,
        session_id: str | None = None,
        globals: Mapping[str, Value] | None = None,
        params: Mapping[str, Value] | None = None,
    ) -> Session:
        """Create a top-level session and run it to its first stable point; *params*
        replace the initial values of the top-level `<data>` of the same id.

        Raises:
            ValueError: *session_id* is already in use.
        """
        session_id = session_id or uuid.uuid4().hex
        if session_id in self._entries:
            raise ValueError(f"session id {session_id!r} is already in use")
        session = Session(
            document,
            session_id=session_id,
            host=self.host,
            globals=globals,
            params=params,
            reachable=self._reachability(session_id),
        )
        self._entries[session.session_id] = _Entry(session)
        self._apply(session.session_id, session.start(self.now))
        return session

    def session(self, session_id: str) -> Session:
        """The session *session_id*.  Raises KeyError."""
        return self._entries[session_id].session

    def ended(self, session_id: str) -> SessionEnded | None:
        """How the session ended, or None while it runs."""
        return self._entries[session_id].ended

    def deliver(self, session_id: str, event: Event) -> None:
        """Put an external event on a session's queue; run() processes it.  Raises KeyError."""
        self._enqueue(session_id, self._entries[session_id], event)

    def discard(self, session_id: str) -> None:
        """Forget a top-level session, cancelling it first if it still runs."""
        entry = self._entries.get(session_id)
        if entry is None:
            return
        if entry.ended is None:
            entry.cancelled = True
            self._apply(session_id, entry.session.cancel(self.now))
        self._forget(session_id)

    def _enqueue(self, session_id: str, entry: _Entry, event: Event) -> None:
        if not entry.queue:
            self._ready.append(session_id)
        entry.queue.append(event)

    # --- time and work --------------------------------------------------------------------

    def run(self) -> None:
        """Process queued external events, at the current time, until every queue is empty."""
        while self._ready:
            session_id = self._ready.popleft()
            entry = self._entries.get(session_id)
            if entry is None or not entry.queue:
                continue
            event = entry.queue.popleft()
            if entry.queue:
                self._ready.append(session_id)
            self._apply(session_id, entry.session.receive(event, self.now))

    def next_due(self) -> float | None:
        """When the next delayed send is due, or None."""
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].due if self._timers else None

    def advance(self, seconds: float) -> None:
        """Move the clock *seconds* forward; see advance_to()."""
        self.advance_to(self.now + seconds)

    def advance_to(self, when: float) -> None:
        """Move the clock to *when*, delivering delayed sends in due order as it passes them."""
        self.run()
        while (due := self.next_due()) is not None and due <= when:
            self.now = max(self.now, due)
            self._fire_due()
            self.run()
        self.now = max(self.now, when)

    def run_until_done(self, session_id: str, *, timeout: float = 3600.0) -> SessionEnded | None:
        """Run, jumping the clock from timer to timer, until the session ends.

        Returns how it ended, or None if it is still running when nothing is left to do
        or *timeout* seconds of virtual time have passed.  Raises KeyError.
        """
        deadline = self.now + timeout
        entry = self._entries[session_id]
        self.run()
        while entry.ended is None:
            due = self.next_due()
            if due is None or due > deadline:
                return None
            self.now = max(self.now, due)
            self._fire_due()
            self.run()
        return entry.ended

    def _fire_due(self) -> None:
        while (due := self.next_due()) is not None and due <= self.now:
            timer = heapq.heappop(self._timers)
            self._unschedule(timer)  # timers of forgotten sessions were cancelled
            self._route(timer.session_id, replace(timer.send, due=None))

    # --- effects --------------------------------------------------------------------------

    def _apply(self, session_id: str, effects: list[Effect]) -> None:
        for effect in effects:
            self._apply_one(session_id, effect)

    def _apply_one(self, session_id: str, effect: Effect) -> None:
        match effect:
            case SendEvent(due=due) if due is not None and due > self.now:
                self._schedule(session_id, effect)
            case SendEvent():
                self._route(session_id, effect)
            case CancelEvent(send_id=send_id):
                # REC 6.3: cancel this session's pending sends of that id, if any.
                for timer in self._timers_of.get(session_id, {}).pop(send_id, []):
                    timer.cancelled = True
            case StartInvoke() if effect.type != SCXML_INVOKE_TYPE:
                self._invoke_hosted(session_id, effect)
            case StartInvoke():
                self._invoke(session_id, effect)
            case CancelInvoke() | ForwardEvent() if (
                effect.invoke_id in self._entries[session_id].hosted
            ):
                self._pass_to_host(session_id, effect)
            case CancelInvoke(invoke_id=invoke_id):
                self._cancel_child(session_id, invoke_id)
            case ForwardEvent():
                self._forward(session_id, effect)
            case SessionEnded():
                self._ended(session_id, effect)
            case _:  # WriteLog, PlatformError and the host's own effects
                if self._on_effect is not None:
                    self._on_effect(session_id, effect)

    def _schedule(self, session_id: str, send: SendEvent) -> None:
        timer = _Timer(send.due or self.now, next(self._sequence), session_id, send)
        self._timers_of.setdefault(session_id, {}).setdefault(send.send_id, []).append(timer)
        heapq.heappush(self._timers, timer)

    def _unschedule(self, timer: _Timer) -> None:
        timers = self._timers_of[timer.session_id]
        same_id = timers[timer.send.send_id]
        same_id.remove(timer)
        if not same_id:
            del timers[timer.send.send_id]

    def _cancel_timers(self, session_id: str) -> None:
        for timers in self._timers_of.pop(session_id, {}).values():
            for timer in timers:
                timer.cancelled = True

    def _route(self, session_id: str, send: SendEvent) -> None:
        """Deliver a send now (the SCXML Event I/O processor, REC C.1)."""
        entry = self._entries[session_id]
        if entry.cancelled:
            return  # its last words must not reach anyone (REC 6.4.1)
        if send.type != SCXML_IO_PROCESSOR:
            if self._on_effect is not None:
                self._on_effect(session_id, send)
                return
            self._undeliverable(session_id, send, f"no I/O processor for type {send.type!r}")
            return
        target_id = self._target_session(entry, send.target)
        target = self._entries.get(target_id) if target_id is not None else None
        if target_id is None or target is None or target.ended is not None:
            self._undeliverable(session_id, send, f"target {send.target!r} is unreachable")
            return
        event = send.event
        if target_id == entry.parent:
            # REC 5.10.1: events from an invoked child carry the invokeid.
            event = replace(event, invokeid=entry.invoke_id)
        self._enqueue(target_id, target, event)

    def _reachability(self, session_id: str) -> Callable[[str, str], bool]:
        def reachable(target: str, kind: str) -> bool:
            if kind != SCXML_IO_PROCESSOR:
                return True  # the host's I/O processor reports its own failures
            entry = self._entries[session_id]  # registered before it starts
            target_id = self._target_session(entry, target)
            found = self._entries.get(target_id) if target_id is not None else None
            return found is not None and found.ended is None

        return reachable

    def _target_session(self, entry: _Entry, target: str) -> str | None:
        if target == "":
            return entry.session.session_id
        if target == "#_parent":
            return entry.parent
        if target.startswith("#_scxml_"):
            return target.removeprefix("#_scxml_")
        # The interpreter let through only "#_<invokeid>" besides the above.
        return entry.children.get(target.removeprefix("#_"))

    def _undeliverable(self, session_id: str, send: SendEvent, message: str) -> None:
        session = self._entries[session_id].session
        self._apply(session_id, session.communication_error(send.send_id, message, self.now))

    # --- invocations ----------------------------------------------------------------------

    def _invoke_hosted(self, parent_id: str, start: StartInvoke) -> None:
        """An invoke type of the host's (Host.invoke_types): the host runs it.

        The host answers through deliver(), with events whose invokeid is the invoke id,
        ending with done.invoke.<id>; it also gets the CancelInvoke and ForwardEvent
        effects of that invocation.
        """
        parent = self._entries[parent_id]
        if self._on_effect is None:
            message = f"no host runs invoke type {start.type!r}"
            self._apply(parent_id, parent.session.invoke_failed(start.invoke_id, message, self.now))
            return
        parent.hosted.add(start.invoke_id)
        self._on_effect(parent_id, start)

    def _pass_to_host(self, session_id: str, effect: CancelInvoke | ForwardEvent) -> None:
        if isinstance(effect, CancelInvoke):
            self._entries[session_id].hosted.discard(effect.invoke_id)
        if self._on_effect is not None:
            self._on_effect(session_id, effect)

    def _forward(self, session_id: str, forward: ForwardEvent) -> None:
        child_id = self._entries[session_id].children.get(forward.invoke_id)
        if child_id is not None:  # a child that has finished gets nothing more
            self._enqueue(child_id, self._entries[child_id], forward.event)

    def _invoke(self, parent_id: str, start: StartInvoke) -> None:
        parent = self._entries[parent_id]
        try:
            document = self._invoked_document(parent.session, start)
        except DocumentError as exc:
            failed = parent.session.invoke_failed(start.invoke_id, str(exc), self.now)
            self._apply(parent_id, failed)
            return
        child_id = uuid.uuid4().hex
        child = Session(
            document,
            session_id=child_id,
            host=self.host,
            params=start.params,
            reachable=self._reachability(child_id),
        )
        self._entries[child_id] = _Entry(child, parent=parent_id, invoke_id=start.invoke_id)
        parent.children[start.invoke_id] = child_id
        self._apply(child_id, child.start(self.now))

    def _invoked_document(self, parent: Session, start: StartInvoke) -> Document:
        if start.document is not None:
            return start.document
        if start.src is not None:
            return load_document(start.src, fetch=self._fetch, datamodels=self.host.datamodel_names)
        content = start.content
        if isinstance(content, XmlValue):
            content = content.source
        if isinstance(content, str):
            return parse_document(
                content.encode(),
                base_url=parent.document.base_url,
                fetch=self._fetch,
                datamodels=self.host.datamodel_names,
            )
        raise DocumentError("<invoke> has neither src nor SCXML content")

    def _cancel_child(self, parent_id: str, invoke_id: str) -> None:
        child_id = self._entries[parent_id].children.pop(invoke_id, None)
        if child_id is None:
            return
        child = self._entries[child_id]
        child.cancelled = True
        self._apply(child_id, child.session.cancel(self.now))
        self._forget(child_id)

    def _ended(self, session_id: str, ended: SessionEnded) -> None:
        entry = self._entries[session_id]
        entry.ended = ended
        entry.queue.clear()
        self._cancel_timers(session_id)
        if self._on_effect is not None:
            self._on_effect(session_id, ended)
        if entry.parent is None or entry.cancelled:
            return
        self._child_ended(entry.parent, self._entries[entry.parent], entry.invoke_id, ended)
        self._forget(session_id)

    def _child_ended(
        self, parent_id: str, parent: _Entry, invoke_id: str, ended: SessionEnded
    ) -> None:
        del parent.children[invoke_id]
        if ended.final is None:
            # The child ran away (or failed) without a final state: tell its invoker.
            failed = parent.session.invoke_failed(invoke_id, ended.reason, self.now)
            self._apply(parent_id, failed)
            return
        # REC 6.4: done.invoke.<id>, after every other event from the child.
        done = Event(
            name=f"done.invoke.{invoke_id}",
            type=EventType.EXTERNAL,
            invokeid=invoke_id,
            data=ended.donedata,
        )
        self._enqueue(parent_id, parent, done)

    def _forget(self, session_id: str) -> None:
        """Drop a session from routing and cancel its timers.

        Its children are gone already: ending a session cancels its invocations.
        """
        self._entries.pop(session_id).session.close()
        self._cancel_timers(session_id)
