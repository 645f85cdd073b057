"""SCXML events (REC 5.10.1, the `_event` fields) and event-descriptor matching (REC 3.12.1).

Blank fields are empty strings here; the datamodel shows them as undefined, as the
ECMAScript datamodel requires (IRP tests 333, 335, 337, 339).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ctiserver.scxml.values import UNDEFINED, Value

SCXML_IO_PROCESSOR: Final = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor"


class EventType(enum.Enum):
    """The `_event.type` field: who made the event (REC 5.10.1)."""

    PLATFORM = "platform"
    INTERNAL = "internal"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One SCXML event, with the fields of the `_event` system variable."""

    name: str
    type: EventType = EventType.EXTERNAL
    sendid: str = ""
    origin: str = ""
    origintype: str = ""
    invokeid: str = ""
    data: Value = UNDEFINED


def error_event(name: str, *, sendid: str = "") -> Event:
    """A platform error such as `error.execution` or `error.communication`."""
    return Event(name=name, type=EventType.PLATFORM, sendid=sendid)


def descriptor_matches(descriptor: str, name: str) -> bool:
    """True when one event descriptor of a transition matches an event name.

    REC 3.12.1: a descriptor matches a name if it is `*`, or if its tokens are a prefix
    of the name's tokens; `foo.*` and `foo.` mean the same as `foo`.
    """
    if descriptor == "*":
        return True
    if descriptor.endswith(".*"):
        descriptor = descriptor[:-2]
    elif descriptor.endswith("."):
        descriptor = descriptor[:-1]
    return name == descriptor or name.startswith(descriptor + ".")


def any_descriptor_matches(descriptors: Iterable[str], name: str) -> bool:
    """True when any descriptor of a transition's `event` attribute matches *name*."""
    return any(descriptor_matches(descriptor, name) for descriptor in descriptors)
