"""A consumer of the event stream replays it: one DN's subject alone, from a sequence of
the stream, and across a restart of the server (whose numbering starts again: the
message ids of the new run are new, so nothing of it is taken for a duplicate)."""

from __future__ import annotations

import orjson

from tests.integration.conftest import start_site, stop_site, within
from tests.jetstream.conftest import (
    Desk,
    NatsServer,
    basic_call,
    consumer,
    export_config,
    export_of,
    server_name,
    stream_messages,
)

A, B = "7001", "7002"


async def test_a_consumer_replays_one_dn_and_from_a_sequence(
    nats_server: NatsServer, exporting: ...
) -> None:
    name = server_name()
    site = await exporting(nats_server.url, name)
    export = export_of(site)
    await within(export.ready.wait())
    a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
    try:
        first = await basic_call(a, b, A, B)
        second = await basic_call(a, b, A, B)
    finally:
        await a.close()
        await b.close()
    stream = export.stream.name or ""
    last = max(orjson.loads(line)["EventSequenceNumber"] for line in a.lines + b.lines)
    async with consumer(nats_server.url, stream) as everything:
        whole = await everything.upto(last)

    async with consumer(nats_server.url, stream, f"ctiserver.{name}.events.{B}") as of_b:
        replayed = await of_b.upto(max(m.number for m in whole if m.event.get("ThisDN") == B))
    assert [m.data for m in replayed] == [m.data for m in whole if m.event.get("ThisDN") == B]
    assert [(m.event["Event"], m.event.get("ConnID")) for m in replayed] == [
        ("EventRegistered", None),
        *[(event, call) for call in (first, second) for event in RINGING_TO_RELEASED],
    ]

    middle = next(m for m in whole if m.event.get("ConnID") == second)
    async with consumer(nats_server.url, stream, start=middle.stream_sequence) as tail:
        assert [m.data for m in await tail.upto(last)] == [
            m.data for m in whole if m.stream_sequence >= middle.stream_sequence
        ]


RINGING_TO_RELEASED = ("EventRinging", "EventEstablished", "EventReleased")


async def test_a_restarted_server_numbers_again_and_every_event_is_kept(
    nats_server: NatsServer,
) -> None:
    name = server_name()
    runs: list[list[bytes]] = []
    for _ in range(2):
        site, task = await start_site(export_config(nats_server.url, name))
        try:
            export = export_of(site)
            await within(export.ready.wait())
            a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
            try:
                await basic_call(a, b, A, B)
            finally:
                await a.close()
                await b.close()
            await within(export.drained())
            runs.append(a.lines + b.lines)
        finally:
            await stop_site(site, task)
    stream = export.stream.name or ""
    first, second = ({orjson.loads(line)["EventSequenceNumber"] for line in run} for run in runs)
    assert first & second  # the second run gave the same numbers again
    total = await stream_messages(nats_server.url, stream)
    async with consumer(nats_server.url, stream) as reader:
        kept = {m.data for m in await reader.first(total)}
    assert {line for run in runs for line in run} <= kept
