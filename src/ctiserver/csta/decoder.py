"""ECMA-323 elements to messages: a reader compiled once per message or struct class.

A class's reader maps the local name of each child element it knows to the fields
placed there, with a converter per field chosen for its shape.  Reading an element is
one pass over its children: an unknown child is skipped (vendor additions), order does
not matter (switches send elements out of schema order), and of several children of
one name the first usable one counts.  Local names are looked up from a bounded cache
of the tags seen (`{namespace}name` -> name), so that any edition's namespace, or
none, reads the same.

Rule: a document this module cannot read raises LocalProtocolError naming the element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ctiserver.csta.plans import Field, Shape, plan
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.errors import LocalProtocolError

Convert = Callable[[Any, str], Any]  # (element, its path for messages) -> value, or None
# (field's index, path below the first element, converter, required, path for messages)
# (a slot of index -1 has instead a function of (element, values) that fills several)
Slot = tuple[int, tuple[str, ...], Callable[[Any, Any], Any], bool, str]
_MISSING: Final = object()
_UNSEEN: Final[Any] = object()
_TAGS_LIMIT: Final = 256
_new = object.__new__

_LOCAL_NAMES: dict[Any, str] = {}
_LOCAL_NAMES_LIMIT: Final = 4096


def local_name(tag: Any) -> str | None:
    """The local name of an element's tag; None for comments and the like."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        if not isinstance(tag, str):
            return None
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < _LOCAL_NAMES_LIMIT:
            _LOCAL_NAMES[tag] = name
    return name


def text(element: Any) -> str:
    return (element.text or "").strip()


class Reader:
    """How to read one message or struct class from its element.

    Values are gathered in a list, one place per field, and set straight into the new
    object's slots: a frozen dataclass's __init__ would set each through
    object.__setattr__, for twice the instructions.
    """

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.name = cls.__name__
        fields = plan(cls)
        by_name: dict[str, list[Slot]] = {}
        for index, field in enumerate(fields):
            label = "/".join(field.path)
            slot = (index, field.path[1:], converter(field), field.required, label)
            by_name.setdefault(field.path[0], []).append(slot)
        # One slot per element name; the rare name that holds several fields
        # (`requestTypes/systemStatus`, `requestTypes/requestSystemStatus`) gets a slot
        # of index -1 whose converter fills them all.
        self.by_name: dict[str, Slot] = {
            name: slots[0] if len(slots) == 1 else (-1, (), self._several(tuple(slots)), False, "")
            for name, slots in by_name.items()
        }
        self.defaults = [_MISSING if field.required else field.default for field in fields]
        self.required = tuple(
            (index, "/".join(field.path)) for index, field in enumerate(fields) if field.required
        )
        self.setters = tuple(getattr(cls, field.attr).__set__ for field in fields)
        # The slot of each full tag seen (`{namespace}name`, None if unknown), so that a
        # child costs one lookup; bounded, as tags come from the peer.
        self.by_tag: dict[Any, Slot | None] = {}

    def read(self, element: Any) -> Any:
        defaults = self.defaults
        values = defaults.copy()
        by_tag = self.by_tag
        for child in element:
            tag = child.tag
            slot = by_tag.get(tag, _UNSEEN)
            if slot is _UNSEEN:
                slot = self._slot_of(tag)
            if slot is None:
                continue
            index, below, convert, required, label = slot
            if index < 0:
                convert(child, values)
                continue
            if values[index] is not defaults[index]:
                continue  # an earlier element of this name gave it already
            found = descend(child, below) if below else child
            if found is None:
                continue
            value = convert(found, label)
            if value is not None:
                values[index] = value
            elif required:
                raise LocalProtocolError(f"{self.name} has no usable {label}")
        for index, label in self.required:
            if values[index] is _MISSING:
                raise LocalProtocolError(f"{self.name} lacks {label}")
        message: Any = _new(self.cls)
        for setter, value in zip(self.setters, values, strict=True):
            setter(message, value)
        return message

    def _slot_of(self, tag: Any) -> Slot | None:
        name = local_name(tag)
        slot = self.by_name.get(name) if name is not None else None
        if len(self.by_tag) < _TAGS_LIMIT:
            self.by_tag[tag] = slot
        return slot

    def _several(self, slots: tuple[Slot, ...]) -> Callable[[Any, list[Any]], None]:
        def take(child: Any, values: list[Any]) -> None:
            for index, below, convert, required, label in slots:
                if values[index] is not self.defaults[index]:
                    continue
                found = descend(child, below) if below else child
                value = None if found is None else convert(found, label)
                if value is not None:
                    values[index] = value
                elif found is not None and required:
                    raise LocalProtocolError(f"{self.name} has no usable {label}")

        return take


_READERS: dict[type, Reader] = {}


def reader(cls: type) -> Reader:
    found = _READERS.get(cls)
    if found is None:
        found = _READERS[cls] = Reader(cls)
    return found


def first_child(element: Any, name: str) -> Any:
    """The first child element of local name *name*, or None."""
    for child in element:
        tag = child.tag
        if (_LOCAL_NAMES.get(tag) or local_name(tag)) == name:
            return child
    return None


def descend(element: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        element = first_child(element, name)
        if element is None:
            return None
    return element


# --- one converter per shape ------------------------------------------------------------------


def converter(field: Field) -> Convert:
    match field.shape:
        case Shape.ENUM:
            members = {member.value: member for member in field.target}
            # Values from later editions that we do not know read as absent, not as an error.
            return lambda element, label: members.get(text(element))
        case Shape.STRUCT:
            inner = reader(field.target)
            return lambda element, label: inner.read(element)
        case Shape.LIST:
            return _list_converter(field.target)
    return _CONVERTERS[field.shape]


def _int(element: Any, label: str) -> int:
    try:
        return int(text(element))
    except ValueError:
        raise LocalProtocolError(f"{label} is not an integer") from None


def _bool(element: Any, label: str) -> bool:
    value = text(element)
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise LocalProtocolError(f"{label} is not a boolean: {value!r}")


def _connection(element: Any, label: str) -> ConnectionID:
    call = device = ""
    seen_call = seen_device = False
    for child in element:
        tag = child.tag
        name = _LOCAL_NAMES.get(tag) or local_name(tag)
        if name == "callID" and not seen_call:
            seen_call, call = True, child.text
        elif name == "deviceID" and not seen_device:
            if len(child):  # LocalDeviceID: <staticID> or <dynamicID>
                child = child[0]
            seen_device, device = True, child.text
    return ConnectionID(
        call.strip() if call else "",  # type: ignore[arg-type]
        device.strip() if device else "",  # type: ignore[arg-type]
    )


def _choice(wanted: str) -> Convert:
    def read_choice(element: Any, label: str) -> str | None:
        for child in element:
            tag = child.tag
            if (_LOCAL_NAMES.get(tag) or local_name(tag)) == wanted:
                value = child.text
                return (value.strip() or None) if value else None
        return None  # notKnown, restricted, notRequired, …

    return read_choice


def _private(element: Any, label: str) -> PrivateData:
    elements = []
    namespace = ""
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            if not namespace and tag.startswith("{"):
                namespace = tag[1:].partition("}")[0]
            elements.append(_private_element(child))
    return PrivateData(namespace=namespace, elements=tuple(elements))


def _private_element(element: Any) -> PrivateElement:
    children = [_private_element(child) for child in element if isinstance(child.tag, str)]
    return PrivateElement(element.tag.rpartition("}")[2], text(element), tuple(children))


def _list_converter(item: Field) -> Convert:
    name, convert = item.path[0], converter(item)

    def read_list(element: Any, label: str) -> tuple[Any, ...]:
        items = []
        for child in element:
            tag = child.tag
            if (_LOCAL_NAMES.get(tag) or local_name(tag)) == name:
                items.append(convert(child, name))
        return tuple(items)

    return read_list


_CONVERTERS: Final[dict[Shape, Convert]] = {
    Shape.TEXT: lambda element, label: text(element),
    Shape.INT: _int,
    Shape.BOOL: _bool,
    Shape.CONNECTION: _connection,
    Shape.EXTENDED_DEVICE: _choice("deviceIdentifier"),
    Shape.REDIRECTION_DEVICE: _choice("numberDialed"),
    Shape.PRIVATE: _private,
}
