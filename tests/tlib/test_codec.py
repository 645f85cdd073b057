from __future__ import annotations

import datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.tlib.codec import MAX_LINE, NEED_DATA, TlibConnection, encode_event, format_time
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import REQUESTS, InvalidRequest, check


def messages(connection: TlibConnection) -> list[object]:
    out = []
    while (message := connection.next_message()) is not NEED_DATA:
        out.append(message)
    return out


REGISTER = {"Request": "RequestRegisterAddress", "ReferenceID": 2, "ThisDN": "7001"}


def test_one_request_per_line_in_any_cutting() -> None:
    data = orjson.dumps(REGISTER) + b"\n\n" + orjson.dumps(REGISTER) + b"\r\n"
    connection = TlibConnection()
    received = []
    for byte in data:
        connection.receive_data(bytes([byte]))
        received += messages(connection)
    assert received == [REGISTER, REGISTER]


def test_an_oversize_line_is_reported_once_and_discarded_up_to_its_newline() -> None:
    connection = TlibConnection()
    connection.receive_data(b"x" * (MAX_LINE // 2))
    assert messages(connection) == []
    connection.receive_data(b"x" * MAX_LINE)
    (problem,) = messages(connection)
    assert isinstance(problem, InvalidRequest)
    assert problem.code is TError.INVALID_ATTR
    assert "discarded" in problem.message
    connection.receive_data(b"y" * MAX_LINE * 2)
    assert messages(connection) == []
    connection.receive_data(b"tail\n" + orjson.dumps(REGISTER) + b"\n")
    assert messages(connection) == [REGISTER]


def test_an_oversize_line_arriving_whole_is_refused() -> None:
    connection = TlibConnection()
    connection.receive_data(b"z" * (MAX_LINE + 1) + b"\n" + orjson.dumps(REGISTER) + b"\n")
    problem, request = messages(connection)
    assert isinstance(problem, InvalidRequest)
    assert request == REGISTER


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        (b"not json", TError.INVALID_ATTR, "not JSON"),
        (b"[1, 2]", TError.INVALID_ATTR, "JSON object"),
        (b'{"ReferenceID": 1}', TError.INVALID_ATTR, '"Request"'),
        (b'{"Request": "RequestFly", "ReferenceID": 3}', TError.UNSUP_OPER, "RequestFly"),
        (b'{"Request": "RequestMakeCall", "ReferenceID": 4, "ThisDN": "1"}', TError.INVALID_ATTR, "lacks OtherDN"),
        (b'{"Request": "RequestMakeCall", "ThisDN": "1", "OtherDN": "2"}', TError.INVALID_ATTR, "lacks ReferenceID"),
        (b'{"Request": "RequestMakeCall", "ReferenceID": 0, "ThisDN": "1", "OtherDN": "2"}', TError.INVALID_ATTR, "positive integer"),
        (b'{"Request": "RequestAnswerCall", "ReferenceID": 5, "ThisDN": 7001, "ConnID": "a"}', TError.INVALID_ATTR, "ThisDN must be a non-empty string"),
        (b'{"Request": "RequestAnswerCall", "ReferenceID": 6, "ThisDN": "1", "ConnID": "a", "Colour": 1}', TError.INVALID_ATTR, "'Colour'"),
        (b'{"Request": "RequestRegisterAddress", "ReferenceID": 7, "ThisDN": "1", "RegisterMode": "Share"}', TError.INVALID_ATTR, "ModeShare"),
        (b'{"Request": "RequestMakeCall", "ReferenceID": 8, "ThisDN": "1", "OtherDN": "2", "UserData": {"a": true}}', TError.INVALID_ATTR, "UserData.a"),
        (b'{"Request": "RequestMakeCall", "ReferenceID": 9, "ThisDN": "1", "OtherDN": "2", "UserData": {"b": {"$binary": "%%%"}}}', TError.INVALID_ATTR, "base64"),
    ],
)  # fmt: skip
def test_bad_requests_name_their_problem(line: bytes, code: TError, fragment: str) -> None:
    connection = TlibConnection()
    connection.receive_data(line + b"\n")
    (problem,) = messages(connection)
    assert isinstance(problem, InvalidRequest)
    assert problem.code is code
    assert fragment in problem.message


def test_the_reference_id_of_a_bad_request_is_kept_when_readable() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check({"Request": "RequestMakeCall", "ReferenceID": 12, "ThisDN": "1"})
    assert caught.value.reference_id == 12


def test_user_data_of_every_kind_is_accepted() -> None:
    user_data = {"s": "text", "i": -(2**63), "nested": {"deep": {"x": 1}}, "b": {"$binary": "AAE="}}
    request = {**REGISTER, "Request": "RequestMakeCall", "OtherDN": "2", "UserData": user_data}
    del request["ThisDN"]
    request["ThisDN"] = "1"
    assert check(request)["UserData"] == user_data


def test_nesting_is_bounded() -> None:
    nested: dict[str, object] = {"x": "y"}
    for _ in range(10):
        nested = {"n": nested}
    with pytest.raises(InvalidRequest, match="deeper"):
        check(
            {
                "Request": "RequestMakeCall",
                "ReferenceID": 1,
                "ThisDN": "1",
                "OtherDN": "2",
                "UserData": nested,
            }
        )


@given(st.binary(max_size=2000))
def test_garbage_never_escapes_as_anything_but_invalid_request(data: bytes) -> None:
    connection = TlibConnection()
    connection.receive_data(data + b"\n")
    for message in messages(connection):
        assert isinstance(message, (InvalidRequest, dict))


def test_every_request_in_the_table_has_distinct_required_and_optional_attributes() -> None:
    for name, spec in REQUESTS.items():
        assert not set(spec.required) & set(spec.optional), name


def test_events_are_one_json_line() -> None:
    assert (
        encode_event({"Event": "EventACK", "ReferenceID": 3})
        == b'{"Event":"EventACK","ReferenceID":3}\n'
    )


def test_time_is_iso_8601_utc_with_microseconds() -> None:
    assert format_time(1795000000.123456) == "2026-11-18T11:06:40.123456Z"


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_time_is_written_as_datetime_writes_it(epoch: float) -> None:
    """format_time keeps the text up to the second from one call to the next: the result
    is still exactly datetime's, rounding to the microsecond included."""
    expected = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    assert format_time(epoch) == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_time_within_one_second_and_across_seconds() -> None:
    assert format_time(1795000000.5) == "2026-11-18T11:06:40.500000Z"
    assert format_time(1795000000.9999996) == "2026-11-18T11:06:41.000000Z"
    assert format_time(1795000001.25) == "2026-11-18T11:06:41.250000Z"
    assert format_time(1795000000.000001) == "2026-11-18T11:06:40.000001Z"


def test_requests_a_csta_switch_cannot_serve_say_why() -> None:
    with pytest.raises(InvalidRequest) as refused:
        check({"Request": "RequestOpenVoiceFile", "ReferenceID": 3})
    assert refused.value.code is TError.UNSUP_OPER
    assert refused.value.reference_id == 3
    assert str(refused.value).startswith("RequestOpenVoiceFile is an IVR's")


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        ("RequestSetDNInfo", "RequestSetDNInfo carries DN state between the members of a"),
        ("RequestLostBackupConnection", "RequestLostBackupConnection is for a T-Server pair"),
    ],
)
def test_requests_between_the_members_of_a_pair_say_why(request_: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check({"Request": request_, "ReferenceID": 4})
    assert (refused.value.code, refused.value.reference_id) == (TError.UNSUP_OPER, 4)
    assert str(refused.value).startswith(why)
