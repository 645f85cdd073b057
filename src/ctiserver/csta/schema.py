"""How CSTA messages are declared: the message bases, their kinds, and field placement.

A message is a frozen dataclass named after its XML root element (ECMA-323).  Its
fields are its child elements, in schema order; the element name is the field name in
camelCase ("monitor_cross_ref_id" -> "monitorCrossRefID").  `xml()` places a field
elsewhere: a different name, a path of nested elements, or a list whose items have
their own element name.  The codec reads these declarations; nothing else does.
"""

from __future__ import annotations

import enum
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar, Final

from ctiserver.ids import MonitorCrossRefId

CSTA_NAMESPACE_TEMPLATE = "http://www.ecma-international.org/standards/ecma-323/csta/{edition}"
APPLICATION_SESSION_NAMESPACE = "http://www.ecma-international.org/standards/ecma-354/appl_session"
EDITIONS = ("ed2", "ed3", "ed4", "ed5", "ed6")


class Kind(enum.Enum):
    """What a message is for, which decides how its invoke id is used."""

    REQUEST = enum.auto()  # expects a response or CSTAErrorCode under the same invoke id
    RESPONSE = enum.auto()  # answers a request
    ERROR = enum.auto()  # CSTAErrorCode: the negative answer to a request
    EVENT = enum.auto()  # unsolicited, invoke id 9999
    UNCONFIRMED = enum.auto()  # an invocation that expects no answer (routeing services)


# Kind's members under plain names, for the paths every frame takes: on Python 3.11 an
# Enum class's attribute is read through EnumType's __getattr__ hook, four times as slow
# as a module's name.
REQUEST_KIND: Final = Kind.REQUEST
RESPONSE_KIND: Final = Kind.RESPONSE
ERROR_KIND: Final = Kind.ERROR
EVENT_KIND: Final = Kind.EVENT
UNCONFIRMED_KIND: Final = Kind.UNCONFIRMED


class Vocabulary(enum.Enum):
    CSTA = enum.auto()  # ECMA-323, in the session's edition namespace
    APPLICATION_SESSION = enum.auto()  # ECMA-354


def xml(path: str = "", *, item: str = "", default: Any = MISSING) -> Any:
    """Place a field: *path* is its element (or "a/b/c" nested), *item* names list items."""
    metadata = {"xml": path, "item": item}
    if default is MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    KIND: ClassVar[Kind]
    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.CSTA


@dataclass(frozen=True, slots=True, kw_only=True)
class Response(Message):
    KIND: ClassVar[Kind] = Kind.RESPONSE


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Message):
    KIND: ClassVar[Kind] = Kind.REQUEST
    RESPONSE: ClassVar[type[Response]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Message):
    """Every CSTA event names the monitor it is reported on (ECMA-269 § 12.2.18)."""

    KIND: ClassVar[Kind] = Kind.EVENT
    monitor_cross_ref_id: MonitorCrossRefId = xml("monitorCrossRefID")


@dataclass(frozen=True, slots=True, kw_only=True)
class Unconfirmed(Message):
    KIND: ClassVar[Kind] = Kind.UNCONFIRMED
