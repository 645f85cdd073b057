"""The CSTA XML codec: messages to ECMA-323 documents and back, sans-I/O.

encode() writes a document in one namespace chosen by the caller (the session's
edition, or ECMA-354's for application-session messages).  decode() reads a document in
any `…/ecma-323/csta/edN` namespace, ECMA-354's, or none; it matches elements by local
name, ignores elements it does not know (vendor additions) and does not depend on their
order (switches are known to send them out of schema order).

Parsing is hardened: a document carrying a DTD is refused before parsing, and the parser
never resolves entities or touches the network.  Frames bound the size (65,535 bytes).

Rule: this module raises LocalProtocolError for any document it cannot read;
CstaSession.next_message() turns that into RemoteProtocolError.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from ctiserver import safexml
from ctiserver.csta import (
    agents,
    audio,
    call_associated,
    call_control,
    call_information,
    escape,
    events,
    failure,
    logical_device,
    routeing,
    system,
    voice,
)
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import (
    APPLICATION_SESSION_NAMESPACE,
    Message,
    Vocabulary,
)
from ctiserver.csta.types import ConnectionID, Form, PrivateData, PrivateElement
from ctiserver.errors import LocalProtocolError

MESSAGE_MODULES: tuple[types.ModuleType, ...] = (
    system,
    call_control,
    events,
    routeing,
    agents,
    failure,
    escape,
    voice,
    call_information,
    audio,
    call_associated,
    logical_device,
)
_NAMESPACE_OK = re.compile(
    r"(|http://www\.(ecma\.ch|ecma-international\.org)/standards/ecma-323/csta/ed\d+"
    r"(/priv\d+)?|" + re.escape(APPLICATION_SESSION_NAMESPACE) + ")"
)


class UnknownMessage(LocalProtocolError):
    """A well-formed document whose root element names no message ctiserver knows."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CSTA message {name}")
        self.name = name


class _Shape(enum.Enum):
    TEXT = enum.auto()
    INT = enum.auto()
    BOOL = enum.auto()
    ENUM = enum.auto()
    CONNECTION = enum.auto()
    EXTENDED_DEVICE = enum.auto()
    REDIRECTION_DEVICE = enum.auto()
    PRIVATE = enum.auto()
    STRUCT = enum.auto()
    LIST = enum.auto()


@dataclass(frozen=True, slots=True)
class _Field:
    attr: str
    path: tuple[str, ...]
    shape: _Shape
    target: Any  # the enum or struct class, or the item _Field of a list
    required: bool


def _element_name(attr: str) -> str:
    """monitor_cross_ref_id -> monitorCrossRefID (ECMA-323 writes "ID" in capitals)."""
    first, *rest = attr.split("_")
    return first + "".join("ID" if word == "id" else word.capitalize() for word in rest)


# --- declarations -> plans ----------------------------------------------------------------


def _classify(annotation: Any) -> tuple[_Shape, Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Annotated:
        form = get_args(annotation)[1]
        if form is Form.EXTENDED_DEVICE:
            return _Shape.EXTENDED_DEVICE, None
        return _Shape.REDIRECTION_DEVICE, None
    while hasattr(annotation, "__supertype__"):  # NewType
        annotation = annotation.__supertype__
    if annotation is str:
        return _Shape.TEXT, None
    if annotation is bool:
        return _Shape.BOOL, None
    if annotation is int:
        return _Shape.INT, None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _Shape.ENUM, annotation
    if annotation is ConnectionID:
        return _Shape.CONNECTION, None
    if annotation is PrivateData:
        return _Shape.PRIVATE, None
    if dataclasses.is_dataclass(annotation):
        return _Shape.STRUCT, annotation
    raise TypeError(f"the CSTA codec cannot place a field of type {annotation!r}")


_PLANS: dict[type, tuple[_Field, ...]] = {}


def _plan(cls: type) -> tuple[_Field, ...]:
    """The field plan of a message or struct class, computed once."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _make_plan(cls)
    return plan


def _make_plan(cls: type) -> tuple[_Field, ...]:
    hints = get_type_hints(cls, include_extras=True)
    plan = []
    for spec in dataclasses.fields(cls):
        path = spec.metadata.get("xml") or _element_name(spec.name)
        required = spec.default is spec.default_factory is dataclasses.MISSING
        annotation = hints[spec.name]
        if get_origin(annotation) is tuple:
            item_shape, item_target = _classify(get_args(annotation)[0])
            item = _Field("", (spec.metadata["item"],), item_shape, item_target, True)
            plan.append(_Field(spec.name, tuple(path.split("/")), _Shape.LIST, item, required))
        else:
            shape, target = _classify(annotation)
            plan.append(_Field(spec.name, tuple(path.split("/")), shape, target, required))
    return tuple(plan)


@cache
def _catalogue() -> dict[str, type[Message]]:
    found: dict[str, type[Message]] = {}
    for module in MESSAGE_MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Message)
                and hasattr(value, "KIND")
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return found


def message_class(name: str) -> type[Message] | None:
    """The message class whose root element is *name*, if ctiserver knows it."""
    return _catalogue().get(name)


# --- encoding --------------------------------------------------------------------------------

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def encode(message: Message, *, namespace: str) -> bytes:
    """The XML document for *message*; ECMA-354 messages ignore *namespace*."""
    name = type(message).__name__
    if message.VOCABULARY is Vocabulary.APPLICATION_SESSION:
        namespace = APPLICATION_SESSION_NAMESPACE
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{name} xmlns="{namespace}">']
    if isinstance(message, CSTAErrorCode):
        out.append(_leaf(message.category.value, message.value))
    else:
        _encode_struct(message, out)
    out.append(f"</{name}>")
    return "".join(out).encode()


def _leaf(name: str, text: str) -> str:
    return f"<{name}>{text.translate(_TEXT_ESCAPES)}</{name}>"


def _encode_struct(obj: Any, out: list[str]) -> None:
    open_path: list[str] = []
    for spec in _plan(type(obj)):
        value = getattr(obj, spec.attr)
        if not spec.required and value in (None, "", ()):
            continue
        *parents, leaf = spec.path
        _reopen(open_path, parents, out)
        _encode_value(spec, leaf, value, out)
    _reopen(open_path, [], out)


def _reopen(open_path: list[str], wanted: list[str], out: list[str]) -> None:
    """Close and open elements so that exactly *wanted* is open (shared parents merge)."""
    keep = 0
    while keep < min(len(open_path), len(wanted)) and open_path[keep] == wanted[keep]:
        keep += 1
    while len(open_path) > keep:
        out.append(f"</{open_path.pop()}>")
    for name in wanted[keep:]:
        out.append(f"<{name}>")
        open_path.append(name)


def _encode_value(spec: _Field, name: str, value: Any, out: list[str]) -> None:
    match spec.shape:
        case _Shape.TEXT | _Shape.INT | _Shape.ENUM:
            out.append(_leaf(name, str(value)))
        case _Shape.BOOL:
            out.append(_leaf(name, "true" if value else "false"))
        case _Shape.CONNECTION:
            out.append(f"<{name}>")
            if value.call_id:
                out.append(_leaf("callID", value.call_id))
            if value.device_id:
                out.append(_leaf("deviceID", value.device_id))
            out.append(f"</{name}>")
        case _Shape.EXTENDED_DEVICE:
            out.append(f"<{name}>{_leaf('deviceIdentifier', value)}</{name}>")
        case _Shape.REDIRECTION_DEVICE:
            out.append(f"<{name}>{_leaf('numberDialed', value)}</{name}>")
        case _Shape.PRIVATE:
            _encode_private(name, value, out)
        case _Shape.STRUCT:
            out.append(f"<{name}>")
            _encode_struct(value, out)
            out.append(f"</{name}>")
        case _Shape.LIST:
            out.append(f"<{name}>")
            for item in value:
                _encode_value(spec.target, spec.target.path[0], item, out)
            out.append(f"</{name}>")


def _encode_private(name: str, data: PrivateData, out: list[str]) -> None:
    prefix = "p:" if data.namespace else ""
    declaration = f' xmlns:p="{data.namespace.translate(_ATTRIBUTE_ESCAPES)}"' if prefix else ""
    out.append(f"<{name}{declaration}>")
    for element in data.elements:
        _encode_private_element(prefix, element, out)
    out.append(f"</{name}>")


def _encode_private_element(prefix: str, element: PrivateElement, out: list[str]) -> None:
    tag = prefix + element.name
    out.append(f"<{tag}>{element.text.translate(_TEXT_ESCAPES)}")
    for child in element.children:
        _encode_private_element(prefix, child, out)
    out.append(f"</{tag}>")


# --- decoding --------------------------------------------------------------------------------


def decode(document: bytes) -> Message:
    """Read one CSTA or ECMA-354 document.  Raises LocalProtocolError."""
    root = _parse(document)
    namespace, _, name = root.tag.rpartition("}")
    if not _NAMESPACE_OK.fullmatch(namespace.lstrip("{")):
        raise LocalProtocolError(f"root element {name} is in an unknown namespace {namespace}}}")
    cls = message_class(name)
    if cls is None:
        raise UnknownMessage(name)
    if cls is CSTAErrorCode:
        return _decode_error(root)
    message: Message = _decode_struct(cls, root)
    return message


def _parse(document: bytes) -> Any:
    try:
        return safexml.parse(document)
    except safexml.UnsafeXml as exc:
        raise LocalProtocolError(str(exc)) from None


def _children(element: Any) -> Iterator[tuple[str, Any]]:
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            yield tag.rpartition("}")[2], child


def _index(element: Any) -> dict[str, Any]:
    """The first child of each local name: one pass over the children."""
    index: dict[str, Any] = {}
    for name, child in _children(element):
        index.setdefault(name, child)
    return index


def _find(element: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        element = _index(element).get(name)
        if element is None:
            return None
    return element


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _decode_struct(cls: type, element: Any) -> Any:
    values: dict[str, Any] = {}
    children = _index(element)
    for spec in _plan(cls):
        found = children.get(spec.path[0])
        if found is not None and len(spec.path) > 1:
            found = _find(found, spec.path[1:])
        if found is None:
            if spec.required:
                raise LocalProtocolError(f"{cls.__name__} lacks {'/'.join(spec.path)}")
            continue
        value = _decode_value(spec, found)
        if value is None and spec.required:
            raise LocalProtocolError(f"{cls.__name__} has no usable {'/'.join(spec.path)}")
        if value is not None:
            values[spec.attr] = value
    return cls(**values)


def _decode_value(spec: _Field, element: Any) -> Any:
    decoder = _DECODERS[spec.shape]
    return decoder(spec, element)


def _decode_int(spec: _Field, element: Any) -> int:
    try:
        return int(_text(element))
    except ValueError:
        raise LocalProtocolError(f"{'/'.join(spec.path)} is not an integer") from None


def _decode_bool(spec: _Field, element: Any) -> bool:
    text = _text(element)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise LocalProtocolError(f"{'/'.join(spec.path)} is not a boolean: {text!r}")


def _decode_enum(spec: _Field, element: Any) -> Any:
    """Values from later editions that we do not know read as absent, not as an error."""
    try:
        return spec.target(_text(element))
    except ValueError:
        return None


def _decode_connection(spec: _Field, element: Any) -> ConnectionID:
    call = _find(element, ("callID",))
    device = _find(element, ("deviceID",))
    if device is not None and len(device):  # LocalDeviceID: <staticID> or <dynamicID>
        device = next(iter(device))
    return ConnectionID(
        call_id=_text(call) if call is not None else "",  # type: ignore[arg-type]
        device_id=_text(device) if device is not None else "",  # type: ignore[arg-type]
    )


def _decode_choice(wanted: str) -> Callable[[_Field, Any], str | None]:
    def decode_choice(spec: _Field, element: Any) -> str | None:
        found = _find(element, (wanted,))
        if found is None:  # notKnown, restricted, notRequired, …
            return None
        return _text(found) or None

    return decode_choice


def _decode_private(spec: _Field, element: Any) -> PrivateData:
    elements = tuple(_private_element(child) for _, child in _children(element))
    namespace = ""
    for child in element:
        if isinstance(child.tag, str) and child.tag.startswith("{"):
            namespace = child.tag[1:].partition("}")[0]
            break
    return PrivateData(namespace=namespace, elements=elements)


def _private_element(element: Any) -> PrivateElement:
    name = element.tag.rpartition("}")[2]
    children = tuple(_private_element(child) for _, child in _children(element))
    return PrivateElement(name, _text(element), children)


def _decode_list(spec: _Field, element: Any) -> tuple[Any, ...]:
    item = spec.target
    return tuple(
        _decode_value(item, child) for name, child in _children(element) if name == item.path[0]
    )


def _decode_error(root: Any) -> CSTAErrorCode:
    for name, child in _children(root):
        try:
            category = ErrorCategory(name)
        except ValueError:
            continue
        return CSTAErrorCode(category=category, value=_text(child) or name)
    raise LocalProtocolError("CSTAErrorCode names no error category")


_DECODERS: dict[_Shape, Callable[[_Field, Any], Any]] = {
    _Shape.TEXT: lambda spec, element: _text(element),
    _Shape.INT: _decode_int,
    _Shape.BOOL: _decode_bool,
    _Shape.ENUM: _decode_enum,
    _Shape.CONNECTION: _decode_connection,
    _Shape.EXTENDED_DEVICE: _decode_choice("deviceIdentifier"),
    _Shape.REDIRECTION_DEVICE: _decode_choice("numberDialed"),
    _Shape.PRIVATE: _decode_private,
    _Shape.STRUCT: lambda spec, element: _decode_struct(spec.target, element),
    _Shape.LIST: _decode_list,
}
