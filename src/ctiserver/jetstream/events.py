"""What the event stream is made of (`[export]`, docs/events.md): the settings, the
subject and message id of each exported event, and the stream's configuration.

    ctiserver.<Server>.events.<ThisDN>      an event about a DN
    ctiserver.<Server>.events._server       an event without ThisDN (EventServerInfo, …)

A subject token holds no `.`, `*`, `>` or white space: the server's name and a DN are
written with every character outside `A-Z a-z 0-9 - _ + = @ : # ! ~ , ;` as `%XX` (the
bytes of its UTF-8), and a DN that starts with `_` has it written `%5F`, so that
`_server` is never a DN.  Nothing here does I/O.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Final

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from ctiserver.tlib.vocabulary import TMessage

SERVER_TOKEN: Final = "_server"  # the last token of the events without ThisDN
STREAM_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,255}")
_SAFE: Final = frozenset(string.ascii_letters + string.digits + "-_+=@:#!~,;")
_NOT_IN_NAME: Final = re.compile(r"[^A-Za-z0-9_-]")

MAX_REMEMBERED: Final = 1 << 16  # subjects worked out once and kept
MIB: Final = 1 << 20
DAY: Final = 86400.0


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """`[export]`: publish every T-Library event to a JetStream stream."""

    events: bool = False
    stream: str = ""  # "" -> CTISERVER_<Server>_EVENTS
    max_age: float = 7 * DAY  # seconds an event is kept in the stream (0: no limit)
    max_bytes: int = 1024 * MIB  # the stream's size; the oldest events go first (0: none)
    replicas: int = 1  # copies of the stream in a NATS cluster (1 to 5)
    duplicate_window: float = 120.0  # seconds JetStream remembers message ids
    max_buffer: int = 64 * MIB  # bytes of events held while NATS is away


def token(text: str) -> str:
    """*text* as one subject token (the module's docstring says how)."""
    if text and all(character in _SAFE for character in text):
        return text
    return "".join(
        character if character in _SAFE else "".join(f"%{b:02X}" for b in character.encode())
        for character in text
    )


def dn_token(dn: str) -> str:
    """The last token of an event's subject for its ThisDN."""
    if not dn:
        return SERVER_TOKEN
    if dn.startswith("_"):
        return "%5F" + token(dn[1:])
    return token(dn)


def untoken(text: str) -> str:
    """The server name or DN a token stands for (`%XX` read back as UTF-8)."""
    if "%" not in text:
        return text
    raw = bytearray()
    position = 0
    while position < len(text):
        if text[position] == "%" and position + 3 <= len(text):
            raw.append(int(text[position + 1 : position + 3], 16))
            position += 3
        else:
            raw += text[position].encode()
            position += 1
    return raw.decode()


class Subjects:
    """The subjects of one server's events, each DN's worked out once (the first
    MAX_REMEMBERED DNs': an EventError names whatever DN its request named)."""

    def __init__(self, server: str) -> None:
        self.prefix = f"ctiserver.{token(server)}.events."
        self._by_dn: dict[str, str] = {}

    @property
    def wildcard(self) -> str:
        """Every event of this server: the stream's subject."""
        return self.prefix + ">"

    def of(self, event: TMessage) -> str:
        dn = event.get("ThisDN")
        key = dn if isinstance(dn, str) else ""
        subject = self._by_dn.get(key)
        if subject is None:
            subject = self.prefix + dn_token(key)
            if len(self._by_dn) < MAX_REMEMBERED:  # a client may name any DN in a request
                self._by_dn[key] = subject
        return subject


def message_id(server: str, event: TMessage) -> str:
    """The event's `Nats-Msg-Id`: the server's name, its EventSequenceNumber and its
    `time`.  The same event published twice (a retry after a lost acknowledgement) has
    the same id, and JetStream keeps it once; the numbering of a standalone server that
    starts again (from 1) never takes the id of an event of its previous run."""
    return f"{server}:{event.get('EventSequenceNumber', 0)}:{event.get('time', '')}"


def default_stream(server: str) -> str:
    return f"CTISERVER_{_NOT_IN_NAME.sub('_', server)}_EVENTS"[:255]


def stream_name(settings: ExportSettings, server: str) -> str:
    return settings.stream or default_stream(server)


def stream_config(settings: ExportSettings, server: str) -> StreamConfig:
    """The stream the server declares when it is missing: every event of *server*, kept
    by age and size (the oldest go first), on disk."""
    return StreamConfig(
        name=stream_name(settings, server),
        description=f"T-Library events of ctiserver {server} (docs/events.md)",
        subjects=[Subjects(server).wildcard],
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=settings.max_age or None,
        max_bytes=settings.max_bytes or None,
        storage=StorageType.FILE,
        num_replicas=settings.replicas,
        duplicate_window=settings.duplicate_window,
    )
