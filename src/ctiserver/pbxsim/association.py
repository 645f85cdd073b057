"""Associations with applications: opening and closing them, ECMA-354 application
sessions, system status and registration, and monitors.  docs/pbxsim.md §§ 1, 3.

An association opens when a connection is accepted; the switch greets it with
SystemStatus{normal} (the implicit style).  The application may then start an ECMA-354
session, which chooses the ECMA-323 edition for the rest of the association and must
be kept alive with ResetApplicationSessionTimer: a session whose timer runs out is
terminated (ApplicationSessionTerminated, then the connection is closed).
When an association closes, its monitors and route registrations go with it.
"""

from __future__ import annotations

import re
from typing import Final

from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.schema import EDITIONS
from ctiserver.csta.session import namespace_for
from ctiserver.csta.system import (
    ApplicationSessionTerminated,
    MonitorStart,
    MonitorStartResponse,
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
from ctiserver.pbxsim import routing
from ctiserver.pbxsim.outcome import AssociationId, Refused, Timer, TimerKind
from ctiserver.pbxsim.state import Association, Context

_PROTOCOL_VERSION: Final = re.compile(
    r"http://www\.(?:ecma-international\.org|ecma\.ch)/standards/ecma-323/csta/(ed\d+)"
)
_LONGEST_SESSION: Final = 86_400
_INVALID_SESSION_ID: Final = "invalidSessionID"


def open_association(ctx: Context) -> AssociationId:
    association_id = AssociationId(int(ctx.state.new_id("association")))
    association = Association(association_id, ctx.state.config.edition)
    ctx.state.associations[association_id] = association
    ctx.send(association_id, SystemStatus(system_status=SystemStatusValue.NORMAL))
    return association_id


def close_association(ctx: Context, association_id: AssociationId) -> None:
    """Forget *association_id* and everything it had asked for.  Idempotent."""
    if ctx.state.associations.pop(association_id, None) is None:
        return
    ctx.cancel_timer(_session_timer(association_id))
    ctx.state.monitors.drop_association(association_id)
    routing.drop_registrations(ctx, association_id)


# --- ECMA-354 application sessions -------------------------------------------------------


def start_application_session(ctx: Context, request: StartApplicationSession) -> None:
    association = _requester(ctx)
    if association.session_id is not None:
        ctx.reply(StartApplicationSessionNegResponse(defined_error="maxNumberSessions"))
        return
    edition = _first_known_edition(request.requested_protocol_versions, association.edition)
    if edition is None:
        error = "requestedProtocolVersionNotSupported"
        ctx.reply(StartApplicationSessionNegResponse(defined_error=error))
        return
    association.session_id = ctx.state.new_id("session")
    association.session_duration = _duration(ctx, request.requested_session_duration)
    association.edition = edition
    ctx.reply(
        StartApplicationSessionPosResponse(
            session_id=association.session_id,
            actual_protocol_version=namespace_for(edition),
            actual_session_duration=association.session_duration,
        )
    )
    ctx.use_edition(association.association_id, edition)
    ctx.start_timer(_session_timer(association.association_id), association.session_duration)


def _first_known_edition(requested: tuple[str, ...], current: str) -> str | None:
    """The first requested edition pbxsim knows; with none requested, the current one."""
    if not requested:
        return current
    for version in requested:
        match = _PROTOCOL_VERSION.fullmatch(version.strip())
        if match is not None and match.group(1) in EDITIONS:
            return match.group(1)
    return None


def _duration(ctx: Context, requested: int | None) -> int:
    if requested is None or requested <= 0:
        return ctx.state.config.session_duration
    return min(requested, _LONGEST_SESSION)


def reset_application_session_timer(ctx: Context, request: ResetApplicationSessionTimer) -> None:
    association = _requester(ctx)
    if association.session_id is None or request.session_id != association.session_id:
        ctx.reply(ResetApplicationSessionTimerNegResponse(defined_error=_INVALID_SESSION_ID))
        return
    if request.requested_session_duration is not None:
        association.session_duration = _duration(ctx, request.requested_session_duration)
    duration = association.session_duration
    ctx.reply(ResetApplicationSessionTimerPosResponse(actual_session_duration=duration))
    ctx.start_timer(_session_timer(association.association_id), duration)


def stop_application_session(ctx: Context, request: StopApplicationSession) -> None:
    association = _requester(ctx)
    if association.session_id is None or request.session_id != association.session_id:
        ctx.reply(StopApplicationSessionNegResponse(defined_error=_INVALID_SESSION_ID))
        return
    ctx.reply(StopApplicationSessionPosResponse())
    ctx.close(association.association_id)
    close_association(ctx, association.association_id)


def session_expired(ctx: Context, key: str) -> None:
    association_id = AssociationId(int(key))
    association = ctx.state.associations.get(association_id)
    if association is None or association.session_id is None:
        return
    terminated = ApplicationSessionTerminated(
        session_id=association.session_id, defined_term_reason="sessionTimerExpired"
    )
    ctx.send(association_id, terminated)
    ctx.close(association_id)
    close_association(ctx, association_id)


def _session_timer(association_id: AssociationId) -> Timer:
    return Timer(TimerKind.SESSION_EXPIRY, str(association_id))


def _requester(ctx: Context) -> Association:
    assert ctx.association is not None
    return ctx.state.associations[ctx.association]


# --- system status and registration (ECMA-269 § 22) ----------------------------------------


def system_status(ctx: Context, request: SystemStatus) -> None:
    ctx.reply(SystemStatusResponse())


def request_system_status(ctx: Context, request: RequestSystemStatus) -> None:
    ctx.reply(RequestSystemStatusResponse(system_status=SystemStatusValue.NORMAL))


def system_register(ctx: Context, request: SystemRegister) -> None:
    ctx.reply(SystemRegisterResponse(sys_stat_register_id=ctx.state.new_id("system-register")))


# --- monitors (ECMA-269 § 13) ------------------------------------------------------------------


def monitor_start(ctx: Context, request: MonitorStart) -> None:
    association = _requester(ctx)
    if not ctx.state.directory.knows(request.device_object):
        raise Refused(ErrorCategory.OPERATION, "invalidMonitorObject")
    monitor = ctx.state.monitors.start(association.association_id, request.device_object)
    ctx.reply(MonitorStartResponse(monitor_cross_ref_id=monitor.cross_ref_id))


def monitor_stop(ctx: Context, request: MonitorStop) -> None:
    association = _requester(ctx)
    monitor = ctx.state.monitors.find(association.association_id, request.monitor_cross_ref_id)
    if monitor is None:
        raise Refused(ErrorCategory.OPERATION, "invalidMonitorCrossRefID")
    ctx.state.monitors.stop(monitor)
    ctx.reply(MonitorStopResponse())
