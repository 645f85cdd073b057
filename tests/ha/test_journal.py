"""The hot-standby journal (ha.journal) and a backup core that follows it: the batches
go through bytes and back unchanged, and a backup fed them (or a snapshot) holds the
primary's calls, agents, sessions and numbering; garbage is refused, never applied."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.clock import Instant
from ctiserver.errors import RemoteProtocolError
from ctiserver.ha.journal import Batch, decode_batch, encode_batch
from ctiserver.ids import ClientId, DeviceId
from ctiserver.pbxsim.phone import Answer, HangUp
from ctiserver.tlib.vocabulary import ServerRole
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import CoreSettings, Deliver, Journal, Options
from tests.model.test_replay import busy_scene
from tests.wire import DNS, Wire

SETTINGS = CoreSettings(name="tserver-a", options=Options(consult_user_data="joint"), member="a")


def through_bytes(journal: Journal, term: int = 3) -> Batch:
    batch = Batch(term, journal.sequence, journal.changes, journal.sessions)
    decoded = decode_batch(encode_batch(batch))
    assert decoded == batch
    return decoded


def backup_core(wire: Wire) -> TServerCore:
    settings = dataclasses.replace(SETTINGS, member="b")  # its own ClientSessionIDs
    core = TServerCore(settings=settings, dns=DNS, started=wire.now())
    core.serve_as_backup()
    return core


def same_state(primary: TServerCore, backup: TServerCore) -> None:
    assert backup.model.value() == primary.model.value()  # type: ignore[attr-defined]
    assert backup.clients.as_facts() == primary.clients.as_facts()
    assert backup.sequence == primary.sequence


def test_a_backup_fed_the_journal_holds_the_primary_state_at_every_step() -> None:
    wire = Wire(settings=SETTINGS)
    wire.core.journaling = True
    backup = backup_core(wire)
    client = wire.client("7001", "7002", "7003")
    wire.ask(client, "RequestMakeCall", ThisDN="7001", OtherDN="7002", UserData={"k": "v"})
    c1 = wire.take(client)[0]["ConnID"]
    steps = [
        lambda: wire.ask(client, "RequestAnswerCall", ThisDN="7002", ConnID=c1),
        lambda: wire.ask(client, "RequestRegisterAll"),
        lambda: wire.ask(client, "RequestSetInputMask", InputMask=["EventReleased"]),
        lambda: wire.ask(client, "RequestMuteTransfer", ThisDN="7002", ConnID=c1, OtherDN="7003"),
        lambda: wire.perform(wire.core.client_disconnected(client, wire.now())),
        lambda: wire.phone(Answer(DeviceId("7003"))),
        lambda: wire.phone(HangUp(DeviceId("7001"))),
        lambda: wire.advance(61),  # the detached client's window ends: its session closes
    ]
    for step in steps:
        step()
        for journal in wire.journals:
            backup.apply_journal(*_parts(through_bytes(journal)))
        wire.journals.clear()
        same_state(wire.core, backup)
    assert wire.core.model.calls == []
    assert len(wire.core.clients.sessions) == 0


def test_a_backup_loads_a_snapshot_of_a_busy_primary() -> None:
    wire = busy_scene()
    snapshot = wire.core.journal_snapshot()
    batch = decode_batch(encode_batch(Batch(1, snapshot.sequence, snapshot.changes, snapshot.sessions, snapshot=True, covers=42)))  # fmt: skip
    assert (batch.snapshot, batch.covers) == (True, 42)
    backup = backup_core(wire)
    backup.load_snapshot(*_parts(batch))
    same_state(wire.core, backup)


def test_a_backup_takes_over_with_the_sessions_and_goes_on_numbering() -> None:
    wire = Wire(settings=SETTINGS)
    wire.core.journaling = True
    desk = wire.client("7002")
    sid = wire.core.clients.session_of(desk)
    wire.ask(desk, "RequestMakeCall", ThisDN="7002", OtherDN="7001")
    heard = wire.take(desk)
    backup = backup_core(wire)
    backup.load_snapshot(*_parts(through_bytes(wire.core.journal_snapshot())))
    watcher = ClientId(77)
    backup.client_connected(watcher)
    info = next(
        e
        for e in _ask(backup, watcher, "RequestRegisterClient", ApplicationName="wall")
        if e["Event"] == "EventServerInfo"
    )
    assert info["ServerRole"] == ServerRole.BACKUP
    (refused,) = _ask(backup, watcher, "RequestMakeCall", ThisDN="7003", OtherDN="7001")
    assert (refused["Event"], refused["ErrorCode"]) == ("EventError", 58)
    at = Instant(wire.monotonic + 1, wire.wall + 1)
    outputs = backup.take_over(at)
    told = [o for o in outputs if getattr(o, "clients", None) == (watcher,)]
    assert told[0].event["ServerRole"] == ServerRole.PRIMARY  # type: ignore[attr-defined]
    assert told[0].event["EventSequenceNumber"] > max(  # type: ignore[attr-defined]
        e["EventSequenceNumber"] for e in heard
    )
    resumed = ClientId(78)
    backup.client_connected(resumed)
    last = heard[0]["EventSequenceNumber"]
    answers = _ask(backup, resumed, "RequestRegisterClient", ApplicationName="desk", ClientSessionID=sid, LastEventSequenceNumber=last)  # fmt: skip
    assert [e["EventSequenceNumber"] for e in answers[: len(heard) - 1]] == [
        e["EventSequenceNumber"] for e in heard[1:]
    ]
    assert backup.clients_of(DeviceId("7002")) == [resumed]


def test_a_primary_journals_the_number_of_an_event_that_changes_nothing_else() -> None:
    """An answer to a client without a session changes neither the model nor a session,
    but it is numbered: the Journal before it carries the number, so that the next
    primary does not give it again.  A turn that numbers nothing journals nothing."""
    wire = Wire(settings=SETTINGS)
    wire.core.journaling = True
    stranger = ClientId(90)
    wire.core.client_connected(stranger)
    message: Any = {"Request": "RequestQueryServer", "ReferenceID": 4}
    journal, refused = wire.core.request(stranger, message, wire.now())
    assert isinstance(journal, Journal)
    assert isinstance(refused, Deliver)
    assert (journal.changes, journal.sessions) == ((), ())
    assert refused.event["Event"] == "EventError"  # it has not registered
    assert journal.sequence == refused.event["EventSequenceNumber"]
    assert wire.core.tick(wire.now()) == []


def _ask(core: TServerCore, client: ClientId, request: str, **attributes: Any) -> list[Any]:
    message: Any = {"Request": request, "ReferenceID": 5, **attributes}
    events = []
    for output in core.request(client, message, Instant(2000.0, 1_795_000_100.0)):
        for _clients, event in getattr(output, "copies", lambda: ())():
            events.append(event)
        events.extend(getattr(output, "events", ()))
    return events


def _parts(batch: Batch) -> tuple[Any, Any, int]:
    return batch.changes, batch.sessions, batch.sequence


@given(st.binary(max_size=200))
def test_bytes_that_are_not_a_batch_are_refused(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_batch(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {
            "v": st.just(1),
            "term": JSON,
            "sequence": JSON,
            "snapshot": JSON,
            "covers": JSON,
            "changes": JSON,
            "sessions": JSON,
        }
    )
)
def test_json_that_is_not_a_batch_is_refused(body: dict[str, Any]) -> None:
    try:
        batch = decode_batch(orjson.dumps(body))
    except RemoteProtocolError:
        return
    assert batch.empty  # only an empty batch of counts can pass
