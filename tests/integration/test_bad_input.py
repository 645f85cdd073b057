"""Bad input from clients: each gets a clear EventError, the connection stays, and no
other client notices (DESIGN.md § 3)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from ctiserver.tlib.codec import MAX_LINE
from tests.integration.conftest import Site, check, expect, within


async def raw(site: Site) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(*site.address, limit=4 * MAX_LINE)
    writer.write(b'{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"raw"}\n')
    for _ in range(2):
        await within(reader.readline())
    return reader, writer


async def answer(reader: asyncio.StreamReader) -> dict[str, object]:
    event: dict[str, object] = orjson.loads(await within(reader.readline()))
    return event


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        (b"hello", 53, "not JSON"),
        (b'"a string"', 53, "JSON object"),
        (b'{"Request": "RequestTeleport", "ReferenceID": 5}', 51, "RequestTeleport"),
        (
            b'{"Request": "RequestMakeCall", "ReferenceID": 6, "ThisDN": "7001"}',
            53,
            "lacks OtherDN",
        ),
        (
            b'{"Request": "RequestMakeCall", "ReferenceID": 7, "ThisDN": 7001, "OtherDN": "7002"}',
            53,
            "ThisDN",
        ),
        (
            b'{"Request": "RequestMakeCall", "ReferenceID": 8, "ThisDN": "7001", "OtherDN": "7002", "UserData": []}',
            53,
            "UserData",
        ),
    ],
)
async def test_each_bad_line_gets_a_named_error_and_the_connection_stays(
    site: Site, line: bytes, code: int, fragment: str
) -> None:
    reader, writer = await raw(site)
    writer.write(line + b"\n" + b'{"Request":"RequestQueryServer","ReferenceID":99}\n')
    error = await answer(reader)
    assert (error["Event"], error["ErrorCode"]) == ("EventError", code)
    assert fragment in str(error["ErrorMessage"])
    assert error["ReferenceID"] in (0, 5, 6, 7, 8)
    assert (await answer(reader))["ReferenceID"] == 99
    writer.close()


async def test_an_oversize_line_is_discarded_and_the_next_line_served(site: Site) -> None:
    reader, writer = await raw(site)
    writer.write(
        b'{"Request":"RequestQueryServer","ReferenceID":3,"x":"' + b"y" * (MAX_LINE + 10) + b'"}\n'
    )
    writer.write(b'{"Request":"RequestQueryServer","ReferenceID":4}\n')
    error = await answer(reader)
    assert error["ErrorCode"] == 53
    assert "discarded" in str(error["ErrorMessage"])
    assert (await answer(reader))["ReferenceID"] == 4
    writer.close()


async def test_a_client_leaving_mid_request_disturbs_nobody(site: Site) -> None:
    b = await site.client("7002")
    reader, writer = await raw(site)
    writer.write(b'{"Request":"RequestRegisterAddress","ReferenceID":2,"ThisDN":"7001"}\n')
    await answer(reader)
    writer.write(
        b'{"Request":"RequestMakeCall","ReferenceID":3,"ThisDN":"7001","OtherDN":"7002"}\n'
    )
    writer.close()
    ringing = await expect(b, "EventRinging", OtherDN="7001")
    check(await b.answer_call("7002", ringing["ConnID"]), "EventEstablished")


async def test_a_client_that_stops_reading_is_disconnected_alone(make_site: object) -> None:
    site: Site = await make_site(
        server={"clients": {"max_client_buffer": 4096}}, options={"user_data_limit": 1 << 20}
    )  # type: ignore[operator]
    _slow_reader, slow_writer = await raw(site)
    slow_writer.write(b'{"Request":"RequestRegisterAddress","ReferenceID":2,"ThisDN":"7002"}\n')
    a = await site.client("7001")
    big = {"blob": "z" * 200_000}
    closed = False
    for _ in range(60):  # ~12 MB of events for 7002; the kernel buffers hold a few MB
        dialing = await a.make_call("7001", "7002", user_data=big)
        await a.release_call("7001", dialing["ConnID"])
        if site.service.runtime.client_count == 1:
            closed = True
            break
    assert closed, "the slow client was never disconnected"
    check(await a.query_server(), "EventServerInfo")
    slow_writer.close()
