"""The ECMAScript datamodel (REC B.2) on QuickJS, one context per session, with limits.

Rule 1: each session has one QuickJS context to itself, with a time limit on every
evaluation and a memory limit on the whole context (Limits): a fresh one, or one lent by
a ContextPool for the session's lifetime (ecmascript_pool.py) and given back by close().
A runaway script is interrupted and its evaluation fails like any other: ExecutionError,
so error.execution (REC 5.9).
Rule 2: value expressions and locations are compiled once per context into functions
and cached; `<script>` code runs as global code, so its `var`s become datamodel variables
(in a pooled context, as indirect eval: see ecmascript_pool.py, Rule 1).
Rule 3: assignments run in strict mode, so a location that does not exist fails instead
of creating a global (REC 5.4, IRP test 286), and the read-only system variables cannot
be assigned (IRP tests 322, 326, 329).
Rule 4: QuickJS is not thread-safe: drive all sessions from one thread.
Rule 5: `_event` (like the set In() answers from) is brought to the JavaScript side only
when some code is about to run, so events that only move the configuration cost no
call into QuickJS.  The set of active states is not brought at all until some code of
the context (a prelude, a script, an expression) names `In` or `__scxml_active`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson
import quickjs

from ctiserver.scxml import xmltree
from ctiserver.scxml.datamodel import ExecutionError, SystemVariables
from ctiserver.scxml.document import Data
from ctiserver.scxml.ecmascript_pool import ContextPool, Engine, new_engine, reads_active
from ctiserver.scxml.ecmascript_prelude import DOM_MARKER
from ctiserver.scxml.events import Event
from ctiserver.scxml.values import UNDEFINED, Value, XmlValue, as_text, content_value

_IDENTIFIER: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# Code that would not mean the same as indirect eval as it does as global code.
_GLOBAL_ONLY: Final = re.compile(r"\b(?:let|const|class)\b|use strict")
_KIND_UNDEFINED: Final = 0
_KIND_PLAIN: Final = 1
_KIND_JSON: Final = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-session resource limits of the ECMAScript datamodel.

    Attributes:
        time: seconds of CPU one evaluation (an expression, a `<script>`) may take.
        memory: bytes the session's JavaScript heap may hold.
        stack: bytes of JavaScript stack (deep recursion fails with error.execution).
    """

    time: float = 1.0
    memory: int = 32 << 20
    stack: int = 256 << 10


class EcmaScriptDataModel:
    """The ECMAScript datamodel of one session (see the module docstring)."""

    def __init__(self, limits: Limits = Limits(), *, pool: ContextPool | None = None) -> None:
        self._pool = pool
        self._engine: Engine = (
            pool.acquire()
            if pool is not None
            else new_engine(limits.memory, limits.stack, limits.time)
        )
        self._context: Any = self._engine.context
        self._limit_seconds = limits.time
        self._helpers = self._engine.helpers
        self._getters = self._engine.getters
        self._conditions = self._engine.conditions
        self._setters = self._engine.setters
        self._closed = False
        self._active: set[str] = set()
        self._active_changed = False
        self._event: Event | None = None  # bound on the JavaScript side when code runs

    # --- the DataModel protocol ------------------------------------------------------------

    def bind_system(self, system: SystemVariables) -> None:
        processors: dict[str, Value] = {
            name: {"location": where} for name, where in system.io_processors.items()
        }
        self._call("__scxml_system", "_sessionid", *_marshal(system.session_id))
        self._call("__scxml_system", "_name", *_marshal(system.name))
        self._call("__scxml_system", "_ioprocessors", *_marshal(processors))

    def declare(self, data_id: str) -> None:
        if not _IDENTIFIER.fullmatch(data_id):
            raise ExecutionError(f"data id {data_id!r} is not an ECMAScript identifier")
        self._declare(data_id)

    def initialize(self, data: Data, value: Value | None = None) -> None:
        if value is not None:
            self.assign(data.id, value)
        elif data.fetch_error is not None:
            raise ExecutionError(data.fetch_error)
        elif data.expr is not None:
            self.assign_expr(data.id, data.expr)
        elif data.inline is not None:
            self.assign(data.id, content_value(data.inline.text, data.inline.xml))

    def set_event(self, event: Event) -> None:
        # Bound lazily (Rule 5): a chart whose transitions run no code never pays for it.
        self._event = event

    def _bind_event(self, event: Event) -> None:
        try:
            data = _marshal(event.data)
        except ExecutionError:
            data = _marshal(UNDEFINED)
        fields = (event.name, event.type.value, event.sendid, event.origin, event.origintype)
        with contextlib.suppress(quickjs.JSException):
            self._helpers["__scxml_setEvent"](*fields, event.invokeid, *data)

    def condition(self, expr: str) -> bool:
        function = self._conditions.get(expr)
        if function is None:
            body = expr.strip().rstrip(";")
            function = self._compile("", f"return !!(\n{body}\n);")
            self._conditions[expr] = function
        return bool(self._guard(function))

    def evaluate(self, expr: str) -> Value:
        return _unmarshal(self._call("__scxml_export", self._getter(expr)))

    def text(self, expr: str) -> str:
        return as_text(self.evaluate(expr))

    def assign_expr(self, location: str, expr: str) -> None:
        self._call("__scxml_assignFrom", self._setter(location), self._getter(expr))

    def assign(self, location: str, value: Value) -> None:
        self._call("__scxml_assignValue", self._setter(location), *_marshal(value))

    def run_script(self, source: str) -> None:
        if self._engine.pooled and _GLOBAL_ONLY.search(source):
            self._engine.spoiled = True  # its global lexical names would outlive it
        self._run(source)

    def foreach(self, array: str, item: str, index: str | None) -> Iterator[None]:
        items = self._call("__scxml_array", self._getter(array))
        item_setter = self._variable(item)
        index_setter = self._variable(index) if index is not None else None
        for position in range(int(self._call("__scxml_length", items))):
            self._call("__scxml_step", items, position, item_setter, index_setter)
            yield

    def state_entered(self, state_id: str) -> None:
        self._active.add(state_id)
        self._active_changed = True

    def state_exited(self, state_id: str) -> None:
        self._active.discard(state_id)
        self._active_changed = True

    def set_global(self, name: str, value: Value) -> None:
        self._call("__scxml_setGlobal", name, *_marshal(value))

    def run_prelude(self, source: str) -> None:
        if source not in self._engine.preludes:  # a pooled context ran the host's already
            self._run(source)

    def close(self) -> None:
        """The session is over: give a pooled context back.  Nothing runs here after."""
        if not self._closed:
            self._closed = True
            if self._pool is not None:
                self._pool.release(self._engine)

    # --- compiling and calling -----------------------------------------------------------

    def _getter(self, expr: str) -> Any:
        function = self._getters.get(expr)
        if function is None:
            # IRP test 452 writes expr="new testobject();": a trailing ';' is tolerated.
            body = expr.strip().rstrip(";")
            function = self._compile("", f"return (\n{body}\n);")
            self._getters[expr] = function
        return function

    def _setter(self, location: str) -> Any:
        function = self._setters.get(location)
        if function is None:
            if not location.strip():
                raise ExecutionError("empty location")
            function = self._compile("__scxml_v", f'"use strict";\n{location}\n= __scxml_v;')
            self._setters[location] = function
        return function

    def _variable(self, name: str) -> Any:
        """The setter of a foreach variable, declared first if need be (REC 4.6)."""
        if not _IDENTIFIER.fullmatch(name):
            raise ExecutionError(f"{name!r} is not a legal variable name")
        self._declare(name)
        return self._setter(name)

    def _declare(self, name: str) -> None:
        self._note_reads_active(name)
        if self._engine.pooled:
            self._call("__scxml_eval", f"var {name};")  # deletable: see ecmascript_pool.py
        else:
            self._guard(self._context.eval, f"var {name};")

    def _compile(self, parameters: str, body: str) -> Any:
        self._note_reads_active(body)
        return self._call("__scxml_compile", parameters, body)

    def _run(self, source: str) -> None:
        self._note_reads_active(source)
        if self._engine.pooled and not self._engine.spoiled:
            self._call("__scxml_eval", source)
        else:
            self._guard(self._context.eval, source)

    def _note_reads_active(self, source: str) -> None:
        if not self._engine.reads_active and reads_active(source):
            self._engine.reads_active = True  # from now on, keep In()'s set up to date

    def _call(self, helper: str, *args: Any) -> Any:
        return self._guard(self._helpers[helper], *args)

    def _guard(self, function: Any, *args: Any) -> Any:
        if self._closed:
            raise ExecutionError("the session is over: its ECMAScript context is closed")
        if self._event is not None:
            event, self._event = self._event, None
            self._bind_event(event)
        try:
            if self._active_changed and self._engine.reads_active:
                # In() answers from a copy of the configuration on the JavaScript side
                # (QuickJS cannot call back into Python under a time limit); it is
                # brought up to date only when some code is about to run.
                self._active_changed = False
                self._helpers["__scxml_setActive"]("\n".join(self._active))
            return function(*args)
        except quickjs.StackOverflow:
            self._engine.spoiled = True
            raise ExecutionError("ECMAScript stack overflow") from None
        except quickjs.JSException as exc:
            raise ExecutionError(self._explain(exc)) from None

    def _explain(self, exc: Exception) -> str:
        message = str(exc).strip()
        first = message.splitlines()[0] if message else ""
        if first == "InternalError: interrupted":
            self._engine.spoiled = True
            return f"script time limit exceeded ({self._limit_seconds:g} s)"
        if first in ("null", "InternalError: out of memory", ""):
            self._engine.spoiled = True
            self._context.gc()
            return "script memory limit exceeded"
        return first


def _marshal(value: Value) -> tuple[int, Any]:
    """(kind, payload) for the prelude's decode(): undefined, a plain scalar, or JSON."""
    if value is UNDEFINED:
        return _KIND_UNDEFINED, None
    if value is None or isinstance(value, bool | float):
        return _KIND_PLAIN, value
    if isinstance(value, str) and "\x00" not in value:
        return _KIND_PLAIN, value  # QuickJS's C API would cut a string at NUL
    if isinstance(value, int) and -(1 << 31) <= value < 1 << 31:
        return _KIND_PLAIN, value  # QuickJS's C API takes a Python int as an int32
    try:
        return _KIND_JSON, orjson.dumps(
            value, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATACLASS
        ).decode()
    except orjson.JSONEncodeError as exc:
        raise ExecutionError(f"cannot pass the value to ECMAScript: {exc}") from None


def _json_default(value: object) -> object:
    if isinstance(value, XmlValue):
        try:
            return {DOM_MARKER: xmltree.to_tree(value)}
        except ValueError as exc:
            raise TypeError(str(exc)) from None
    raise TypeError(f"cannot pass {type(value).__name__} to ECMAScript")


def _unmarshal(encoded: Any) -> Value:
    text = str(encoded)
    if text == "u":
        return UNDEFINED
    value: Value = orjson.loads(text[1:])
    if DOM_MARKER in text:
        return _revive(value)
    return value


def _revive(value: Value) -> Value:
    if isinstance(value, list):
        return [_revive(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and DOM_MARKER in value:
            tree = value[DOM_MARKER]
            if isinstance(tree, list):
                return xmltree.from_tree(tree)
        return {key: _revive(item) for key, item in value.items()}
    return value
