"""The orchestration server as a pure object: T-Library events and the clock in, the
T-Library requests to send out.  It owns the SCXML driver and every session in it.

    core = Orchestrator(settings=…, strategies={"5000": document}, now=loop.time())
    out = core.link_up("a", now)            # RequestRegisterAddress for every DN followed
    out = core.on_event("a", event, now)    # EventRouteRequest starts a session, …
    out = core.advance_to(now)              # delayed <send>s, request timeouts
    out = core.fetched(result, now)         # the answer to a <session:fetch>
    core.next_due()                         # when advance_to() has work next

Each input returns what the shell must do: SendRequest(link, message), whose message
already carries its ReferenceID, and FetchRequest (an HTTP request).  `runtime.py` does
them and feeds events and answers back.  What the core knows of each connection is a
Link (links.py).  Sessions also start without a call (start_session(), the REST
interface), and take events from outside (send_event()).

Rule 1: the core never waits.  A request is a pending entry with a deadline; its answer
(the event carrying its ReferenceID) or its deadline resolves it into exactly one result
event for the session: `<prefix>.done` or `error.<prefix>` (outcomes.py).
Rule 2: an event is taken in this order: the call book (calls.py), then the answer to a
pending request, then what the call facts mean for sessions (a new session, a moved or
deleted interaction); a strategy thus sees `voice.*.done` before the
`interaction.deleted` the same event caused.
Rule 3: sessions run in the driver; their action elements come back as ActionRequest
effects, performed after the driver's run, and the loop goes on until no session has
anything left to do at this instant.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Final

from ctiserver.orchestration.calls import (
    CallChanged,
    CallEnded,
    CallFact,
    CallsMerged,
    DnType,
    PartyStateChanged,
    RouteRequested,
)
from ctiserver.orchestration.deadlines import Deadlines
from ctiserver.orchestration.dialog import DIALOG_NAMESPACES, Treatment
from ctiserver.orchestration.directory import Directory
from ctiserver.orchestration.elements import (
    INTERACTION_NAMESPACES,
    QUEUE_NAMESPACES,
    ActionElements,
    ActionRequest,
    RequestIds,
)
from ctiserver.orchestration.genesys import (
    INTERACTIONS_GLOBAL,
    PRELUDE,
    SESSION_GLOBAL,
    STATISTICS_FUNCTION,
    STATISTICS_GLOBAL,
    interaction_view,
    session_view,
)
from ctiserver.orchestration.interactions import Interaction, Interactions
from ctiserver.orchestration.links import CoreSettings, Link, Output, Pending, SendRequest
from ctiserver.orchestration.outcomes import (
    Action,
    ErrorValue,
    done_event,
    error_event,
    error_value,
)
from ctiserver.orchestration.selection import Pool, Selection, select, selection_data
from ctiserver.orchestration.settings import DirectorySettings
from ctiserver.orchestration.statistics import VirtualQueues, known, snapshot
from ctiserver.orchestration.submissions import Submission, Submissions
from ctiserver.orchestration.treating import Ending, Running, Treating, treatment_message
from ctiserver.orchestration.voice import Planned, Refused, plan, route_message
from ctiserver.orchestration.web_elements import (
    SESSION_NAMESPACES,
    FetchError,
    FetchRequest,
    FetchResult,
    SessionElements,
)
from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.datamodel import DataModel
from ctiserver.scxml.document import Document, mentions
from ctiserver.scxml.driver import Driver
from ctiserver.scxml.ecmascript import EcmaScriptDataModel, Limits
from ctiserver.scxml.ecmascript_pool import ContextPool
from ctiserver.scxml.effects import Effect, PlatformError, SessionEnded, WriteLog
from ctiserver.scxml.events import Event, any_descriptor_matches
from ctiserver.scxml.host import Host
from ctiserver.scxml.values import Value
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import TMessage

log = logging.getLogger(__name__)

DEFAULT_SUBMIT_TIMEOUT: Final = 60.0
PARTY_STATE_CHANGED: Final = "interaction.partystate.changed"


DeadlineKey = tuple[str, str, int] | tuple[str, str]
FETCH_GRACE: Final = 1.0  # the shell times a fetch out itself; this is the backstop
Observer = Callable[[str, Effect], None]


class Orchestrator:
    """See the module docstring.

    Args:
        links: a name for each CTI server connection.
        observer: called with each session's WriteLog, PlatformError and SessionEnded
            (the core logs them too): for metrics and tests.
    """

    def __init__(
        self,
        *,
        settings: CoreSettings,
        strategies: Mapping[str, Document],
        now: float,
        links: tuple[str, ...] = ("main",),
        locations: Mapping[str, str] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.settings = settings
        self._observer = observer
        self.strategies: dict[str, Document] = {}
        self._party_events: dict[str, bool] = {}
        self._statistics: dict[str, bool] = {}
        self.reconfigure(strategies=strategies)
        registry = ActionRegistry()
        ids = RequestIds()
        elements = ActionElements(ids)
        registry.register(INTERACTION_NAMESPACES, elements)
        registry.register(QUEUE_NAMESPACES, elements)
        registry.register(DIALOG_NAMESPACES, elements)
        registry.register(SESSION_NAMESPACES, SessionElements(ids))
        host = Host(
            actions=registry,
            limits=settings.limits,
            preludes=(PRELUDE,),
            max_steps=settings.max_steps,
            datamodels=_pooled(settings),
        )
        self.driver = Driver(host=host, on_effect=self._effect, now=now)
        self.interactions = Interactions()
        locations = locations or {}
        self.links = {name: Link(name, locations.get(name)) for name in links}
        self.directory = Directory(settings.directory)
        self.queues = VirtualQueues()
        self._submissions = Submissions()
        self._treating = Treating()
        self._deadlines: Deadlines[DeadlineKey] = Deadlines()
        self._requested: list[tuple[str, ActionRequest]] = []
        self._ended: list[str] = []
        self._showing_gone: set[str] = set()
        self._stale_statistics: set[str] = set()  # sessions to show statistics to
        self._out: list[Output] = []
        self._fetches: dict[str, str] = {}  # request id → session id
        self.now = now

    # --- inputs ---------------------------------------------------------------------------

    def reconfigure(
        self,
        *,
        strategies: Mapping[str, Document] | None = None,
        directory: DirectorySettings | None = None,
    ) -> None:
        """New strategies (for the sessions that start from now on) or a new directory."""
        if strategies is not None:
            self.strategies = dict(strategies)
            self._party_events = {
                point: _listens(doc, PARTY_STATE_CHANGED) for point, doc in strategies.items()
            }
            self._statistics = {
                point: mentions(doc, STATISTICS_FUNCTION) for point, doc in strategies.items()
            }
        if directory is not None:
            self.directory.replace(directory)

    def reconfigured(
        self,
        now: float,
        *,
        strategies: Mapping[str, Document] | None = None,
        directory: DirectorySettings | None = None,
    ) -> list[Output]:
        """reconfigure() at run time: waiting calls may have new targets now."""
        self._at(now)
        self.reconfigure(strategies=strategies, directory=directory)
        if self._submissions:
            self._dispatch()
        self._settle()
        return self._take_out()

    def link_up(self, link: str, now: float) -> list[Output]:
        """Connected and registered as a client: register every DN to follow."""
        self._at(now)
        state = self.links[link]
        state.up = True
        for dn in dict.fromkeys((*self.settings.register, *self.strategies)):
            reference = self._send(state, {"Request": "RequestRegisterAddress", "ThisDN": dn})
            state.registering[reference] = dn
        return self._take_out()

    def link_down(self, link: str, now: float) -> list[Output]:
        """The connection is gone: every request on it fails, every call on it ends."""
        self._at(now)
        state = self.links[link]
        state.up = False
        state.registering.clear()
        for reference in list(state.pending):
            self._fail(state, reference, ErrorValue.INVALID_SERVER, "the CTI server went away")
        for submission in self._submissions.of_link(link):
            self._fail_submission(submission, ErrorValue.INVALID_SERVER, "the CTI server went away")
        for running in self._treating.of_link(link):
            gone = Ending(ErrorValue.INVALID_SERVER, "the CTI server went away")
            self._treatment_over(running, gone)
        self._facts(state, state.calls.clear())
        state.calls.take_touched()
        state.agents.clear()
        self._settle()
        return self._take_out()

    def on_event(self, link: str, event: TMessage, now: float) -> list[Output]:
        self._at(now)
        state = self.links[link]
        state.server = event.get("Server", state.server)
        name = event.get("Event", "")
        if name == "EventRegistered" or (
            name == "EventError" and self._registration_failed(state, event)
        ):
            self._registered(state, event)
        agents_changed = state.agents.apply(event, now)
        facts = state.calls.apply(event)
        state.agents.call_event(event)
        for dn in state.calls.take_touched():
            agents_changed |= state.agents.dn_busy(dn, state.calls.busy(dn), now)
        reference = event.get("ReferenceID")
        if reference is not None and reference in state.pending:
            self._answer(state, reference, event)
        if self._treating:
            self._treatment_event(state, event)
        self._facts(state, facts)
        if self._submissions and (agents_changed or facts):
            self._dispatch()
        self._settle()
        return self._take_out()

    def send_failed(self, link: str, reference: int, now: float) -> list[Output]:
        """The runtime could not write the request *reference*: the link is down."""
        self._at(now)
        state = self.links[link]
        if reference in state.pending:
            self._fail(state, reference, ErrorValue.INVALID_SERVER, "the request was not sent")
        self._settle()
        return self._take_out()

    def advance_to(self, now: float) -> list[Output]:
        self._at(now)
        self._settle()
        return self._take_out()

    def fetched(self, result: FetchResult, now: float) -> list[Output]:
        """The answer to a FetchRequest; one that comes after its deadline is ignored."""
        self._at(now)
        session_id = self._fetches.pop(result.request_id, None)
        if session_id is not None:
            self._deadlines.cancel(("fetch", result.request_id))
            self._deliver(session_id, fetch_event(result))
        self._settle()
        return self._take_out()

    def start_session(
        self, document: Document, now: float, params: Mapping[str, Value] | None = None
    ) -> tuple[str, list[Output]]:
        """A session with no call (the REST interface); *params* set its `<data>`."""
        self._at(now)
        if len(self.interactions.sessions) >= self.settings.max_sessions:
            raise SessionRefused(f"{len(self.interactions.sessions)} sessions run already")
        session_id = uuid.uuid4().hex
        self.interactions.open_session(
            session_id,
            "",
            None,
            party_events=_listens(document, PARTY_STATE_CHANGED),
            statistics=mentions(document, STATISTICS_FUNCTION),
        )
        globals: dict[str, Value] = {
            SESSION_GLOBAL: session_view(session_id, None, self.settings.name),
            INTERACTIONS_GLOBAL: {},
        }
        self.driver.start(document, session_id=session_id, globals=globals, params=params)
        self._settle()
        return session_id, self._take_out()

    def send_event(self, session_id: str, event: Event, now: float) -> list[Output]:
        """An event from outside (the REST interface).  Raises KeyError: no such session."""
        self._at(now)
        if session_id not in self.interactions.sessions:
            raise KeyError(session_id)
        self._deliver(session_id, event)
        self._settle()
        return self._take_out()

    def terminate(self, session_id: str, now: float) -> list[Output]:
        """End a session at once.  Raises KeyError: no such session."""
        self._at(now)
        if session_id not in self.interactions.sessions:
            raise KeyError(session_id)
        log.info("session %s: terminated on request", session_id)
        self._finish(session_id)
        self.driver.discard(session_id)
        self._settle()
        return self._take_out()

    def registered(self, link: str) -> bool:
        """True once *link* is up and every registration has been answered."""
        state = self.links[link]
        return state.up and not state.registering

    def next_due(self) -> float | None:
        dues = [
            due for due in (self.driver.next_due(), self._deadlines.next_due()) if due is not None
        ]
        return min(dues) if dues else None

    # --- time -----------------------------------------------------------------------------

    def _at(self, now: float) -> None:
        """Move to *now*: fire the driver's delayed sends and our deadlines in due order."""
        while True:
            driver_due = self.driver.next_due()
            own_due = self._deadlines.next_due()
            if (
                own_due is not None
                and own_due <= now
                and (driver_due is None or own_due <= driver_due)
            ):
                self.driver.advance_to(own_due)
                self.now = max(self.now, own_due)
                for key in self._deadlines.expired(own_due):
                    self._expired(key)
                self._settle()
                continue
            self.driver.advance_to(now)
            self.now = max(self.now, now)
            self._settle()
            return

    def _expired(self, key: DeadlineKey) -> None:
        match key:
            case ("request", link, int(reference)):
                state = self.links[link]
                entry = state.pending.get(reference)
                if entry is not None:
                    seconds = self.settings.request_timeout
                    name = entry.planned.message.get("Request", "")
                    self._fail(
                        state,
                        reference,
                        ErrorValue.TIMEOUT,
                        f"no answer to {name} in {seconds:g} s",
                    )
            case ("submit", request_id):
                submission = self._submissions.get(request_id)
                if submission is not None:
                    self._fail_submission(
                        submission, ErrorValue.TIMEOUT, "no target became free in time"
                    )
            case ("fetch", request_id):
                session_id = self._fetches.pop(request_id, None)
                if session_id is not None:
                    late = FetchResult(
                        request_id=request_id,
                        error=FetchError.TIMEOUT,
                        description="no answer in time",
                    )
                    self._deliver(session_id, fetch_event(late))
            case ("orphan", session_id):
                record = self.interactions.sessions.get(session_id)
                if record is not None and not record.interactions:
                    log.info("session %s: no interaction left; ended", session_id)
                    self._finish(session_id)
                    self.driver.discard(session_id)

    # --- sessions -------------------------------------------------------------------------

    def _start(self, state: Link, conn_id: str, point: str) -> None:
        document = self.strategies.get(point)
        if document is None:
            return
        if len(self.interactions.sessions) >= self.settings.max_sessions:
            log.warning(
                "routing point %s: %d sessions run already; call %s left to the switch",
                point,
                len(self.interactions.sessions),
                conn_id,
            )
            return
        session_id = uuid.uuid4().hex
        self.interactions.open_session(
            session_id,
            state.name,
            point,
            party_events=self._party_events[point],
            statistics=self._statistics[point],
        )
        interaction = self.interactions.add(session_id, state.name, conn_id, routing_point=point)
        globals: dict[str, Value] = {
            SESSION_GLOBAL: session_view(session_id, point, self.settings.name),
            INTERACTIONS_GLOBAL: self._views(session_id),
        }
        self.interactions.dirty.discard(session_id)
        self.driver.start(document, session_id=session_id, globals=globals)
        added: dict[str, Value] = {"interactionid": interaction.id, "focusdeviceid": point}
        self._deliver(session_id, Event(name="interaction.added", data=added))

    def _views(self, session_id: str) -> Value:
        record = self.interactions.sessions[session_id]
        views: dict[str, Value] = {}
        for interaction_id in record.interactions:
            interaction = self.interactions.by_id[interaction_id]
            book = self.links[interaction.link].calls
            views[interaction_id] = interaction_view(
                interaction, book.call(interaction.conn_id), book
            )
        record.views = views
        return {**record.gone, **views}

    def _deliver(self, session_id: str, event: Event) -> None:
        record = self.interactions.sessions.get(session_id)
        if record is not None:
            if record.statistics:
                self._stale_statistics.add(session_id)
            self.driver.deliver(session_id, event)

    def _settle(self) -> None:
        """Run the sessions until none has anything left to do now (Rule 3)."""
        while True:
            self._refresh_views()
            self.driver.run()
            for session_id in self._showing_gone:
                record = self.interactions.sessions.get(session_id)
                if record is not None:
                    record.gone.clear()
                    self.interactions.dirty.add(session_id)
            self._showing_gone.clear()
            if not self._requested and not self._ended:
                return
            requested, self._requested = self._requested, []
            for session_id, request in requested:
                self._perform(session_id, request)
            ended, self._ended = self._ended, []
            for session_id in ended:
                self._finish(session_id)
                self.driver.discard(session_id)

    def _refresh_views(self) -> None:
        self._refresh_statistics()
        dirty, self.interactions.dirty = self.interactions.dirty, set()
        for session_id in dirty:
            record = self.interactions.sessions.get(session_id)
            if record is None:
                continue
            if record.gone:
                self._showing_gone.add(session_id)
            self.driver.session(session_id).set_global(INTERACTIONS_GLOBAL, self._views(session_id))

    def _refresh_statistics(self) -> None:
        """Show today's statistics to the sessions that read them and have an event."""
        if not self._stale_statistics:
            return
        seats = [seat for link in self.links.values() for seat in link.agents.seats.values()]
        figures = snapshot(seats, self.directory, self.queues, self.now)
        stale, self._stale_statistics = self._stale_statistics, set()
        for session_id in stale:
            if session_id in self.interactions.sessions:
                self.driver.session(session_id).set_global(STATISTICS_GLOBAL, figures)

    def _effect(self, session_id: str, effect: Effect) -> None:
        if self._observer is not None and not isinstance(effect, ActionRequest):
            self._observer(session_id, effect)
        match effect:
            case ActionRequest():
                self._requested.append((session_id, effect))
            case FetchRequest(request_id=request_id, timeout=timeout):
                self._fetches[request_id] = session_id
                self._deadlines.set(("fetch", request_id), self.now + timeout + FETCH_GRACE)
                self._out.append(effect)
            case WriteLog(label=label, text=text):
                log.info("session %s: %s%s", session_id, f"{label}: " if label else "", text)
            case PlatformError(event=name, message=message):
                log.warning("session %s: %s: %s", session_id, name, message)
            case SessionEnded(final=final, reason=reason):
                if final is None and reason:
                    log.warning("session %s ended: %s", session_id, reason)
                self._ended.append(session_id)

    def _finish(self, session_id: str) -> None:
        """The session is over: forget it, its interactions and its waiting submissions."""
        if session_id not in self.interactions.sessions:
            return
        for submission in self._submissions.of_session(session_id):
            request = submission.request
            self.queues.left(request.queue or "", request.request_id, self.now, routed=False)
            self._submissions.remove(request.request_id)
            self._deadlines.cancel(("submit", request.request_id))
        self._deadlines.cancel(("orphan", session_id))
        self._treating.forget_session(session_id)
        for request_id in [r for r, s in self._fetches.items() if s == session_id]:
            del self._fetches[request_id]
            self._deadlines.cancel(("fetch", request_id))
        self.interactions.close_session(session_id)

    # --- requests -------------------------------------------------------------------------

    def _perform(self, session_id: str, request: ActionRequest) -> None:
        if session_id not in self.interactions.sessions:
            return
        if request.action is Action.CREATECALL:
            self._createcall(session_id, request)
            return
        interaction = self.interactions.resolve(session_id, request.interaction_id)
        if interaction is None:
            named = request.interaction_id or ""
            no_such = f"the session has no interaction {named!r}"
            self._refuse(session_id, request, named, Refused(ErrorValue.INVALID_STATE, no_such))
            return
        state = self.links[interaction.link]
        if not state.up:
            down = Refused(ErrorValue.INVALID_SERVER, "the CTI server is not connected")
            self._refuse(session_id, request, interaction.id, down)
        elif request.action is Action.SUBMIT:
            self._submit(state, session_id, request, interaction)
        elif request.treatment is not None:
            self._treat(state, session_id, request, interaction, request.treatment)
        else:
            planned = self._plan(state, session_id, request, interaction)
            self._issue(state, session_id, request, interaction.id, planned)

    def _plan(
        self, state: Link, session_id: str, request: ActionRequest, interaction: Interaction
    ) -> Planned | Refused:
        second = None
        if request.consult_interaction_id is not None:
            consult = self.interactions.resolve(session_id, request.consult_interaction_id)
            if consult is None or consult.link != interaction.link:
                no_such = f"the session has no interaction {request.consult_interaction_id!r}"
                return Refused(ErrorValue.INVALID_STATE, no_such)
            second = state.calls.call(consult.conn_id)
        first = state.calls.call(interaction.conn_id)
        return plan(request, book=state.calls, first=first, second=second)

    def _createcall(self, session_id: str, request: ActionRequest) -> None:
        """A new call: from the server where its `from` DN is followed, else the first up."""
        up = [state for state in self.links.values() if state.up]
        chosen = next((s for s in up if request.origin in s.calls.followed), None)
        chosen = chosen or (up[0] if up else None)
        if chosen is None:
            down = Refused(ErrorValue.INVALID_SERVER, "no CTI server is connected")
            self._refuse(session_id, request, "", down)
            return
        planned = plan(request, book=chosen.calls, first=None, second=None)
        self._issue(chosen, session_id, request, "", planned)

    def _issue(
        self,
        state: Link,
        session_id: str,
        request: ActionRequest,
        interaction_id: str,
        planned: Planned | Refused,
        selection: Selection | None = None,
        *,
        treatment: Treatment | None = None,
        submission: str | None = None,
    ) -> None:
        if isinstance(planned, Refused):
            self._refuse(session_id, request, interaction_id, planned)
            return
        reference = self._send(state, planned.message)
        state.pending[reference] = Pending(
            session_id, request, planned, interaction_id, selection, treatment, submission
        )
        deadline = self.now + self.settings.request_timeout
        self._deadlines.set(("request", state.name, reference), deadline)

    def _send(self, state: Link, message: TMessage) -> int:
        reference = next(state.references)
        self._out.append(SendRequest(state.name, {**message, "ReferenceID": reference}))
        return reference

    def _take_out(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _refuse(
        self, session_id: str, request: ActionRequest, interaction_id: str, refused: Refused
    ) -> None:
        event = error_event(
            request.action, request.request_id, interaction_id, refused.error, refused.description
        )
        self._deliver(session_id, event)

    def _answer(self, state: Link, reference: int, event: TMessage) -> None:
        entry = state.pending[reference]
        name = event.get("Event", "")
        if name in ("EventError", "EventTreatmentNotApplied"):
            code = event.get("ErrorCode", 0)
            description = f"{name} {code}: {event.get('ErrorMessage', '')}"
            self._fail(state, reference, error_value(code), description)
        elif name in entry.planned.completes_on:
            del state.pending[reference]
            self._deadlines.cancel(("request", state.name, reference))
            self._succeed(state, entry, event)

    def _succeed(self, state: Link, entry: Pending, event: TMessage) -> None:
        if entry.treatment is not None:
            self._applied(state, entry, entry.treatment, event)
            return
        request = entry.request
        extra: dict[str, Value] = {}
        interaction_id = entry.interaction_id
        if entry.selection is not None:
            # The call is at the DN now, or on its way there (CallBook.busy).
            self._pool_of(entry.selection, state).reservations.release(entry.selection.dn)
            extra = selection_data(entry.selection, request.queue, state.server or state.name)
        elif entry.planned.new_interaction and entry.session_id in self.interactions.sessions:
            parent = entry.interaction_id or None
            new = self.interactions.add(
                entry.session_id, state.name, event.get("ConnID", ""), parent_id=parent
            )
            self._deadlines.cancel(("orphan", entry.session_id))
            if request.action is Action.CREATECALL:
                interaction_id = new.id
            else:
                extra["consultinteractionid"] = new.id
        self._deliver(
            entry.session_id,
            done_event(request.action, request.request_id, interaction_id, **extra),
        )

    def _fail(self, state: Link, reference: int, error: ErrorValue, description: str) -> None:
        entry = state.pending.pop(reference)
        self._deadlines.cancel(("request", state.name, reference))
        if entry.selection is not None:
            self._pool_of(entry.selection, state).reservations.release(entry.selection.dn)
        if entry.submission is not None:
            log.warning(
                "session %s: a treatment of call %s was not applied: %s",
                entry.session_id,
                entry.interaction_id,
                description,
            )
            self._next_treatment(entry.submission)
            return
        request = entry.request
        event = error_event(
            request.action, request.request_id, entry.interaction_id, error, description
        )
        self._deliver(entry.session_id, event)

    def _registration_failed(self, state: Link, event: TMessage) -> bool:
        return event.get("ReferenceID", 0) in state.registering

    def _registered(self, state: Link, event: TMessage) -> None:
        dn = state.registering.pop(event.get("ReferenceID", 0), event.get("ThisDN", ""))
        if event.get("Event") == "EventError":
            # With several servers, each has only some of the DNs: 59 is expected there.
            level = (
                logging.INFO if event.get("ErrorCode") == TError.NOT_CONFIGURED else logging.WARNING
            )
            message = event.get("ErrorMessage", "")
            log.log(level, "cannot follow DN %s on %s: %s", dn, state.name, message)
            return
        extensions = event.get("Extensions", {})
        calls = [str(v) for k, v in extensions.items() if k.startswith("conn-")]
        try:
            kind = DnType(event.get("InfoStatus", "DN"))
        except ValueError:
            kind = DnType.EXTENSION  # a kind this server does not know: treat as a station
        state.calls.follow(dn, kind, calls)
        state.agents.registered(event, self.now)

    # --- what calls do to sessions --------------------------------------------------------

    def _facts(self, state: Link, facts: list[CallFact]) -> None:
        for fact in facts:
            match fact:
                case RouteRequested(conn_id=conn_id, routing_point=point):
                    self._start(state, conn_id, point)
                case CallChanged(conn_id=conn_id):
                    self.interactions.touched(state.name, conn_id)
                case PartyStateChanged():
                    self._party_changed(state, fact)
                case CallsMerged(consultation=consultation, into=into):
                    self._deleted(self.interactions.merged(state.name, consultation, into))
                case CallEnded(conn_id=conn_id):
                    running = self._treating.call_ended(state.name, conn_id)
                    if running is not None:
                        self._treatment_over(
                            running, Ending(ErrorValue.INVALID_STATE, "the call is gone")
                        )
                    self._deleted(self.interactions.ended(state.name, conn_id))

    def _party_changed(self, state: Link, fact: PartyStateChanged) -> None:
        for interaction in self.interactions.on_call(state.name, fact.conn_id):
            record = self.interactions.sessions[interaction.session_id]
            if record.party_events:
                data: dict[str, Value] = {
                    "interactionid": interaction.id,
                    "dn": fact.dn,
                    "state": fact.state.value if fact.state is not None else "released",
                }
                self._deliver(record.session_id, Event(name=PARTY_STATE_CHANGED, data=data))

    def _deleted(self, interactions: list[Interaction]) -> None:
        for interaction in interactions:
            for submission in self._submissions.of_interaction(interaction.id):
                self._fail_submission(submission, ErrorValue.INVALID_STATE, "the call is gone")
            self._deliver(
                interaction.session_id,
                Event(name="interaction.deleted", data={"interactionid": interaction.id}),
            )
            record = self.interactions.sessions.get(interaction.session_id)
            if record is not None and not record.interactions:
                self._deadlines.set(
                    ("orphan", interaction.session_id), self.now + self.settings.orphan_timeout
                )

    # --- queue:submit ---------------------------------------------------------------------

    def _submit(
        self, state: Link, session_id: str, request: ActionRequest, interaction: Interaction
    ) -> None:
        order = request.order
        if order is not None and not known(order.statistic, self.directory):
            unknown = f"orderstat {order.statistic!r} is neither a statistic nor a skill"
            self._refuse(session_id, request, interaction.id, Refused(ErrorValue.UNKNOWN, unknown))
            return
        timeout = request.timeout if request.timeout is not None else DEFAULT_SUBMIT_TIMEOUT
        self._submissions.add(request, session_id, interaction.id, state.name, self.now)
        self.queues.entered(request.queue or "", request.request_id, self.now)
        self._deadlines.set(("submit", request.request_id), self.now + timeout)
        self._dispatch()
        self._next_treatment(request.request_id)

    def _dispatch(self) -> None:
        """Route every waiting submission that has a free target now, by priority."""
        for submission in self._submissions.in_order(self.now):
            state = self.links[submission.link]
            interaction = self.interactions.by_id.get(submission.interaction_id)
            call = state.calls.call(interaction.conn_id) if interaction else None
            point = state.calls.routing_point(call) if call else None
            if call is None or point is None:
                self._fail_submission(
                    submission,
                    ErrorValue.INVALID_STATE,
                    "the call is not waiting at a routing point",
                )
                continue
            request = submission.request
            selection = select(
                request.targets,
                pools=self._pools(state),
                directory=self.directory,
                now=self.now,
                order=request.order,
            )
            if selection is None:
                continue
            self._route(state, submission, call.conn_id, point, selection)

    def _pools(self, state: Link) -> list[Pool]:
        """The call's own pool first, then those of the other connected servers."""
        others = [link.pool for link in self.links.values() if link.up and link is not state]
        return [state.pool, *others]

    def _route(
        self, state: Link, submission: Submission, conn_id: str, point: str, selection: Selection
    ) -> None:
        request = submission.request
        self._submissions.remove(request.request_id)
        self._deadlines.cancel(("submit", request.request_id))
        self.queues.left(request.queue or "", request.request_id, self.now, routed=True)
        pool = self._pool_of(selection, state)
        pool.reservations.reserve(selection.dn, self.now + self.settings.request_timeout)
        message = route_message(point, conn_id, selection.dn, selection.location)
        planned = Planned(message=message, completes_on=frozenset({"EventRouteUsed"}))
        self._issue(
            state, submission.session_id, request, submission.interaction_id, planned, selection
        )

    def _pool_of(self, selection: Selection, state: Link) -> Pool:
        link = self.links.get(selection.link or "")
        return link.pool if link is not None else state.pool

    def _fail_submission(self, submission: Submission, error: ErrorValue, description: str) -> None:
        request = submission.request
        self.queues.left(request.queue or "", request.request_id, self.now, routed=False)
        self._submissions.remove(request.request_id)
        self._deadlines.cancel(("submit", request.request_id))
        event = error_event(
            request.action, request.request_id, submission.interaction_id, error, description
        )
        self._deliver(submission.session_id, event)

    # --- treatments -----------------------------------------------------------------------

    def _treat(
        self,
        state: Link,
        session_id: str,
        request: ActionRequest,
        interaction: Interaction,
        treatment: Treatment,
    ) -> None:
        """A dialog action: RequestApplyTreatment where the call waits for a route."""
        call = state.calls.call(interaction.conn_id)
        point = state.calls.routing_point(call) if call else None
        if call is None or point is None:
            elsewhere = "treatments are played to a call waiting at a routing point; it is not"
            refused = Refused(ErrorValue.INVALID_STATE, elsewhere)
            self._refuse(session_id, request, interaction.id, refused)
            return
        message = treatment_message(point, call.conn_id, treatment, request.extensions)
        planned = Planned(message=message, completes_on=frozenset({"EventTreatmentApplied"}))
        self._issue(state, session_id, request, interaction.id, planned, treatment=treatment)

    def _next_treatment(self, request_id: str) -> None:
        """The next treatment of a waiting `<queue:submit>`, if it has one."""
        submission = self._submissions.get(request_id)
        treatment = self._submissions.next_treatment(request_id)
        if submission is None or treatment is None:
            return
        state = self.links[submission.link]
        interaction = self.interactions.by_id.get(submission.interaction_id)
        call = state.calls.call(interaction.conn_id) if interaction else None
        point = state.calls.routing_point(call) if call else None
        if not state.up or call is None or point is None:
            return
        message = treatment_message(point, call.conn_id, treatment, None)
        planned = Planned(message=message, completes_on=frozenset({"EventTreatmentApplied"}))
        self._issue(
            state,
            submission.session_id,
            submission.request,
            submission.interaction_id,
            planned,
            treatment=treatment,
            submission=request_id,
        )

    def _applied(self, state: Link, entry: Pending, treatment: Treatment, event: TMessage) -> None:
        """EventTreatmentApplied: it plays; one that ends by itself runs until it ends."""
        if entry.submission is not None and self._submissions.get(entry.submission) is None:
            return  # its submission routed the call or gave up meanwhile
        conn_id, reference = event.get("ConnID", ""), event.get("ReferenceID", 0)
        standalone = entry.submission is None
        if treatment.ends:
            running = Running(
                entry.session_id,
                entry.interaction_id,
                event.get("ThisDN", ""),
                reference,
                treatment,
                action=entry.request.action if standalone else None,
                request_id=entry.request.request_id,
                submission=entry.submission,
            )
            replaced = self._treating.start(state.name, conn_id, running)
        else:
            replaced = self._treating.replaced(state.name, conn_id, reference)
        if replaced is not None:
            self._treatment_over(
                replaced, Ending(ErrorValue.CANCELLED, "another treatment replaced it")
            )
        if standalone and not treatment.ends:
            request = entry.request
            self._deliver(
                entry.session_id,
                done_event(request.action, request.request_id, entry.interaction_id),
            )

    def _treatment_event(self, state: Link, event: TMessage) -> None:
        found = self._treating.on_event(state.name, event)
        if found is not None:
            self._treatment_over(*found)

    def _treatment_over(self, running: Running, ending: Ending) -> None:
        """A running treatment ended: its action is answered, or its submission's next
        treatment plays (when it ended by itself)."""
        data = ending.data or {}
        if running.action is not None:
            if ending.error is None:
                event = done_event(
                    running.action, running.request_id, running.interaction_id, **data
                )
            else:
                event = error_event(
                    running.action,
                    running.request_id,
                    running.interaction_id,
                    ending.error,
                    ending.description,
                    **data,
                )
            self._deliver(running.session_id, event)
        elif running.submission is not None and ending.error in (None, ErrorValue.TIMEOUT):
            self._next_treatment(running.submission)


def _pooled(settings: CoreSettings) -> dict[str, Callable[[Limits], DataModel]]:
    """The ECMAScript datamodel on a pool of contexts, when `context-pool` asks for one."""
    if settings.context_pool <= 0:
        return {}
    limits = settings.limits
    pool = ContextPool(
        memory=limits.memory,
        stack=limits.stack,
        time=limits.time,
        preludes=(PRELUDE,),
        size=settings.context_pool,
    )
    return {"ecmascript": lambda limits: EcmaScriptDataModel(limits, pool=pool)}


def _listens(document: Document, name: str) -> bool:
    """True when some transition of *document* takes events named *name*."""
    return any(
        any_descriptor_matches(transition.events, name)
        for state in document.states
        for transition in state.transitions
    )


class SessionRefused(Exception):
    """A session could not be started (too many run already)."""


def fetch_event(result: FetchResult) -> Event:
    """session.fetch.done or error.session.fetch for *result*."""
    data: dict[str, Value] = {"requestid": result.request_id}
    if result.status:
        data["status"] = result.status
    if result.error is None:
        data["content"] = result.content
        return Event(name=Action.FETCH.done, data=data)
    if result.status:
        data["content"] = result.content
    data["error"] = result.error.value
    data["description"] = result.description
    return Event(name=Action.FETCH.error, data=data)
