"""RequestPrivateService: the CSTA connector's private services (docs/private-services.md),
and the EventPrivateInfo that report them.

    PrivateMsgID  service                       to the switch
    1             hot desking: associate        Escape guestAssociatedExtension (associate)
    2             hot desking: cancel           Escape guestAssociatedExtension (cancel)
    501           set an account code           AssociateData accountCode
    3013          start recording the call      RecordMessage
    3014          stop recording                Stop
    3015          suspend recording             Suspend
    3016          resume recording              Resume

Each is answered by EventPrivateInfo with the same PrivateMsgID when the switch reports
it done (PrivateEvent, RecordEvent, StopEvent, SuspendRecordEvent, CallInformationEvent),
or by EventError.  The switch's reports reach the DN's registrants whoever asked,
including the recording that stops by itself when the call ends and the account code
entered on the phone.  Options (the T-Server's names): `accode-privateservice` turns
service and event 501 on; `accode-data` puts the code in the call's UserData (`udata`,
where attaching the `accode-name` key also sets it on the switch) or in the Extensions of
the call's events (`ext`).  A guest's call events carry Extensions HOST_DN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ctiserver.csta.escape import Escape
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.csta.voice import RecordMessage, Resume, Stop, Suspend
from ctiserver.ids import DeviceId
from ctiserver.model.changes import RecordingEvent
from ctiserver.model.states import DnKind
from ctiserver.model.values import Call
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import NO_CALL
from ctiserver.tserver.errors import InvalidAttribute, NotSupported
from ctiserver.tserver.events import HOST_DN, private_answer
from ctiserver.tserver.port import Core, RequestContext
from ctiserver.tserver.userdata import ACCOUNT_CODE_REFUSALS, associate_data

HOT_DESK, HOT_DESK_CANCEL, ACCOUNT_CODE = 1, 2, 501
Handler = Callable[[Core, RequestContext], None]


def private_service(core: Core, ctx: RequestContext) -> None:
    number = ctx.message["PrivateMsgID"]
    service = SERVICES.get(number)
    if service is None:
        raise NotSupported(
            f"private service {number} is not supported; these are: 1 and 2 (hot desking), "
            "501 (account code), 3013 to 3016 (call recording)"
        )
    service(core, ctx)


# --- hot desking ---------------------------------------------------------------------------

_HOT_DESK_REFUSALS = {
    "invalidDeviceID": "the guest and the host must be stations of the switch",
    "notDifferentDevices": "a DN cannot be its own host",
    "invalidDeviceState": "the guest or the host is associated already, or the guest has calls",
    "invalidObjectState": "the DN is not associated with a host",
    "privateDataNotSupported": "the switch does not offer hot desking",
}


def associate(core: Core, ctx: RequestContext) -> None:
    guest = _station(core, ctx)
    host = (ctx.message.get("Extensions") or {}).get(HOST_DN)
    if not isinstance(host, str) or not host:
        raise InvalidAttribute("hot desking (private service 1) needs Extensions HOST_DN")
    known = core.model.host_of(guest)
    if known is not None:
        raise InvalidAttribute(f"DN {guest} is associated with host {known} already")
    _escape(core, ctx, guest, HOT_DESK, host=host, action="associate")


def cancel_association(core: Core, ctx: RequestContext) -> None:
    guest = _station(core, ctx)
    host = core.model.host_of(guest) or ""
    _escape(core, ctx, guest, HOT_DESK_CANCEL, host=host, action="cancel")


def _station(core: Core, ctx: RequestContext) -> DeviceId:
    dn = controlled_dn(core, ctx)
    if core.model.kind(dn) is not DnKind.EXTENSION:
        raise InvalidAttribute(f"hot desking is for extensions; {dn} is not one")
    return dn


def _escape(
    core: Core, ctx: RequestContext, guest: DeviceId, number: int, *, host: str, action: str
) -> None:
    fields = [PrivateElement("guest", guest)]
    if host:
        fields.append(PrivateElement("host", host))
    fields.append(PrivateElement("action", action))
    element = PrivateElement("guestAssociatedExtension", children=tuple(fields))
    escape = Escape(private_data=PrivateData(core.settings.private_namespace, (element,)))
    answers = [(private_answer(number), NO_CALL)]
    core.to_switch(ctx, escape, core.pending(ctx, guest, answers, explain=_HOT_DESK_REFUSALS))


# --- call recording ------------------------------------------------------------------------

_RECORDING_REFUSALS = {
    "invalidObjectState": "the call is being recorded at this DN already",
    "invalidConnectionState": "only a call that is talking or held can be recorded",
    "incorrectMsgState": "the call is not being recorded at this DN, or is suspended already",
    "notAbleToResume": "the recording of the call at this DN is not suspended",
    "invalidMsgID": "the recording is not this DN's",
    "requestIncompatibleWithConnection": "that connection cannot be recorded",
}


def record(core: Core, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    _record_service(core, ctx, dn, call, RecordMessage(call_to_be_recorded=connection), 3013)


def stop_recording(core: Core, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    message = _recording_of(core, dn, call)
    request = Stop(connection=connection, message_to_be_stopped=message)
    _record_service(core, ctx, dn, call, request, RecordingEvent.STOPPED)


def suspend_recording(core: Core, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    request = Suspend(connection=connection, message=_recording_of(core, dn, call))
    _record_service(core, ctx, dn, call, request, RecordingEvent.SUSPENDED)


def resume_recording(core: Core, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    request = Resume(connection=connection, message_to_resume=_recording_of(core, dn, call))
    _record_service(core, ctx, dn, call, request, RecordingEvent.RESUMED)


def _connection(core: Core, ctx: RequestContext) -> tuple[DeviceId, Call, ConnectionID]:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    return dn, call, ConnectionID(call_id=call.call_id, device_id=dn)


def _recording_of(core: Core, dn: DeviceId, call: Call) -> str:
    """The message id of *dn*'s recording of *call*, when the server knows it (else the
    switch finds it by the connection)."""
    recording = core.model.recording_of(dn, call.conn_id)
    return "" if recording is None else recording.message


def _record_service(
    core: Core, ctx: RequestContext, dn: DeviceId, call: Call, request: Any, number: int
) -> None:
    answers = [(private_answer(number), call.conn_id)]
    pending = core.pending(ctx, dn, answers, explain=_RECORDING_REFUSALS)
    pending.calls.add(call.conn_id)
    core.to_switch(ctx, request, pending)


# --- account codes -------------------------------------------------------------------------


def set_account_code(core: Core, ctx: RequestContext) -> None:
    settings = core.settings.options
    if not settings.accode_privateservice:
        raise NotSupported(
            "account codes by private service 501 are off ([options] accode-privateservice)"
        )
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    code = (ctx.message.get("Extensions") or {}).get(settings.accode_name)
    if not isinstance(code, str | int) or not str(code):
        raise InvalidAttribute(f"private service 501 needs Extensions {settings.accode_name}")
    request = associate_data(call, dn, str(code))
    answers = [(private_answer(ACCOUNT_CODE), call.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers, explain=ACCOUNT_CODE_REFUSALS))


SERVICES: Mapping[int, Handler] = {
    HOT_DESK: associate,
    HOT_DESK_CANCEL: cancel_association,
    ACCOUNT_CODE: set_account_code,
    3013: record,
    3014: stop_recording,
    3015: suspend_recording,
    3016: resume_recording,
}
HANDLERS: dict[str, Handler] = {"RequestPrivateService": private_service}
