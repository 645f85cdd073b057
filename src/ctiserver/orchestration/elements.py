"""The Genesys action elements as SCXML custom actions: attributes in, an ActionRequest
effect out.  Pure; registered on the interpreter's ActionRegistry (docs/scxml.md).

    <ixn:hold requestid="_data.reqid" interactionid="_data.ixnid"/>
      → assigns a new request id to _data.reqid, emits ActionRequest(HOLD, …)

The handler only reads the element: it evaluates each attribute in the session's
datamodel and checks what can be checked without the call (attributes present, values of
the right kind).  What the request becomes on the wire, and its answer, is the core's
business; the answer comes back later as `voice.hold.done` or `error.voice.hold`.

Rule 1: a missing required attribute, a value of the wrong kind or an unsupported element
raises ExecutionError, so error.execution and nothing is sent (REC 4.9).
Rule 2: `requestid` is a location; the new id is assigned there only once every other
attribute evaluated, just before the effect is emitted.
Rule 3: attributes not listed in docs/orchestration.md are ignored, as a Genesys element
may carry ones this server does not use.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Final

from ctiserver.orchestration.outcomes import Action
from ctiserver.orchestration.selection import Order
from ctiserver.orchestration.targets import (
    TYPE_NAMES,
    Target,
    TargetError,
    TargetType,
    parse_target,
)
from ctiserver.scxml.actions import ActionContext
from ctiserver.scxml.datamodel import ExecutionError
from ctiserver.scxml.document import CustomAction, XmlElement
from ctiserver.scxml.effects import Effect
from ctiserver.scxml.values import UNDEFINED, Value, XmlValue, as_text
from ctiserver.tlib.vocabulary import KVList, KVValue

INTERACTION_NAMESPACES: Final = (
    "www.genesyslab.com/modules/interaction",
    "http://www.genesyslab.com/modules/interaction",
)
QUEUE_NAMESPACES: Final = (
    "www.genesyslab.com/modules/queue",
    "http://www.genesyslab.com/modules/queue",
)
MAX_KV_DEPTH: Final = 8
CREATECALL_TYPES: Final = ("regular", "agent", "supervisor", "priority", "agentpriority")
CONSULTATION_TYPES: Final = ("transfer", "conference")
TRANSFER_TYPES: Final = ("singlestep", "mute")
ORDER_TYPES: Final = ("max", "min", "any")
_NMTOKEN: Final = re.compile(r"[\w.:-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest(Effect):
    """An action element, evaluated: what the strategy asked for.

    `interaction_id` None means the session's first interaction; `kind` is the `type`
    attribute; `user_data`, `extensions` and `reasons` come from `udata` and `hints`.
    """

    action: Action
    request_id: str
    interaction_id: str | None = None
    consult_interaction_id: str | None = None
    resource: str | None = None
    origin: str | None = None
    destination: str | None = None
    kind: str | None = None
    user_data: KVList | None = None
    extensions: KVList | None = None
    reasons: KVList | None = None
    targets: tuple[Target, ...] = ()
    queue: str | None = None
    priority: int = 0
    priority_increment: int = 0
    priority_interval: float = 0.0
    order: Order | None = None
    timeout: float | None = None


class RequestIds:
    """Unique request ids: a prefix and a counter."""

    def __init__(self, prefix: str = "req-") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __next__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"

    def __iter__(self) -> Iterator[str]:
        return self


# --- reading attributes -----------------------------------------------------------------------


class _Reader:
    """The attributes of one element, evaluated in one session."""

    def __init__(self, element: XmlElement, context: ActionContext) -> None:
        self.element = element
        self.context = context

    def fail(self, message: str) -> ExecutionError:
        return ExecutionError(f"<{self.element.name}> (line {self.element.line}): {message}")

    def value(self, name: str) -> Value:
        expr = self.element.attribute(name)
        return UNDEFINED if expr is None else self.context.evaluate(expr)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.value(name)
        if value is UNDEFINED or value is None or value == "":
            if required:
                raise self.fail(f"{name} is required")
            return None
        match value:
            case bool() | list() | XmlValue():
                raise self.fail(f"{name} must be a string, not {as_text(value)}")
            case str() | int() | float():
                return as_text(value)
            case dict():
                return self._resource(name, value)
        raise self.fail(f"{name} must be a string")

    def _resource(self, name: str, value: dict[str, Value]) -> str:
        # A resource object (queue.submit.done's `resource`) names its DN.
        dn = value.get("dn")
        if isinstance(dn, str) and dn:
            return dn
        raise self.fail(f"{name} must be a string or a resource object with a dn")

    def number(self, name: str, default: float | None) -> float | None:
        value = self.value(name)
        if value is UNDEFINED or value is None or value == "":
            return default
        try:
            number = float(as_text(value)) if isinstance(value, str) else value
        except ValueError:
            raise self.fail(f"{name} must be a number, not {value!r}") from None
        if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
            raise self.fail(f"{name} must be a number of at least 0")
        return float(number)

    def token(self, name: str) -> str | None:
        """An attribute that is an NMTOKEN written as is, or else an expression."""
        raw = self.element.attribute(name)
        if raw is None:
            return None
        return raw if _NMTOKEN.fullmatch(raw) else as_text(self.context.evaluate(raw))

    def kind(self, choices: tuple[str, ...], default: str, name: str = "type") -> str:
        """The `type` attribute (or *name*): one of *choices*."""
        text = self.token(name)
        if text is None:
            return default
        if text.lower() not in choices:
            raise self.fail(f"{name} {text!r} is not one of {', '.join(choices)}")
        return text.lower()

    def kv(self, name: str) -> KVList | None:
        value = self.value(name)
        if value is UNDEFINED or value is None:
            return None
        return _kv_list(value, name, self)

    def hints(self) -> tuple[KVList | None, KVList | None]:
        """`hints`: an object whose `extensions` and `reasons` become T-Library lists."""
        value = self.value("hints")
        if value is UNDEFINED or value is None:
            return None, None
        if not isinstance(value, dict):
            raise self.fail("hints must be an object")
        found = []
        for key in ("extensions", "reasons"):
            item = value.get(key)
            found.append(None if item is None else _kv_list(item, f"hints.{key}", self))
        return found[0], found[1]


def _kv_list(value: Value, what: str, reader: _Reader, depth: int = 1) -> KVList:
    """An object as a T-Library key-value list (docs/protocol.md § 1)."""
    if not isinstance(value, dict):
        raise reader.fail(f"{what} must be an object")
    if depth > MAX_KV_DEPTH:
        raise reader.fail(f"{what} nests deeper than {MAX_KV_DEPTH}")
    result: KVList = {}
    for key, item in value.items():
        converted = _kv_value(item, f"{what}.{key}", reader, depth)
        if converted is not None:
            result[key] = converted
    return result


def _kv_value(item: Value, what: str, reader: _Reader, depth: int) -> KVValue | None:
    match item:
        case None:
            return None
        case bool():
            return "true" if item else "false"
        case int() if -(1 << 63) <= item < 1 << 63:
            return item
        case float() if item.is_integer() and abs(item) < 1 << 53:
            return int(item)
        case dict():
            return _kv_list(item, what, reader, depth + 1)
        case _ if item is UNDEFINED:
            return None
    return as_text(item)  # strings, other numbers, arrays (as JSON), XML


# --- the elements -------------------------------------------------------------------------------

Builder = Callable[[_Reader, ActionRequest], ActionRequest]


def _createcall(r: _Reader, request: ActionRequest) -> ActionRequest:
    return replace(
        request,
        origin=r.text("from", required=True),
        destination=r.text("to", required=True),
        kind=r.kind(CREATECALL_TYPES, "regular"),
        user_data=r.kv("udata"),
    )


def _on_call(r: _Reader, request: ActionRequest) -> ActionRequest:
    return replace(request, interaction_id=r.text("interactionid"), resource=r.text("resource"))


def _consultation(r: _Reader, request: ActionRequest) -> ActionRequest:
    return replace(
        _on_call(r, request),
        destination=r.text("to", required=True),
        kind=r.kind(CONSULTATION_TYPES, "transfer"),
        user_data=r.kv("udata"),
    )


def _two_calls(r: _Reader, request: ActionRequest) -> ActionRequest:
    consult = r.text("consultinteractionid", required=True)
    return replace(_on_call(r, request), consult_interaction_id=consult)


def _complete(types: tuple[str, ...], default: str) -> Builder:
    """<transfer> and <conference>: complete a consultation, or one step to `to`."""

    def build(r: _Reader, request: ActionRequest) -> ActionRequest:
        consult, destination = r.text("consultinteractionid"), r.text("to")
        if (consult is None) == (destination is None):
            raise r.fail("give either consultinteractionid or to")
        return replace(
            _on_call(r, request),
            consult_interaction_id=consult,
            destination=destination,
            kind=r.kind(types, default) if destination is not None and types else None,
            user_data=r.kv("udata"),
        )

    return build


def _redirect(r: _Reader, request: ActionRequest) -> ActionRequest:
    destination = r.text("to", required=True)
    return replace(_on_call(r, request), destination=destination, user_data=r.kv("udata"))


def _terminate(r: _Reader, request: ActionRequest) -> ActionRequest:
    reason = r.text("reason")
    return replace(_on_call(r, request), reasons=None if reason is None else {"reason": reason})


def _submit(r: _Reader, request: ActionRequest) -> ActionRequest:
    targets = _targets(r)
    if not targets:
        raise r.fail("names no target: give targets= or <queue:target name=…/> children")
    increment = int(r.number("priorityincrement", 0.0) or 0.0)
    interval = r.number("priorityinterval", 0.0) or 0.0
    if increment and not interval:
        raise r.fail("priorityincrement needs priorityinterval (seconds)")
    return replace(
        request,
        interaction_id=r.text("interactionid"),
        targets=targets,
        queue=r.text("queue"),
        priority=int(r.number("priority", 0.0) or 0.0),
        priority_increment=increment,
        priority_interval=interval,
        order=_order(r),
        timeout=r.number("timeout", None),
    )


def _order(r: _Reader) -> Order | None:
    """`ordertype` (max, min, any) and `orderstat`: how candidates are ranked."""
    kind = r.kind(ORDER_TYPES, "", "ordertype") or None
    statistic = r.token("orderstat") or None
    if kind == "any" or (statistic is None and kind is None):
        return None
    if statistic is None:
        raise r.fail("ordertype needs orderstat, the statistic to order by")
    return Order(statistic, maximum=kind != "min")


def _targets(r: _Reader) -> tuple[Target, ...]:
    found: list[Target] = []
    listed = r.value("targets")
    names = listed if isinstance(listed, list) else [] if listed in (UNDEFINED, None) else [listed]
    for name in names:
        found.append(_target(r, as_text(name), TargetType.DN))
    for child in r.element.children:
        if child.namespace not in QUEUE_NAMESPACES:
            continue  # e.g. <dialog:runtreatments>: treatments are not played here
        if child.name == "target":
            found.append(_named_target(r, child, TargetType.DN))
        elif child.name == "targets":
            kind = _group_type(r, child.attribute("type"))
            for target in child.children:
                if target.namespace in QUEUE_NAMESPACES and target.name == "target":
                    found.append(_named_target(r, target, kind))
    return tuple(found)


def _group_type(r: _Reader, written: str | None) -> TargetType:
    if written is None:
        return TargetType.DN
    kind = TYPE_NAMES.get(written.strip("'").lower())
    if kind is None:
        raise r.fail(f"<queue:targets type={written!r}> is not one of {', '.join(TYPE_NAMES)}")
    return kind


def _named_target(r: _Reader, element: XmlElement, default: TargetType) -> Target:
    expr = element.attribute("name")
    if expr is None:
        raise r.fail("<queue:target> needs name=")
    return _target(r, as_text(r.context.evaluate(expr)), default)


def _target(r: _Reader, text: str, default: TargetType) -> Target:
    try:
        return parse_target(text, default)
    except TargetError as exc:
        raise r.fail(str(exc)) from None


INTERACTION_ELEMENTS: Final[Mapping[str, tuple[Action, Builder]]] = {
    "createcall": (Action.CREATECALL, _createcall),
    "hold": (Action.HOLD, _on_call),
    "retrieve": (Action.RETRIEVE, _on_call),
    "consultation": (Action.CONSULTATION, _consultation),
    "alternate": (Action.ALTERNATE, _two_calls),
    "reconnect": (Action.RECONNECT, _two_calls),
    "conference": (Action.CONFERENCE, _complete((), "")),
    "transfer": (Action.TRANSFER, _complete(TRANSFER_TYPES, "singlestep")),
    "redirect": (Action.REDIRECT, _redirect),
    "terminate": (Action.TERMINATE, _terminate),
}
QUEUE_ELEMENTS: Final[Mapping[str, tuple[Action, Builder]]] = {
    "submit": (Action.SUBMIT, _submit),
}


class ActionElements:
    """The handler for both namespaces; one per orchestration server (it owns the ids)."""

    def __init__(self, ids: Iterator[str] | None = None) -> None:
        self._ids = ids if ids is not None else RequestIds()

    def __call__(self, action: CustomAction, context: ActionContext) -> None:
        table = QUEUE_ELEMENTS if action.namespace in QUEUE_NAMESPACES else INTERACTION_ELEMENTS
        entry = table.get(action.name)
        if entry is None:
            raise ExecutionError(f"<{action.name}> (line {action.element.line}) is not supported")
        kind, build = entry
        reader = _Reader(action.element, context)
        request = build(reader, ActionRequest(action=kind, request_id=next(self._ids)))
        if kind is not Action.SUBMIT:
            extensions, reasons = reader.hints()
            if request.reasons is not None:
                reasons = {**(reasons or {}), **request.reasons}
            request = replace(request, extensions=extensions, reasons=reasons)
        location = action.element.attribute("requestid")
        if location is not None:
            context.assign(location, request.request_id)
        context.emit(request)
