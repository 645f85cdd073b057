"""ctiserver.lines: a byte stream cut into lines, however it is cut into reads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ctiserver.lines import NEED_LINE, OVERSIZE, LineBuffer

LINES = st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=12)


def take(buffer: LineBuffer) -> list[object]:
    out: list[object] = []
    while (line := buffer.next_line()) is not NEED_LINE:
        out.append(line)
    return out


@given(LINES, st.lists(st.integers(1, 30), max_size=20))
def test_lines_come_out_whole_however_the_stream_is_cut(
    lines: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    buffer, seen, at = LineBuffer(64), [], 0
    for size in [*cuts, len(stream)]:
        buffer.receive_data(stream[at : at + size])
        at += size
        seen += take(buffer)
    assert seen == lines


def test_a_long_line_is_reported_once_and_skipped_to_its_newline() -> None:
    buffer = LineBuffer(8)
    buffer.receive_data(b"123456789")
    assert take(buffer) == [OVERSIZE]
    buffer.receive_data(b"0" * 100)  # still the same line: nothing new, nothing kept
    assert take(buffer) == []
    buffer.receive_data(b"\nok\n")
    assert take(buffer) == [b"ok"]


def test_a_long_line_arriving_whole_is_reported_and_the_next_one_read() -> None:
    buffer = LineBuffer(4)
    buffer.receive_data(b"abcdefgh\nabc\n")
    assert take(buffer) == [OVERSIZE, b"abc"]
