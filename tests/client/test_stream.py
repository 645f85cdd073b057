"""The application's side of HotStandbyClient (client.stream): within a session an
event is delivered once, whatever number the server gives again, and the counts say
what was delivered, held back and told."""

from __future__ import annotations

import pytest

from ctiserver.client import (
    ConnectionClosed,
    Counts,
    PrimaryLost,
    SessionRestarted,
    SessionResumed,
)
from ctiserver.client.stream import EventStream


async def test_an_event_numbered_at_or_below_the_last_one_is_not_delivered_again() -> None:
    stream = EventStream(Counts())
    first = {"Event": "EventRinging", "EventSequenceNumber": 7}
    stream.deliver(first)
    stream.deliver({"Event": "EventRinging", "EventSequenceNumber": 7})
    stream.deliver({"Event": "EventDialing", "EventSequenceNumber": 5})
    later = {"Event": "EventEstablished", "EventSequenceNumber": 9}
    stream.deliver(later)
    assert [await stream.next_event(), await stream.next_event()] == [first, later]
    assert (stream.last, stream.counts) == (9, Counts(events=2, repeated=2))


async def test_a_new_session_numbers_afresh_and_the_notices_are_counted() -> None:
    stream = EventStream(Counts())
    stream.deliver({"Event": "EventRegistered", "EventSequenceNumber": 40})
    stream.tell(PrimaryLost("a:7000", "the connection closed"))
    stream.tell(SessionResumed("b:7000", "s1", 40, switchover=True))
    stream.tell(PrimaryLost("b:7000", "the connection closed"))
    stream.tell(SessionRestarted("b:7000", "s2", "s1", "no such session", ("7002",)))
    stream.start_again()
    stream.deliver({"Event": "EventServerInfo", "EventSequenceNumber": 3})
    stream.end()
    told = [event async for event in stream.events()]
    assert [type(n).__name__ for n in told[1:5]] == [
        "PrimaryLost", "SessionResumed", "PrimaryLost", "SessionRestarted"
    ]  # fmt: skip
    assert told[5]["EventSequenceNumber"] == 3  # type: ignore[index]
    assert stream.counts == Counts(events=2, lost=2, resumed=1, switchovers=1, restarted=1)
    with pytest.raises(ConnectionClosed):
        await stream.next_event()
