"""The SCXML interpreter: the algorithm of the W3C Recommendation, appendix D, for one session.

Functions keep the Recommendation's names in snake_case (macrostep, microstep,
select_transitions, remove_conflicting_transitions, compute_exit_set, exit_states,
enter_states, compute_entry_set, add_descendant_states_to_enter,
add_ancestor_states_to_enter, get_transition_domain, find_lcca, …) so a reader can hold
the REC beside the code.

How to drive a Session (sans-I/O: no clock, no threads, no queues of the outside world):

    session = Session(document, session_id="…", host=Host())
    effects = session.start(now)              # initialise, enter the initial states
    effects = session.receive(event, now)     # one external event, to the next stable point
    effects = session.cancel(now)             # the parent cancelled this invocation

Each call runs to completion (REC "macrostep": until no eventless transition is enabled
and the internal queue is empty) and returns the effects for the driver to carry out.
The driver owns the external queue: REC D's blocking `externalQueue.dequeue()` is simply
the driver calling receive() with the next event.  A driver that cannot deliver an event
or start an invocation reports it with communication_error() or invoke_failed().

Departures from the pseudo-code, each for a stated reason:
- the `<scxml>` element is never put in the configuration; the initial transition's
  domain is the root (the REC leaves getProperAncestors(scxml, null) to the reader);
- a macrostep that takes more than Host.max_steps steps (microsteps and internal events)
  ends the session, so an eventless loop, or an eventless condition that fails again
  after each error.execution, cannot hang its driver;
- what depends only on the document and the configuration is computed once per
  document and remembered (steps.py): the transitions an event name selects in each
  atomic state, and each microstep's plan (exit set, entry set, their order); the REC D
  functions below compute them the first time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urljoin

from ctiserver.scxml.datamodel import DataModel, ExecutionError, SystemVariables
from ctiserver.scxml.document import (
    Binding,
    Block,
    Document,
    HistoryType,
    Invoke,
    State,
    StateKind,
    Transition,
    TransitionType,
)
from ctiserver.scxml.effects import (
    CancelInvoke,
    Effect,
    ForwardEvent,
    SessionEnded,
    StartInvoke,
)
from ctiserver.scxml.events import SCXML_IO_PROCESSOR, Event, EventType
from ctiserver.scxml.execution import Executor, Reachable
from ctiserver.scxml.host import SCXML_INVOKE_TYPES, Host
from ctiserver.scxml.steps import Plan, PlanKey, memo_of
from ctiserver.scxml.values import UNDEFINED, Value

SCXML_INVOKE_TYPE: Final = "http://www.w3.org/TR/scxml/"
_ROOT: Final = 0


class Session:
    """One running SCXML session (see the module docstring for how to drive it).

    Args:
        document: the parsed document.
        session_id: this session's id (`_sessionid`); unique within its driver.
        host: what the embedding application provides to every session.
        globals: values bound in the datamodel before the document's data, such as
            `_genesys`.
        params: values from an invoking parent; they replace the initial values of the
            top-level `<data>` of the same id (REC 6.4.4).
        reachable: the driver's answer to "can an immediate send to (target, type) be
            dispatched now?"; see Executor.
    """

    def __init__(
        self,
        document: Document,
        *,
        session_id: str,
        host: Host | None = None,
        globals: Mapping[str, Value] | None = None,
        params: Mapping[str, Value] | None = None,
        reachable: Reachable | None = None,
    ) -> None:
        self.document = document
        self.session_id = session_id
        self._host = host if host is not None else Host()
        self._globals = dict(globals or {})
        self._params = dict(params or {})
        self._states = document.states
        self._memo = memo_of(document)
        self._datamodel: DataModel = self._host.datamodel(document.datamodel)
        self._configuration: set[int] = set()
        self._atomic: tuple[int, ...] | None = ()  # atomic active states in document order
        self._history_resolved = False  # while planning: the plan depends on history
        self._domains: dict[int, int | None] = {}  # of transitions that target no history
        self._descendants: dict[int, frozenset[int]] = {}
        self._states_to_invoke: set[int] = set()
        self._internal: deque[Event] = deque()
        self._history: dict[int, tuple[int, ...]] = {}
        self._data_bound: set[int] = set()
        self._invocations: dict[str, Invoke] = {}
        self._invoked: dict[int, list[str]] = {}
        self._effects: list[Effect] = []
        self._running = False
        self._started = False
        self._ended = False
        self._final: str | None = None
        self._invoke_count = 0
        self._executor = Executor(
            session_id=session_id,
            datamodel=self._datamodel,
            actions=self._host.actions,
            raise_internal=self._internal.append,
            emit=self._effects.append,
            send_types=frozenset(self._host.event_processors),
            reachable=reachable,
        )

    # --- queries --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from start() until the session reaches a top-level final state or ends."""
        return self._running

    @property
    def final(self) -> str | None:
        """The id of the top-level final state the session reached, if it did."""
        return self._final

    @property
    def configuration(self) -> frozenset[str]:
        """The ids of the active states."""
        return frozenset(self._states[s].id for s in self._configuration)

    def is_in(self, state_id: str) -> bool:
        """True when the state *state_id* is active (the `In()` predicate)."""
        return any(self._states[s].id == state_id for s in self._configuration)

    # --- driving --------------------------------------------------------------------------

    def start(self, now: float) -> list[Effect]:
        """Initialise the datamodel and enter the initial configuration (REC D: interpret).

        Raises:
            RuntimeError: the session was already started.
        """
        if self._started:
            raise RuntimeError("session already started")
        self._started = self._running = True
        self._executor.now = now
        self._initialize_datamodel()
        if self.document.script is not None:
            self._executor.run_block((self.document.script,))
        initial = self._states[_ROOT].initial
        if initial is not None:
            self.enter_states(self._entry_plan((), [initial]))
        self.macrostep()
        return self._take_effects()

    def receive(self, event: Event, now: float) -> list[Effect]:
        """Process one external event and run to the next stable point (REC D: mainEventLoop).

        The driver must not deliver events from invocations this session has cancelled.

        Raises:
            RuntimeError: the session was not started.
        """
        if not self._started:
            raise RuntimeError("session not started")
        if not self._running:
            return []
        self._executor.now = now
        if self.document.reads_event:
            self._datamodel.set_event(event)
        if self._invocations:
            self._finalize_and_forward(event)
        enabled = self.select_transitions(event)
        if enabled:
            self.microstep(enabled)
        self.macrostep()
        return self._take_effects()

    def _finalize_and_forward(self, event: Event) -> None:
        for invoke_id, invoke in list(self._invocations.items()):
            if invoke_id == event.invokeid:
                self.apply_finalize(invoke)
            if invoke.autoforward:
                self._effects.append(ForwardEvent(invoke_id=invoke_id, event=event))

    def cancel(self, now: float) -> list[Effect]:
        """End the session because its invoker cancelled it (REC D: isCancelEvent)."""
        if self._running:
            self._executor.now = now
            self._running = False
            self.exit_interpreter(reason="cancelled")
        return self._take_effects()

    def communication_error(self, send_id: str, message: str, now: float) -> list[Effect]:
        """The driver could not deliver the send *send_id*: error.communication (REC 6.2.4)."""
        if not self._running:
            return []
        self._executor.now = now
        self._executor.platform_error("error.communication", message, send_id=send_id)
        self.macrostep()
        return self._take_effects()

    def invoke_failed(self, invoke_id: str, message: str, now: float) -> list[Effect]:
        """The driver could not start the invocation *invoke_id*: error.execution.

        A report about an invocation that is no longer active (its state was exited
        meanwhile) is ignored.
        """
        invoke = self._invocations.pop(invoke_id, None) if self._running else None
        if invoke is None:
            return []
        self._invoked[invoke.state].remove(invoke_id)
        self._executor.now = now
        self._executor.fail(ExecutionError(f"invoke {invoke_id!r} failed: {message}"))
        self.macrostep()
        return self._take_effects()

    def set_global(self, name: str, value: Value) -> None:
        """Bind or replace a host global between events.  Raises ExecutionError."""
        self._datamodel.set_global(name, value)

    def close(self) -> None:
        """Let the datamodel go (a pooled context goes back to its pool).  The driver
        calls this when it forgets the session; the session runs nothing after."""
        self._running = False
        self._datamodel.close()

    def _take_effects(self) -> list[Effect]:
        if not self._effects:
            return []
        effects = self._effects.copy()
        self._effects.clear()  # the executor appends to this very list
        return effects

    # --- REC D: initialisation and the main loop ------------------------------------------

    def _initialize_datamodel(self) -> None:
        processors = {SCXML_IO_PROCESSOR: f"#_scxml_{self.session_id}"}
        processors["scxml"] = processors[SCXML_IO_PROCESSOR]
        processors.update(self._host.event_processors)
        system = SystemVariables(
            session_id=self.session_id, name=self.document.name, io_processors=processors
        )
        self._datamodel.bind_system(system)
        try:
            for prelude in self._host.preludes:
                self._datamodel.run_prelude(prelude)
            for name, value in self._globals.items():
                self._datamodel.set_global(name, value)
        except ExecutionError as exc:
            self._executor.fail(exc)
        for state in self._states:
            for data in state.data:
                try:
                    self._datamodel.declare(data.id)
                except ExecutionError as exc:
                    self._executor.fail(exc)
        late = self.document.binding is Binding.LATE
        for state in self._states[:1] if late else self._states:
            self._bind_data(state)

    def _bind_data(self, state: State) -> None:
        """Initialise the `<data>` of *state* (REC 5.3); each failure is error.execution."""
        self._data_bound.add(state.index)
        for data in state.data:
            given = self._params.get(data.id) if state.index == _ROOT else None
            try:
                self._datamodel.initialize(data, given)
            except ExecutionError as exc:
                self._executor.fail(exc)

    def macrostep(self) -> None:
        """Take eventless and internal transitions until the session is stable (REC D).

        Then start the invocations of the states entered and not exited again, and loop
        if doing so raised internal events.  When the session stops, leave it.
        """
        while self._settle():
            if self._states_to_invoke:
                for state in sorted(self._states_to_invoke):
                    for invoke in self._states[state].invokes:
                        self.invoke(invoke)
                self._states_to_invoke.clear()
            if not self._internal:
                return
        if not self._ended:
            self.exit_interpreter()

    def _settle(self) -> bool:
        """The inner loop of REC D's mainEventLoop; False when the session has stopped."""
        steps = 0
        while self._running:
            steps += 1
            if steps > self._host.max_steps:
                self._abandon(f"runaway macrostep: more than {self._host.max_steps} steps")
                return False
            enabled = self.select_eventless_transitions() if self._memo.has_eventless else []
            if not enabled:
                if not self._internal:
                    return True
                event = self._internal.popleft()
                if self.document.reads_event:
                    self._datamodel.set_event(event)
                enabled = self.select_transitions(event)
            if enabled:
                self.microstep(enabled)
        return False

    def _abandon(self, reason: str) -> None:
        self._running = False
        self._ended = True
        self._effects.append(SessionEnded(final=None, reason=reason))

    def exit_interpreter(self, *, reason: str = "") -> None:
        """Leave every active state and say the session ended (REC D: exitInterpreter)."""
        self._ended = True
        donedata: Value = UNDEFINED
        for index in sorted(self._configuration, reverse=True):
            state = self._states[index]
            self._executor.run_blocks(state.onexit)
            self._cancel_invocations(index)
            self._configuration.discard(index)
            self._atomic = None
            self._datamodel.state_exited(state.id)
            if state.kind is StateKind.FINAL and state.parent == _ROOT:
                self._final = state.id
                donedata = self._executor.donedata(state.donedata)
        self._effects.append(SessionEnded(final=self._final, donedata=donedata, reason=reason))

    # --- REC D: selecting transitions -----------------------------------------------------

    def select_eventless_transitions(self) -> list[Transition]:
        """The transitions without `event` that are enabled now (REC D)."""
        return self._select(None)

    def select_transitions(self, event: Event) -> list[Transition]:
        """The transitions that *event* enables (REC D)."""
        return self._select(event)

    def _select(self, event: Event | None) -> list[Transition]:
        enabled: list[Transition] = []
        states, memo = self._states, self._memo
        for index in self._atomic_states():
            if event is None:
                candidates = memo.eventless(states[index])
            else:
                candidates = memo.candidates(states[index], event.name)
            for transition in candidates:
                if transition.cond is None or self._executor.guarded_condition(transition.cond):
                    if not enabled or all(t is not transition for t in enabled):
                        enabled.append(transition)
                    break
        return self._without_conflicts(enabled) if len(enabled) > 1 else enabled

    def _without_conflicts(self, enabled: list[Transition]) -> list[Transition]:
        key = (self._atomic_states(), tuple([t.order for t in enabled]))
        kept = self._memo.unconflicted(key)
        if kept is None:
            self._history_resolved = False
            kept = tuple(self.remove_conflicting_transitions(enabled))
            if not self._history_resolved:
                self._memo.remember_unconflicted(key, kept)
        return list(kept)

    def _atomic_states(self) -> tuple[int, ...]:
        if self._atomic is None:
            atomic = (s for s in self._configuration if self._states[s].is_atomic)
            self._atomic = tuple(sorted(atomic))
        return self._atomic

    def remove_conflicting_transitions(self, enabled: list[Transition]) -> list[Transition]:
        """Keep, of transitions whose exit sets intersect, the one with the deeper source.

        REC D: "t1 is preempted by t2 if ... t2's source state is not a descendant of t1's".
        """
        filtered: list[Transition] = []
        exit_sets: dict[int, set[int]] = {}
        for t1 in enabled:
            exit1 = exit_sets.setdefault(t1.order, self.compute_exit_set([t1]))
            preempted = False
            to_remove: list[Transition] = []
            for t2 in filtered:
                if exit1 & exit_sets[t2.order]:
                    if self._is_descendant(t1.source, t2.source):
                        to_remove.append(t2)
                    else:
                        preempted = True
                        break
            if not preempted:
                filtered = [t for t in filtered if t not in to_remove]
                filtered.append(t1)
        return filtered

    # --- REC D: taking transitions --------------------------------------------------------

    def microstep(self, enabled: list[Transition]) -> None:
        """Exit the source configuration, run the transitions, enter the targets (REC D)."""
        key = (self._atomic_states(), tuple([t.order for t in enabled]))
        plan = self._memo.plan(key)
        if plan is None:
            self._unplanned_microstep(key, enabled)
            return
        self.exit_states(plan.exit)
        self._run_transitions(enabled)
        self.enter_states(plan)

    def _unplanned_microstep(self, key: PlanKey, enabled: list[Transition]) -> None:
        """A microstep in REC D's own order (the entry set is computed after the exit
        has recorded history); its plan is remembered if no history was resolved."""
        self._history_resolved = False
        to_exit = sorted(self.compute_exit_set(enabled), reverse=True)
        exit = tuple(self._states[s] for s in to_exit)
        self.exit_states(exit)
        self._run_transitions(enabled)
        plan = self._entry_plan(exit, enabled)
        self.enter_states(plan)
        if not self._history_resolved:
            self._memo.remember(key, plan)

    def _run_transitions(self, enabled: list[Transition]) -> None:
        for transition in enabled:
            if transition.actions:
                self._executor.run_block(transition.actions)

    def _entry_plan(self, exit: tuple[State, ...], enabled: list[Transition]) -> Plan:
        """The plan of a microstep that has left *exit* and is about to enter."""
        to_enter: set[int] = set()
        for_default_entry: set[int] = set()
        default_history_content: dict[int, Block] = {}
        self.compute_entry_set(enabled, to_enter, for_default_entry, default_history_content)
        after = self._configuration | to_enter
        return Plan(
            exit=exit,
            enter=tuple(self._states[s] for s in sorted(to_enter)),
            default_entry=frozenset(for_default_entry),
            history_content=default_history_content,
            atomic=tuple(sorted(s for s in after if self._states[s].is_atomic)),
        )

    def exit_states(self, exit: tuple[State, ...]) -> None:
        """Leave the exit set in exit order, recording history first (REC D: exitStates)."""
        if self._states_to_invoke:
            self._states_to_invoke.difference_update(s.index for s in exit)
        for state in exit:
            for history in state.histories:
                self._history[history] = self._history_value(history, state.index)
        for state in exit:
            if state.onexit:
                self._executor.run_blocks(state.onexit)
            if self._invoked:
                self._cancel_invocations(state.index)
            self._configuration.discard(state.index)
            self._datamodel.state_exited(state.id)
        self._atomic = None

    def _history_value(self, history: int, parent: int) -> tuple[int, ...]:
        if self._states[history].history_type is HistoryType.DEEP:
            chosen = (
                s
                for s in self._configuration
                if self._states[s].is_atomic and self._is_descendant(s, parent)
            )
        else:
            chosen = (s for s in self._configuration if self._states[s].parent == parent)
        return tuple(sorted(chosen))

    def compute_exit_set(self, transitions: Iterable[Transition]) -> set[int]:
        """The active states that the transitions leave (REC D: computeExitSet)."""
        to_exit: set[int] = set()
        for transition in transitions:
            if transition.targets:
                domain = self.get_transition_domain(transition)
                assert domain is not None  # a transition with targets has a domain
                to_exit.update(self._configuration & self._descendants_of(domain))
        return to_exit

    def _descendants_of(self, index: int) -> frozenset[int]:
        found = self._descendants.get(index)
        if found is None:
            found = frozenset(s.index for s in self._states if index in s.ancestor_set)
            self._descendants[index] = found
        return found

    def enter_states(self, plan: Plan) -> None:
        """Enter the entry set in entry order (REC D: enterStates)."""
        for state in plan.enter:
            index = state.index
            self._configuration.add(index)
            if state.invokes:
                self._states_to_invoke.add(index)
            self._datamodel.state_entered(state.id)
            if index not in self._data_bound:
                self._bind_data(state)
            if state.onentry:
                self._executor.run_blocks(state.onentry)
            if index in plan.default_entry and state.initial is not None:
                self._executor.run_block(state.initial.actions)
            if index in plan.history_content:
                self._executor.run_block(plan.history_content[index])
            if state.kind is StateKind.FINAL:
                self._entered_final(state)
        self._atomic = plan.atomic

    def _entered_final(self, state: State) -> None:
        parent = self._states[state.parent if state.parent is not None else _ROOT]
        if parent.index == _ROOT:
            self._running = False
            return
        data = self._executor.donedata(state.donedata)
        self._internal.append(
            Event(name=f"done.state.{parent.id}", type=EventType.INTERNAL, data=data)
        )
        if parent.parent is not None and parent.parent != _ROOT:
            grandparent = self._states[parent.parent]
            if grandparent.kind is StateKind.PARALLEL and all(
                self.is_in_final_state(child) for child in grandparent.child_states
            ):
                self._internal.append(
                    Event(name=f"done.state.{grandparent.id}", type=EventType.INTERNAL)
                )

    def compute_entry_set(
        self,
        transitions: list[Transition],
        to_enter: set[int],
        for_default_entry: set[int],
        default_history_content: dict[int, Block],
    ) -> None:
        """The states the transitions enter (REC D: computeEntrySet)."""
        for transition in transitions:
            for target in transition.targets:
                self.add_descendant_states_to_enter(
                    target, to_enter, for_default_entry, default_history_content
                )
            ancestor = self.get_transition_domain(transition)
            for target in self.get_effective_target_states(transition):
                self.add_ancestor_states_to_enter(
                    target, ancestor, to_enter, for_default_entry, default_history_content
                )

    def add_descendant_states_to_enter(
        self,
        index: int,
        to_enter: set[int],
        for_default_entry: set[int],
        default_history_content: dict[int, Block],
    ) -> None:
        """Add *index* and the descendants it enters by default (REC D)."""
        state = self._states[index]
        tables = (to_enter, for_default_entry, default_history_content)
        if state.kind is StateKind.HISTORY:
            self._history_resolved = True
            parent = state.parent if state.parent is not None else _ROOT
            targets = self._history.get(index, ())
            if not targets and state.initial is not None:  # the parser gives one to all
                targets = state.initial.targets
                default_history_content[parent] = state.initial.actions
            for target in targets:
                self.add_descendant_states_to_enter(target, *tables)
            for target in targets:
                self.add_ancestor_states_to_enter(target, parent, *tables)
            return
        to_enter.add(index)
        if state.is_compound and state.initial is not None:
            for_default_entry.add(index)
            for target in state.initial.targets:
                self.add_descendant_states_to_enter(target, *tables)
            for target in state.initial.targets:
                self.add_ancestor_states_to_enter(target, index, *tables)
        elif state.kind is StateKind.PARALLEL:
            self._enter_regions(state, *tables)

    def add_ancestor_states_to_enter(
        self,
        index: int,
        ancestor: int | None,
        to_enter: set[int],
        for_default_entry: set[int],
        default_history_content: dict[int, Block],
    ) -> None:
        """Add the ancestors of *index* below *ancestor*, and their regions (REC D)."""
        for proper in self.get_proper_ancestors(index, ancestor):
            to_enter.add(proper)
            state = self._states[proper]
            if state.kind is StateKind.PARALLEL:
                self._enter_regions(state, to_enter, for_default_entry, default_history_content)

    def _enter_regions(
        self,
        parallel: State,
        to_enter: set[int],
        for_default_entry: set[int],
        default_history_content: dict[int, Block],
    ) -> None:
        for child in parallel.child_states:
            if not any(self._is_descendant(s, child) for s in to_enter):
                self.add_descendant_states_to_enter(
                    child, to_enter, for_default_entry, default_history_content
                )

    def is_in_final_state(self, index: int) -> bool:
        """True when a compound state's final child, or every region, is done (REC D)."""
        state = self._states[index]
        if state.is_compound:
            return any(
                self._states[c].kind is StateKind.FINAL and c in self._configuration
                for c in state.child_states
            )
        if state.kind is StateKind.PARALLEL:
            return all(self.is_in_final_state(c) for c in state.child_states)
        return False

    def get_transition_domain(self, transition: Transition) -> int | None:
        """The state whose descendants a transition exits and enters (REC D).

        Only a history target makes the domain depend on the configuration, so the
        domain of any other transition is computed once.
        """
        if transition.order in self._domains:
            return self._domains[transition.order]
        domain = self._transition_domain(transition)
        if not any(self._states[t].kind is StateKind.HISTORY for t in transition.targets):
            self._domains[transition.order] = domain
        return domain

    def _transition_domain(self, transition: Transition) -> int | None:
        targets = self.get_effective_target_states(transition)
        if not targets:
            return None
        source = transition.source
        if (
            transition.type is TransitionType.INTERNAL
            and self._states[source].is_compound
            and all(self._is_descendant(t, source) for t in targets)
        ):
            return source
        if source == _ROOT:
            return _ROOT
        return self.find_lcca([source, *targets])

    def find_lcca(self, states: list[int]) -> int:
        """The least common compound ancestor of *states* (REC D: findLCCA)."""
        head, tail = states[0], states[1:]
        for ancestor in self._states[head].ancestors[:-1]:  # the root comes last
            if self._states[ancestor].is_compound and all(
                self._is_descendant(s, ancestor) for s in tail
            ):
                return ancestor
        return _ROOT

    def get_effective_target_states(self, transition: Transition) -> list[int]:
        """A transition's targets, with history states replaced by what they stand for."""
        targets: list[int] = []
        for target in transition.targets:
            state = self._states[target]
            if state.kind is not StateKind.HISTORY:
                resolved: Iterable[int] = (target,)
            else:
                self._history_resolved = True
                resolved = self._history.get(target) or self._history_default(state)
            targets.extend(t for t in resolved if t not in targets)
        return targets

    def _history_default(self, history: State) -> list[int]:
        default = history.initial  # the parser gives every history state one
        return self.get_effective_target_states(default) if default is not None else []

    def get_proper_ancestors(self, index: int, stop: int | None) -> list[int]:
        """The ancestors of *index*, nearest first, up to but excluding *stop* (REC D).

        The `<scxml>` root is never returned: it is not part of the configuration.
        """
        ancestors = self._states[index].ancestors[:-1]  # the root comes last
        return list(ancestors[: ancestors.index(stop)] if stop in ancestors else ancestors)

    def _is_descendant(self, index: int, ancestor: int) -> bool:
        return ancestor in self._states[index].ancestor_set

    # --- REC 6.4: invoke ------------------------------------------------------------------

    def invoke(self, invoke: Invoke) -> None:
        """Start an invocation: evaluate its arguments and ask the driver (REC 6.4)."""
        state = self._states[invoke.state]
        try:
            invoke_id = invoke.id or self._new_invoke_id(state)
            if invoke.idlocation is not None:
                self._datamodel.assign(invoke.idlocation, invoke_id)
            effect = self._start_effect(invoke, invoke_id)
        except ExecutionError as exc:
            self._executor.fail(exc)
            return
        self._invocations[invoke_id] = invoke
        self._invoked.setdefault(invoke.state, []).append(invoke_id)
        self._effects.append(effect)

    def _new_invoke_id(self, state: State) -> str:
        # REC 6.4.1: "stateid.platformid".
        self._invoke_count += 1
        return f"{state.id}.{self.session_id}.{self._invoke_count}"

    def _start_effect(self, invoke: Invoke, invoke_id: str) -> StartInvoke:
        kind = invoke.type
        if kind is None and invoke.typeexpr is not None:
            kind = self._executor.string(invoke.typeexpr)
        kind = kind or SCXML_INVOKE_TYPE
        if kind in SCXML_INVOKE_TYPES:
            kind = SCXML_INVOKE_TYPE
        elif kind not in self._host.invoke_types:
            raise ExecutionError(f"unsupported invoke type {kind!r}")
        src = invoke.src
        if src is None and invoke.srcexpr is not None:
            src = self._executor.string(invoke.srcexpr)
        params = self._executor.parameters(invoke.namelist, invoke.params)
        content = self._executor.content(invoke.content) if invoke.content else UNDEFINED
        return StartInvoke(
            invoke_id=invoke_id,
            type=kind,
            document=invoke.document,
            src=urljoin(self.document.base_url, src) if src is not None else None,
            content=content,
            params=params,
            autoforward=invoke.autoforward,
        )

    def apply_finalize(self, invoke: Invoke) -> None:
        """Run `<finalize>` for an event from the invoked child (REC 6.5)."""
        self._executor.run_block(invoke.finalize)

    def _cancel_invocations(self, index: int) -> None:
        for invoke_id in self._invoked.pop(index, []):
            del self._invocations[invoke_id]
            self._effects.append(CancelInvoke(invoke_id=invoke_id))
