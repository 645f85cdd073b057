"""ctiserver.model.encoding: change records to JSON and back.

What the module promises: every record of model.changes, whatever its values, decodes
to a record equal to the one encoded; anything else (bytes that are not JSON, JSON that
is not a record, a record with a field of the wrong type) raises RemoteProtocolError and
nothing else.  The strategies are built from the records' declared field types, so a
record added to model.changes is covered without a change here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.errors import RemoteProtocolError
from ctiserver.model import changes
from ctiserver.model.encoding import RECORDS, decode_change, encode_change
from ctiserver.tlib.vocabulary import KVList, KVValue

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # orjson: no surrogates
INT64 = st.integers(-(2**63), 2**63 - 1)
KV_LISTS: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(TEXT, TEXT | INT64, max_size=3),
    lambda children: st.dictionaries(TEXT, TEXT | INT64 | children, max_size=3),
    max_leaves=8,
)
SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: TEXT,
    int: INT64,
    bool: st.booleans(),
    float: st.floats(allow_nan=False, allow_infinity=False),
}


def values_of(kind: Any) -> st.SearchStrategy[Any]:
    """Any value of declared type *kind*, as a record's field may hold it."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return instances_of(kind)
    supertype = getattr(kind, "__supertype__", None)
    if supertype is not None:  # a NewType
        return values_of(supertype)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.sampled_from(list(kind))
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        return st.one_of([st.none() if a is type(None) else values_of(a) for a in args])
    if origin is frozenset:
        return st.frozensets(values_of(args[0]), max_size=3)
    if origin in (dict, Mapping):
        return st.dictionaries(values_of(args[0]), values_of(args[1]), max_size=3)
    return SCALARS[kind]


def instances_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls, localns={"KVList": KVList, "KVValue": KVValue})
    fields = {
        field.name: KV_LISTS if field.type == "KVList" else values_of(hints[field.name])
        for field in dataclasses.fields(cls)
    }
    return st.builds(cls, **fields)


ANY_RECORD = st.one_of([instances_of(cls) for _, cls in sorted(RECORDS.items())])


def test_every_record_of_model_changes_is_known() -> None:
    declared = {
        name
        for name, value in vars(changes).items()
        if dataclasses.is_dataclass(value) and value.__module__ == changes.__name__
    }
    assert set(RECORDS) == declared
    assert {"CallCreated", "PartyRang", "AgentChanged", "DnsReconfigured"} <= declared


def round_trips(record: Any) -> None:
    encoded = encode_change(record)
    assert decode_change(encoded) == record
    assert decode_change(encoded.decode()) == record  # text as well as bytes
    assert orjson.loads(encoded)[0] == type(record).__name__


@pytest.mark.parametrize("name", sorted(RECORDS))
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_round_trip_of_each_kind_of_record(name: str, data: st.DataObject) -> None:
    round_trips(data.draw(instances_of(RECORDS[name])))


@settings(max_examples=50, deadline=None)
@given(ANY_RECORD)
def test_round_trip_of_any_record(record: Any) -> None:
    round_trips(record)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_bytes_decode_to_a_record_or_raise_remote_protocol_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_change(data)


JSON = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(RECORDS)), JSON)
def test_a_record_with_any_json_as_its_body_decodes_or_raises_remote_protocol_error(
    name: str, body: Any
) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_change(orjson.dumps([name, body]))


@settings(max_examples=60, deadline=None)
@given(ANY_RECORD, st.data())
def test_a_record_with_one_field_replaced_by_any_json(record: Any, data: st.DataObject) -> None:
    """Each field of a real record, given a value of the wrong shape."""
    name, body = orjson.loads(encode_change(record))
    field = data.draw(st.sampled_from(sorted(body)))
    body[field] = data.draw(JSON)
    with contextlib.suppress(RemoteProtocolError):
        decode_change(orjson.dumps([name, body]))


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[]",
        b'["CallForgotten"]',
        b'"ab"',
        b'{"CallForgotten": 1, "x": 2}',
        b'[["CallForgotten"], {}]',
        b'["NoSuchRecord", {}]',
        b'["CallForgotten", []]',
        b'["CallForgotten", {}]',
        b'["CallForgotten", {"conn_id": 7}]',
        b'["CallForgotten", {"conn_id": "c", "extra": 1}]',
        b'["DnsReconfigured", {"dns": [["7001", "DN"]]}]',
        b'["DnsReconfigured", {"dns": {"7001": "Trunk"}}]',
        b'["AgentIntended", {"dn": "7001", "intent": {"work_mode": "Sleeping"}}]',
        b'["RouteDialogueOpened", {"dialogue": "7"}]',
        b'["CallCreated", {"call": {"conn_id": "c", "call_id": "1", "user_data": []}}]',
        b'["CallCreated", {"call": {"conn_id": "c", "call_id": "1", "expected": 5}}]',
    ],
)
def test_garbage_is_a_remote_protocol_error(line: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_change(line)


def test_an_integer_where_a_float_is_declared_is_read_as_one() -> None:
    """JSON writes 2.0 as 2 (an agent's emulated timer, Agent.until, is a float)."""
    from ctiserver.model import encoding

    read = encoding._decoder(float)
    assert read(2) == 2.0
    assert type(read(2)) is float
    with pytest.raises(TypeError):
        read("2")
