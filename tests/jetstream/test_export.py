"""The event stream (`[export] events`, docs/events.md) through real sockets, against a
real nats-server: every event on its subject as the clients got it, byte for byte; a
NATS outage that calls never notice (held, then dropped and counted, then published in
order when NATS returns); a consumer that replays the stream."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from ctiserver.jetstream.export import ExportState
from tests.integration.conftest import within
from tests.jetstream.conftest import (
    Desk,
    NatsServer,
    basic_call,
    consumer,
    export_of,
    http_get,
    metric,
    server_name,
)

A, B, NOBODY = "7001", "7002", "7003"


async def test_every_event_is_exported_once_on_its_subject_as_its_clients_got_it(
    nats_server: NatsServer, exporting: ...
) -> None:
    name = server_name()
    site = await exporting(nats_server.url, name)
    export = export_of(site)
    await within(export.ready.wait())
    a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
    watcher = await Desk.open(site.address, A)  # 7001's events, not its answers
    try:
        await basic_call(a, b, A, B)
        a.send("RequestMakeCall", ThisDN=A, OtherDN=NOBODY)  # nobody registered 7003
        dialing = await a.wait_for("EventDialing")
        a.send("RequestReleaseCall", ThisDN=A, ConnID=dialing["ConnID"])
        await a.wait_for("EventReleased")
        await watcher.wait_for("EventReleased")
        last = max(orjson.loads(line)["EventSequenceNumber"] for line in a.lines)
        async with consumer(nats_server.url, export.stream.name or "") as reader:
            exported = await reader.upto(last)
    finally:
        for desk in (a, b, watcher):
            await desk.close()

    numbers = [message.number for message in exported]
    assert numbers == list(range(1, last + 1))  # each event once, in order, none missing
    by_number = {message.number: message for message in exported}
    for message in exported:
        event = message.event
        dn = event.get("ThisDN")
        assert message.subject == f"ctiserver.{name}.events.{dn or '_server'}"
        assert message.headers["Nats-Msg-Id"] == f"{name}:{message.number}:{event['time']}"
    for desk in (a, b):  # the requester's copy is the one exported
        for line in desk.lines:
            assert by_number[orjson.loads(line)["EventSequenceNumber"]].data == line
    for line in watcher.lines:
        got = orjson.loads(line)
        sent = by_number[got["EventSequenceNumber"]]
        if sent.data != line:  # a's answer, which the watcher got without a's ReferenceID
            assert "ReferenceID" not in got
            assert {k: v for k, v in sent.event.items() if k != "ReferenceID"} == got
    received = {
        orjson.loads(line)["EventSequenceNumber"] for d in (a, b, watcher) for line in d.lines
    }
    unseen = [by_number[n].event for n in set(numbers) - received]
    assert {(e["Event"], e.get("ThisDN")) for e in unseen} >= {("EventRinging", NOBODY)}


async def test_a_nats_outage_holds_then_drops_and_publishes_again_in_order(
    own_nats_server: NatsServer, exporting: ..., caplog: pytest.LogCaptureFixture
) -> None:
    name = server_name()
    site = await exporting(own_nats_server.url, name, max_buffer=16384)
    export, link = export_of(site), site.service.nats
    assert link is not None
    await within(export.ready.wait())
    a, b = await Desk.open(site.address, A), await Desk.open(site.address, B)
    lost, back = asyncio.Event(), asyncio.Event()
    link.on_change(lambda up: (back if up else lost).set())
    try:
        await basic_call(a, b, A, B)
        own_nats_server.kill()
        await within(lost.wait())
        with caplog.at_level(logging.WARNING, logger="ctiserver.jetstream.export"):
            for _ in range(12):  # calls go on as if NATS were there
                await basic_call(a, b, A, B)
        dropped = export.dropped["buffer-full"]
        assert dropped > 0
        assert export.buffered > 0
        assert export.state is ExportState.DROPPING
        assert [r.message for r in caplog.records].count(
            f"event export: the buffer is full ({export.buffered} events, "
            f"{export.buffered_bytes} bytes; [export] max-buffer): dropping events until "
            "NATS takes them again"
        ) == 1
        status, text = await http_get(site, "/metrics")
        assert metric(text, 'ctiserver_export_dropped_total{reason="buffer-full"}') == dropped
        assert metric(text, "ctiserver_export_buffered") == export.buffered
        assert metric(text, "ctiserver_export_up") == 0
        status, body = await http_get(site, "/healthz")
        assert status == 200  # the server serves: NATS is not the switch
        health = orjson.loads(body)["export"]
        assert health == {
            "state": "dropping",
            "published": export.published,
            "buffered": export.buffered,
            "dropped": dropped,
        }

        own_nats_server.start()  # the same port and store: NATS is back
        await within(back.wait(), 15)
        await within(export.drained(), 15)  # what was held is in the stream
        await basic_call(a, b, A, B)
        last = max(orjson.loads(line)["EventSequenceNumber"] for line in a.lines + b.lines)
        async with consumer(own_nats_server.url, export.stream.name or "") as reader:
            exported = await reader.upto(last)
    finally:
        await a.close()
        await b.close()

    numbers = [message.number for message in exported]
    assert numbers == sorted(set(numbers))  # in order, each once
    missing = sorted(set(range(1, last + 1)) - set(numbers))
    dropped = export.dropped["buffer-full"]  # and those dropped until the buffer had room
    assert len(missing) == dropped  # exactly the dropped ones, and they were counted
    assert missing == list(range(missing[0], missing[0] + dropped))  # the newest of the outage
    assert numbers[-1] == last  # after the outage, everything again
    status, body = await http_get(site, "/healthz")
    assert orjson.loads(body)["export"]["state"] == "publishing"
    status, text = await http_get(site, "/metrics")
    assert metric(text, "ctiserver_export_up") == 1
    assert metric(text, "ctiserver_export_published_total") == export.published == len(numbers)
