"""What the interpreter needs from a datamodel (REC 5 and appendix B), and the null one.

The interpreter talks to a datamodel only through DataModel, so the ECMAScript
datamodel on QuickJS can be replaced (by V8, say) without touching the algorithm.

Rule 1: every failure to evaluate, assign or run is an ExecutionError; the interpreter
turns it into error.execution (REC 5.9, 5.10: "the Processor MUST place the error
error.execution on the internal event queue").
Rule 2: values that leave the datamodel are Values (values.py), never engine objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from ctiserver.errors import CtiError
from ctiserver.scxml.document import Data
from ctiserver.scxml.events import Event
from ctiserver.scxml.values import Value


class ExecutionError(CtiError):
    """Executable content failed; the session places an error event on its internal queue.

    Attributes:
        send_id: the id of the `<send>` that failed, for the error event's sendid field
            (REC 5.10.1); "" otherwise.
        event: the error event's name: error.execution, or error.communication when a
            send could not be dispatched (REC 6.2.4).
    """

    def __init__(self, message: str, *, send_id: str = "", event: str = "error.execution") -> None:
        super().__init__(message)
        self.send_id = send_id
        self.event = event


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemVariables:
    """The read-only system variables of REC 5.10, bound before any `<data>`.

    Attributes:
        io_processors: type URI (and short alias) → location, for `_ioprocessors`.
    """

    session_id: str
    name: str
    io_processors: Mapping[str, str]


class DataModel(Protocol):
    """One session's data.  Every method may raise ExecutionError unless it says not."""

    def bind_system(self, system: SystemVariables) -> None:
        """Bind `_sessionid`, `_name`, `_ioprocessors`; and `_event` as unbound."""

    def declare(self, data_id: str) -> None:
        """Create the variable *data_id*, unbound (early creation, REC 5.3.3)."""

    def initialize(self, data: Data, value: Value | None = None) -> None:
        """Bind *data* from its expr, content or src; or to *value* when the invoker gave one."""

    def set_event(self, event: Event) -> None:
        """Bind `_event` to *event*.  Never raises."""

    def condition(self, expr: str) -> bool:
        """A conditional expression's truth."""

    def evaluate(self, expr: str) -> Value:
        """A value expression's value."""

    def text(self, expr: str) -> str:
        """A value expression's value as text, for `<log>`."""

    def assign_expr(self, location: str, expr: str) -> None:
        """`location = expr`, keeping the engine's own object (no round trip through Value)."""

    def assign(self, location: str, value: Value) -> None:
        """`location = value`.  The location must already exist (REC 5.4)."""

    def run_script(self, source: str) -> None:
        """Run `<script>` code in the global scope."""

    def foreach(self, array: str, item: str, index: str | None) -> Iterator[None]:
        """Assign each item (and index) of a shallow copy of *array* in turn (REC 4.6).

        Yields after each assignment; the caller runs the loop's body there.
        """

    def state_entered(self, state_id: str) -> None:
        """The state is now active, for `In()`.  Never raises."""

    def state_exited(self, state_id: str) -> None:
        """The state is no longer active, for `In()`.  Never raises."""

    def set_global(self, name: str, value: Value) -> None:
        """Bind a host-provided global, such as `_genesys`."""

    def run_prelude(self, source: str) -> None:
        """Run host-provided code before the document's datamodel is initialised."""

    def close(self) -> None:
        """The session is over; nothing more will run.  Never raises."""


_IN: Final = re.compile(r"""\s*In\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*""")


class NullDataModel:
    """The null datamodel (REC B.1): no data, no scripts; conditions are `In('id')` only."""

    def __init__(self) -> None:
        self._active: set[str] = set()

    def bind_system(self, system: SystemVariables) -> None:
        pass

    def declare(self, data_id: str) -> None:
        raise ExecutionError("the null datamodel has no data")

    def initialize(self, data: Data, value: Value | None = None) -> None:
        raise ExecutionError("the null datamodel has no data")

    def set_event(self, event: Event) -> None:
        pass

    def condition(self, expr: str) -> bool:
        match = _IN.fullmatch(expr)
        if match is None:
            raise ExecutionError(f"the null datamodel only knows In('id'), not {expr!r}")
        return (match.group(1) or match.group(2) or "") in self._active

    def evaluate(self, expr: str) -> Value:
        raise ExecutionError("the null datamodel has no value expressions")

    def text(self, expr: str) -> str:
        raise ExecutionError("the null datamodel has no value expressions")

    def assign_expr(self, location: str, expr: str) -> None:
        raise ExecutionError("the null datamodel has no locations")

    def assign(self, location: str, value: Value) -> None:
        raise ExecutionError("the null datamodel has no locations")

    def run_script(self, source: str) -> None:
        raise ExecutionError("the null datamodel has no scripting language")

    def foreach(self, array: str, item: str, index: str | None) -> Iterator[None]:
        raise ExecutionError("the null datamodel has no arrays")

    def state_entered(self, state_id: str) -> None:
        self._active.add(state_id)

    def state_exited(self, state_id: str) -> None:
        self._active.discard(state_id)

    def set_global(self, name: str, value: Value) -> None:
        raise ExecutionError("the null datamodel has no globals")

    def run_prelude(self, source: str) -> None:
        raise ExecutionError("the null datamodel has no scripting language")

    def close(self) -> None:
        pass
