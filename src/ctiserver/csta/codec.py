"""The CSTA XML codec: messages to ECMA-323 documents and back, sans-I/O.

encode() writes a document in one namespace chosen by the caller (the session's
edition, or ECMA-354's for application-session messages).  decode() reads a document in
any `…/ecma-323/csta/edN` namespace, ECMA-354's, or none; it matches elements by local
name, ignores elements it does not know (vendor additions) and does not depend on their
order (switches are known to send them out of schema order).  Both work from code
compiled once per message class (csta/encoder.py, csta/decoder.py) out of the
declarations (csta/plans.py).

Parsing is ctiserver.safexml's, hardened: a document carrying a DTD is refused, and the
parser never resolves entities or touches the network.  Frames bound the size (65,535
bytes).

Rule: this module raises LocalProtocolError for any document it cannot read;
CstaSession.next_message() turns that into RemoteProtocolError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from ctiserver import safexml
from ctiserver.csta import encoder
from ctiserver.csta.decoder import reader, text
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.plans import catalogue
from ctiserver.csta.schema import APPLICATION_SESSION_NAMESPACE, Message
from ctiserver.errors import LocalProtocolError

_NAMESPACE_OK: Final = re.compile(
    r"(|http://www\.(ecma\.ch|ecma-international\.org)/standards/ecma-323/csta/ed\d+"
    r"(/priv\d+)?|" + re.escape(APPLICATION_SESSION_NAMESPACE) + ")"
)
_ROOTS_LIMIT: Final = 1024

Read = Callable[[Any], Message]
_ROOTS: dict[str, Read] = {}  # a root element's tag, in a namespace we accept -> its reader

encode = encoder.encode


class UnknownMessage(LocalProtocolError):
    """A well-formed document whose root element names no message ctiserver knows."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CSTA message {name}")
        self.name = name


def message_class(name: str) -> type[Message] | None:
    """The message class whose root element is *name*, if ctiserver knows it."""
    return catalogue().get(name)


def decode(document: bytes) -> Message:
    """Read one CSTA or ECMA-354 document.  Raises LocalProtocolError."""
    root = _parse(document)
    read = _ROOTS.get(root.tag) or _root_reader(root.tag)
    message: Message = read(root)
    return message


def _root_reader(tag: str) -> Read:
    namespace, _, name = tag.rpartition("}")
    if not _NAMESPACE_OK.fullmatch(namespace.lstrip("{")):
        raise LocalProtocolError(f"root element {name} is in an unknown namespace {namespace}}}")
    cls = message_class(name)
    if cls is None:
        raise UnknownMessage(name)
    read: Read = _decode_error if cls is CSTAErrorCode else reader(cls).read
    if len(_ROOTS) < _ROOTS_LIMIT:
        _ROOTS[tag] = read
    return read


def _parse(document: bytes) -> Any:
    try:
        return safexml.parse(document)
    except safexml.UnsafeXml as exc:
        raise LocalProtocolError(str(exc)) from None


def _decode_error(root: Any) -> CSTAErrorCode:
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.rpartition("}")[2]
        try:
            category = ErrorCategory(name)
        except ValueError:
            continue
        return CSTAErrorCode(category=category, value=text(child) or name)
    raise LocalProtocolError("CSTAErrorCode names no error category")
