"""A DN's features (docs/protocol.md, DN features): do not disturb, call forwarding and
the message waiting lamp, set on the switch with the logical device services
(ECMA-269 § 22.2); the switch's events say they are set (tserver.notices).

    RequestSetDNDOn / Off                SetDoNotDisturb          EventDNDOn / Off
    RequestCallForwardSet / Cancel       SetForwarding            EventForwardSet / Cancel
    RequestSetMessageWaitingOn / Off     SetMessageWaitingIndicator
                                                                  EventMessageWaitingOn / Off

ForwardMode is forwarding by one of the switch's forwarding types; OnBusyAndNoAnswer is
two of them, set one after the other (two EventForwardSet: OnBusy, then OnNoAnswer).
A cancel without ForwardMode (or with None) cancels every forwarding the DN has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ctiserver.csta.logical_device import (
    ForwardingType,
    SetDoNotDisturb,
    SetForwarding,
    SetMessageWaitingIndicator,
)
from ctiserver.csta.schema import Request
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.tlib.vocabulary import ForwardMode
from ctiserver.tserver.checks import controlled_dn
from ctiserver.tserver.correlation import NO_CALL
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.events import ack_event
from ctiserver.tserver.notices import FORWARD_MODES
from ctiserver.tserver.port import Core, RequestContext

F = ForwardingType
FORWARDING_TYPES: Final[Mapping[ForwardMode, tuple[ForwardingType, ...]]] = {
    ForwardMode.UNCONDITIONAL: (F.IMMEDIATE,),
    ForwardMode.ON_BUSY: (F.BUSY,),
    ForwardMode.ON_NO_ANSWER: (F.NO_ANSWER,),
    ForwardMode.ON_BUSY_AND_NO_ANSWER: (F.BUSY, F.NO_ANSWER),
}
_REFUSALS: Final = {
    "invalidDeviceID": "the switch has no such station",
    "invalidForwardingDestination": "the switch cannot forward calls to OtherDN",
    "invalidForwardingType": "the switch does not forward calls that way",
}


def _extension(core: Core, ctx: RequestContext) -> DeviceId:
    dn = controlled_dn(core, ctx)
    if core.model.kind(dn) is not DnKind.EXTENSION:
        raise InvalidAttribute(f"{ctx.name} is for extensions; {dn} is not one")
    return dn


def _set(core: Core, ctx: RequestContext, dn: DeviceId, request: Request, answer: str) -> None:
    pending = core.pending(ctx, dn, [(answer, NO_CALL)], explain=_REFUSALS)
    core.to_switch(ctx, request, pending)


def set_dnd_on(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    _set(core, ctx, dn, SetDoNotDisturb(device=dn, do_not_disturb_on=True), "EventDNDOn")


def set_dnd_off(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    _set(core, ctx, dn, SetDoNotDisturb(device=dn, do_not_disturb_on=False), "EventDNDOff")


def set_message_waiting_on(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    request = SetMessageWaitingIndicator(device=dn, message_waiting_on=True)
    _set(core, ctx, dn, request, "EventMessageWaitingOn")


def set_message_waiting_off(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    request = SetMessageWaitingIndicator(device=dn, message_waiting_on=False)
    _set(core, ctx, dn, request, "EventMessageWaitingOff")


def _types(mode: ForwardMode) -> tuple[ForwardingType, ...]:
    types = FORWARDING_TYPES.get(mode)
    if types is None:
        raise InvalidAttribute(
            f"ForwardMode {mode} is not served: forward Unconditional, OnBusy, OnNoAnswer "
            "or OnBusyAndNoAnswer"
        )
    return types


def call_forward_set(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    destination = DeviceId(str(ctx.message["OtherDN"]))
    if destination == dn:
        raise InvalidAttribute(f"DN {dn} cannot forward its calls to itself")
    mode = ForwardMode(ctx.message.get("ForwardMode", ForwardMode.UNCONDITIONAL))
    requests = [
        SetForwarding(
            device=dn, forwarding_type=kind, activate_forward=True, forward_dn=destination
        )
        for kind in _types(mode)
    ]
    _forwarding(core, ctx, dn, requests, "EventForwardSet")


def call_forward_cancel(core: Core, ctx: RequestContext) -> None:
    dn = _extension(core, ctx)
    mode = ForwardMode(ctx.message.get("ForwardMode", ForwardMode.NONE))
    if mode is ForwardMode.NONE:
        set_now = [ForwardingType(k) for k in core.model.features(dn).forwarding]
        kinds = tuple(kind for kind in set_now if kind in FORWARD_MODES)
    else:
        kinds = _types(mode)
    if not kinds:
        core.reply(ctx, ack_event(dn))  # nothing is forwarded: nothing to cancel
        return
    requests = [
        SetForwarding(device=dn, forwarding_type=kind, activate_forward=False) for kind in kinds
    ]
    _forwarding(core, ctx, dn, requests, "EventForwardCancel")


def _forwarding(
    core: Core, ctx: RequestContext, dn: DeviceId, requests: list[SetForwarding], answer: str
) -> None:
    """The first request answers *ctx*; the others follow it (their failure is its)."""
    first, *rest = requests
    pending = core.pending(ctx, dn, [(answer, NO_CALL)], explain=_REFUSALS)
    core.to_switch(ctx, first, pending)
    for request in rest:
        core.follow_up(pending, request)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestSetDNDOn": set_dnd_on,
    "RequestSetDNDOff": set_dnd_off,
    "RequestCallForwardSet": call_forward_set,
    "RequestCallForwardCancel": call_forward_cancel,
    "RequestSetMessageWaitingOn": set_message_waiting_on,
    "RequestSetMessageWaitingOff": set_message_waiting_off,
}
