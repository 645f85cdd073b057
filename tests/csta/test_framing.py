from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.csta.framing import EVENT_INVOKE_ID, MAX_FRAME_SIZE, Frame, FrameBuffer, wrap
from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.ids import InvokeId


def test_wrap_counts_bytes_and_includes_the_header() -> None:
    document = "<x>é</x>".encode()
    assert wrap(InvokeId(42), document) == b"\x00\x00\x00\x11" + b"0042" + document


def test_events_use_invoke_id_9999() -> None:
    assert wrap(EVENT_INVOKE_ID, b"<e/>")[4:8] == b"9999"


def test_a_document_that_cannot_fit_is_our_error() -> None:
    with pytest.raises(LocalProtocolError, match="65535"):
        wrap(InvokeId(1), b"x" * (MAX_FRAME_SIZE - 7))
    assert len(wrap(InvokeId(1), b"x" * (MAX_FRAME_SIZE - 8))) == MAX_FRAME_SIZE


@given(
    st.lists(st.tuples(st.integers(0, 9999), st.binary(max_size=300)), max_size=8),
    st.data(),
)
def test_frames_survive_any_cutting_of_the_stream(
    frames: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(wrap(InvokeId(i), doc) for i, doc in frames)
    buffer, received = FrameBuffer(), []
    position = 0
    while position < len(stream):
        step = data.draw(st.integers(1, 64))
        buffer.feed(stream[position : position + step])
        position += step
        while (frame := buffer.next_frame()) is not None:
            received.append(frame)
    assert received == [Frame(InvokeId(i), doc) for i, doc in frames]


def test_a_bad_format_word_skips_one_frame_and_keeps_step() -> None:
    buffer = FrameBuffer()
    buffer.feed(b"\x00\x01\x00\x0c0001abcd" + wrap(InvokeId(2), b"ok"))
    with pytest.raises(RemoteProtocolError) as caught:
        buffer.next_frame()
    assert not caught.value.fatal
    assert buffer.next_frame() == Frame(InvokeId(2), b"ok")


def test_a_non_decimal_invoke_id_skips_one_frame() -> None:
    buffer = FrameBuffer()
    buffer.feed(b"\x00\x00\x00\x0aAB12xy" + wrap(InvokeId(3), b"ok"))
    with pytest.raises(RemoteProtocolError, match="invoke id"):
        buffer.next_frame()
    assert buffer.next_frame() == Frame(InvokeId(3), b"ok")


def test_a_length_shorter_than_the_header_is_fatal_for_good() -> None:
    buffer = FrameBuffer()
    buffer.feed(b"\x00\x00\x00\x040001" + wrap(InvokeId(2), b"ok"))
    for _ in range(2):
        with pytest.raises(RemoteProtocolError) as caught:
            buffer.next_frame()
        assert caught.value.fatal
