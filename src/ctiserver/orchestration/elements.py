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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Final

from ctiserver.orchestration.attributes import Reader
from ctiserver.orchestration.dialog import (
    DIALOG_NAMESPACES,
    TREATMENTS,
    Treatment,
    submit_treatments,
    treatment,
)
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
from ctiserver.scxml.values import UNDEFINED, as_text
from ctiserver.tlib.vocabulary import KVList

INTERACTION_NAMESPACES: Final = (
    "www.genesyslab.com/modules/interaction",
    "http://www.genesyslab.com/modules/interaction",
)
QUEUE_NAMESPACES: Final = (
    "www.genesyslab.com/modules/queue",
    "http://www.genesyslab.com/modules/queue",
)
CREATECALL_TYPES: Final = ("regular", "agent", "supervisor", "priority", "agentpriority")
CONSULTATION_TYPES: Final = ("transfer", "conference")
TRANSFER_TYPES: Final = ("singlestep", "mute")
ORDER_TYPES: Final = ("max", "min", "any")


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
    treatment: Treatment | None = None
    treatments: tuple[Treatment, ...] = ()


class RequestIds:
    """Unique request ids: a prefix and a counter."""

    def __init__(self, prefix: str = "req-") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __next__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"

    def __iter__(self) -> Iterator[str]:
        return self


# --- the elements -------------------------------------------------------------------------------

Builder = Callable[[Reader, ActionRequest], ActionRequest]


def _createcall(r: Reader, request: ActionRequest) -> ActionRequest:
    return replace(
        request,
        origin=r.text("from", required=True),
        destination=r.text("to", required=True),
        kind=r.kind(CREATECALL_TYPES, "regular"),
        user_data=r.kv("udata"),
    )


def _on_call(r: Reader, request: ActionRequest) -> ActionRequest:
    return replace(request, interaction_id=r.text("interactionid"), resource=r.text("resource"))


def _consultation(r: Reader, request: ActionRequest) -> ActionRequest:
    return replace(
        _on_call(r, request),
        destination=r.text("to", required=True),
        kind=r.kind(CONSULTATION_TYPES, "transfer"),
        user_data=r.kv("udata"),
    )


def _two_calls(r: Reader, request: ActionRequest) -> ActionRequest:
    consult = r.text("consultinteractionid", required=True)
    return replace(_on_call(r, request), consult_interaction_id=consult)


def _complete(types: tuple[str, ...], default: str) -> Builder:
    """<transfer> and <conference>: complete a consultation, or one step to `to`."""

    def build(r: Reader, request: ActionRequest) -> ActionRequest:
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


def _redirect(r: Reader, request: ActionRequest) -> ActionRequest:
    destination = r.text("to", required=True)
    return replace(_on_call(r, request), destination=destination, user_data=r.kv("udata"))


def _terminate(r: Reader, request: ActionRequest) -> ActionRequest:
    reason = r.text("reason")
    return replace(_on_call(r, request), reasons=None if reason is None else {"reason": reason})


def _submit(r: Reader, request: ActionRequest) -> ActionRequest:
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
        treatments=submit_treatments(r),
    )


def _order(r: Reader) -> Order | None:
    """`ordertype` (max, min, any) and `orderstat`: how candidates are ranked."""
    kind = r.kind(ORDER_TYPES, "", "ordertype") or None
    statistic = r.token("orderstat") or None
    if kind == "any" or (statistic is None and kind is None):
        return None
    if statistic is None:
        raise r.fail("ordertype needs orderstat, the statistic to order by")
    return Order(statistic, maximum=kind != "min")


def _targets(r: Reader) -> tuple[Target, ...]:
    found: list[Target] = []
    listed = r.value("targets")
    names = listed if isinstance(listed, list) else [] if listed in (UNDEFINED, None) else [listed]
    for name in names:
        found.append(_target(r, as_text(name), TargetType.DN))
    for child in r.element.children:
        if child.namespace not in QUEUE_NAMESPACES:
            continue  # <dialog:…> treatments: submit_treatments()
        if child.name == "target":
            found.append(_named_target(r, child, TargetType.DN))
        elif child.name == "targets":
            kind = _group_type(r, child.attribute("type"))
            for target in child.children:
                if target.namespace in QUEUE_NAMESPACES and target.name == "target":
                    found.append(_named_target(r, target, kind))
    return tuple(found)


def _group_type(r: Reader, written: str | None) -> TargetType:
    if written is None:
        return TargetType.DN
    kind = TYPE_NAMES.get(written.strip("'").lower())
    if kind is None:
        raise r.fail(f"<queue:targets type={written!r}> is not one of {', '.join(TYPE_NAMES)}")
    return kind


def _named_target(r: Reader, element: XmlElement, default: TargetType) -> Target:
    expr = element.attribute("name")
    if expr is None:
        raise r.fail("<queue:target> needs name=")
    return _target(r, as_text(r.context.evaluate(expr)), default)


def _target(r: Reader, text: str, default: TargetType) -> Target:
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


def _treat(r: Reader, request: ActionRequest) -> ActionRequest:
    return replace(request, interaction_id=r.text("interactionid"), treatment=treatment(r))


DIALOG_ELEMENTS: Final[Mapping[str, tuple[Action, Builder]]] = {
    name: (Action(f"dialog.{name}"), _treat) for name in TREATMENTS
}


class ActionElements:
    """The handler for the interaction, queue and dialog namespaces; one per orchestration
    server (it owns the ids)."""

    def __init__(self, ids: Iterator[str] | None = None) -> None:
        self._ids = ids if ids is not None else RequestIds()

    def __call__(self, action: CustomAction, context: ActionContext) -> None:
        entry = _table(action.namespace).get(action.name)
        if entry is None and action.namespace in DIALOG_NAMESPACES:
            treatment(Reader(action.element, context))  # raises, saying why it is not played
        if entry is None:
            raise ExecutionError(f"<{action.name}> (line {action.element.line}) is not supported")
        kind, build = entry
        reader = Reader(action.element, context)
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


def _table(namespace: str) -> Mapping[str, tuple[Action, Builder]]:
    if namespace in QUEUE_NAMESPACES:
        return QUEUE_ELEMENTS
    if namespace in DIALOG_NAMESPACES:
        return DIALOG_ELEMENTS
    return INTERACTION_ELEMENTS
