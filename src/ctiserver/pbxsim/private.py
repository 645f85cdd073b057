"""pbxsim's private vocabulary (docs/pbxsim.md §§ 8-9): building and reading the
elements it puts in, and takes from, `privateData` in its configured namespace.

    hostDevice        on events to a guest's monitors: the host the guest is at
    networkCallID     on the events of a call that crossed a trunk
    uui               user-to-user information set by the application
    guestAssociatedExtension / guestAssociatedEvent   hot desking (Escape, PrivateEvent)

Elements in another namespace are not ours and read as absent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from ctiserver.csta.schema import Event
from ctiserver.csta.types import PrivateData, PrivateElement

E = TypeVar("E", bound=Event)


def leaf(name: str, text: str) -> PrivateElement:
    return PrivateElement(name, text)


def element(data: PrivateData | None, namespace: str, name: str) -> PrivateElement | None:
    """The element *name* of *data*, if *data* is in *namespace*."""
    if data is None or data.namespace != namespace:
        return None
    return data.find(name)


def text(data: PrivateData | None, namespace: str, name: str) -> str:
    """The text of element *name* of *data* ("" when absent)."""
    found = element(data, namespace, name)
    return found.text if found is not None else ""


def with_elements(event: E, namespace: str, elements: Sequence[PrivateElement]) -> E:
    """*event* with *elements* added to its extensions' private data."""
    if not elements:
        return event
    data = merged(getattr(event, "private_data", None), namespace, elements)
    return dataclasses.replace(event, private_data=data)  # type: ignore[call-arg]


def merged(
    existing: PrivateData | None, namespace: str, elements: Sequence[PrivateElement]
) -> PrivateData:
    """*existing* private data (if any) with *elements* added."""
    if existing is None:
        return PrivateData(namespace, tuple(elements))
    return PrivateData(existing.namespace or namespace, (*existing.elements, *elements))
