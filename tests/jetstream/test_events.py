"""The event stream's names and buffer (jetstream.events, jetstream.buffer): subject
tokens round-trip and never hold what a NATS subject cannot, every event has its
subject and message id, the stream is declared with [export]'s limits, and the buffer
keeps a run of events within its bound."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType

from ctiserver.jetstream import events
from ctiserver.jetstream.buffer import OVERHEAD, Entry, EventBuffer
from ctiserver.jetstream.events import (
    ExportSettings,
    Subjects,
    default_stream,
    dn_token,
    message_id,
    stream_config,
    token,
    untoken,
)

FORBIDDEN_IN_A_TOKEN = set(". *>\t\r\n") | {"\x00"}


@given(st.text())
def test_a_token_reads_back_and_holds_nothing_a_subject_cannot(text: str) -> None:
    written = token(text)
    assert untoken(written) == text
    assert not set(written) & FORBIDDEN_IN_A_TOKEN
    assert all(character in string.printable for character in written)


@given(st.text(min_size=1))
def test_a_dn_never_takes_the_token_of_the_events_without_one(dn: str) -> None:
    written = dn_token(dn)
    assert written != "_server"
    assert untoken(written) == dn


def test_plain_numbers_and_names_are_written_as_they_are() -> None:
    assert token("7001") == "7001"
    assert token("tserver-a") == "tserver-a"
    assert token("+33 1 23") == "+33%201%2023"
    assert token("sip:7001@pbx.example") == "sip:7001@pbx%2Eexample"
    assert token("50%") == "50%25"
    assert dn_token("") == "_server"
    assert dn_token("_server") == "%5Fserver"


def test_each_event_has_the_subject_of_its_dn() -> None:
    subjects = Subjects("tserver a")
    assert subjects.wildcard == "ctiserver.tserver%20a.events.>"
    assert subjects.of({"Event": "EventRinging", "ThisDN": "7002"}) == (
        "ctiserver.tserver%20a.events.7002"
    )
    assert subjects.of({"Event": "EventServerInfo"}) == "ctiserver.tserver%20a.events._server"
    assert subjects.of({"Event": "EventError", "ThisDN": ""}) == (
        "ctiserver.tserver%20a.events._server"
    )


def test_subjects_are_remembered_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "MAX_REMEMBERED", 2)
    subjects = Subjects("t")
    names = [subjects.of({"Event": "EventError", "ThisDN": str(n)}) for n in range(5)]
    assert names == [f"ctiserver.t.events.{n}" for n in range(5)]
    assert len(subjects._by_dn) == 2


def test_the_message_id_names_the_server_the_number_and_the_moment() -> None:
    event = {
        "Event": "EventRinging",
        "EventSequenceNumber": 42,
        "time": "2026-01-02T03:04:05.000006Z",
    }
    assert message_id("tserver", event) == "tserver:42:2026-01-02T03:04:05.000006Z"
    again = {**event, "time": "2026-01-02T03:09:00.000000Z"}  # the same number, a later run
    assert message_id("tserver", again) != message_id("tserver", event)


def test_the_stream_takes_every_event_of_the_server_within_the_limits() -> None:
    settings = ExportSettings(
        events=True, max_age=3600, max_bytes=1 << 30, replicas=3, duplicate_window=60
    )
    config = stream_config(settings, "tserver.b")
    assert config.name == "CTISERVER_tserver_b_EVENTS" == default_stream("tserver.b")
    assert config.subjects == ["ctiserver.tserver%2Eb.events.>"]
    assert (config.max_age, config.max_bytes, config.num_replicas) == (3600, 1 << 30, 3)
    assert config.duplicate_window == 60
    assert config.retention is RetentionPolicy.LIMITS
    assert config.discard is DiscardPolicy.OLD
    assert config.storage is StorageType.FILE
    unlimited = stream_config(ExportSettings(stream="audit", max_age=0, max_bytes=0), "t")
    assert (unlimited.name, unlimited.max_age, unlimited.max_bytes) == ("audit", None, None)


def entry(number: int, size: int = 100) -> Entry:
    return Entry("ctiserver.t.events.7001", b"x" * size, f"t:{number}:")


def test_the_buffer_keeps_a_run_of_events_within_its_bound() -> None:
    one = entry(1).size
    assert one == 100 + len("ctiserver.t.events.7001") + len("t:1:") + OVERHEAD
    buffer = EventBuffer(limit=3 * one)
    assert [buffer.put(entry(n)) for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert (len(buffer), buffer.bytes) == (3, 3 * one)
    assert [e.message_id for e in buffer.head(2)] == ["t:1:", "t:2:"]
    buffer.pop(2)
    assert [e.message_id for e in buffer] == ["t:3:"]
    assert buffer.put(entry(5))
    assert buffer.put(entry(6))
    assert not buffer.put(entry(7))
    buffer.pop(10)
    assert (len(buffer), buffer.bytes) == (0, 0)
