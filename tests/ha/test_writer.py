"""The journal writer (ha.writer) against a real nats-server: turns go into messages in
order, several on their way at once, and each turn's events go out once its message is
acknowledged; a message that landed though its acknowledgement was lost is recognised;
a journal that moved on (the other member took over) stops the writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from ctiserver.ha.journal import Batch, decode_batch, encode_batch
from ctiserver.ha.settings import HaSettings
from ctiserver.ha.writer import JournalWriter
from ctiserver.ids import DeviceId
from ctiserver.model.changes import AgentIntended
from ctiserver.model.values import AgentIntent
from ctiserver.tlib.vocabulary import AgentWorkMode
from ctiserver.tserver.port import Deliver, Journal, Resend
from tests.ha.conftest import NatsServer, pair_settings
from tests.integration.conftest import within


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[tuple[JetStreamContext, HaSettings]]:
    client = await nats.connect(nats_server.url)
    context = client.jetstream()
    settings = pair_settings("a")
    await context.add_stream(
        StreamConfig(name=settings.stream, subjects=[settings.subject], storage=StorageType.FILE)
    )
    yield context, settings
    await client.close()


def journal(n: int) -> Journal:
    return Journal(
        (
            AgentIntended(
                dn=DeviceId(f"70{n:02d}"), intent=AgentIntent(work_mode=AgentWorkMode.AUTO_IN)
            ),
        ),
        (),
        n,
    )


def event(n: int) -> Deliver:
    return Deliver({"Event": "EventAgentReady", "EventSequenceNumber": n}, ())


def writer(
    context: JetStreamContext, settings: HaSettings, sent: list[Deliver | Resend], gone: list[str]
) -> JournalWriter:
    return JournalWriter(
        context, settings, term=1, last=0, release=sent.append,
        capture=lambda: Journal(()), superseded=gone.append,
    )  # fmt: skip


async def stored(context: JetStreamContext, settings: HaSettings) -> list[Batch]:
    info = await context.stream_info(settings.stream)
    found = []
    for seq in range(1, info.state.last_seq + 1):
        message = await context.get_msg(settings.stream, seq)
        assert message.data is not None
        found.append(decode_batch(message.data))
    return found


async def test_turns_become_messages_in_order_and_their_events_follow(
    js: tuple[JetStreamContext, HaSettings],
) -> None:
    context, settings = js
    sent: list[Deliver | Resend] = []
    gone: list[str] = []
    journal_writer = writer(context, settings, sent, gone)
    for n in range(1, 41):  # forty turns
        journal_writer.journal(journal(n))
        journal_writer.hold(event(n))
        await asyncio.sleep(0)  # the turn ends: its batch is sealed
    await within(journal_writer.drain())
    assert [output.event["EventSequenceNumber"] for output in sent] == list(range(1, 41))  # type: ignore[union-attr]
    batches = await stored(context, settings)
    assert [c.dn for b in batches for c in b.changes] == [f"70{n:02d}" for n in range(1, 41)]  # type: ignore[attr-defined]
    assert journal_writer.last == len(batches) == journal_writer.messages
    assert gone == []


async def test_a_message_that_landed_is_recognised(js: tuple[JetStreamContext, HaSettings]) -> None:
    context, settings = js
    sent: list[Deliver | Resend] = []
    gone: list[str] = []
    journal_writer = writer(context, settings, sent, gone)
    # The very message the writer is about to send, already in the stream: as when a
    # first try landed and its acknowledgement was lost.
    body = encode_batch(Batch(1, 1, journal(1).changes))
    headers = {"Nats-Expected-Last-Sequence": "0", "Nats-Msg-Id": f"{settings.pair}.1.1"}
    await context.publish(settings.subject, body, headers=headers)
    journal_writer.journal(journal(1))
    journal_writer.hold(event(1))
    await within(journal_writer.drain())
    assert (len(sent), journal_writer.last, gone) == (1, 1, [])
    assert len(await stored(context, settings)) == 1


async def test_a_journal_that_moved_on_stops_the_writer(
    js: tuple[JetStreamContext, HaSettings],
) -> None:
    context, settings = js
    sent: list[Deliver | Resend] = []
    gone: list[str] = []
    journal_writer = writer(context, settings, sent, gone)
    await context.publish(  # the other member's takeover marker
        settings.subject, encode_batch(Batch(2, 0)), headers={"Nats-Expected-Last-Sequence": "0"}
    )
    journal_writer.journal(journal(1))
    journal_writer.hold(event(1))
    await within(journal_writer.drain())
    assert sent == []  # its cause never became durable: the event is never sent
    assert gone == ["the journal has moved past message 0: the other member took over"]
