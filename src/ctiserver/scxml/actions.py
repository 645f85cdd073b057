"""The extension point for executable content from other namespaces (custom actions).

A host registers one handler per namespace URI (several URIs may share a handler, e.g.
Genesys' `www.genesyslab.com/modules/interaction` written with and without `http://`).
When a session executes a CustomAction, it calls the handler with the action (namespace,
local name, attributes, children, as parsed) and an ActionContext, through which the
handler evaluates expressions in the session's datamodel, assigns locations, raises
internal events and emits effects for its driver.

Rule 1: a handler signals a failure by raising ExecutionError; the session then places
error.execution on its internal queue and skips the rest of the block (REC 4.9).  Any
other exception from a handler is treated the same way (its PlatformError names it), so
that a bug in one handler cannot stop the driver and every other session with it.
Rule 2: an action whose namespace has no handler fails the same way.
Rule 3: handlers run inside a macrostep: they must not block; anything slow is an effect
whose result comes back later as an external event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from ctiserver.scxml.document import CustomAction
from ctiserver.scxml.effects import Effect
from ctiserver.scxml.values import UNDEFINED, Value


class ActionContext(Protocol):
    """What a custom-action handler may do to the session that runs it."""

    @property
    def session_id(self) -> str: ...

    @property
    def now(self) -> float: ...

    def evaluate(self, expr: str) -> Value:
        """The value of *expr* in the session's datamodel.  Raises ExecutionError."""

    def condition(self, expr: str) -> bool:
        """The truth of *expr* in the session's datamodel.  Raises ExecutionError."""

    def assign(self, location: str, value: Value) -> None:
        """Store *value* at *location* (e.g. a `requestid` location).  Raises ExecutionError."""

    def raise_event(self, name: str, data: Value = UNDEFINED) -> None:
        """Put an internal event on the session's internal queue."""

    def emit(self, effect: Effect) -> None:
        """Hand *effect* to the driver, after the effects already emitted."""


ActionHandler = Callable[[CustomAction, ActionContext], None]


class ActionRegistry:
    """Custom-action handlers keyed by namespace URI."""

    def __init__(self) -> None:
        self._handlers: dict[str, ActionHandler] = {}

    def register(self, namespaces: str | Iterable[str], handler: ActionHandler) -> None:
        """Run *handler* for every action in *namespaces* (one URI or several).

        Raises:
            ValueError: a namespace already has a handler.
        """
        for namespace in [namespaces] if isinstance(namespaces, str) else list(namespaces):
            if namespace in self._handlers:
                raise ValueError(f"namespace {namespace!r} already has a handler")
            self._handlers[namespace] = handler

    def handler(self, namespace: str) -> ActionHandler | None:
        """The handler for *namespace*, or None."""
        return self._handlers.get(namespace)
