"""docs/pbxsim.md §§ 1, 3, 6: association, ECMA-354 sessions, system services, monitors."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_control import MakeCall, MakeCallResponse
from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.csta.routeing import RouteRequest
from ctiserver.csta.system import (
    ApplicationSessionTerminated,
    MonitorStart,
    MonitorStop,
    MonitorStopResponse,
    RequestSystemStatus,
    RequestSystemStatusResponse,
    ResetApplicationSessionTimer,
    ResetApplicationSessionTimerNegResponse,
    ResetApplicationSessionTimerPosResponse,
    StartApplicationSession,
    StartApplicationSessionNegResponse,
    StartApplicationSessionPosResponse,
    StopApplicationSession,
    StopApplicationSessionNegResponse,
    StopApplicationSessionPosResponse,
    SystemRegister,
    SystemRegisterResponse,
    SystemStatus,
    SystemStatusResponse,
)
from ctiserver.ids import DeviceId, MonitorCrossRefId
from ctiserver.pbxsim.config import PbxConfig
from ctiserver.pbxsim.outcome import (
    Close,
    Outcome,
    Reply,
    Send,
    StartTimer,
    Timer,
    TimerKind,
    UseEdition,
)
from ctiserver.pbxsim.switch import Switch

from .rig import CONFIG, Rig, error

ED = "http://www.ecma-international.org/standards/ecma-323/csta/{}"


def start(rig: Rig, *versions: str, duration: int | None = None) -> Outcome:
    return rig.send(
        StartApplicationSession(
            application_id="test",
            requested_protocol_versions=versions,
            requested_session_duration=duration,
        )
    )


def test_a_new_association_is_greeted_with_system_status(rig: Rig) -> None:
    assert rig.greeting == Outcome(
        (Send(rig.app, SystemStatus(system_status=SystemStatusValue.NORMAL)),)
    )
    assert rig.switch.view().associations == (rig.app,)


def test_answers_to_the_switch_requests_are_taken_silently(rig: Rig) -> None:
    assert rig.send(SystemStatusResponse()).effects == ()
    refused = CSTAErrorCode(category=Cat.OPERATION, value="generic")
    assert rig.send(refused).effects == ()


def test_system_services(rig: Rig) -> None:
    assert rig.send(SystemStatus(system_status=SystemStatusValue.NORMAL)).effects == (
        Reply(SystemStatusResponse()),
    )
    assert rig.send(RequestSystemStatus()).response == RequestSystemStatusResponse(
        system_status=SystemStatusValue.NORMAL
    )
    first = rig.send(SystemRegister(system_status=True)).response
    second = rig.send(SystemRegister()).response
    assert isinstance(first, SystemRegisterResponse)
    assert isinstance(second, SystemRegisterResponse)
    assert first.sys_stat_register_id != second.sys_stat_register_id


def test_start_application_session_chooses_the_first_known_edition(rig: Rig) -> None:
    outcome = start(rig, "urn:unknown", ED.format("ed9"), ED.format("ed6"), ED.format("ed3"))
    assert outcome.effects == (
        Reply(
            StartApplicationSessionPosResponse(
                session_id="1",
                actual_protocol_version=ED.format("ed6"),
                actual_session_duration=180,
            )
        ),
        UseEdition(rig.app, "ed6"),
        StartTimer(rig.now + 180, Timer(TimerKind.SESSION_EXPIRY, str(rig.app))),
    )


def test_start_application_session_accepts_the_old_ecma_ch_namespace(rig: Rig) -> None:
    outcome = start(rig, "http://www.ecma.ch/standards/ecma-323/csta/ed2", duration=60)
    response = outcome.response
    assert isinstance(response, StartApplicationSessionPosResponse)
    assert response.actual_protocol_version == ED.format("ed2")
    assert response.actual_session_duration == 60


def test_start_application_session_without_versions_keeps_the_edition(rig: Rig) -> None:
    outcome = start(rig)
    assert UseEdition(rig.app, "ed4") in outcome.effects


def test_start_application_session_refusals(rig: Rig) -> None:
    unknown = start(rig, "urn:nothing")
    assert unknown.effects == (
        Reply(
            StartApplicationSessionNegResponse(defined_error="requestedProtocolVersionNotSupported")
        ),
    )
    start(rig, ED.format("ed4"))
    twice = start(rig, ED.format("ed4"))
    assert twice.response == StartApplicationSessionNegResponse(defined_error="maxNumberSessions")


def test_the_session_expires_unless_its_timer_is_reset(rig: Rig) -> None:
    start(rig, ED.format("ed4"), duration=30)
    rig.now += 20
    reset = rig.send(ResetApplicationSessionTimer(session_id="1"))
    assert reset.effects == (
        Reply(ResetApplicationSessionTimerPosResponse(actual_session_duration=30)),
        StartTimer(rig.now + 30, Timer(TimerKind.SESSION_EXPIRY, str(rig.app))),
    )
    assert rig.advance(29.9).effects == ()  # the first deadline was replaced
    expired = rig.advance(0.1)
    assert expired.effects == (
        Send(
            rig.app,
            ApplicationSessionTerminated(session_id="1", defined_term_reason="sessionTimerExpired"),
        ),
        Close(rig.app),
    )
    view = rig.switch.view()
    assert view.associations == ()
    assert view.monitors == ()
    assert rig.send(RequestSystemStatus()).effects == ()  # a closed association is deaf


def test_reset_may_change_the_duration(rig: Rig) -> None:
    start(rig, ED.format("ed4"))
    reset = rig.send(ResetApplicationSessionTimer(session_id="1", requested_session_duration=600))
    assert reset.response == ResetApplicationSessionTimerPosResponse(actual_session_duration=600)


def test_reset_and_stop_with_a_wrong_session_id(rig: Rig) -> None:
    before_session = rig.send(ResetApplicationSessionTimer(session_id="1"))
    assert before_session.response == ResetApplicationSessionTimerNegResponse(
        defined_error="invalidSessionID"
    )
    start(rig, ED.format("ed4"))
    wrong = rig.send(ResetApplicationSessionTimer(session_id="2"))
    assert wrong.response == ResetApplicationSessionTimerNegResponse(
        defined_error="invalidSessionID"
    )
    stop = rig.send(StopApplicationSession(session_id="2"))
    assert stop.effects == (
        Reply(StopApplicationSessionNegResponse(defined_error="invalidSessionID")),
    )


def test_stop_application_session_answers_then_closes(rig: Rig) -> None:
    start(rig, ED.format("ed4"))
    outcome = rig.send(StopApplicationSession(session_id="1"))
    assert outcome.effects == (Reply(StopApplicationSessionPosResponse()), Close(rig.app))
    assert rig.switch.view().associations == ()
    assert rig.switch.view().timers == ()


def test_monitors_are_per_association(rig: Rig) -> None:
    other = rig.connect()
    xref = rig.monitor("7002", other)
    outcome = rig.send(
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    mine = rig.events(outcome)
    theirs = rig.events(outcome, other)
    assert set(mine) == {"7001", "7002"}
    assert set(theirs) == {"7002"}
    assert [m.monitor_cross_ref_id for m in outcome.sent_to(other)] == [xref]  # type: ignore[attr-defined]


def test_two_monitors_on_one_device_each_get_a_copy(rig: Rig) -> None:
    second = rig.monitor("7001")
    outcome = rig.send(
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    xrefs = [m.monitor_cross_ref_id for m in outcome.sent_to(rig.app)]  # type: ignore[attr-defined]
    assert xrefs.count(second) == 3
    assert xrefs.count(MonitorCrossRefId("1")) == 3


def test_monitor_errors_and_stop(rig: Rig) -> None:
    unknown = rig.send(MonitorStart(device_object=DeviceId("6000")))
    assert unknown.response == error(Cat.OPERATION, "invalidMonitorObject")
    other = rig.connect()
    foreign = rig.send(MonitorStop(monitor_cross_ref_id=MonitorCrossRefId("1")), other)
    assert foreign.response == error(Cat.OPERATION, "invalidMonitorCrossRefID")
    stopped = rig.send(MonitorStop(monitor_cross_ref_id=MonitorCrossRefId("1")))
    assert stopped.response == MonitorStopResponse()
    outcome = rig.send(
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    assert "7001" not in rig.events(outcome)


def test_closing_an_association_drops_its_monitors_only(rig: Rig) -> None:
    other = rig.connect()
    rig.monitor("7001", other)
    rig.send(MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002")))
    rig.switch.disconnect(other, now=rig.now)
    view = rig.switch.view()
    assert view.associations == (rig.app,)
    assert all(monitor.association == rig.app for monitor in view.monitors)
    assert len(view.calls) == 1  # calls do not belong to associations
    assert rig.switch.disconnect(other, now=rig.now) == Outcome()  # idempotent


def test_an_unsupported_request_gets_service_not_supported(rig: Rig) -> None:
    class Frobnicate(MakeCall):
        pass

    outcome = rig.send(
        Frobnicate(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    assert outcome.effects == (Reply(error(Cat.OPERATION, "serviceNotSupported")),)


def test_unconfirmed_messages_only_the_switch_sends_are_ignored(rig: Rig) -> None:
    from ctiserver.csta.types import ConnectionID

    message = RouteRequest(
        route_register_req_id="1",
        routing_cross_ref_id="1",
        current_route=DeviceId("5000"),
        routed_call=ConnectionID(),
    )
    assert rig.send(message).effects == ()


@pytest.mark.parametrize("edition", ["ed2", "ed3", "ed5", "ed6"])
def test_the_default_edition_is_configurable(edition: str) -> None:
    config = PbxConfig(stations=CONFIG.stations, edition=edition)
    switch = Switch(config)
    association, _ = switch.connect(now=0)
    outcome = switch.handle(association, StartApplicationSession(application_id="x"), now=0)
    assert UseEdition(association, edition) in outcome.effects
    made = switch.handle(
        association,
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002")),
        now=0,
    )
    assert isinstance(made.response, MakeCallResponse)
