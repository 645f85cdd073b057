"""Reading an action element's attributes in a session: each attribute is an ECMAScript
value expression (or, for NMTOKEN attributes, a literal), checked for its kind; and
ECMAScript objects as T-Library key-value lists.  Pure; shared by the interaction,
queue and dialog elements (elements.py, dialog.py).

Rule: a missing required attribute or a value of the wrong kind raises ExecutionError
naming the element, its line and the attribute (error.execution, nothing is sent).
"""

from __future__ import annotations

import re
from typing import Final

from ctiserver.scxml.actions import ActionContext
from ctiserver.scxml.datamodel import ExecutionError
from ctiserver.scxml.document import XmlElement
from ctiserver.scxml.values import UNDEFINED, Value, XmlValue, as_text
from ctiserver.tlib.vocabulary import KVList, KVValue

MAX_KV_DEPTH: Final = 8
_NMTOKEN: Final = re.compile(r"[\w.:-]+")


class Reader:
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

    def of(self, element: XmlElement) -> Reader:
        """The attributes of *element* (a child), in the same session."""
        return Reader(element, self.context)

    def whole(self, name: str) -> int | None:
        """A whole number above 0, or None when the attribute is absent."""
        number = self.number(name, None)
        if number is None:
            return None
        if not number.is_integer() or number < 1:
            raise self.fail(f"{name} must be a whole number above 0")
        return int(number)

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
        return kv_list(value, name, self)

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
            found.append(None if item is None else kv_list(item, f"hints.{key}", self))
        return found[0], found[1]


def kv_list(value: Value, what: str, reader: Reader, depth: int = 1) -> KVList:
    """An object as a T-Library key-value list (docs/protocol.md § 1)."""
    if not isinstance(value, dict):
        raise reader.fail(f"{what} must be an object")
    if depth > MAX_KV_DEPTH:
        raise reader.fail(f"{what} nests deeper than {MAX_KV_DEPTH}")
    result: KVList = {}
    for key, item in value.items():
        converted = kv_value(item, f"{what}.{key}", reader, depth)
        if converted is not None:
            result[key] = converted
    return result


def kv_value(item: Value, what: str, reader: Reader, depth: int) -> KVValue | None:
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
            return kv_list(item, what, reader, depth + 1)
        case _ if item is UNDEFINED:
            return None
    return as_text(item)  # strings, other numbers, arrays (as JSON), XML
