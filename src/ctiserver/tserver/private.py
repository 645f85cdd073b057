"""RequestPrivateService: the CSTA connector's private services (call-models.md § 13),
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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctiserver.clock import Instant
from ctiserver.csta.escape import Escape
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.csta.voice import RecordMessage, Resume, Stop, Suspend
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.call import Call, Party
from ctiserver.model.changes import (
    AccountCodeEntered,
    GuestAssociation,
    PrivateChange,
    RecordingChanged,
    RecordingEvent,
)
from ctiserver.model.states import DnKind
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.addresses import HOST_DN
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.correlation import NO_CALL
from ctiserver.tserver.errors import InvalidAttribute, NotSupported
from ctiserver.tserver.userdata import ACCOUNT_CODE_REFUSALS, announce_remote, associate_data

if TYPE_CHECKING:
    from ctiserver.tserver.core import Handler, RequestContext, TServerCore

HOT_DESK, HOT_DESK_CANCEL, ACCOUNT_CODE = 1, 2, 501


def answer_name(number: int) -> str:
    """The correlation name of EventPrivateInfo *number* (the event name is shared)."""
    return f"EventPrivateInfo:{int(number)}"


def private_service(core: TServerCore, ctx: RequestContext) -> None:
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


def associate(core: TServerCore, ctx: RequestContext) -> None:
    guest = _station(core, ctx)
    host = (ctx.message.get("Extensions") or {}).get(HOST_DN)
    if not isinstance(host, str) or not host:
        raise InvalidAttribute("hot desking (private service 1) needs Extensions HOST_DN")
    known = core.model.hosts.get(guest)
    if known is not None:
        raise InvalidAttribute(f"DN {guest} is associated with host {known} already")
    _escape(core, ctx, guest, HOT_DESK, host=host, action="associate")


def cancel_association(core: TServerCore, ctx: RequestContext) -> None:
    guest = _station(core, ctx)
    host = core.model.hosts.get(guest, "")
    _escape(core, ctx, guest, HOT_DESK_CANCEL, host=host, action="cancel")


def _station(core: TServerCore, ctx: RequestContext) -> DeviceId:
    dn = controlled_dn(core, ctx)
    if core.model.dns[dn] is not DnKind.EXTENSION:
        raise InvalidAttribute(f"hot desking is for extensions; {dn} is not one")
    return dn


def _escape(
    core: TServerCore, ctx: RequestContext, guest: DeviceId, number: int, *, host: str, action: str
) -> None:
    fields = [PrivateElement("guest", guest)]
    if host:
        fields.append(PrivateElement("host", host))
    fields.append(PrivateElement("action", action))
    element = PrivateElement("guestAssociatedExtension", children=tuple(fields))
    escape = Escape(private_data=PrivateData(core.settings.private_namespace, (element,)))
    answers = [(answer_name(number), NO_CALL)]
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


def record(core: TServerCore, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    _record_service(core, ctx, dn, call, RecordMessage(call_to_be_recorded=connection), 3013)


def stop_recording(core: TServerCore, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    message = _recording_of(core, dn, call)
    request = Stop(connection=connection, message_to_be_stopped=message)
    _record_service(core, ctx, dn, call, request, RecordingEvent.STOPPED)


def suspend_recording(core: TServerCore, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    request = Suspend(connection=connection, message=_recording_of(core, dn, call))
    _record_service(core, ctx, dn, call, request, RecordingEvent.SUSPENDED)


def resume_recording(core: TServerCore, ctx: RequestContext) -> None:
    dn, call, connection = _connection(core, ctx)
    request = Resume(connection=connection, message_to_resume=_recording_of(core, dn, call))
    _record_service(core, ctx, dn, call, request, RecordingEvent.RESUMED)


def _connection(core: TServerCore, ctx: RequestContext) -> tuple[DeviceId, Call, ConnectionID]:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    return dn, call, ConnectionID(call_id=call.call_id, device_id=dn)


def _recording_of(core: TServerCore, dn: DeviceId, call: Call) -> str:
    """The message id of *dn*'s recording of *call*, when the server knows it (else the
    switch finds it by the connection)."""
    for recording in core.model.recordings.values():
        if recording.dn == dn and recording.conn_id == call.conn_id:
            return recording.message
    return ""


def _record_service(
    core: TServerCore, ctx: RequestContext, dn: DeviceId, call: Call, request: Any, number: int
) -> None:
    answers = [(answer_name(number), call.conn_id)]
    pending = core.pending(ctx, dn, answers, explain=_RECORDING_REFUSALS)
    pending.calls.add(call.conn_id)
    core.to_switch(ctx, request, pending)


# --- account codes -------------------------------------------------------------------------


def set_account_code(core: TServerCore, ctx: RequestContext) -> None:
    settings = core.settings
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
    answers = [(answer_name(ACCOUNT_CODE), call.conn_id)]
    core.to_switch(ctx, request, core.pending(ctx, dn, answers, explain=ACCOUNT_CODE_REFUSALS))


# --- what the switch reports ---------------------------------------------------------------


def publish(core: TServerCore, change: PrivateChange, at: Instant) -> None:
    """EventPrivateInfo (and UserData) for a private change."""
    match change:
        case GuestAssociation(guest=guest, host=host, associated=associated):
            number = HOT_DESK if associated else HOT_DESK_CANCEL
            event = _private_info(number, guest, OtherDN=host)
            _tell(core, guest, NO_CALL, event, at)
        case RecordingChanged(dn=dn, conn_id=conn_id, what=what):
            _tell(core, dn, conn_id, _private_info(int(what), dn, ConnID=conn_id), at)
        case AccountCodeEntered():
            _account_code(core, change, at)


def _private_info(number: int, dn: DeviceId, **attributes: Any) -> TMessage:
    event: TMessage = {"Event": "EventPrivateInfo", "PrivateMsgID": number, "ThisDN": dn}
    event.update(attributes)  # type: ignore[typeddict-item]
    return event


def _tell(core: TServerCore, dn: DeviceId, conn_id: ConnId, event: TMessage, at: Instant) -> None:
    answering = core.correlator.answer(dn, conn_id, answer_name(event["PrivateMsgID"]))
    core.send(event, core.registry.clients_of(dn), at, answering=answering)


def _account_code(core: TServerCore, change: AccountCodeEntered, at: Instant) -> None:
    settings, call = core.settings, change.call
    if settings.accode_privateservice:
        event = _private_info(
            ACCOUNT_CODE,
            change.dn,
            ConnID=call.conn_id,
            Extensions={settings.accode_name: change.code},
        )
        _tell(core, change.dn, call.conn_id, event, at)
    if settings.accode_data == "udata" and call.user_data.get(settings.accode_name) != change.code:
        call.user_data[settings.accode_name] = change.code
        announce_remote(core, call, change.dn, at)
        if core.iscc is not None:
            core.iscc.data_changed(call, change.dn)


def decorate(core: TServerCore, event: TMessage, call: Call, party: Party) -> None:
    """Extensions a call event adds: the guest's host, the account code (`ext`)."""
    extensions: dict[str, Any] = {}
    host = core.model.hosts.get(party.dn)
    if host is not None:
        extensions[HOST_DN] = host
    if core.settings.accode_data == "ext" and call.account_code:
        extensions[core.settings.accode_name] = call.account_code
    if extensions:
        event["Extensions"] = {**(event.get("Extensions") or {}), **extensions}


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
