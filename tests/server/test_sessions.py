"""Resumable sessions (server.sessions): what a resumed client gets back, and when not."""

from __future__ import annotations

from ctiserver.ids import DeviceId
from ctiserver.server.sessions import (
    Refusal,
    Resumption,
    SessionDropped,
    SessionOpened,
    SessionRegistered,
    SessionResumed,
    Sessions,
    SessionSent,
    SessionUnregistered,
)
from ctiserver.tlib.vocabulary import RegisterMode

A, B = DeviceId("7001"), DeviceId("7002")


def opened(sessions: Sessions, sid: str = "s1") -> None:
    sessions.apply_all(
        [
            SessionOpened(session=sid, application="desk"),
            SessionRegistered(session=sid, dn=A, mode=RegisterMode.MODE_SHARE),
            SessionRegistered(session=sid, dn=B, mode=RegisterMode.MODE_PRIVATE),
            SessionUnregistered(session=sid, dn=B),
        ]
    )


def test_a_dropped_session_resumes_with_its_registrations_and_what_it_missed() -> None:
    sessions = Sessions(window=60)
    opened(sessions)
    for n in range(1, 6):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, line=b"%d" % n))
    sessions.apply(SessionDropped(session="s1", at=100.0))
    back = sessions.resume("s1", 3, at=120.0)
    assert isinstance(back, Resumption)
    assert back.registrations == {A: RegisterMode.MODE_SHARE}
    assert back.missed == [b"4", b"5"]


def test_one_line_is_kept_for_every_session_it_went_to() -> None:
    sessions = Sessions()
    opened(sessions, "s1")
    opened(sessions, "s2")
    sessions.apply(SessionSent(sessions=("s1", "s2"), sequence=7, line=b"seven"))
    for sid in ("s1", "s2"):
        sessions.apply(SessionDropped(session=sid, at=0.0))
        back = sessions.resume(sid, 6, at=1.0)
        assert isinstance(back, Resumption)
        assert back.missed == [b"seven"]


def test_past_its_window_a_session_is_unknown_and_forgotten() -> None:
    sessions = Sessions(window=60)
    opened(sessions)
    sessions.apply(SessionDropped(session="s1", at=100.0))
    assert sessions.next_expiry() == 160.0
    assert sessions.resume("s1", 0, at=160.5) is Refusal.UNKNOWN
    assert sessions.expire(160.5) == ["s1"]
    assert len(sessions) == 0


def test_a_session_still_connected_cannot_be_taken_over() -> None:
    sessions = Sessions()
    opened(sessions)
    assert sessions.resume("s1", 0, at=1.0) is Refusal.IN_USE
    sessions.apply(SessionDropped(session="s1", at=1.0))
    sessions.apply(SessionResumed(session="s1"))
    assert sessions.resume("s1", 0, at=2.0) is Refusal.IN_USE


def test_a_number_older_than_what_is_kept_cannot_be_resumed() -> None:
    sessions = Sessions(max_events=3)
    opened(sessions)
    for n in range(1, 11):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, line=b"x"))
    sessions.apply(SessionDropped(session="s1", at=0.0))
    assert sessions.resume("s1", 6, at=1.0) is Refusal.TOO_OLD  # 7 was let go
    back = sessions.resume("s1", 7, at=1.0)
    assert isinstance(back, Resumption)
    assert len(back.missed) == 3


def test_the_bytes_kept_are_bounded_too() -> None:
    sessions = Sessions(max_bytes=10)
    opened(sessions)
    for n in range(1, 5):
        sessions.apply(SessionSent(sessions=("s1",), sequence=n, line=b"12345"))
    session = sessions.get("s1")
    assert session is not None
    assert [n for n, _ in session.sent] == [3, 4]
    assert session.sent_bytes == 10
