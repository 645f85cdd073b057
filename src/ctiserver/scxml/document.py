"""The frozen IR of an SCXML document: what the parser produces and the interpreter reads.

Rule 1: nothing here changes after parsing, so one Document serves any number of sessions.
Rule 2: states are numbered in document order and refer to each other by that number;
index 0 is the `<scxml>` element itself.  Document order is entry order (REC D.2), and
reverse document order is exit order.
Rule 3: expressions are kept as source text; only a datamodel gives them meaning.
Rule 4: executable content in a namespace other than SCXML's is kept whole, as a
CustomAction, for a host-registered handler to run (REC 4.10 extensibility).
Rule 5: the one thing a Document holds that grows is `derived`: what the interpreter
derived from it once, for all its sessions (steps.py); it changes no answer.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from ctiserver.errors import CtiError
from ctiserver.scxml.values import XmlValue


class DocumentError(CtiError):
    """The document is not valid SCXML; the message names the line and the fault.

    Attributes:
        line: the line of the offending element, or 0 when unknown.
    """

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class StateKind(enum.Enum):
    """What element a state node comes from."""

    ROOT = "scxml"
    STATE = "state"
    PARALLEL = "parallel"
    FINAL = "final"
    HISTORY = "history"


class HistoryType(enum.Enum):
    SHALLOW = "shallow"
    DEEP = "deep"


class TransitionType(enum.Enum):
    EXTERNAL = "external"
    INTERNAL = "internal"


class Binding(enum.Enum):
    """When `<data>` is initialised (REC 5.3.3): all at start, or on first entry."""

    EARLY = "early"
    LATE = "late"


# --- literal content ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Inline:
    """Literal child content of `<data>`, `<content>` or `<assign>`.

    Attributes:
        text: the text children, concatenated.
        xml: the element children, if any.
    """

    text: str
    xml: XmlValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """`<param name expr|location>` of `<send>`, `<invoke>` and `<donedata>`."""

    name: str
    expr: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """`<content expr>` or `<content>` with literal children."""

    expr: str | None = None
    inline: Inline | None = None


# --- executable content ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Raise:
    event: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    label: str
    expr: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign:
    location: str
    expr: str | None = None
    inline: Inline | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Script:
    """`<script>`; a `src` is fetched by the parser, so `source` is always the code."""

    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    """One partition of `<if>`: its condition (None for `<else>`) and its actions."""

    cond: str | None
    actions: Block


@dataclass(frozen=True, slots=True, kw_only=True)
class If:
    branches: tuple[Branch, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Foreach:
    array: str
    item: str
    index: str | None
    actions: Block


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """`<send>` (REC 6.2).  `delay` is already converted to seconds when static."""

    event: str | None = None
    eventexpr: str | None = None
    target: str | None = None
    targetexpr: str | None = None
    type: str | None = None
    typeexpr: str | None = None
    id: str | None = None
    idlocation: str | None = None
    delay: float | None = None
    delayexpr: str | None = None
    namelist: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    content: Content | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel:
    sendid: str | None = None
    sendidexpr: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlElement:
    """A foreign element kept whole: Clark-notation attributes, children and text."""

    namespace: str
    name: str
    attributes: tuple[tuple[str, str], ...] = ()
    children: tuple[XmlElement, ...] = ()
    text: str = ""
    line: int = 0

    def attribute(self, name: str) -> str | None:
        """The value of attribute *name* (no namespace), or None."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomAction:
    """Executable content from another namespace, run by a host-registered handler."""

    element: XmlElement

    @property
    def namespace(self) -> str:
        return self.element.namespace

    @property
    def name(self) -> str:
        return self.element.name


Action = Raise | Log | Assign | Script | If | Foreach | Send | Cancel | CustomAction
Block = tuple[Action, ...]


# --- data, invoke, transitions, states ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Data:
    """`<data id expr|src|children>`.  A `src` is fetched by the parser into `inline`.

    Attributes:
        fetch_error: why a `src` could not be fetched; initialising this data then raises
            error.execution and leaves the variable unbound (REC 5.3.2).
    """

    id: str
    expr: str | None = None
    inline: Inline | None = None
    fetch_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneData:
    params: tuple[Param, ...] = ()
    content: Content | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoke:
    """`<invoke>` (REC 6.4).  Inline `<content>` holding `<scxml>` is parsed into `document`."""

    state: int
    type: str | None = None
    typeexpr: str | None = None
    src: str | None = None
    srcexpr: str | None = None
    id: str | None = None
    idlocation: str | None = None
    namelist: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    content: Content | None = None
    document: Document | None = None
    autoforward: bool = False
    finalize: Block = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A transition; `order` is its position in document order among all transitions."""

    order: int
    source: int
    targets: tuple[int, ...] = ()
    events: tuple[str, ...] = ()
    cond: str | None = None
    type: TransitionType = TransitionType.EXTERNAL
    actions: Block = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """One `<scxml>`, `<state>`, `<parallel>`, `<final>` or `<history>` node.

    Attributes:
        index: document order; also the key of this state everywhere.
        parent: the parent's index (None for the root).
        children: every child state node, history included, in document order.
        ancestors: proper ancestors, nearest first, ending with the root.
        initial: the default initial transition of a compound state (from `initial=`,
            `<initial>`, or the first child), or a history state's default transition.
    """

    index: int
    id: str
    kind: StateKind
    parent: int | None
    children: tuple[int, ...] = ()
    ancestors: tuple[int, ...] = ()
    initial: Transition | None = None
    transitions: tuple[Transition, ...] = ()
    onentry: tuple[Block, ...] = ()
    onexit: tuple[Block, ...] = ()
    invokes: tuple[Invoke, ...] = ()
    data: tuple[Data, ...] = ()
    history_type: HistoryType = HistoryType.SHALLOW
    donedata: DoneData | None = None
    line: int = 0
    ancestor_set: frozenset[int] = field(default=frozenset())
    child_states: tuple[int, ...] = ()
    histories: tuple[int, ...] = ()

    @property
    def is_atomic(self) -> bool:
        return self.kind in (StateKind.STATE, StateKind.FINAL) and not self.child_states

    @property
    def is_compound(self) -> bool:
        return self.kind is StateKind.STATE and bool(self.child_states)


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A parsed SCXML document, ready to run any number of sessions.

    Attributes:
        states: every state node by index; states[0] is the `<scxml>` element.
        base_url: where the document came from; relative `src` URLs resolve against it.
        script: the top-level `<script>`, run once after the datamodel is initialised.
        reads_event: some expression, script or custom action of the document names
            `_event`; when none does, the interpreter need not bind it for each event.
        derived: what the interpreter derived from the document, by name (Rule 5).
    """

    name: str
    datamodel: str
    binding: Binding
    states: tuple[State, ...]
    base_url: str = ""
    script: Script | None = None
    reads_event: bool = True
    derived: dict[str, object] = field(init=False, default_factory=dict, repr=False, compare=False)

    @property
    def root(self) -> State:
        return self.states[0]

    def state(self, state_id: str) -> State:
        """The state with id *state_id*.  Raises KeyError."""
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)


def mentions(item: object, word: str) -> bool:
    """True when *word* appears in any text of *item*: a Document, a State, … (every
    expression, script and custom action's attribute is a string somewhere inside)."""
    seen: set[int] = set()
    pending: list[object] = [item]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if word in item:
                return True
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, tuple | list | frozenset):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif dataclasses.is_dataclass(item):
            pending.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return False
