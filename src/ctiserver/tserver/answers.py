"""The switch's answers to the requests the core sent: what a confirmation does (bind the
call it made, acknowledge, apply UserData, go on with a mute transfer), and the
EventError that a refusal, a failure or a silence past `[switch] reply-timeout` becomes.

A follow-up (a second CSTA request made on behalf of a client's request, such as the
TransferCall that completes a mute transfer) answers nothing itself: its failure is the
first request's.  A mute transfer's TransferCall waits until its consultation is offered
somewhere (a switch will not transfer a call that rings nowhere yet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.csta.call_control import TransferCall
from ctiserver.csta.schema import Request, Response
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import ServiceError
from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.model.changes import PartyChange
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import KVList
from ctiserver.tserver.correlation import (
    Acknowledge,
    ApplyUserData,
    BindCall,
    ClearedBy,
    Correlator,
    Pending,
    TransferConsultation,
)
from ctiserver.tserver.errors import SilentSwitch, error_code_for, error_message_for
from ctiserver.tserver.events import ack_event, error_event
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import Core, Requester

log = logging.getLogger(__name__)

_OFFERED = frozenset({PartyState.RINGING, PartyState.QUEUED, PartyState.ESTABLISHED})


class Host(Core, Protocol):
    """What the answers need of the core, beyond a handler's verbs."""

    correlator: Correlator
    iscc: Iscc | None

    def bind(self, pending: Pending, call: Call, at: Instant) -> None: ...

    def acknowledge(self, pending: Pending, at: Instant) -> None: ...

    def withdraw_promise(self, pending: Pending, at: Instant) -> None: ...

    def cleared_by(self, conn_id: ConnId, dn: DeviceId, at: Instant) -> None: ...

    def user_data_changed(
        self, conn_id: ConnId, by: DeviceId, at: Instant, *, answering: Requester
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class MuteTransfer:
    """A mute transfer whose TransferCall waits for the consultation to be offered."""

    pending: Pending
    held: ConnectionID
    consultation: ConnectionID


class Answers:
    def __init__(self, host: Host) -> None:
        self._host = host
        self._correlator = host.correlator
        self._follow_ups: dict[int, int] = {}  # follow-up token -> its request's token
        self.mute_transfers: dict[CallId, MuteTransfer] = {}  # by consultation callID

    def follow_up(self, pending: Pending) -> int:
        """A token for a request sent on behalf of *pending*."""
        token = self._correlator.new_token()
        self._follow_ups[token] = pending.token
        return token

    # --- what the switch says -------------------------------------------------------------

    def confirmed(self, token: int, response: Response, at: Instant) -> None:
        """The switch accepted the request sent under *token*."""
        if self._follow_ups.pop(token, None) is not None:
            return
        deadline = at.monotonic + self._host.settings.answer_timeout
        pending = self._correlator.confirm(token, deadline=deadline)
        if pending is not None and pending.on_confirm is not None:
            self._on_confirm(pending, response, at)

    def failed(self, token: int, error: BaseException, at: Instant) -> None:
        """The request sent under *token* failed: refused, timed out or the link fell."""
        parent = self._follow_ups.pop(token, None)
        if parent is not None:
            token = parent
        pending = self._correlator.finish(token)
        if pending is not None:
            self._host.withdraw_promise(pending, at)
        if pending is not None and not pending.answered:
            self.answer_error(pending, error, at)

    def expire(self, at: Instant) -> None:
        """EventError 57 for accepted requests that no event answered in time."""
        for pending in self._correlator.expire(at.monotonic):
            self._host.withdraw_promise(pending, at)
            if not pending.answered:
                timeout = self._host.settings.answer_timeout
                silence = SilentSwitch(
                    f"the switch accepted {pending.request} but reported no event for it "
                    f"within {timeout:g} s"
                )
                self.answer_error(pending, silence, at)

    def call_offered(self, change: PartyChange) -> None:
        """A party of a call now rings (or answers): a mute transfer waiting for its
        consultation to be offered completes now."""
        waiting = self.mute_transfers.get(change.call.call_id)
        if waiting is None or change.party.dn == waiting.pending.dn:
            return
        del self.mute_transfers[change.call.call_id]
        if self._correlator.get(waiting.pending.token) is not None:  # still wanted
            self._transfer(waiting)

    def answer_error(self, pending: Pending, error: BaseException, at: Instant) -> None:
        host = self._host
        code = error_code_for(error)
        message = error_message_for(error, pending.request) + self._where(pending)
        if isinstance(error, ServiceError) and pending.explain and error.value in pending.explain:
            message += f": {pending.explain[error.value]}"
        if code is TError.INTERNAL:
            log.error("%s failed: %r", pending.request, error)
        event = error_event(pending.reference_id, code, message, dn=pending.dn)
        if pending.on_refusal is not None:
            pending.on_refusal(host, pending, event, at)
        else:
            host.send(event, (pending.client,), at)
        if pending.xid is not None and host.iscc is not None:
            host.iscc.origin.request_failed(pending.xid, at)

    # --- confirmations ----------------------------------------------------------------------

    def _on_confirm(self, pending: Pending, response: Response, at: Instant) -> None:
        """What the request does once the switch accepted it (Pending.on_confirm)."""
        match pending.on_confirm:
            case BindCall(field=field):
                self._bind_by_response(pending, response, field, at)
            case TransferConsultation(held=held):
                self._bind_by_response(pending, response, "initiated_call", at)
                self._transfer_consultation(pending, response, held)
            case Acknowledge():
                self._host.acknowledge(pending, at)
            case ClearedBy(conn_id=conn_id, dn=dn):
                self._host.cleared_by(conn_id, dn, at)
            case ApplyUserData(conn_id=conn_id, data=data, clear=clear):
                self._correlator.finish(pending.token)
                if self._host.model.call(conn_id) is not None:
                    self._apply_user_data(pending, conn_id, data, clear, at)

    def _bind_by_response(
        self, pending: Pending, response: Response, field: str, at: Instant
    ) -> None:
        named = getattr(response, field, None)
        if not isinstance(named, ConnectionID) or not named.call_id:
            return
        self._correlator.expect_call(pending, named.call_id)
        call = self._host.model.call_by_call_id(named.call_id)
        if call is not None and pending.new_conn_id is None:
            self._host.bind(pending, call, at)

    def _transfer_consultation(self, pending: Pending, response: Response, held: ConnId) -> None:
        """Mute transfer: the transfer is made once the consultation is offered (a switch
        will not transfer a call that rings nowhere yet, as a trunk leg being set up)."""
        consultation = getattr(response, "initiated_call", None)
        original = self._host.model.call(held)
        if isinstance(consultation, ConnectionID) and original is not None:
            held_connection = ConnectionID(original.call_id, pending.dn)
            waiting = MuteTransfer(pending, held_connection, consultation)
            self.mute_transfers[consultation.call_id] = waiting
            if self._offered(consultation.call_id, pending.dn):
                del self.mute_transfers[consultation.call_id]
                self._transfer(waiting)

    def _transfer(self, waiting: MuteTransfer) -> None:
        request: Request = TransferCall(held_call=waiting.held, active_call=waiting.consultation)
        self._host.follow_up(waiting.pending, request)

    def _offered(self, call_id: CallId, dn: DeviceId) -> bool:
        """The call rings (or talks) at a party other than *dn* already."""
        model = self._host.model
        call = model.call_by_call_id(call_id)
        return call is not None and any(
            p.dn != dn and p.state in _OFFERED for p in model.present(call.conn_id)
        )

    def _apply_user_data(
        self, pending: Pending, conn_id: ConnId, data: KVList | None, clear: bool, at: Instant
    ) -> None:
        host = self._host
        if not host.attach(conn_id, data or {}, at, clear=clear):
            event = ack_event(pending.dn, conn_id)
            event["ReferenceID"] = pending.reference_id
            host.send(event, (pending.client,), at)
            return
        host.user_data_changed(conn_id, pending.dn, at, answering=pending)

    def _where(self, pending: Pending) -> str:
        """For a refused call request: the state the DN was in, which usually says why."""
        states = []
        for conn_id in sorted(pending.calls):
            party = self._host.model.party(pending.dn, conn_id)
            if party is not None:
                states.append(f"{party.state.value} on {conn_id}")
        return f" (DN {pending.dn} is {', '.join(states)})" if states else ""
