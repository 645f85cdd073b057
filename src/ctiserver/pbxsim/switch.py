"""The simulated PBX as one pure, synchronous object: inputs in, Outcomes out.

How to drive a Switch (ctiserver.pbxsim.listener does it over TCP):

    association, outcome = switch.connect(now=t)        a connection was accepted
    outcome = switch.handle(association, message, now=t)  a message came from it
    outcome = switch.disconnect(association, now=t)     it went away
    outcome = switch.act(Dial("7001", "7002"), now=t)   a person used a phone
    outcome = switch.fire(timer, now=t)                 a StartTimer came due
    link, outcome = switch.trunk_up("AB", "B", now=t)   a trunk link finished its hellos
    outcome = switch.trunk_message(link, message, now=t)  it brought a call message
    outcome = switch.trunk_down(link, now=t)            it dropped

Time is always an argument (monotonic seconds); the switch never reads a clock.  Each
Outcome lists effects to perform in order (see ctiserver.pbxsim.outcome).  After every
input the switch hands waiting ACD calls to agents who have become free, and tells the
far end of each inbound trunk leg what became of its call.

Rule: a refused request changes nothing; its only effect is the CSTAErrorCode reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeVar, cast

from ctiserver.csta import agents as csta_agents
from ctiserver.csta import audio as csta_audio
from ctiserver.csta import call_associated as csta_associated
from ctiserver.csta import call_control as csta_calls
from ctiserver.csta import call_information as csta_information
from ctiserver.csta import escape as csta_escape
from ctiserver.csta import logical_device as csta_device
from ctiserver.csta import routeing as csta_routeing
from ctiserver.csta import system as csta_system
from ctiserver.csta import voice as csta_voice
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import Kind, Message
from ctiserver.errors import ServiceError
from ctiserver.pbxsim import (
    account_codes,
    acd,
    association,
    audio,
    call_control,
    delivery,
    dtmf,
    features,
    forwarding,
    participation,
    phone,
    predictive,
    recording,
    routing,
    snapshots,
    transfers,
    treatments,
    trunk_links,
)
from ctiserver.pbxsim.config import PbxConfig
from ctiserver.pbxsim.outcome import (
    AssociationId,
    Effect,
    Outcome,
    Refused,
    Reply,
    StartTimer,
    Timer,
    TimerKind,
    TrunkLinkId,
)
from ctiserver.pbxsim.state import Context, SwitchState
from ctiserver.pbxsim.trunk_protocol import TrunkMessage
from ctiserver.pbxsim.view import SwitchView, view_of

_M = TypeVar("_M", bound=Message)
_Service = Callable[[Context, Message], None]


def _entry(cls: type[_M], service: Callable[[Context, _M], None]) -> tuple[type[Message], _Service]:
    return cls, cast(_Service, service)


SERVICES: Final[Mapping[type[Message], _Service]] = dict(
    [
        _entry(csta_system.StartApplicationSession, association.start_application_session),
        _entry(
            csta_system.ResetApplicationSessionTimer,
            association.reset_application_session_timer,
        ),
        _entry(csta_system.StopApplicationSession, association.stop_application_session),
        _entry(csta_system.SystemStatus, association.system_status),
        _entry(csta_system.RequestSystemStatus, association.request_system_status),
        _entry(csta_system.SystemRegister, association.system_register),
        _entry(csta_system.MonitorStart, association.monitor_start),
        _entry(csta_system.MonitorStop, association.monitor_stop),
        _entry(csta_system.SnapshotDevice, snapshots.snapshot_device),
        _entry(csta_system.SnapshotCall, snapshots.snapshot_call),
        _entry(csta_calls.MakeCall, call_control.make_call),
        _entry(csta_calls.MakePredictiveCall, predictive.make_predictive_call),
        _entry(csta_calls.AnswerCall, call_control.answer_call),
        _entry(csta_calls.ClearConnection, call_control.clear_connection),
        _entry(csta_calls.ClearCall, call_control.clear_call),
        _entry(csta_calls.HoldCall, call_control.hold_call),
        _entry(csta_calls.RetrieveCall, call_control.retrieve_call),
        _entry(csta_calls.ConsultationCall, call_control.consultation_call),
        _entry(csta_calls.AlternateCall, call_control.alternate_call),
        _entry(csta_calls.ReconnectCall, call_control.reconnect_call),
        _entry(csta_calls.TransferCall, transfers.transfer_call),
        _entry(csta_calls.ConferenceCall, transfers.conference_call),
        _entry(csta_calls.SingleStepTransferCall, transfers.single_step_transfer_call),
        _entry(csta_calls.SingleStepConferenceCall, transfers.single_step_conference_call),
        _entry(csta_calls.DeflectCall, transfers.deflect_call),
        _entry(csta_routeing.RouteRegister, routing.route_register),
        _entry(csta_routeing.RouteRegisterCancel, routing.route_register_cancel),
        _entry(csta_routeing.RouteSelect, routing.route_select),
        _entry(csta_routeing.RouteEnd, routing.route_end),
        _entry(csta_agents.SetAgentState, acd.set_agent_state),
        _entry(csta_agents.GetAgentState, acd.get_agent_state),
        _entry(csta_escape.Escape, participation.escape),
        _entry(csta_voice.RecordMessage, recording.record_message),
        _entry(csta_voice.Stop, treatments.stop),  # a treatment's, else a recording's
        _entry(csta_voice.Suspend, recording.suspend),
        _entry(csta_voice.Resume, recording.resume),
        _entry(csta_information.AssociateData, account_codes.associate_data),
        _entry(csta_audio.SetMicrophoneMute, audio.set_microphone_mute),
        _entry(csta_audio.SetSpeakerMute, audio.set_speaker_mute),
        _entry(csta_voice.PlayMessage, treatments.play_message),
        _entry(csta_associated.GenerateDigits, dtmf.generate_digits),
        _entry(csta_device.SetDoNotDisturb, features.set_do_not_disturb),
        _entry(csta_device.GetDoNotDisturb, features.get_do_not_disturb),
        _entry(csta_device.SetForwarding, features.set_forwarding),
        _entry(csta_device.GetForwarding, features.get_forwarding),
        _entry(csta_device.SetMessageWaitingIndicator, features.set_message_waiting_indicator),
        _entry(csta_device.GetMessageWaitingIndicator, features.get_message_waiting_indicator),
    ]
)

_TIMERS: Final[Mapping[TimerKind, Callable[[Context, str], None]]] = {
    TimerKind.ROUTE_TIMEOUT: routing.route_timeout,
    TimerKind.WRAP_UP: acd.wrap_up_elapsed,
    TimerKind.SESSION_EXPIRY: association.session_expired,
    TimerKind.TREATMENT: treatments.timer_fired,
    TimerKind.NO_ANSWER: forwarding.unanswered,
    TimerKind.ALERT_TIME: predictive.alert_time_over,
}

_SERVICE_NOT_SUPPORTED: Final = CSTAErrorCode(
    category=ErrorCategory.OPERATION, value="serviceNotSupported"
)


class Switch:
    def __init__(self, config: PbxConfig) -> None:
        self._state = SwitchState(config)

    @property
    def config(self) -> PbxConfig:
        return self._state.config

    def reconfigure(self, config: PbxConfig) -> None:
        """Take a new numbering plan (a configuration reload); see SwitchState.reconfigure."""
        self._state.reconfigure(config)

    def connect(self, *, now: float) -> tuple[AssociationId, Outcome]:
        """A new association; the outcome greets it with SystemStatus."""
        ctx = Context(self._state, now)
        association_id = association.open_association(ctx)
        return association_id, ctx.outcome()

    def disconnect(self, association_id: AssociationId, *, now: float) -> Outcome:
        """The association's connection is gone (or is going): drop what it asked for."""
        ctx = Context(self._state, now)
        association.close_association(ctx, association_id)
        return self._settle(ctx)

    def handle(self, association_id: AssociationId, message: Message, *, now: float) -> Outcome:
        """One message from an application on *association_id*.

        Answers to the switch's own requests are accepted silently, as is anything from
        an association that is already closed.
        """
        if association_id not in self._state.associations:
            return Outcome()
        if message.KIND in (Kind.RESPONSE, Kind.ERROR):
            return Outcome()
        ctx = Context(self._state, now, association_id)
        service = SERVICES.get(type(message))
        if service is None:
            if message.KIND is Kind.REQUEST:
                ctx.reply(_SERVICE_NOT_SUPPORTED)
            return ctx.outcome()
        try:
            service(ctx, message)
        except Refused as refusal:
            return Outcome((Reply(refusal.error_code()),))
        return self._settle(ctx)

    def act(self, action: phone.PhoneAction, *, now: float) -> Outcome:
        """A person used a phone.  Raises ServiceError, and changes nothing, if refused."""
        ctx = Context(self._state, now)
        try:
            phone.act(ctx, action)
        except Refused as refusal:
            raise ServiceError(refusal.category.value, refusal.value) from None
        outcome = self._settle(ctx)
        return Outcome(tuple(e for e in outcome.effects if not isinstance(e, Reply)))

    def fire(self, timer: Timer, *, now: float) -> Outcome:
        """*timer* came due.  A timer that no longer stands, or is not due yet, does nothing."""
        deadline = self._state.deadlines.get(timer)
        if deadline is None or deadline > now:
            return Outcome()
        del self._state.deadlines[timer]
        ctx = Context(self._state, now)
        _TIMERS[timer.kind](ctx, timer.key)
        return self._settle(ctx)

    def fire_due(self, *, now: float) -> Outcome:
        """Fire every timer due at *now*, earliest first (convenient for tests)."""
        effects: list[Effect] = []
        while (due := self.next_deadline()) is not None and due <= now:
            timer = min(self._state.deadlines, key=self._state.deadlines.__getitem__)
            effects.extend(self.fire(timer, now=due).effects)
        return Outcome(tuple(effects))

    def trunk_up(self, trunk: str | None, peer: str, *, now: float) -> tuple[TrunkLinkId, Outcome]:
        """A trunk link is up (both hellos are through).

        Args:
            trunk: the local trunk the link serves: calls dialled on it may go out on
                this link.  None (or a name this switch does not have): the link only
                brings calls in.
            peer: the name of the switch at the other end, for diagnostics.
        """
        ctx = Context(self._state, now)
        link = trunk_links.opened(ctx, trunk, peer)
        return link, self._settle(ctx)

    def trunk_message(self, link: TrunkLinkId, message: TrunkMessage, *, now: float) -> Outcome:
        """A call message came in on trunk link *link*."""
        ctx = Context(self._state, now)
        trunk_links.received(ctx, link, message)
        return self._settle(ctx)

    def trunk_down(self, link: TrunkLinkId, *, now: float) -> Outcome:
        """Trunk link *link* is gone: its calls are cleared here.  Idempotent."""
        ctx = Context(self._state, now)
        trunk_links.closed(ctx, link)
        return self._settle(ctx)

    def next_deadline(self) -> float | None:
        return min(self._state.deadlines.values(), default=None)

    def pending_timers(self) -> tuple[StartTimer, ...]:
        """Every timer that stands, as StartTimer effects (for a shell that restarts)."""
        return tuple(StartTimer(at, timer) for timer, at in self._state.deadlines.items())

    def view(self) -> SwitchView:
        return view_of(self._state)

    def _settle(self, ctx: Context) -> Outcome:
        predictive.settle(ctx)
        delivery.distribute(ctx)
        trunk_links.report(ctx)
        audio.settle(ctx)
        return ctx.outcome()
