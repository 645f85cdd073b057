"""MakePredictiveCall (ECMA-269 § 17.1.14): the switch calls the called number first and
presents the call at the calling device (an extension, an ACD group or a routing
device) only once the called party has answered.  docs/pbxsim.md § 4.16 gives the
events.

While the called party is being reached, the calling device holds the call's
originating connection (ServiceInitiated and Originated, cause makePredictiveCall), as
for MakeCall.  Then:

- the called party answers: the originating connection gives way and the call is
  offered at the calling device, from the called party (cause makePredictiveCall): it
  rings at an extension, queues at an ACD group, asks for a route at a routing device;
- the called party is busy or cannot be reached: Failed, then the switch clears the
  call itself (nobody is at a dialler to hang up), with the failure's cause;
- the called party does not answer within alertTime: the switch clears the call, the
  calling device first with cause callNotAnswered, the ringing party after it
  (callCancelled).
"""

from __future__ import annotations

from ctiserver.csta.call_control import MakePredictiveCall, MakePredictiveCallResponse
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import call_control, delivery, features
from ctiserver.pbxsim.calls import Call
from ctiserver.pbxsim.directory import DeviceKind
from ctiserver.pbxsim.outcome import Refused, Timer, TimerKind
from ctiserver.pbxsim.state import Context

_OPERATION = ErrorCategory.OPERATION
_CAUSES = (EventCause.MAKE_PREDICTIVE_CALL, EventCause.MAKE_PREDICTIVE_CALL)
MAX_ALERT_TIME = 3600  # seconds


def make_predictive_call(ctx: Context, request: MakePredictiveCall) -> None:
    calling, number = request.calling_device, request.called_directory_number
    _check_calling(ctx, calling)
    call_control.check_number(calling, number)
    alert_time = request.alert_time
    if alert_time is not None and not 0 < alert_time <= MAX_ALERT_TIME:
        raise Refused(ErrorCategory.OPERATION, "invalidAlertTime")
    call = call_control.new_call(ctx, calling, number, request.correlator_data)
    call.uui = call_control.uui_of(ctx, request.private_data)
    call.predictive = True
    ctx.state.predictive.add(call.call_id)
    ctx.reply(MakePredictiveCallResponse(initiated_call=call.id_of(calling)))
    call_control.dial(ctx, call, calling, number, _CAUSES)
    if alert_time is not None:
        ctx.start_timer(_alert_timer(call.call_id), alert_time)


def _check_calling(ctx: Context, calling: DeviceId) -> None:
    match ctx.state.directory.kind(calling):
        case DeviceKind.STATION:
            if ctx.state.busy(calling):
                raise Refused(ErrorCategory.STATE_INCOMPATIBILITY, "invalidCallingDeviceState")
            features.check_can_call(ctx.state, calling)
        case DeviceKind.ACD_GROUP | DeviceKind.ROUTING_DEVICE:
            pass
        case _:
            raise Refused(_OPERATION, "invalidCallingDeviceID")


def _alert_timer(call_id: CallId) -> Timer:
    return Timer(TimerKind.ALERT_TIME, call_id)


def settle(ctx: Context) -> None:
    """After each step of the switch: a predictive call whose called party answered goes
    on to its calling device; one whose called party could not be reached is cleared."""
    for call_id in list(ctx.state.predictive):
        call = ctx.state.calls.get(call_id)
        caller = call.connections.get(call.calling) if call is not None else None
        if call is None or caller is None or not call.predictive:
            _done(ctx, call_id, call)
        elif caller.state is LocalConnectionState.FAIL:
            _done(ctx, call_id, call)
            call_control.drop(ctx, call, call.calling, caller.fail_cause or EventCause.BUSY)
        elif (answering := _answering(call)) is not None:
            _done(ctx, call_id, call)
            _hand_over(ctx, call, answering)


def _done(ctx: Context, call_id: CallId, call: Call | None) -> None:
    ctx.state.predictive.discard(call_id)
    ctx.cancel_timer(_alert_timer(call_id))
    if call is not None:
        call.predictive = False


def _answering(call: Call) -> DeviceId | None:
    return next(
        (c.device for c in call.others(call.calling) if c.state is LocalConnectionState.CONNECTED),
        None,
    )


def _hand_over(ctx: Context, call: Call, answering: DeviceId) -> None:
    """The originating connection gives way to the call offered at the calling device,
    from the party that answered; if it cannot take it (a busy extension), the switch
    clears the call."""
    calling = call.calling
    call.remove(calling)
    shown = call.connections[answering].shown()
    delivery.offer(ctx, call, calling, calling=shown, called=calling, cause=_CAUSES[0])
    offered = call.connections.get(calling)
    if offered is not None:
        offered.answer_cause = EventCause.MAKE_PREDICTIVE_CALL  # its Established says so
    elif call.call_id in ctx.state.calls:
        call_control.drop(ctx, call, answering, EventCause.BUSY)


def alert_time_over(ctx: Context, key: str) -> None:
    """The called party of a predictive call did not answer within alertTime."""
    call = ctx.state.calls.get(CallId(key))
    if call is None or not call.predictive or call.calling not in call.connections:
        return
    _done(ctx, call.call_id, call)
    call_control.drop(ctx, call, call.calling, EventCause.CALL_NOT_ANSWERED)
