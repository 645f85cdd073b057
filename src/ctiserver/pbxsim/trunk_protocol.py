"""The trunk protocol between simulated switches: JSON lines over TCP, sans-I/O.

Every line is one JSON object (UTF-8, ending in "\\n") whose "type" names the message.
A link opens with a hello each way: the dialling end sends its hello first, the
accepting end answers with its own, and from then on either end may send call
messages.  A call message names its trunk leg by the leg's network call id, which the
dialling end of the leg chose; ids are unique across switches, so one id never names two
legs on a link, whichever end set them up.

    hello     {"type":"hello","version":1,"switch":"A","trunk":"AB"}
    setup     {"type":"setup","call":"A-1","ani":"7001","dnis":"7002","dialled":"97002","uui":"x"}
    alerting  {"type":"alerting","call":"A-1"}                         the far end rings
    answered  {"type":"answered","call":"A-1"}                         the far end answered
    failed    {"type":"failed","call":"A-1","cause":"busy"}            no such leg any more
    release   {"type":"release","call":"A-1","cause":"normalClearing"} one end hung up

setup goes from the leg's caller to the far end; alerting, answered and failed come
back; release goes either way, and ends the leg at both ends.  Causes are ECMA-269
EventCause values.  "uui" is optional.  Fields and types this version does not know are
ignored, so a later version can add them.

How to drive a TrunkSession (ctiserver.pbxsim.trunks does it over TCP):

    session = TrunkSession(switch="A", trunk="AB")   # the trunk is None when accepting
    writer.write(session.send(session.hello()))      # the dialling end, at once
    session.receive_data(data)                       # b"" when the peer closed
    while (message := session.next_message()) is not NEED_DATA: ...
    writer.write(session.send(Setup(...)))

Rule: next_message() raises RemoteProtocolError for what the peer got wrong; with
fatal=True (no hello first, another version, a line over 64 KiB, the peer closed) the
session is over and every later call raises again.
"""

from __future__ import annotations

import enum
from dataclasses import MISSING, dataclass, fields
from typing import Any, Final, NoReturn

import orjson

from ctiserver.csta.enumerations import EventCause
from ctiserver.errors import LocalProtocolError, RemoteProtocolError

VERSION: Final = 1
MAX_LINE: Final = 65536


class NeedData(enum.Enum):
    NEED_DATA = enum.auto()


NEED_DATA: Final = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    """Who is at this end: the switch's name and, from the dialling end, the trunk."""

    version: int = VERSION
    switch: str
    trunk: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """A new leg: *ani* calls *dnis*, a number of the far switch (*dialled* in full)."""

    call: str
    ani: str
    dnis: str
    dialled: str
    uui: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Alerting:
    call: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered:
    call: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    call: str
    cause: EventCause


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    call: str
    cause: EventCause


TrunkMessage = Hello | Setup | Alerting | Answered | Failed | Release

_TYPES: Final[dict[str, type[TrunkMessage]]] = {
    "hello": Hello,
    "setup": Setup,
    "alerting": Alerting,
    "answered": Answered,
    "failed": Failed,
    "release": Release,
}
_NAMES: Final = {cls: name for name, cls in _TYPES.items()}
_DEFAULT_CAUSE: Final[dict[type[TrunkMessage], EventCause]] = {
    Failed: EventCause.DEST_NOT_OBTAINABLE,
    Release: EventCause.NORMAL_CLEARING,
}


# Per message class: its fields, each with whether it may be left out ("" is then not sent).
_FIELDS: Final[dict[type[TrunkMessage], tuple[tuple[str, bool], ...]]] = {
    cls: tuple((spec.name, spec.default is not MISSING) for spec in fields(cls)) for cls in _NAMES
}


def encode(message: TrunkMessage) -> bytes:
    """One line for *message*."""
    document: dict[str, Any] = {"type": _NAMES[type(message)]}
    for name, optional in _FIELDS[type(message)]:
        value = getattr(message, name)
        if value != "" or not optional:  # an optional text may be left out
            document[name] = value.value if isinstance(value, EventCause) else value
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)


def decode(line: bytes) -> TrunkMessage | None:
    """The message on *line*; None for a type this version does not know.

    Raises:
        LocalProtocolError: not JSON, not an object, or a field missing or mistyped.
    """
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise LocalProtocolError(f"trunk line is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise LocalProtocolError("trunk line is not a JSON object")
    cls = _TYPES.get(str(document.get("type")))
    if cls is None:
        return None
    values: dict[str, Any] = {}
    for name, _optional in _FIELDS[cls]:
        if name in document:
            values[name] = _field(cls, name, document[name])
    try:
        return cls(**values)
    except TypeError:
        raise LocalProtocolError(f"trunk {_NAMES[cls]} lacks a field") from None


def _field(cls: type[TrunkMessage], name: str, value: Any) -> Any:
    if name == "version":
        if not isinstance(value, int) or isinstance(value, bool):
            raise LocalProtocolError("trunk hello: version is not an integer")
        return value
    if not isinstance(value, str):
        raise LocalProtocolError(f"trunk {_NAMES[cls]}: {name} is not a string")
    if name == "cause":
        try:
            return EventCause(value)
        except ValueError:
            return _DEFAULT_CAUSE[cls]  # a cause from a later edition: the plain one
    return value


class TrunkSession:
    """One end of one trunk link.

    Args:
        switch: this switch's name, sent in the hello.
        trunk: the trunk's name at the dialling end; None at the accepting end.
    """

    def __init__(self, *, switch: str, trunk: str | None) -> None:
        self._switch = switch
        self._trunk = trunk
        self._buffer = bytearray()
        self._closed = False
        self._broken: RemoteProtocolError | None = None
        self.peer: Hello | None = None

    @property
    def up(self) -> bool:
        """Both hellos are through: call messages may flow."""
        return self.peer is not None and self._broken is None

    def hello(self) -> Hello:
        return Hello(switch=self._switch, trunk=self._trunk or "")

    def send(self, message: TrunkMessage) -> bytes:
        return encode(message)

    def receive_data(self, data: bytes) -> None:
        """Buffer *data*; b"" means the peer closed.  Parsing happens in next_message()."""
        if not data:
            self._closed = True
        self._buffer += data

    def next_message(self) -> TrunkMessage | NeedData:
        """The next message from the peer, or NEED_DATA.  Raises RemoteProtocolError."""
        if self._broken is not None:
            raise self._broken
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                return self._need_data()
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if line.strip():
                message = self._read(line)
                if message is not None:
                    return message

    def _need_data(self) -> NeedData:
        if len(self._buffer) > MAX_LINE:
            self._break(f"trunk line longer than {MAX_LINE} bytes")
        if self._closed:
            self._break("the trunk peer closed the link")
        return NEED_DATA

    def _read(self, line: bytes) -> TrunkMessage | None:
        if len(line) > MAX_LINE:
            self._break(f"trunk line longer than {MAX_LINE} bytes")
        try:
            message = decode(line)
        except LocalProtocolError as exc:
            if self.peer is None:
                self._break(f"trunk hello expected: {exc}")
            raise RemoteProtocolError(str(exc)) from None
        if self.peer is None:
            if not isinstance(message, Hello):
                self._break("the trunk peer did not start with hello")
            if message.version != VERSION:
                self._break(f"trunk protocol version {message.version}; this end speaks {VERSION}")
            self.peer = message
        elif isinstance(message, Hello):
            raise RemoteProtocolError("a second trunk hello")
        return message

    def _break(self, reason: str) -> NoReturn:
        self._broken = RemoteProtocolError(reason, fatal=True)
        raise self._broken
