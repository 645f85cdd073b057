"""What the interpreter derives once per document, for every session of it: the
transitions an event may select in each atomic state, and the plan of each microstep.

A microstep's exit set, entry set and entry order depend only on the configuration
before it and on the transitions it takes, unless a history state is involved; the
configuration is itself fixed by its atomic states.  So the interpreter computes a plan
with the REC D functions (compute_exit_set, compute_entry_set, …) the first time a
configuration takes a set of transitions, and every later microstep from the same
configuration on the same transitions, in any session of the document, replays it.
Which of several enabled transitions survive removeConflictingTransitions depends on
the same two things, and is remembered the same way.

Rule 1: a memo only saves work: what it returns is what the REC D functions compute.
Rule 2: a plan is kept only when it depends on nothing but the configuration and the
transitions (no history state was resolved to compute it); the caller says so.
Rule 3: the memo is bounded (MAX_ENTRIES candidate lists, MAX_ENTRIES plans, per
document); past that, the work is done again each time instead of remembered.
Rule 4: conditions are never memoised: a candidate list is what the event's name
selects; the interpreter still evaluates each candidate's `cond` in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctiserver.scxml.document import Block, Document, State, Transition
from ctiserver.scxml.events import any_descriptor_matches

MAX_ENTRIES: Final = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """One microstep from one configuration on one set of transitions.

    Attributes:
        exit: the states to exit, in exit order (REC D: exitStates).
        enter: the states to enter, in entry order (REC D: enterStates).
        default_entry: the compound states entered by default, whose `<initial>`
            transition's content runs after their onentry.
        history_content: the content of a history state's default transition, by the
            state it runs in (only in a plan that is not remembered).
        atomic: the atomic states of the configuration after the microstep, in
            document order.
    """

    exit: tuple[State, ...]
    enter: tuple[State, ...]
    default_entry: frozenset[int]
    history_content: Mapping[int, Block]
    atomic: tuple[int, ...]


PlanKey = tuple[tuple[int, ...], tuple[int, ...]]


def memo_of(document: Document) -> Memo:
    """The memo of *document*, made the first time a session of it asks."""
    memo = document.derived.get("steps")
    if not isinstance(memo, Memo):
        memo = Memo(document.states)
        document.derived["steps"] = memo
    return memo


class Memo:
    """The per-document memo (see the module docstring); one per Document.

    Attributes:
        has_eventless: some transition of the document has no `event`; when none has,
            no configuration has eventless transitions to select.
    """

    __slots__ = ("_candidates", "_eventless", "_plans", "_states", "_unconflicted", "has_eventless")

    def __init__(self, states: tuple[State, ...]) -> None:
        self._states = states
        self.has_eventless = any(not t.events for state in states for t in state.transitions)
        self._candidates: dict[tuple[int, str], tuple[Transition, ...]] = {}
        self._eventless: dict[int, tuple[Transition, ...]] = {}
        self._plans: dict[PlanKey, Plan] = {}
        self._unconflicted: dict[PlanKey, tuple[Transition, ...]] = {}

    def candidates(self, atomic: State, name: str) -> tuple[Transition, ...]:
        """The transitions whose `event` matches *name*, of *atomic* and then of each
        of its ancestors, in the order REC D's selectTransitions tries them."""
        key = (atomic.index, name)
        found = self._candidates.get(key)
        if found is None:
            found = tuple(
                transition
                for index in (atomic.index, *atomic.ancestors)
                for transition in self._states[index].transitions
                if transition.events and any_descriptor_matches(transition.events, name)
            )
            if len(self._candidates) < MAX_ENTRIES:
                self._candidates[key] = found
        return found

    def eventless(self, atomic: State) -> tuple[Transition, ...]:
        """The transitions without `event` of *atomic* and its ancestors, in order."""
        found = self._eventless.get(atomic.index)
        if found is None:
            found = tuple(
                transition
                for index in (atomic.index, *atomic.ancestors)
                for transition in self._states[index].transitions
                if not transition.events
            )
            self._eventless[atomic.index] = found
        return found

    def __len__(self) -> int:
        """How many entries are remembered, of every kind."""
        return len(self._candidates) + len(self._plans) + len(self._unconflicted)

    def plan(self, key: PlanKey) -> Plan | None:
        """The plan remembered for (atomic states before, transition orders), if any."""
        return self._plans.get(key)

    def remember(self, key: PlanKey, plan: Plan) -> None:
        """Keep *plan* for *key* (Rule 2: only a plan that involved no history)."""
        if len(self._plans) < MAX_ENTRIES:
            self._plans[key] = plan

    def unconflicted(self, key: PlanKey) -> tuple[Transition, ...] | None:
        """What removeConflictingTransitions kept of (atomic states, transition orders)."""
        return self._unconflicted.get(key)

    def remember_unconflicted(self, key: PlanKey, kept: tuple[Transition, ...]) -> None:
        """Keep what removeConflictingTransitions kept (Rule 2: no history involved)."""
        if len(self._unconflicted) < MAX_ENTRIES:
            self._unconflicted[key] = kept
