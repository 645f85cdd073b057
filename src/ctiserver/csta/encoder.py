"""Messages to ECMA-323 documents: a template compiled once per message class.

A class's template is its fields in schema order, each with its element's opening and
closing tags written out in advance and an emitter for its shape; encoding a message
is one pass over that list, appending strings.  Optional fields that are absent (None,
"" or an empty list) are left out.  Fields placed under the same parent elements
(`xml("a/b")`, `xml("a/c")`, one after the other) share one copy of those parents,
written only when one of them is present.

Rule: sans-I/O and pure; a value the templates cannot write is a LocalProtocolError
raised by the caller's framing, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.plans import Field, Shape, plan
from ctiserver.csta.schema import APPLICATION_SESSION_NAMESPACE, Message, Vocabulary
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement

Emit = Callable[[Any, list[str]], None]
# (attribute, when to leave it out, emitter); a group of fields under shared parents is
# (None, 0, emitter of the whole message).
Op = tuple[str | None, int, Emit]

REQUIRED, UNLESS_NONE, UNLESS_EMPTY = 0, 1, 2
_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_TEXT_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return text.translate(_TEXT_ESCAPES)
    return text


class Template:
    """How to write one message or struct class."""

    def __init__(self, cls: type) -> None:
        self.name = cls.__name__
        vocabulary = getattr(cls, "VOCABULARY", None)
        self.application_session = vocabulary is Vocabulary.APPLICATION_SESSION
        self.ops = _compile(plan(cls))
        self._heads: dict[str, str] = {}

    def document(self, message: Message, namespace: str) -> bytes:
        if self.application_session:
            namespace = APPLICATION_SESSION_NAMESPACE
        head = self._heads.get(namespace)
        if head is None:
            head = f'{_DECLARATION}<{self.name} xmlns="{namespace.translate(_ATTRIBUTE_ESCAPES)}">'
            if len(self._heads) < 16:
                self._heads[namespace] = head
        out = [head]
        if isinstance(message, CSTAErrorCode):
            out.append(_leaf(message.category.value, message.value))
        else:
            self.fields(message, out)
        out.append(f"</{self.name}>")
        return "".join(out).encode()

    def fields(self, obj: Any, out: list[str]) -> None:
        for attr, leave_out, emit in self.ops:
            if attr is None:
                emit(obj, out)
                continue
            value = getattr(obj, attr)
            if leave_out and (value is None if leave_out == UNLESS_NONE else not value):
                continue
            emit(value, out)


_TEMPLATES: dict[type, Template] = {}


def template(cls: type) -> Template:
    found = _TEMPLATES.get(cls)
    if found is None:
        found = _TEMPLATES[cls] = Template(cls)
    return found


def encode(message: Message, *, namespace: str) -> bytes:
    """The XML document for *message*; ECMA-354 messages ignore *namespace*."""
    cls = type(message)
    found = _TEMPLATES.get(cls) or template(cls)
    return found.document(message, namespace)


# --- compiling --------------------------------------------------------------------------------


def _compile(fields: tuple[Field, ...]) -> tuple[Op, ...]:
    ops: list[Op] = []
    index = 0
    while index < len(fields):
        parents = fields[index].path[:-1]
        end = index + 1
        while end < len(fields) and fields[end].path[:-1] == parents:
            end += 1
        if parents:
            _check_parents(fields, parents, index, end)
            ops.append((None, REQUIRED, _group(parents, [_op(f) for f in fields[index:end]])))
        else:
            ops.extend(_op(field) for field in fields[index:end])
        index = end
    return tuple(ops)


def _check_parents(
    fields: tuple[Field, ...], parents: tuple[str, ...], start: int, end: int
) -> None:
    """Only identical parent paths merge; a neighbour sharing just a prefix is not supported."""
    for neighbour in (start - 1, end):
        if 0 <= neighbour < len(fields):
            other = fields[neighbour].path[:-1]
            if other and other[0] == parents[0]:
                raise TypeError(
                    f"fields {fields[neighbour].attr!r} and {fields[start].attr!r} "
                    "share only part of their parent elements"
                )


def _op(field: Field) -> Op:
    if field.required:
        leave_out = REQUIRED
    elif field.shape in (Shape.INT, Shape.BOOL, Shape.ENUM):
        leave_out = UNLESS_NONE  # 0 and False are values
    else:
        leave_out = UNLESS_EMPTY
    return field.attr, leave_out, _emitter(field, field.path[-1])


def _group(parents: tuple[str, ...], members: list[Op]) -> Emit:
    opening = "".join(f"<{name}>" for name in parents)
    closing = "".join(f"</{name}>" for name in reversed(parents))

    def emit_group(obj: Any, out: list[str]) -> None:
        mark = len(out)
        out.append(opening)
        for attr, leave_out, emit in members:
            value = getattr(obj, attr)  # type: ignore[arg-type]
            if leave_out and (value is None if leave_out == UNLESS_NONE else not value):
                continue
            emit(value, out)
        if len(out) == mark + 1:
            del out[mark]
        else:
            out.append(closing)

    return emit_group


def _emitter(field: Field, name: str) -> Emit:
    opening, closing = f"<{name}>", f"</{name}>"
    match field.shape:
        case Shape.TEXT:
            return lambda value, out: out.append(opening + escape_text(value) + closing)
        case Shape.INT:
            return lambda value, out: out.append(f"{opening}{value}{closing}")
        case Shape.BOOL:
            return lambda value, out: out.append(opening + ("true" if value else "false") + closing)
        case Shape.ENUM:
            texts = {member: escape_text(str(member.value)) for member in field.target}
            return lambda value, out: out.append(opening + texts[value] + closing)
        case Shape.CONNECTION:
            return _connection_emitter(opening, closing)
        case Shape.EXTENDED_DEVICE:
            return _device_emitter(f"{opening}<deviceIdentifier>", f"</deviceIdentifier>{closing}")
        case Shape.REDIRECTION_DEVICE:
            return _device_emitter(f"{opening}<numberDialed>", f"</numberDialed>{closing}")
        case Shape.PRIVATE:
            return lambda value, out: _encode_private(name, value, out)
        case Shape.STRUCT:
            return _struct_emitter(template(field.target), opening, closing)
        case Shape.LIST:
            return _list_emitter(_emitter(field.target, field.target.path[0]), opening, closing)
    raise AssertionError(field.shape)  # pragma: no cover - every shape is matched above


def _connection_emitter(opening: str, closing: str) -> Emit:
    def emit_connection(value: ConnectionID, out: list[str]) -> None:
        out.append(opening)
        if value.call_id:
            out.append(f"<callID>{escape_text(value.call_id)}</callID>")
        if value.device_id:
            out.append(f"<deviceID>{escape_text(value.device_id)}</deviceID>")
        out.append(closing)

    return emit_connection


def _device_emitter(opening: str, closing: str) -> Emit:
    return lambda value, out: out.append(opening + escape_text(value) + closing)


def _struct_emitter(inner: Template, opening: str, closing: str) -> Emit:
    def emit_struct(value: Any, out: list[str]) -> None:
        out.append(opening)
        inner.fields(value, out)
        out.append(closing)

    return emit_struct


def _list_emitter(item: Emit, opening: str, closing: str) -> Emit:
    def emit_list(value: tuple[Any, ...], out: list[str]) -> None:
        out.append(opening)
        for element in value:
            item(element, out)
        out.append(closing)

    return emit_list


def _leaf(name: str, text: str) -> str:
    return f"<{name}>{escape_text(text)}</{name}>"


def _encode_private(name: str, data: PrivateData, out: list[str]) -> None:
    prefix = "p:" if data.namespace else ""
    declaration = f' xmlns:p="{data.namespace.translate(_ATTRIBUTE_ESCAPES)}"' if prefix else ""
    out.append(f"<{name}{declaration}>")
    for element in data.elements:
        _encode_private_element(prefix, element, out)
    out.append(f"</{name}>")


def _encode_private_element(prefix: str, element: PrivateElement, out: list[str]) -> None:
    tag = prefix + element.name
    out.append(f"<{tag}>{escape_text(element.text)}")
    for child in element.children:
        _encode_private_element(prefix, child, out)
    out.append(f"</{tag}>")
