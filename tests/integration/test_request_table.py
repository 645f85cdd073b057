"""docs/protocol.md, "Every T-Library request": each request of the table is answered
through a socket as the table says: served (never the generic 51 of an unknown request),
or refused with EventError 51 and the table's reason."""

from __future__ import annotations

import re
from pathlib import Path

from ctiserver.client.connection import TClient
from ctiserver.tlib.requests import NOT_SERVED, REQUESTS
from ctiserver.tlib.vocabulary import TMessage
from tests.integration.conftest import Site, expect, within

PROTOCOL = Path(__file__).parents[2] / "docs" / "protocol.md"
ROW = re.compile(r"^\| (Request\w+) \| (served \(§ 4\)|refused: (.*)) \|$")


def table() -> dict[str, str | None]:
    """Each request of the table: None when served, else the reason it is refused."""
    text = PROTOCOL.read_text(encoding="utf-8")
    section = text.split("### Every T-Library request", 1)[1].split("\n## ", 1)[0]
    rows = [m for line in section.splitlines() if (m := ROW.match(line))]
    return {m.group(1): m.group(3) for m in rows}


def test_the_table_names_every_request_the_server_knows() -> None:
    rows = table()
    assert len(rows) == 83  # T-Library 7.1: RequestRegisterClient ... RequestNetworkPrivateService
    assert set(REQUESTS) | set(NOT_SERVED) == set(rows)
    assert {name for name, why in rows.items() if why is None} == set(REQUESTS)


async def test_each_request_is_answered_as_the_table_says(site: Site) -> None:
    client = await site.client()
    rows = table()
    for name, why in rows.items():  # the refusals first: expect() reads the stream
        if why is not None:
            reference = client.send(name)
            await expect(
                client, "EventError", ReferenceID=reference, ErrorCode=51, ErrorMessage=why
            )
    for name, why in rows.items():
        if why is not None or name == "RequestRegisterClient":  # this connection's first
            continue
        answer = await within(answer_to(client, client.send(name)))
        # lacking attributes a served request is refused too, but never as unknown
        assert answer["Event"] != "EventError" or answer["ErrorCode"] != 51, answer


async def answer_to(client: TClient, reference: int) -> TMessage:
    """The first event of the stream that answers request *reference*."""
    while True:
        event = await client.next_event()
        if event.get("ReferenceID") == reference:
            return event
