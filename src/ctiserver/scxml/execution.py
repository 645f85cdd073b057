"""Executable content (REC 4 and 6.2 to 6.3): running one block of actions for a session.

Rule 1: a block stops at the first action that fails; the failure becomes error.execution
on the internal queue (REC 4.9: "the processor MUST NOT process the remaining elements of
the block").  A condition is not an action: one that cannot be evaluated counts as false
and raises error.execution (REC 5.9.1), so `<if>` goes on to its next branch.
Rule 2: `<send>` evaluates all its arguments before it sends anything; a bad argument,
type or target is error.execution, and the send does not happen (REC 6.2.4).  Whether a
well-formed target can be reached is for the driver to find out; it reports failures
back as error.communication.
Rule 3: the Executor is also the ActionContext given to custom-action handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.datamodel import DataModel, ExecutionError
from ctiserver.scxml.delays import parse_delay
from ctiserver.scxml.document import (
    Action,
    Assign,
    Block,
    Cancel,
    Content,
    CustomAction,
    DoneData,
    Foreach,
    If,
    Log,
    Param,
    Raise,
    Script,
    Send,
)
from ctiserver.scxml.effects import CancelEvent, Effect, PlatformError, SendEvent, WriteLog
from ctiserver.scxml.events import SCXML_IO_PROCESSOR, Event, EventType, error_event
from ctiserver.scxml.values import UNDEFINED, Value, as_text, content_value

SCXML_SEND_TYPES: Final = frozenset({SCXML_IO_PROCESSOR, "scxml"})
INTERNAL_TARGET: Final = "#_internal"

Reachable = Callable[[str, str], bool]


class Executor:
    """Runs executable content against one session's datamodel.

    Args:
        raise_internal: puts an event on the session's internal queue.
        emit: hands an effect to the session's driver.
        send_types: the I/O processor types `<send>` accepts besides SCXML's.
        reachable: tells whether an immediate send to (target, type) can be dispatched
            now; when it cannot, error.communication is raised at once (REC 6.2.4).
            Without it, the driver reports undeliverable sends later.
    """

    def __init__(
        self,
        *,
        session_id: str,
        datamodel: DataModel,
        actions: ActionRegistry,
        raise_internal: Callable[[Event], None],
        emit: Callable[[Effect], None],
        send_types: frozenset[str] = frozenset(),
        reachable: Reachable | None = None,
    ) -> None:
        self._reachable = reachable
        self._session_id = session_id
        self._datamodel = datamodel
        self._actions = actions
        self._raise_internal = raise_internal
        self._emit = emit
        self._send_types = SCXML_SEND_TYPES | send_types
        self._origin = f"#_scxml_{session_id}"
        self._sends = 0
        self.now = 0.0

    # --- blocks ---------------------------------------------------------------------------

    def run_blocks(self, blocks: Sequence[Block]) -> None:
        """Run each block in turn; an error ends only the block it happened in."""
        for block in blocks:
            self.run_block(block)

    def run_block(self, block: Block) -> None:
        """Run one block of executable content (REC 4.9)."""
        try:
            self._execute_all(block)
        except ExecutionError as exc:
            self.fail(exc)

    def fail(self, exc: ExecutionError) -> None:
        """Place the error event of *exc* (error.execution, usually) on the internal queue."""
        self.platform_error(exc.event, str(exc), send_id=exc.send_id)

    def platform_error(self, name: str, message: str, *, send_id: str = "") -> None:
        """Place the platform error *name* on the internal queue, and say why to the driver."""
        self._emit(PlatformError(event=name, message=message))
        self._raise_internal(error_event(name, sendid=send_id))

    def _execute_all(self, block: Block) -> None:
        for action in block:
            self._execute(action)

    def _execute(self, action: Action) -> None:  # noqa: C901 - one case per element
        match action:
            case Raise(event=name):
                self._raise_internal(Event(name=name, type=EventType.INTERNAL))
            case Log(label=label, expr=expr):
                text = self._datamodel.text(expr) if expr is not None else ""
                self._emit(WriteLog(label=label, text=text))
            case Assign():
                self._assign(action)
            case Script(source=source):
                self._datamodel.run_script(source)
            case If(branches=branches):
                for branch in branches:
                    if branch.cond is None or self.guarded_condition(branch.cond):
                        self._execute_all(branch.actions)
                        break
            case Foreach(array=array, item=item, index=index, actions=actions):
                for _ in self._datamodel.foreach(array, item, index):
                    self._execute_all(actions)
            case Send():
                self._send(action)
            case Cancel(sendid=sendid, sendidexpr=sendidexpr):
                send_id = sendid if sendid is not None else self.string(sendidexpr or "")
                self._emit(CancelEvent(send_id=send_id))
            case CustomAction():
                self._custom(action)

    def guarded_condition(self, cond: str) -> bool:
        """REC 5.9.1: a condition that cannot be evaluated is false, and error.execution."""
        try:
            return self._datamodel.condition(cond)
        except ExecutionError as exc:
            self.fail(exc)
            return False

    def _assign(self, action: Assign) -> None:
        if action.expr is not None:
            self._datamodel.assign_expr(action.location, action.expr)
        elif action.inline is not None:
            value = content_value(action.inline.text, action.inline.xml)
            self._datamodel.assign(action.location, value)
        else:
            self._datamodel.assign(action.location, UNDEFINED)

    def _custom(self, action: CustomAction) -> None:
        handler = self._actions.handler(action.namespace)
        if handler is None:
            raise ExecutionError(
                f"no handler for <{action.name}> in namespace {action.namespace!r} "
                f"(line {action.element.line})"
            )
        try:
            handler(action, self)
        except ExecutionError:
            raise
        except Exception as exc:  # a bug in the host's handler must not stop the driver
            raise ExecutionError(
                f"the handler of <{action.name}> failed: {type(exc).__name__}: {exc}"
            ) from exc

    # --- send -----------------------------------------------------------------------------

    def _send(self, send: Send) -> None:
        send_id = send.id if send.id is not None else self._new_send_id()
        if send.idlocation is not None:
            self._datamodel.assign(send.idlocation, send_id)
        try:
            self._dispatch(send, send_id)
        except ExecutionError as exc:
            raise ExecutionError(str(exc), send_id=send_id, event=exc.event) from None

    def _dispatch(self, send: Send, send_id: str) -> None:
        name = send.event if send.event is not None else self._optional(send.eventexpr)
        target = send.target if send.target is not None else self._optional(send.targetexpr)
        kind = send.type if send.type is not None else self._optional(send.typeexpr)
        delay = send.delay if send.delay is not None else self._delay(send.delayexpr)
        data = self._payload(send.namelist, send.params, send.content)
        kind = kind or SCXML_IO_PROCESSOR
        if kind not in self._send_types:
            raise ExecutionError(f"unsupported send type {kind!r}")
        if kind in SCXML_SEND_TYPES:
            kind = SCXML_IO_PROCESSOR
            _check_scxml_target(target or "")
        event = Event(
            name=name or "",
            type=EventType.EXTERNAL,
            sendid=send_id if send.id is not None or send.idlocation is not None else "",
            origin=self._origin,
            origintype=SCXML_IO_PROCESSOR,
            data=data,
        )
        if target == INTERNAL_TARGET and kind == SCXML_IO_PROCESSOR:
            if delay:
                raise ExecutionError("a send to #_internal cannot be delayed")
            self._raise_internal(Event(name=event.name, type=EventType.INTERNAL, data=data))
            return
        if not delay and self._reachable is not None and not self._reachable(target or "", kind):
            raise ExecutionError(f"cannot dispatch to {target!r}", event="error.communication")
        due = self.now + delay if delay else None
        self._emit(SendEvent(send_id=send_id, target=target or "", type=kind, event=event, due=due))

    def _new_send_id(self) -> str:
        self._sends += 1
        return f"send.{self._sends}"

    def _delay(self, expr: str | None) -> float:
        if expr is None:
            return 0.0
        try:
            return parse_delay(self.string(expr))
        except ValueError as exc:
            raise ExecutionError(str(exc)) from None

    def _optional(self, expr: str | None) -> str | None:
        return self.string(expr) if expr is not None else None

    def string(self, expr: str) -> str:
        """The value of *expr* as a string (an event name, a target, a delay, an id)."""
        value = self._datamodel.evaluate(expr)
        if value is UNDEFINED or value is None:
            raise ExecutionError(f"{expr!r} has no value")
        return as_text(value)

    # --- data for events, invokes and done events -----------------------------------------

    def _payload(
        self, namelist: tuple[str, ...], params: tuple[Param, ...], content: Content | None
    ) -> Value:
        if content is not None:
            return self.content(content)
        if not namelist and not params:
            return UNDEFINED
        return self.parameters(namelist, params)

    def parameters(self, namelist: tuple[str, ...], params: tuple[Param, ...]) -> dict[str, Value]:
        """The name → value map of a namelist and `<param>`s (REC 5.7)."""
        values: dict[str, Value] = {}
        for name in namelist:
            values[name] = self._datamodel.evaluate(name)
        for param in params:
            expr = param.expr if param.expr is not None else param.location
            values[param.name] = self._datamodel.evaluate(expr or "")
        return values

    def content(self, content: Content) -> Value:
        """The value of a `<content>` element (REC 5.6)."""
        if content.expr is not None:
            return self._datamodel.evaluate(content.expr)
        if content.inline is None:
            return UNDEFINED
        return content_value(content.inline.text, content.inline.xml)

    def donedata(self, donedata: DoneData | None) -> Value:
        """The data of a done event; on error, error.execution and no data (IRP test 528)."""
        if donedata is None:
            return UNDEFINED
        try:
            return self._payload((), donedata.params, donedata.content)
        except ExecutionError as exc:
            self.fail(exc)
            return UNDEFINED

    # --- ActionContext --------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self._session_id

    def evaluate(self, expr: str) -> Value:
        return self._datamodel.evaluate(expr)

    def condition(self, expr: str) -> bool:
        return self._datamodel.condition(expr)

    def assign(self, location: str, value: Value) -> None:
        self._datamodel.assign(location, value)

    def raise_event(self, name: str, data: Value = UNDEFINED) -> None:
        self._raise_internal(Event(name=name, type=EventType.INTERNAL, data=data))

    def emit(self, effect: Effect) -> None:
        self._emit(effect)


def _check_scxml_target(target: str) -> None:
    """REC 6.2.4: a target the SCXML I/O processor does not support is error.execution."""
    if target in ("", INTERNAL_TARGET, "#_parent"):
        return
    if target.startswith("#_") and len(target) > 2:
        return  # "#_scxml_<sessionid>" or "#_<invokeid>"
    raise ExecutionError(f"the SCXML I/O processor cannot send to {target!r}")
