"""What the CSTA codec knows of each message class: its root element name and the
placement and shape of each field, read once from the dataclass declarations.

The encoder (csta/encoder.py) and the decoder (csta/decoder.py) each compile a class's
plan into code of their own, once per class; this module only reads declarations
(csta/schema.py says how a message is declared).
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

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
from ctiserver.csta.schema import Message
from ctiserver.csta.types import ConnectionID, Form, PrivateData

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


class Shape(enum.Enum):
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
class Field:
    """One field: where its element is (a path from the parent), and what it holds.

    `target` is the enum or struct class, or for a list the Field of one item.
    """

    attr: str
    path: tuple[str, ...]
    shape: Shape
    target: Any
    required: bool
    default: Any


def element_name(attr: str) -> str:
    """monitor_cross_ref_id -> monitorCrossRefID (ECMA-323 writes "ID" in capitals)."""
    first, *rest = attr.split("_")
    return first + "".join("ID" if word == "id" else word.capitalize() for word in rest)


def _classify(annotation: Any) -> tuple[Shape, Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Annotated:
        form = get_args(annotation)[1]
        if form is Form.EXTENDED_DEVICE:
            return Shape.EXTENDED_DEVICE, None
        return Shape.REDIRECTION_DEVICE, None
    while hasattr(annotation, "__supertype__"):  # NewType
        annotation = annotation.__supertype__
    if annotation is str:
        return Shape.TEXT, None
    if annotation is bool:
        return Shape.BOOL, None
    if annotation is int:
        return Shape.INT, None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Shape.ENUM, annotation
    if annotation is ConnectionID:
        return Shape.CONNECTION, None
    if annotation is PrivateData:
        return Shape.PRIVATE, None
    if dataclasses.is_dataclass(annotation):
        return Shape.STRUCT, annotation
    raise TypeError(f"the CSTA codec cannot place a field of type {annotation!r}")


@cache
def plan(cls: type) -> tuple[Field, ...]:
    """The fields of a message or struct class, in declaration (schema) order."""
    hints = get_type_hints(cls, include_extras=True)
    fields = []
    for spec in dataclasses.fields(cls):
        path = tuple((spec.metadata.get("xml") or element_name(spec.name)).split("/"))
        required = spec.default is spec.default_factory is dataclasses.MISSING
        default = None if required else spec.default
        annotation = hints[spec.name]
        if get_origin(annotation) is tuple:
            item_shape, item_target = _classify(get_args(annotation)[0])
            item = Field("", (spec.metadata["item"],), item_shape, item_target, True, None)
            fields.append(Field(spec.name, path, Shape.LIST, item, required, default))
        else:
            shape, target = _classify(annotation)
            fields.append(Field(spec.name, path, shape, target, required, default))
    return tuple(fields)


@cache
def catalogue() -> Mapping[str, type[Message]]:
    """Every message class ctiserver knows, by its root element's name."""
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
    return types.MappingProxyType(found)
