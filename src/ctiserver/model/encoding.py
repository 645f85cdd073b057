"""Change records to JSON and back: the form the hot-standby journal carries.

A record is written as `["<RecordName>", {field: value, ...}]`, its values as JSON
objects of their fields, enumerations by their value, sets as sorted lists.  Reading
uses the fields' declared types, so a decoded record equals the one encoded
(`decode_change(encode_change(c)) == c`).  A line that is not a record of this module
raises RemoteProtocolError: it came from elsewhere.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from typing import Any, cast

import orjson

from ctiserver.errors import RemoteProtocolError
from ctiserver.model import changes
from ctiserver.tlib.vocabulary import KVList, KVValue

Decoder = Callable[[Any], Any]

RECORDS: Mapping[str, type[Any]] = {
    name: value
    for name, value in vars(changes).items()
    if isinstance(value, type)
    and dataclasses.is_dataclass(value)
    and value.__module__ == changes.__name__
}


def encode_change(change: changes.Change) -> bytes:
    """One record as one JSON document (no newline)."""
    return orjson.dumps([type(change).__name__, change], default=_plain)


def decode_change(data: bytes | str) -> changes.Change:
    """A record from encode_change's output.  Raises RemoteProtocolError."""
    try:
        name, body = orjson.loads(data)
        cls = RECORDS[name]
        record: changes.Change = _decoder(cast(Hashable, cls))(body)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise RemoteProtocolError(f"not a change record: {exc!r}") from None
    return record


def record_decoder(cls: type[Any]) -> Callable[[Any], Any]:
    """How to read a record of class *cls* (any dataclass of values) from the JSON object
    orjson made of it; raises TypeError, ValueError or KeyError on anything else."""
    return _decoder(cast(Hashable, cls))


def plain(value: Any) -> Any:
    """orjson's `default` for what it does not write itself (sets, as sorted lists)."""
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not serialisable")


@cache
def _decoder(kind: Any) -> Decoder:
    """How to read a value of declared type *kind* from its JSON form."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass_decoder(kind)
    supertype = getattr(kind, "__supertype__", None)
    if supertype is not None:  # a NewType
        return _decoder(supertype)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        return _optional(args)
    if origin is frozenset:
        item = _decoder(args[0])
        return lambda value: frozenset(item(v) for v in value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda value: tuple(item(v) for v in _array(value))
    if origin in (dict, Mapping, typing.Mapping):
        key, item = _decoder(args[0]), _decoder(args[1])
        return lambda value: {key(k): item(v) for k, v in _object(value).items()}
    if kind in (str, int, float, bool) or kind is Any:
        return _exactly(kind)
    raise TypeError(f"no decoder for {kind!r}")


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value


def _object(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _key_value_list(value: Any) -> Any:
    if not isinstance(value, dict):
        raise TypeError("a key-value list must be an object")
    return value


def _exactly(kind: Any) -> Decoder:
    if kind is Any:
        return lambda value: value

    def read(value: Any) -> Any:
        if kind is float and type(value) is int:
            return float(value)
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return read


def _optional(args: tuple[Any, ...]) -> Decoder:
    inner = [a for a in args if a is not type(None)]
    if len(inner) != 1:
        raise TypeError(f"no decoder for a union of {inner!r}")
    item = _decoder(inner[0])
    return lambda value: None if value is None else item(value)


def _dataclass_decoder(cls: type[Any]) -> Decoder:
    hints = typing.get_type_hints(cls, localns={"KVList": KVList, "KVValue": KVValue})
    fields = {
        # UserData and events are JSON as the T-Library has them: read as they are
        f.name: _key_value_list if f.type in ("KVList", "TMessage") else _decoder(hints[f.name])
        for f in dataclasses.fields(cls)
    }

    def read(value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"{cls.__name__} must be an object")
        unknown = set(value) - set(fields)
        if unknown:
            raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
        return cls(**{name: fields[name](item) for name, item in value.items()})

    return read
