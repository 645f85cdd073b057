"""The trunk protocol's sans-I/O session: lines in, messages out, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.csta.enumerations import EventCause
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.pbxsim.trunk_protocol import (
    MAX_LINE,
    NEED_DATA,
    Alerting,
    Answered,
    Failed,
    Hello,
    Release,
    Setup,
    TrunkMessage,
    TrunkSession,
    decode,
    encode,
)

TEXT = st.text(max_size=20)
MESSAGES: st.SearchStrategy[TrunkMessage] = st.one_of(
    st.builds(Hello, version=st.integers(0, 9), switch=TEXT, trunk=TEXT),
    st.builds(Setup, call=TEXT, ani=TEXT, dnis=TEXT, dialled=TEXT, uui=TEXT),
    st.builds(Alerting, call=TEXT),
    st.builds(Answered, call=TEXT),
    st.builds(Failed, call=TEXT, cause=st.sampled_from(EventCause)),
    st.builds(Release, call=TEXT, cause=st.sampled_from(EventCause)),
)


@given(MESSAGES)
def test_every_message_is_one_line_and_reads_back(message: TrunkMessage) -> None:
    line = encode(message)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert decode(line) == message


def test_the_wire_form() -> None:
    assert encode(Setup(call="A-1", ani="7001", dnis="7002", dialled="97002")) == (
        b'{"type":"setup","call":"A-1","ani":"7001","dnis":"7002","dialled":"97002"}\n'
    )
    assert encode(Release(call="A-1", cause=EventCause.NORMAL_CLEARING)) == (
        b'{"type":"release","call":"A-1","cause":"normalClearing"}\n'
    )


def test_later_versions_may_add_types_fields_and_causes() -> None:
    assert decode(b'{"type":"transfer","call":"A-1"}') is None
    assert decode(b'{"type":"alerting","call":"A-1","colour":"red"}') == Alerting(call="A-1")
    assert decode(b'{"type":"failed","call":"A-1","cause":"fancyNewCause"}') == Failed(
        call="A-1", cause=EventCause.DEST_NOT_OBTAINABLE
    )


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[1, 2]",
        b'{"type":"alerting"}',
        b'{"type":"alerting","call":7}',
        b'{"type":"hello","version":"1","switch":"A"}',
    ],
)
def test_bad_lines(line: bytes) -> None:
    with pytest.raises(LocalProtocolError):
        decode(line)


def test_a_session_opens_with_hellos_and_reads_across_reads() -> None:
    session = TrunkSession(switch="A", trunk="AB")
    assert session.hello() == Hello(switch="A", trunk="AB")
    assert not session.up
    session.receive_data(b'{"type":"hello","version":1,"swi')
    assert session.next_message() is NEED_DATA
    session.receive_data(b'tch":"B"}\n\n{"type":"alerting","call":"A-1"}\n{"type":"ans')
    assert session.next_message() == Hello(switch="B")
    assert session.up
    assert session.peer == Hello(switch="B")
    assert session.next_message() == Alerting(call="A-1")
    assert session.next_message() is NEED_DATA


def test_a_bad_line_after_the_hello_is_skipped() -> None:
    session = TrunkSession(switch="A", trunk=None)
    session.receive_data(b'{"type":"hello","version":1,"switch":"B","trunk":"AB"}\n')
    assert session.next_message() == Hello(switch="B", trunk="AB")
    session.receive_data(b'garbage\n{"type":"hello","version":1,"switch":"B"}\n')
    session.receive_data(b'{"type":"answered","call":"B-1"}\n')
    for _ in range(2):
        with pytest.raises(RemoteProtocolError) as error:
            session.next_message()
        assert not error.value.fatal
    assert session.next_message() == Answered(call="B-1")


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"alerting","call":"A-1"}\n',  # no hello first
        b"garbage\n",
        b'{"type":"hello","version":2,"switch":"B"}\n',
        b"x" * (MAX_LINE + 1),
        b"",  # the peer closed
    ],
)
def test_fatal_errors_end_the_session(data: bytes) -> None:
    session = TrunkSession(switch="A", trunk="AB")
    session.receive_data(data)
    with pytest.raises(RemoteProtocolError) as error:
        session.next_message()
    assert error.value.fatal
    assert not session.up
    with pytest.raises(RemoteProtocolError):
        session.next_message()  # and for good


@given(st.binary(max_size=300))
def test_garbage_fails_only_with_remote_protocol_error(data: bytes) -> None:
    session = TrunkSession(switch="A", trunk=None)
    session.receive_data(data)
    session.receive_data(b"")
    for _ in range(400):  # each call takes a line or ends the session
        try:
            session.next_message()
        except RemoteProtocolError as error:
            if error.fatal:
                return
    pytest.fail("a closed session kept on reading")
