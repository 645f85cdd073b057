"""ctiserver.iscc.protocol: the JSON-lines codec between the CTI servers of two sites.

What the module promises: send() gives one line per message and receive_data() /
next_message() give the messages back in any cutting of the byte stream; a malformed
line is a non-fatal RemoteProtocolError; a line over MAX_LINE bytes is dropped up to its
newline.  Every case below is followed by a valid line, which must still come through.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.iscc import protocol
from ctiserver.iscc.protocol import (
    MAX_LINE,
    MESSAGES,
    NEED_DATA,
    VERSION,
    Hello,
    IsccConnection,
    PeerMessage,
    Poll,
    Reserve,
)

# --- strategies, built from the message declarations -------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)  # orjson: no surrogates
INT64 = st.integers(-(2**63), 2**63 - 1)
KEYS = TEXT.filter(lambda key: key != "$binary")  # the key that marks a binary value
KV_LISTS: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(KEYS, TEXT | INT64, max_size=4),
    lambda children: st.dictionaries(KEYS, TEXT | INT64 | children, max_size=4),
    max_leaves=12,
)
# A field's annotation as written in protocol.py (a string, under `from __future__`).
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {"str": TEXT, "int": INT64, "KVList": KV_LISTS}


def any_message_of(cls: type[PeerMessage]) -> st.SearchStrategy[PeerMessage]:
    """Any instance of *cls*, each field drawn by its declared type."""
    fields = {spec.name: FIELD_VALUES[str(spec.type)] for spec in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


MESSAGE_CLASSES = sorted(MESSAGES.values(), key=lambda cls: cls.TYPE)
ANY_MESSAGE = st.one_of([any_message_of(cls) for cls in MESSAGE_CLASSES])

# --- helpers ------------------------------------------------------------------------------

POLL = Poll(id=7)
POLL_LINE = b'{"type": "poll", "id": 7}\n'


def drain(connection: IsccConnection) -> list[PeerMessage | RemoteProtocolError]:
    """Every message the connection holds, with the errors in their places."""
    out: list[PeerMessage | RemoteProtocolError] = []
    while True:
        try:
            message = connection.next_message()
        except RemoteProtocolError as exc:
            out.append(exc)
            continue
        if message is NEED_DATA:
            return out
        out.append(message)


def padded(line: bytes, length: int) -> bytes:
    """*line* (without its newline) grown with JSON whitespace to *length* bytes."""
    assert len(line) <= length
    return line + b" " * (length - len(line))


# --- the message catalogue ----------------------------------------------------------------


def test_every_message_class_is_in_the_catalogue() -> None:
    declared = {cls for cls in vars(protocol).values() if _is_message_class(cls)}
    assert set(MESSAGES.values()) == declared
    assert len(declared) == 18  # Hello and Proof, Poll and PollReply, 14 of the service


def test_a_reserve_agent_is_a_reserve_with_the_agent_and_a_type_of_its_own() -> None:
    reserve = Reserve(xid="SiteA:3", xroute="route", dn="7101", user_data={"k": "v"})
    wanted = protocol.ReserveAgent.of(reserve, agent_id="2001", place="P1")
    line = protocol.encode(wanted)
    assert orjson.loads(line) == {
        "type": "reserve-agent",
        "xid": "SiteA:3",
        "xroute": "route",
        "dn": "7101",
        "user_data": {"k": "v"},
        "agent_id": "2001",
        "place": "P1",
    }
    assert protocol.decode(line) == wanted
    assert protocol.decode(protocol.encode(reserve)) == reserve  # a plain Reserve stays one


def _is_message_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, PeerMessage) and value is not PeerMessage


def test_the_catalogue_is_keyed_by_wire_type() -> None:
    assert all(wire == cls.TYPE for wire, cls in MESSAGES.items())
    assert MESSAGES["unlinked"] is protocol.Unlinked
    assert MESSAGES["poll-reply"] is protocol.PollReply


# --- encoding and round trips -------------------------------------------------------------


def test_send_writes_one_json_object_per_line_with_its_type() -> None:
    line = IsccConnection.send(Hello(location="paris", server="ts-paris", nonce="a1b2"))
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert orjson.loads(line) == {
        "type": "hello",
        "version": VERSION,
        "location": "paris",
        "server": "ts-paris",
        "nonce": "a1b2",
    }


def test_a_hello_without_a_nonce_leaves_it_out_as_an_earlier_release_sends_it() -> None:
    line = IsccConnection.send(Hello(location="paris", server="ts-paris"))
    assert orjson.loads(line) == {
        "type": "hello",
        "version": VERSION,
        "location": "paris",
        "server": "ts-paris",
    }
    assert protocol.decode(line) == Hello(location="paris", server="ts-paris", nonce="")


@settings(max_examples=150)
@given(ANY_MESSAGE)
def test_round_trip(message: PeerMessage) -> None:
    connection = IsccConnection()
    connection.receive_data(connection.send(message))
    assert connection.next_message() == message
    assert connection.next_message() is NEED_DATA


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda cls: cls.TYPE)
@settings(max_examples=20)
@given(data=st.data())
def test_round_trip_of_each_type(cls: type[PeerMessage], data: st.DataObject) -> None:
    message = data.draw(any_message_of(cls))
    assert protocol.decode(protocol.encode(message)) == message


@settings(max_examples=100)
@given(st.lists(ANY_MESSAGE, max_size=6), st.data())
def test_messages_come_through_in_any_cutting(
    messages: list[PeerMessage], data: st.DataObject
) -> None:
    stream = b"".join(IsccConnection.send(message) for message in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    connection = IsccConnection()
    received: list[PeerMessage | RemoteProtocolError] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        connection.receive_data(stream[start:end])
        received += drain(connection)
    assert received == messages


def test_one_byte_at_a_time() -> None:
    messages = [Hello(location="a", server="s"), POLL, protocol.PollReply(id=7)]
    stream = b"".join(IsccConnection.send(message) for message in messages)
    connection = IsccConnection()
    received: list[PeerMessage | RemoteProtocolError] = []
    for byte in stream:
        connection.receive_data(bytes([byte]))
        received += drain(connection)
    assert received == messages


def test_a_partial_line_waits_for_its_newline() -> None:
    connection = IsccConnection()
    connection.receive_data(POLL_LINE[:-1])
    assert connection.next_message() is NEED_DATA
    connection.receive_data(b"\n")
    assert connection.next_message() == POLL


def test_fields_with_defaults_may_be_left_out() -> None:
    connection = IsccConnection()
    connection.receive_data(b'{"type": "reserve", "xid": "a:1", "xroute": "route", "dn": ""}\n')
    assert connection.next_message() == Reserve(xid="a:1", xroute="route", dn="")


def test_blank_lines_and_crlf_are_ignored() -> None:
    connection = IsccConnection()
    connection.receive_data(b"\n\r\n   \n" + POLL_LINE[:-1] + b"\r\n\n")
    assert drain(connection) == [POLL]


def test_a_message_too_long_to_send_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="too long"):
        IsccConnection.send(Hello(location="a", server="s" * MAX_LINE))


# --- the protocol version -----------------------------------------------------------------


def test_hello_says_our_version_by_default() -> None:
    assert Hello(location="a", server="s").version == VERSION == "ctiserver-iscc/1"


def test_hello_carries_the_peers_version_as_sent() -> None:
    """The codec carries the version and does not judge it (peering.py refuses the peer)."""
    connection = IsccConnection()
    connection.receive_data(
        b'{"type": "hello", "version": "ctiserver-iscc/2", "location": "a", "server": "s"}\n'
    )
    assert connection.next_message() == Hello(version="ctiserver-iscc/2", location="a", server="s")


# --- garbage ------------------------------------------------------------------------------

MALFORMED = {
    "not JSON": b"hello there",
    "truncated JSON": b'{"type": "poll", "id": ',
    "invalid UTF-8": b'{"type": "poll", "id": 1, "x": "\xff\xfe"}',
    "lone surrogate": b'{"type": "hello", "location": "\\ud800", "server": "s"}',
    "a JSON array": b'[{"type": "poll", "id": 1}]',
    "a JSON string": b'"poll"',
    "a JSON number": b"42",
    "JSON null": b"null",
    "no type": b'{"id": 1}',
    "a type that is not a string": b'{"type": 7, "id": 1}',
    "an unknown type": b'{"type": "ring", "id": 1}',
    "a type in the wrong case": b'{"type": "POLL", "id": 1}',
    "a missing field": b'{"type": "poll"}',
    "a missing field without default": b'{"type": "hello", "location": "a"}',
    "an extra field": b'{"type": "poll", "id": 1, "urgent": true}',
    "a string for an int": b'{"type": "poll", "id": "1"}',
    "a bool for an int": b'{"type": "poll", "id": true}',
    "a float for an int": b'{"type": "poll", "id": 1.0}',
    "null for an int": b'{"type": "poll", "id": null}',
    "an int beyond 64 bits": b'{"type": "poll", "id": 18446744073709551616}',
    "an int for a string": b'{"type": "cancel", "xid": 12}',
    "null for a string": b'{"type": "cancel", "xid": null}',
    "an int for the version": b'{"type": "hello", "version": 1, "location": "a", "server": "s"}',
    "a list for UserData": b'{"type": "data-changed", "conn_id": "c", "user_data": []}',
    "a string for UserData": b'{"type": "data-changed", "conn_id": "c", "user_data": "k=v"}',
}


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_line_is_a_non_fatal_remote_error(line: bytes) -> None:
    connection = IsccConnection()
    connection.receive_data(line + b"\n" + POLL_LINE)
    with pytest.raises(RemoteProtocolError) as caught:
        connection.next_message()
    assert not caught.value.fatal
    assert connection.next_message() == POLL
    assert connection.next_message() is NEED_DATA


def test_errors_name_what_is_wrong() -> None:
    connection = IsccConnection()
    connection.receive_data(
        b'{"type": "poll", "id": 1, "urgent": 1}\n{"type": "poll", "id": "1"}\n'
    )
    with pytest.raises(RemoteProtocolError, match=r"poll has unknown fields \['urgent'\]"):
        connection.next_message()
    with pytest.raises(RemoteProtocolError, match=r"poll\.id has the wrong type"):
        connection.next_message()


@pytest.mark.parametrize("value", [b"null", b"1.5", b"true", b"[1, 2]", b'{"k": [null]}'])
def test_userdata_with_values_of_the_wrong_type_is_a_remote_error(value: bytes) -> None:
    connection = IsccConnection()
    connection.receive_data(
        b'{"type": "data-changed", "conn_id": "c", "user_data": {"k": ' + value + b"}}\n"
    )
    with pytest.raises(RemoteProtocolError):
        connection.next_message()


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_fails_only_with_a_non_fatal_remote_error(data: bytes) -> None:
    connection = IsccConnection()
    connection.receive_data(data + b"\n" + POLL_LINE)
    received = drain(connection)
    assert received[-1] == POLL
    assert all(not item.fatal for item in received if isinstance(item, RemoteProtocolError))


# Values of the wrong type for a field, by its declared type; "type" is the message type.
WRONG_VALUES: dict[str, list[object]] = {
    "str": [None, 3, 1.5, True, [], {"k": "v"}],
    "int": [None, "3", 1.5, True, [], {}],
    "KVList": [None, "k=v", 3, True, [["k", "v"]]],
    "type": [None, 3, "no-such-type", ["poll"]],
}


@settings(max_examples=100)
@given(ANY_MESSAGE, st.data())
def test_a_message_with_one_field_of_the_wrong_type_is_refused(
    message: PeerMessage, data: st.DataObject
) -> None:
    kinds = {spec.name: str(spec.type) for spec in dataclasses.fields(message)}
    kinds["type"] = "type"
    name = data.draw(st.sampled_from(sorted(kinds)))
    body = {"type": message.TYPE, **dataclasses.asdict(message)}
    body[name] = data.draw(st.sampled_from(WRONG_VALUES[kinds[name]]))
    connection = IsccConnection()
    connection.receive_data(orjson.dumps(body) + b"\n" + POLL_LINE)
    with pytest.raises(RemoteProtocolError):
        connection.next_message()
    assert connection.next_message() == POLL


# --- over-long lines ----------------------------------------------------------------------


def test_a_line_of_max_line_bytes_is_accepted() -> None:
    connection = IsccConnection()
    line = padded(POLL_LINE[:-1], MAX_LINE)
    connection.receive_data(line[: MAX_LINE // 2])
    assert connection.next_message() is NEED_DATA
    connection.receive_data(line[MAX_LINE // 2 :])
    assert connection.next_message() is NEED_DATA
    connection.receive_data(b"\n")
    assert connection.next_message() == POLL


def test_an_over_long_line_is_dropped_up_to_its_newline() -> None:
    """Reported once, as soon as the line is too long (ctiserver.lines), then skipped."""
    connection = IsccConnection()
    line = padded(POLL_LINE[:-1], MAX_LINE + 1)
    connection.receive_data(line)
    with pytest.raises(RemoteProtocolError, match="dropped") as caught:
        connection.next_message()
    assert not caught.value.fatal
    connection.receive_data(b"more of it")
    assert connection.next_message() is NEED_DATA
    connection.receive_data(b"\n" + POLL_LINE)
    assert connection.next_message() == POLL
    assert connection.next_message() is NEED_DATA


def test_a_very_long_line_is_reported_once() -> None:
    connection = IsccConnection()
    reported = []
    for _ in range(3):
        connection.receive_data(b"x" * MAX_LINE)
        reported += [type(item) for item in drain(connection)]
    connection.receive_data(b"tail\n" + POLL_LINE)
    assert [*reported, *[type(item) for item in drain(connection)]] == [RemoteProtocolError, Poll]


def test_a_line_after_a_dropped_one_is_judged_on_its_own() -> None:
    connection = IsccConnection()
    connection.receive_data(b"x" * (MAX_LINE + 1))
    received = drain(connection)
    connection.receive_data(b"\n" + POLL_LINE + b"not json\n" + POLL_LINE)
    received += drain(connection)
    assert [type(item) for item in received] == [
        RemoteProtocolError,
        Poll,
        RemoteProtocolError,
        Poll,
    ]


def test_an_over_long_line_arriving_whole_is_dropped() -> None:
    connection = IsccConnection()
    connection.receive_data(padded(POLL_LINE[:-1], MAX_LINE + 1) + b"\n" + POLL_LINE)
    with pytest.raises(RemoteProtocolError):
        connection.next_message()
    assert connection.next_message() == POLL


# --- the proof of a shared secret ---------------------------------------------------------


def _proof(secret: str, **sides: str) -> protocol.Proof:
    return protocol.Proof(mac=protocol.prove(secret, **sides))


SIDES = {"sender": "SiteA", "receiver": "SiteB", "challenge": "b" * 32, "nonce": "a" * 32}


def test_a_proof_made_with_the_secret_matches() -> None:
    assert protocol.proof_matches(_proof("s3cret", **SIDES), "s3cret", **SIDES)


@pytest.mark.parametrize(
    "change",
    [
        {"sender": "SiteC"},  # made by another site
        {"sender": "SiteB", "receiver": "SiteA"},  # ours, reflected back at us
        {"challenge": "c" * 32},  # for another connection: a replay
        {"nonce": "c" * 32},
    ],
)
def test_a_proof_for_other_sides_or_nonces_does_not_match(change: dict[str, str]) -> None:
    assert not protocol.proof_matches(_proof("s3cret", **SIDES), "s3cret", **{**SIDES, **change})


def test_a_proof_with_another_secret_does_not_match_and_never_holds_the_secret() -> None:
    proof = _proof("wrong", **SIDES)
    assert not protocol.proof_matches(proof, "s3cret", **SIDES)
    assert b"s3cret" not in protocol.encode(_proof("s3cret", **SIDES))


def test_hello_carries_its_nonce_through_the_codec() -> None:
    hello = Hello(location="SiteA", server="a", nonce="0123abcd")
    connection = IsccConnection()
    connection.receive_data(connection.send(hello))
    assert connection.next_message() == hello
