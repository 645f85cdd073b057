"""The hot-standby journal's messages, as bytes and back (DESIGN.md § 7, "Journal").

A batch is what the primary makes durable in one JetStream message before it sends the
events that follow from it: the model's change records and the sessions' facts, in
order, with the last EventSequenceNumber given and the lease term of its writer.  A
snapshot batch holds the whole state (it is stored apart, and a backup that starts
rebuilds from it, then follows the journal after the message it covers).

    {"v": 1, "term": 7, "sequence": 1042, "snapshot": false, "covers": 0,
     "changes": [["CallCreated", {...}], ...], "sessions": [["SessionSent", {...}], ...]}

Pure: decode_batch raises RemoteProtocolError on anything that is not a batch of this
version (it came from elsewhere).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ctiserver.errors import RemoteProtocolError
from ctiserver.model.changes import Change
from ctiserver.model.encoding import RECORDS, plain, record_decoder
from ctiserver.tserver import sessions as session_facts
from ctiserver.tserver.sessions import SessionFact

VERSION = 1

FACTS: Mapping[str, type[Any]] = {
    name: value
    for name, value in vars(session_facts).items()
    if isinstance(value, type)
    and dataclasses.is_dataclass(value)
    and name.startswith("Session")
    and name not in ("Session", "Sessions")
}


@dataclass(frozen=True, slots=True)
class Batch:
    term: int  # the writer's lease revision
    sequence: int  # the last EventSequenceNumber given when it was made
    changes: tuple[Change, ...] = ()
    sessions: tuple[SessionFact, ...] = ()
    snapshot: bool = False  # the whole state, not a step
    covers: int = 0  # a snapshot: the journal message it includes the effect of

    @property
    def empty(self) -> bool:
        return not self.changes and not self.sessions


def encode_batch(batch: Batch) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "term": batch.term,
            "sequence": batch.sequence,
            "snapshot": batch.snapshot,
            "covers": batch.covers,
            "changes": [[type(c).__name__, c] for c in batch.changes],
            "sessions": [[type(f).__name__, f] for f in batch.sessions],
        },
        default=plain,
    )


def decode_batch(data: bytes) -> Batch:
    """Raises RemoteProtocolError."""
    try:
        body = orjson.loads(data)
        if not isinstance(body, dict) or body.get("v") != VERSION:
            raise ValueError(f"not a journal batch of version {VERSION}")
        return Batch(
            term=_integer(body["term"]),
            sequence=_integer(body["sequence"]),
            changes=tuple(_records(body["changes"], RECORDS)),
            sessions=tuple(_records(body["sessions"], FACTS)),
            snapshot=body["snapshot"] is True,
            covers=_integer(body["covers"]),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise RemoteProtocolError(f"not a journal batch: {exc!r}") from None


def _integer(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise TypeError(f"expected a count, got {value!r}")
    return value


def _records(items: Any, table: Mapping[str, type[Any]]) -> list[Any]:
    if not isinstance(items, list):
        raise TypeError("expected a list of records")
    return [_read(item, table) for item in items]


def _read(item: Any, table: Mapping[str, type[Any]]) -> Any:
    name, body = item
    decode: Callable[[Any], Any] = record_decoder(table[name])
    return decode(body)
