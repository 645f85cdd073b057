"""Routeing services (ECMA-269 § 21) as the switch performs them: registration, and the
application's side of a routeing dialogue.  docs/pbxsim.md § 4.10.

One registration per routing device, across all associations.  A dialogue belongs to
the registration's association: RouteSelect and RouteEnd from anyone else, or for a
dialogue that is over, are ignored (they are unconfirmed, so there is nobody to tell).
When a registration ends (RouteRegisterCancel, or its association closes), the calls
waiting in its dialogues go to their default destination at once.
"""

from __future__ import annotations

from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.routeing import (
    ReRoute,
    RouteEnd,
    RouteRegister,
    RouteRegisterCancel,
    RouteRegisterCancelResponse,
    RouteRegisterResponse,
    RouteSelect,
)
from ctiserver.csta.types import CallCharacteristics
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import call_control, call_types, delivery, private
from ctiserver.pbxsim.directory import DeviceKind
from ctiserver.pbxsim.outcome import AssociationId, Refused
from ctiserver.pbxsim.state import Context, Dialogue, Registration

_OPERATION = ErrorCategory.OPERATION


def route_register(ctx: Context, request: RouteRegister) -> None:
    assert ctx.association is not None
    device = request.routeing_device
    if ctx.state.directory.kind(device) is not DeviceKind.ROUTING_DEVICE:
        raise Refused(_OPERATION, "invalidDeviceID")
    if ctx.state.registration_for(device) is not None:
        raise Refused(_OPERATION, "invalidRouteRegistrationCrossRefID")
    registration = Registration(ctx.state.new_id("registration"), ctx.association, device)
    ctx.state.registrations[registration.req_id] = registration
    ctx.reply(RouteRegisterResponse(route_register_req_id=registration.req_id))


def route_register_cancel(ctx: Context, request: RouteRegisterCancel) -> None:
    registration = ctx.state.registrations.get(request.route_register_req_id)
    if registration is None or registration.association != ctx.association:
        raise Refused(_OPERATION, "invalidRouteRegistrationCrossRefID")
    ctx.reply(RouteRegisterCancelResponse())
    _end_registration(ctx, registration)


def drop_registrations(ctx: Context, association: AssociationId) -> None:
    """*association* is gone: so are its registrations."""
    for registration in list(ctx.state.registrations.values()):
        if registration.association == association:
            _end_registration(ctx, registration)


def _end_registration(ctx: Context, registration: Registration) -> None:
    del ctx.state.registrations[registration.req_id]
    for dialogue in list(ctx.state.dialogues.values()):
        if dialogue.registration == registration:
            delivery.forget_dialogue(ctx, dialogue)
            call = ctx.state.calls[dialogue.call_id]
            delivery.route_by_default(ctx, call, dialogue.device, None)


def route_select(ctx: Context, request: RouteSelect) -> None:
    dialogue = _dialogue(ctx, request.routing_cross_ref_id)
    if dialogue is None:
        return
    call = ctx.state.calls[dialogue.call_id]
    destination = request.route_selected
    namespace = ctx.state.config.private_namespace
    characteristics = call_types.from_private(request.private_data, namespace)
    agent_there, acd_group = _direct_agent(ctx, destination, characteristics)
    if agent_there and delivery.routable(ctx.state, dialogue.device, destination):
        call.uui = call_control.uui_of(ctx, request.private_data) or call.uui
        call.characteristics = call_types.merged(call, characteristics)
        dnis = private.text(request.private_data, namespace, "dnis")
        delivery.route(
            ctx,
            call,
            dialogue.device,
            destination,
            dialogue,
            called=DeviceId(dnis) if dnis else None,
            acd_group=acd_group,
        )
        return
    registration = dialogue.registration
    ctx.send(
        registration.association,
        ReRoute(
            route_register_req_id=registration.req_id,
            routing_cross_ref_id=dialogue.cross_ref_id,
        ),
    )
    delivery.start_route_timer(ctx, dialogue)  # a fresh route-timeout for the new try


def _direct_agent(
    ctx: Context, destination: DeviceId, characteristics: CallCharacteristics | None
) -> tuple[bool, DeviceId | None]:
    """For a direct-agent route: whether an agent is logged on at *destination*, and its
    group (None: it serves every group).  Any other route: (True, None)."""
    if characteristics is None or not characteristics.direct_agent:
        return True, None
    try:
        return True, call_types.direct_agent_group(ctx.state, destination)
    except Refused:
        return False, None


def route_end(ctx: Context, request: RouteEnd) -> None:
    dialogue = _dialogue(ctx, request.routing_cross_ref_id)
    if dialogue is None:
        return
    call = ctx.state.calls[dialogue.call_id]
    delivery.block(ctx, call, dialogue.device, dialogue, None)


def _dialogue(ctx: Context, cross_ref_id: str) -> Dialogue | None:
    dialogue = ctx.state.dialogues.get(cross_ref_id)
    if dialogue is None or dialogue.registration.association != ctx.association:
        return None
    return dialogue


def route_timeout(ctx: Context, cross_ref_id: str) -> None:
    """Nobody routed in time: the default destination (docs/pbxsim.md § 4.10)."""
    dialogue = ctx.state.dialogues.get(cross_ref_id)
    if dialogue is not None:
        call = ctx.state.calls[dialogue.call_id]
        delivery.route_by_default(ctx, call, dialogue.device, dialogue)
