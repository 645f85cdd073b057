"""RequestApplyTreatment (docs/protocol.md, Treatments at routing points): every served
TreatmentType, how each ends, digits keyed on the phone or sent with RequestSendDTMF,
every refusal, and the state a replica rebuilds from the records, with the exact events
of the router, the caller and anyone else."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ctiserver.clock import Instant
from ctiserver.csta.voice import PlayMessage, Stop
from ctiserver.ids import ConnIdAllocator, DeviceId
from ctiserver.model.model import Model
from ctiserver.pbxsim.config import RoutingPoint
from ctiserver.pbxsim.phone import Digits
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import Deliver, SendToSwitch
from tests.tserver.seen import DESTINATION, Seen, error, heard, names
from tests.wire import PBX, POINT, Wire

A, D = "7001", "7004"
a, router = 1, 2


def offered(wire: Wire) -> Seen:
    """A calls the routing point; the router has seen EventRouteRequest."""
    wire.client(A), wire.client(POINT)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=POINT)
    (dialing,) = heard(wire, a)
    assert names(heard(wire, router)) == ["EventRouteRequest"]
    return Seen(dialing["ConnID"], "1")


def treated(c1: Seen, name: str, kind: str, parms: dict[str, Any] | None, **more: Any) -> Any:
    event: dict[str, Any] = {
        "Event": name,
        "ThisDN": POINT,
        "ConnID": c1.conn_id,
        "CallID": c1.call_id,
        "CallType": c1.call_type,
        "TreatmentType": kind,
    }
    if parms:
        event["TreatmentParms"] = parms
    event["UserData"] = c1.user_data
    event.update(more)
    return event


def applied(c1: Seen, kind: str, parms: dict[str, Any] | None, reference: int) -> Any:
    return treated(
        c1,
        "EventTreatmentApplied",
        kind,
        parms,
        ThisDNRole=DESTINATION,
        Extensions={},
        ReferenceID=reference,
    )


def apply(wire: Wire, c1: Seen, kind: str, parms: dict[str, Any] | None = None) -> int:
    extra = {"TreatmentParms": parms} if parms is not None else {}
    return wire.ask(router, "RequestApplyTreatment", ThisDN=POINT, ConnID=c1.conn_id, TreatmentType=kind, **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "message"),
    [("Busy", "0"), ("FastBusy", "0"), ("Music", "1"), ("RingBack", "2"), ("Silence", "3")],
)
def test_a_tone_for_a_duration(kind: str, message: str) -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"DURATION": 5}
    reference = apply(wire, c1, kind, parms)
    (play,) = [r for r in wire.sent_to_switch if isinstance(r, PlayMessage)]
    assert play.message_to_be_played == message
    assert play.duration is None  # the server keeps the DURATION
    assert heard(wire, router) == [applied(c1, kind, parms, reference)]
    assert heard(wire, a) == []
    wire.advance(4.9)
    assert heard(wire, router) == []
    wire.advance(0.2)
    assert heard(wire, router) == [treated(c1, "EventTreatmentEnd", kind, parms)]
    (stop,) = [r for r in wire.sent_to_switch if isinstance(r, Stop)]
    assert stop.message_to_be_stopped == message
    assert wire.core.model.treatments == []
    assert heard(wire, a) == []


def test_music_without_a_duration_plays_until_the_call_is_routed() -> None:
    wire = Wire()
    c1 = offered(wire)
    d = wire.client(D)
    reference = apply(wire, c1, "Music", {"MUSIC_DN": "jazz"})
    assert heard(wire, router) == [applied(c1, "Music", {"MUSIC_DN": "jazz"}, reference)]
    wire.advance(9)  # within the point's route-timeout (10 s), which treatments do not stop
    assert heard(wire, router) == []
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    assert names(heard(wire, router)) == ["EventRouteUsed"]  # no EventTreatmentEnd
    assert names(heard(wire, d)) == ["EventRinging"]
    assert wire.core.model.treatments == []


def test_another_treatment_replaces_the_first_without_an_end() -> None:
    wire = Wire()
    c1 = offered(wire)
    first = apply(wire, c1, "Music", {"DURATION": 8})
    second = apply(wire, c1, "RingBack")
    assert heard(wire, router) == [
        applied(c1, "Music", {"DURATION": 8}, first),
        applied(c1, "RingBack", None, second),
    ]
    wire.advance(9)
    assert heard(wire, router) == []  # the music's duration went with it


def test_collect_digits_keyed_on_the_phone() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"TOTAL_DIGITS": 4}
    reference = apply(wire, c1, "CollectDigits", parms)
    assert heard(wire, router) == [applied(c1, "CollectDigits", parms, reference)]
    wire.phone(Digits(DeviceId(A), "12"))
    assert heard(wire, router) == []
    wire.phone(Digits(DeviceId(A), "345"))
    end = treated(
        c1,
        "EventTreatmentEnd",
        "CollectDigits",
        parms,
        CollectedDigits="1234",
        LastCollectedDigit="4",
        Extensions={"COMPLETION_STATUS": "NORMAL"},
    )
    assert heard(wire, router) == [end]
    assert heard(wire, a) == []


def test_collect_digits_up_to_a_terminating_digit_sent_with_send_dtmf() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"TERM_DIGITS": "#", "DIGIT_TIMEOUT": 5}
    apply(wire, c1, "CollectDigits", parms)
    heard(wire, router)
    sent = wire.ask(a, "RequestSendDTMF", ThisDN=A, ConnID=c1.conn_id, DTMFDigits="42#")
    assert names(heard(wire, a)) == ["EventDTMFSent"]
    assert sent
    end = treated(
        c1,
        "EventTreatmentEnd",
        "CollectDigits",
        parms,
        CollectedDigits="42",
        LastCollectedDigit="#",
        Extensions={"COMPLETION_STATUS": "NORMAL"},
    )
    assert heard(wire, router) == [end]


def test_collect_digits_times_out_with_what_came() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"TOTAL_DIGITS": 4, "DIGIT_TIMEOUT": 3}
    apply(wire, c1, "CollectDigits", parms)
    heard(wire, router)
    wire.advance(2)
    wire.phone(Digits(DeviceId(A), "7"))
    wire.advance(2.9)  # the timeout starts again with each digit
    assert heard(wire, router) == []
    wire.advance(0.2)
    end = treated(
        c1,
        "EventTreatmentEnd",
        "CollectDigits",
        parms,
        CollectedDigits="7",
        LastCollectedDigit="7",
        Extensions={"COMPLETION_STATUS": "TIMEOUT"},
    )
    assert heard(wire, router) == [end]


def test_collect_digits_with_no_digit_times_out_empty() -> None:
    patient = RoutingPoint(number=POINT, route_timeout=60.0, default_destination="7008")
    wire = Wire(pbx=dataclasses.replace(PBX, routing_points=(patient,)))
    c1 = offered(wire)
    apply(wire, c1, "CollectDigits", {"TOTAL_DIGITS": 2})
    heard(wire, router)
    wire.advance(10.1)  # the default DIGIT_TIMEOUT
    (end,) = heard(wire, router)
    assert end["CollectedDigits"] == ""
    assert "LastCollectedDigit" not in end
    assert end["Extensions"] == {"COMPLETION_STATUS": "TIMEOUT"}


def test_an_announcement_plays_to_its_end() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"PROMPT": {"1": {"ID": "welcome"}, "2": {"ID": 17}}}
    reference = apply(wire, c1, "PlayAnnouncement", parms)
    assert heard(wire, router) == [applied(c1, "PlayAnnouncement", parms, reference)]
    wire.advance(5.9)  # two prompts of the switch's 3 s
    assert heard(wire, router) == []
    wire.advance(0.2)
    end = treated(
        c1, "EventTreatmentEnd", "PlayAnnouncement", parms, Extensions={"INTERRUPTED": "NO"}
    )
    assert heard(wire, router) == [end]


def test_digits_cut_an_announcement_short() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"PROMPT": {"1": {"ID": "menu"}}, "TOTAL_DIGITS": 1}
    apply(wire, c1, "PlayAnnouncementAndDigits", parms)
    heard(wire, router)
    wire.advance(1)
    wire.phone(Digits(DeviceId(A), "2"))
    end = treated(
        c1,
        "EventTreatmentEnd",
        "PlayAnnouncementAndDigits",
        parms,
        CollectedDigits="2",
        LastCollectedDigit="2",
        Extensions={"COMPLETION_STATUS": "NORMAL", "INTERRUPTED": "KEYPAD"},
    )
    assert heard(wire, router) == [end]


def test_an_announcement_then_digits() -> None:
    wire = Wire()
    c1 = offered(wire)
    parms = {"PROMPT": {"1": {"ID": "menu"}}, "TERM_DIGITS": "#"}
    apply(wire, c1, "PlayAnnouncementAndDigits", parms)
    heard(wire, router)
    wire.advance(3.1)  # the announcement is over; the collection goes on
    assert heard(wire, router) == []
    wire.phone(Digits(DeviceId(A), "9#"))
    (end,) = heard(wire, router)
    assert (end["CollectedDigits"], end["Extensions"]) == (
        "9",
        {"COMPLETION_STATUS": "NORMAL", "INTERRUPTED": "NO"},
    )


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "parms", "message"),
    [
        ("IVR", None, "TreatmentType IVR needs an IVR, which a CSTA switch does not offer"),
        (
            "TextToSpeech",
            None,
            "TreatmentType TextToSpeech needs a text-to-speech engine, which a CSTA switch "
            "does not offer",
        ),
        (
            "CancelCall",
            None,
            "TreatmentType CancelCall is not served: reject the call with RequestRouteCall "
            "(RouteType Reject)",
        ),
        ("Unknown", None, "TreatmentType Unknown names no treatment"),
        (
            "Music",
            {"LANGUAGE": "fr"},
            "TreatmentParms LANGUAGE is not taken by TreatmentType Music; it takes DURATION, "
            "MUSIC_DN",
        ),
        ("Silence", {"DURATION": 0}, "TreatmentParms DURATION must be a whole number above 0"),
        ("CollectDigits", None, "collecting digits needs TOTAL_DIGITS or TERM_DIGITS"),
        (
            "CollectDigits",
            {"TOTAL_DIGITS": 33},
            "TreatmentParms TOTAL_DIGITS must be a whole number above 0 up to 32",
        ),
        (
            "CollectDigits",
            {"TERM_DIGITS": "##"},
            "TreatmentParms TERM_DIGITS must be one digit: 0-9, * or #",
        ),
        (
            "PlayAnnouncement",
            None,
            "TreatmentParms PROMPT must list the prompts, each with an ID",
        ),
        ("PlayAnnouncement", {"PROMPT": {"1": {}}}, "TreatmentParms PROMPT 1 needs an ID"),
    ],
)
def test_treatments_refused(kind: str, parms: dict[str, Any] | None, message: str) -> None:
    wire = Wire()
    c1 = offered(wire)
    sent = len(wire.sent_to_switch)
    reference = apply(wire, c1, kind, parms)
    assert heard(wire, router) == [error(reference, 53, message, POINT)]
    assert len(wire.sent_to_switch) == sent
    assert wire.core.model.treatments == []


def test_treatments_only_at_routing_points() -> None:
    wire = Wire()
    wire.client(A), wire.client(D)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=D)
    (dialing,) = heard(wire, a)
    reference = wire.ask(a, "RequestApplyTreatment", ThisDN=A, ConnID=dialing["ConnID"], TreatmentType="Music")  # fmt: skip
    message = f"treatments are applied at routing points; {A} is not one"
    assert heard(wire, a) == [error(reference, 53, message, A)]


def test_the_switch_refusing_is_treatment_not_applied() -> None:
    """The call left the routing point without the server hearing of it yet."""
    wire = Wire()
    c1 = offered(wire)
    watcher = wire.client(POINT)
    wire.events_lost = True
    wire.ask(router, "RequestRouteCall", ThisDN=POINT, ConnID=c1.conn_id, OtherDN=D)
    wire.events_lost = False
    heard(wire, router)
    reference = apply(wire, c1, "Music")
    message = (
        "the switch refused RequestApplyTreatment: operation invalidConnectionID "
        f"(DN {POINT} is queued on {c1.conn_id}): the call is no longer at the routing point"
    )
    not_applied = treated(
        c1, "EventTreatmentNotApplied", "Music", None, ErrorCode=1152, ErrorMessage=message
    )
    assert heard(wire, router) == [{**not_applied, "ReferenceID": reference}]
    assert heard(wire, watcher) == [not_applied]
    assert wire.core.model.treatments == []


def test_a_switch_that_never_plays_is_treatment_not_applied_57() -> None:
    wire = Wire()
    c1 = offered(wire)
    wire.events_lost = True
    reference = apply(wire, c1, "Music")
    wire.advance(5.1)  # answer-timeout
    (event,) = heard(wire, router)
    assert (event["Event"], event["ErrorCode"], event["ReferenceID"]) == (
        "EventTreatmentNotApplied",
        57,
        reference,
    )
    assert wire.core.model.treatments == []


def test_a_replica_rebuilds_treatments_from_the_records() -> None:
    wire = Wire()
    wire.core.journaling = True
    c1 = offered(wire)
    apply(wire, c1, "Silence", {"DURATION": 20})
    heard(wire, router)
    (treatment,) = wire.core.model.treatments
    assert treatment.due == pytest.approx(wire.wall + 20)
    replica = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay(wire.journal)
    assert replica.value() == wire.core.model.value()  # type: ignore[attr-defined]
    fresh = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    fresh.replay(wire.core.model.as_records())  # type: ignore[attr-defined]
    assert fresh.value() == wire.core.model.value()  # type: ignore[attr-defined]


# --- the older treatment requests --------------------------------------------------------------


def test_give_music_treatment_is_music_for_its_timeout() -> None:
    wire = Wire()
    c1 = offered(wire)
    reference = wire.ask(router, "RequestGiveMusicTreatment", ThisDN=POINT, ConnID=c1.conn_id, MusicPath="jazz", Timeout=2)  # fmt: skip
    parms = {"MUSIC_DN": "jazz", "DURATION": 2}
    assert heard(wire, router) == [applied(c1, "Music", parms, reference)]
    wire.advance(2.1)
    assert heard(wire, router) == [treated(c1, "EventTreatmentEnd", "Music", parms)]


@pytest.mark.parametrize(
    ("request_", "kind"),
    [("RequestGiveSilenceTreatment", "Silence"), ("RequestGiveRingBackTreatment", "RingBack")],
)
def test_give_silence_and_ringback(request_: str, kind: str) -> None:
    wire = Wire()
    c1 = offered(wire)
    reference = wire.ask(router, request_, ThisDN=POINT, ConnID=c1.conn_id)
    assert heard(wire, router) == [applied(c1, kind, None, reference)]


def test_collect_digits_ends_with_event_digits_collected() -> None:
    wire = Wire()
    c1 = offered(wire)
    reference = wire.ask(router, "RequestCollectDigits", ThisDN=POINT, ConnID=c1.conn_id, NumberOfDigits=3, TerminateDigits="#")  # fmt: skip
    parms = {"TOTAL_DIGITS": 3, "TERM_DIGITS": "#"}
    assert heard(wire, router) == [applied(c1, "CollectDigits", parms, reference)]
    wire.phone(Digits(DeviceId(A), "5#"))
    assert heard(wire, router) == [
        {
            "Event": "EventDigitsCollected",
            "ThisDN": POINT,
            "ConnID": c1.conn_id,
            "CallID": c1.call_id,
            "CallType": "Internal",
            "CallState": "Ok",
            "CollectedDigits": "5",
            "ThisDNRole": DESTINATION,
            "LastCollectedDigit": "#",
            "OtherDN": A,
            "OtherDNRole": "Origination",
            "UserData": {},
        }
    ]


def test_collect_digits_refused_like_a_treatment() -> None:
    wire = Wire()
    c1 = offered(wire)
    reference = wire.ask(router, "RequestCollectDigits", ThisDN=POINT, ConnID=c1.conn_id, TerminateDigits="x")  # fmt: skip
    message = "TreatmentParms TERM_DIGITS must be one digit: 0-9, * or #"
    assert heard(wire, router) == [error(reference, 53, message, POINT)]


def test_a_treatment_waits_for_the_one_being_applied() -> None:
    """The switch has not begun the first yet (its events are slow): a second is refused
    with 42 until it has, so that each request is answered by its own treatment."""
    wire = Wire()
    c1 = offered(wire)
    wire.events_lost = True
    apply(wire, c1, "Music")
    wire.events_lost = False
    second = apply(wire, c1, "Silence")
    message = (
        f"a Music treatment of call {c1.conn_id} is being applied; wait for its "
        "EventTreatmentApplied (or EventTreatmentNotApplied)"
    )
    assert heard(wire, router) == [error(second, 42, message, POINT)]


def test_a_backup_that_takes_over_ends_the_treatment_on_time() -> None:
    """The due time is a wall time in the model: the new primary of a pair, whose own
    monotonic clock is another, ends the treatment when its DURATION is over."""
    wire = Wire()
    wire.core.journaling = True
    c1 = offered(wire)
    apply(wire, c1, "Music", {"DURATION": 30})
    heard(wire, router)
    backup = TServerCore(
        settings=wire.core.settings, dns=wire.core.model.dns, started=Instant(5.0, wire.wall)
    )
    backup.serve_as_backup()
    snapshot = wire.core.journal_snapshot()
    backup.load_snapshot(snapshot.changes, snapshot.sessions, snapshot.sequence)
    assert backup.next_deadline() is None  # a backup ends nothing
    backup.link_up(Instant(6.0, wire.wall + 1))  # hot standby: its link to the switch is up
    backup.take_over(Instant(15.0, wire.wall + 10))
    deadline = backup.next_deadline()
    assert deadline == pytest.approx(35.0)  # its monotonic clock: 20 s from now
    assert not [
        o for o in backup.tick(Instant(34.0, wire.wall + 29)) if isinstance(o, SendToSwitch)
    ]
    outputs = backup.tick(Instant(35.1, wire.wall + 30.1))
    (stop,) = [o.request for o in outputs if isinstance(o, SendToSwitch)]
    assert isinstance(stop, Stop)
    assert stop.message_to_be_stopped == "1"
    ends = [o.event for o in outputs if isinstance(o, Deliver)]
    assert [e["Event"] for e in ends] == ["EventTreatmentEnd"]
    assert backup.model.treatments == []
