"""The verbs of the port (tserver.port.Core) for the requests the core sends the switch:
a Pending for each (tserver.correlation: which events will answer it), the SendToSwitch
output, a follow-up sent on its behalf, the EventACK or EventError that ends it
(tserver.answers), the call it created taking its UserData, and the ConnID it promised
given back when it created none.

SwitchRequests is a part of TServerCore (tserver.core), written apart: its methods are
the core's own (`core.to_switch(...)`), so nothing stands between a handler and them.
Host says what of the core they read and change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ctiserver.clock import Instant
from ctiserver.csta.schema import Request, Unconfirmed
from ctiserver.errors import LinkDown
from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.changes import CallChange, Change
from ctiserver.model.model import Model
from ctiserver.model.values import Call
from ctiserver.tserver.answers import Answers
from ctiserver.tserver.correlation import Answer, Correlator, Pending
from ctiserver.tserver.events import ack_event
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import Core, Output, RequestContext, SendToSwitch
from ctiserver.tserver.publishing import Publisher


class Host(Core, Protocol):
    """The core, as these verbs use it."""

    _model: Model
    _out: list[Output]
    _answers: Answers
    _publisher: Publisher
    correlator: Correlator
    iscc: Iscc | None


class SwitchRequests:
    def pending(
        self: Host, ctx: RequestContext, dn: DeviceId, answers: Iterable[Answer], **fields: object
    ) -> Pending:
        return Pending(
            token=self.correlator.new_token(),
            client=ctx.client,
            reference_id=ctx.reference_id,
            request=ctx.name,
            dn=dn,
            answers=set(answers),
            **fields,  # type: ignore[arg-type]
        )

    def to_switch(
        self: Host, ctx: RequestContext, request: Request | Unconfirmed, pending: Pending
    ) -> None:
        """An unconfirmed invocation (RouteSelect) has no reply: its events are due at once."""
        if not self.link_connected:
            raise LinkDown("the link to the switch is down")
        if pending.promised is not None:
            self.change(self._model.promise(pending.dn, pending.promised), ctx.at)
        self.correlator.add(pending)
        self._out.append(SendToSwitch(pending.token, request))
        if isinstance(request, Unconfirmed):
            deadline = ctx.at.monotonic + self.settings.answer_timeout
            self.correlator.confirm(pending.token, deadline=deadline)

    def to_switch_alone(self: Host, message: Request | Unconfirmed) -> None:
        if self.link_connected:
            self._out.append(SendToSwitch(self.correlator.new_token(), message))

    def follow_up(self: Host, pending: Pending, request: Request) -> None:
        self._out.append(SendToSwitch(self._answers.follow_up(pending), request))

    def acknowledge(self: Host, pending: Pending, at: Instant) -> None:
        """EventACK: the switch did what *pending* asked, and no event will say so."""
        self.correlator.finish(pending.token)
        event = ack_event(pending.dn)
        event["ReferenceID"] = pending.reference_id
        self.send(event, (pending.client,), at)

    def answer_error(self: Host, pending: Pending, error: BaseException, at: Instant) -> None:
        self._answers.answer_error(pending, error, at)

    def bind(self: Host, pending: Pending, call: Call, at: Instant) -> None:
        """*call* is the one *pending* created: it takes the request's UserData."""
        self.correlator.bind(pending, call.conn_id)
        if pending.user_data:
            changes = self._model.attach(call.conn_id, pending.user_data)
            self.change(changes, at)
            _tell_sharing_calls(self, changes, call.conn_id, pending.dn, at)
        if pending.purpose is not None:
            self.change(self._model.consults_for(call.conn_id, pending.purpose), at)
        if pending.xid is not None and self.iscc is not None:
            self.iscc.origin.moved(pending.xid, call.conn_id)

    def withdraw_promise(self: Host, pending: Pending, at: Instant) -> None:
        """A request that created no call gives its promised ConnID back."""
        unused = pending.promised is not None and pending.new_conn_id is None
        if unused and self._model.promised(pending.dn) == pending.promised:
            self.change(self._model.promise(pending.dn, None), at)


def _tell_sharing_calls(
    core: Host, changes: list[Change], created: ConnId, by: DeviceId, at: Instant
) -> None:
    """The UserData a request gave a call it created also changed the calls sharing it
    (consult-user-data = joint): their parties hear of it now; the new call's hear it
    with their first event."""
    changed = {c.call.conn_id for c in changes if isinstance(c, CallChange)} - {created}
    for conn_id in sorted(changed):
        core._publisher.user_data_changed(conn_id, by, at, sharing=False)
