"""Resumable sessions (tserver.sessions, tserver.clients): what a resumed client gets
back, and when not; detached clients; a backup's sessions when it takes over."""

from __future__ import annotations

from ctiserver.clock import Instant
from ctiserver.ids import ClientId, DeviceId
from ctiserver.tlib.vocabulary import RegisterMode, TMessage
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.sessions import (
    SNAPSHOT_TAIL,
    Refusal,
    Resumption,
    SessionClosed,
    SessionDropped,
    SessionMasked,
    SessionOpened,
    SessionRegistered,
    SessionResumed,
    Sessions,
    SessionSent,
    SessionUnregistered,
)

A, B = DeviceId("7001"), DeviceId("7002")
SHARE, PRIVATE = RegisterMode.MODE_SHARE, RegisterMode.MODE_PRIVATE


def event(n: int) -> TMessage:
    return {"Event": "EventDialing", "EventSequenceNumber": n}


def opened(sessions: Sessions, sid: str = "s1") -> None:
    sessions.apply_all(
        [
            SessionOpened(session=sid, application="desk"),
            SessionRegistered(session=sid, dn=A, mode=SHARE),
            SessionRegistered(session=sid, dn=B, mode=PRIVATE),
            SessionUnregistered(session=sid, dn=B),
        ]
    )


def test_a_dropped_session_resumes_with_its_registrations_and_what_it_missed() -> None:
    sessions = Sessions(window=60)
    opened(sessions)
    for n in range(1, 6):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, event=event(n)))
    sessions.apply(SessionDropped(session="s1", at=100.0))
    back = sessions.resume("s1", 3)
    assert isinstance(back, Resumption)
    assert back.registrations == {A: SHARE}
    assert back.missed == [event(4), event(5)]


def test_one_event_is_kept_for_every_session_it_went_to() -> None:
    sessions = Sessions()
    opened(sessions, "s1")
    opened(sessions, "s2")
    sessions.apply(SessionSent(sessions=("s1", "s2"), sequence=7, event=event(7)))
    for sid in ("s1", "s2"):
        sessions.apply(SessionDropped(session=sid, at=0.0))
        back = sessions.resume(sid, 6)
        assert isinstance(back, Resumption)
        assert back.missed == [event(7)]


def test_a_closed_session_is_unknown() -> None:
    sessions = Sessions()
    opened(sessions)
    sessions.apply(SessionDropped(session="s1", at=100.0))
    sessions.apply(SessionClosed(session="s1"))
    assert sessions.resume("s1", 0) is Refusal.UNKNOWN
    assert len(sessions) == 0


def test_a_session_still_connected_cannot_be_taken_over() -> None:
    sessions = Sessions()
    opened(sessions)
    assert sessions.resume("s1", 0) is Refusal.IN_USE
    sessions.apply(SessionDropped(session="s1", at=1.0))
    sessions.apply(SessionResumed(session="s1"))
    assert sessions.resume("s1", 0) is Refusal.IN_USE


def test_a_number_older_than_what_is_kept_cannot_be_resumed() -> None:
    sessions = Sessions(max_events=3)
    opened(sessions)
    for n in range(1, 11):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, event=event(n)))
    sessions.apply(SessionDropped(session="s1", at=0.0))
    assert sessions.resume("s1", 6) is Refusal.TOO_OLD  # 7 was let go
    back = sessions.resume("s1", 7)
    assert isinstance(back, Resumption)
    assert back.missed == [event(8), event(9), event(10)]


def test_the_facts_of_a_store_rebuild_it_with_what_it_let_go() -> None:
    sessions = Sessions(max_events=2)
    opened(sessions, "s1")
    opened(sessions, "s2")
    for n in range(1, 5):
        sessions.apply(SessionSent(sessions=("s1", "s2"), sequence=n, event=event(n)))
    sessions.apply(SessionDropped(session="s2", at=5.0))
    facts = sessions.as_facts()
    shared = [f for f in facts if isinstance(f, SessionSent)]
    assert [(f.sessions, f.sequence) for f in shared] == [(("s1", "s2"), 3), (("s1", "s2"), 4)]
    copy = Sessions(max_events=2)
    copy.apply_all(facts)
    assert copy.resume("s2", 1) is Refusal.TOO_OLD
    assert copy.resume("s1", 3) is Refusal.IN_USE
    back = copy.resume("s2", 3)
    assert isinstance(back, Resumption)
    assert back.missed == [event(4)]
    assert back.registrations == {A: SHARE}


# --- clients ---------------------------------------------------------------------------------

C1, C2, C3 = ClientId(1), ClientId(2), ClientId(3)


def at(wall: float) -> Instant:
    return Instant(wall=1000.0 + wall, monotonic=wall)


def clients(journaling: bool = True) -> Clients:
    made = Clients(window=60, max_events=100, prefix="a-")
    made.journaling = journaling
    return made


def test_a_snapshot_keeps_the_last_events_of_each_session_and_says_what_it_let_go() -> None:
    sessions = Sessions(max_events=1000)
    opened(sessions)
    for n in range(1, SNAPSHOT_TAIL + 51):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, event=event(n)))
    sessions.apply(SessionDropped(session="s1", at=0.0))
    rebuilt = Sessions(max_events=1000)
    rebuilt.apply_all(sessions.as_facts())
    assert rebuilt.resume("s1", 49) is Refusal.TOO_OLD  # 50 is not in the snapshot
    back = rebuilt.resume("s1", 50)
    assert isinstance(back, Resumption)
    assert back.missed == [event(n) for n in range(51, SNAPSHOT_TAIL + 51)]
    assert sessions.resume("s1", 0) is not Refusal.TOO_OLD  # the store itself keeps all


def test_a_detached_client_keeps_its_dns_and_events_until_its_window_ends() -> None:
    made = clients()
    made.connected(C1)
    sid = made.open(C1, "desk")
    assert made.register(C1, A, SHARE) is None
    made.disconnected(C1, at(10))
    assert made.registry.clients_of(A) == [C1]
    made.sent(5, event(5), [C1])
    assert made.next_deadline() == 70
    assert made.expire(at(69.9)) == []
    assert made.expire(at(70)) == [C1]
    assert made.registry.clients_of(A) == []
    assert made.take_facts() == [
        SessionOpened(session=sid, application="desk"),
        SessionRegistered(session=sid, dn=A, mode=SHARE),
        SessionDropped(session=sid, at=1010.0),
        SessionSent(sessions=(sid,), sequence=5, event=event(5)),
        SessionClosed(session=sid),
    ]


def test_a_resumed_session_moves_to_the_new_connection_with_its_registrations() -> None:
    made = clients()
    made.connected(C1)
    sid = made.open(C1, "desk")
    made.register(C1, A, PRIVATE)
    made.sent(4, event(4), [C1])
    made.disconnected(C1, at(1))
    made.sent(5, event(5), [C1])
    made.connected(C2)
    back = made.resume(C2, sid, 4, "desk")
    assert isinstance(back, Resumption)
    assert back.missed == [event(5)]
    assert made.registry.clients_of(A) == [C2]
    assert made.registry.mode(C2, A) is PRIVATE
    assert made.session_of(C2) == sid
    assert made.session_of(C1) is None
    assert not made.greeted(C1)
    assert made.greeted(C2)
    assert made.next_deadline() is None
    assert made.resume(C3, sid, 4, "desk") is Refusal.IN_USE


def test_a_live_client_takes_a_private_dn_from_a_detached_one() -> None:
    made = clients()
    for client in (C1, C2):
        made.connected(client)
        made.open(client, "desk")
    made.register(C1, A, PRIVATE)
    assert made.register(C2, A, PRIVATE) is not None  # C1 is connected: refused
    made.disconnected(C1, at(1))
    assert made.register(C2, A, PRIVATE) is None
    assert made.registry.clients_of(A) == [C2]


def test_a_client_that_never_registered_is_forgotten_at_once() -> None:
    made = clients()
    made.connected(C1)
    made.disconnected(C1, at(1))
    assert made.registry.clients == []
    assert made.take_facts() == []


def test_the_backup_takes_over_the_primary_sessions_as_detached_clients() -> None:
    primary, backup = clients(), clients(journaling=False)
    primary.connected(C1)
    gone = primary.open(C1, "desk")
    primary.register(C1, A, SHARE)
    primary.disconnected(C1, at(20))
    primary.connected(C2)
    live = primary.open(C2, "wall")
    primary.register(C2, B, SHARE)
    primary.sent(9, event(9), [C1, C2])
    backup.apply(primary.take_facts())
    backup.journaling = True
    backup.take_over(at(30))
    stand_ins = {backup.session_of(c): c for c in backup.everyone}
    assert set(stand_ins) == {gone, live}
    assert backup.registry.clients_of(A) == [stand_ins[gone]]
    assert backup.registry.clients_of(B) == [stand_ins[live]]
    assert backup.next_deadline() == 80  # dropped at 20: 50 s of its window left at 30
    assert backup.take_facts() == [SessionDropped(session=live, at=1030.0)]
    back = backup.resume(C3, live, 8, "wall")
    assert isinstance(back, Resumption)
    assert back.missed == [event(9)]
    assert backup.registry.clients_of(B) == [C3]


def test_at_a_takeover_the_sessions_of_its_own_clients_go_into_the_journal() -> None:
    backup = clients(journaling=False)
    backup.connected(C1)
    own = backup.open(C1, "wall")
    backup.register(C1, B, SHARE)
    backup.sent(3, event(3), [C1])
    backup.journaling = True
    backup.take_over(at(30))
    restarted = clients(journaling=False)  # the old primary, back as the backup
    restarted.apply(backup.take_facts())
    session = restarted.sessions.get(own)
    assert session is not None
    assert session.registrations == {B: SHARE}
    assert list(session.sent) == [(3, event(3))]


def test_an_input_mask_goes_with_the_session_to_the_backup() -> None:
    primary, backup = clients(), clients(journaling=False)
    primary.connected(C1)
    sid = primary.open(C1, "report")
    primary.register(C1, A, SHARE)
    primary.set_mask(C1, frozenset({"EventReleased", "EventError"}))
    primary.disconnected(C1, at(5))
    assert primary.take_facts()[2] == SessionMasked(
        session=sid, events=("EventError", "EventReleased")
    )
    snapshot = Sessions()
    snapshot.apply_all(primary.as_facts())
    copy = snapshot.get(sid)
    assert copy is not None
    assert copy.mask == {"EventReleased", "EventError"}
    backup.apply(primary.as_facts())
    backup.take_over(at(10))
    (stand_in,) = backup.everyone
    assert backup.masks == {stand_in: {"EventReleased", "EventError"}}
    backup.resume(C2, sid, 0, "report")
    assert backup.masks == {C2: {"EventReleased", "EventError"}}
    backup.set_mask(C2, None)  # every event again: the session forgets its mask too
    assert backup.masks == {}
    session = backup.sessions.get(sid)
    assert session is not None
    assert session.mask is None
