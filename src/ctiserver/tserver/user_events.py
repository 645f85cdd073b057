"""RequestDistributeUserEvent (docs/protocol.md, User events): an application's own event,
which the server hands to every client registered on a DN as EventUserEvent.

The T-Library's TSendUserEvent: the server passes the event on and answers EventACK;
nothing reaches the switch and nothing is kept.  The event carries ThisDN and the
request's UserData, with its ConnID (a call the server knows), OtherDN and Extensions
when the request gives them; the sender, if registered on ThisDN, gets it too.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.ids import ConnId
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.checks import configured_dn
from ctiserver.tserver.errors import RequestRefused
from ctiserver.tserver.events import ack_event
from ctiserver.tserver.port import Core, RequestContext

_PASSED_ON = ("ConnID", "OtherDN", "Extensions")


class UnknownCall(RequestRefused):
    code = TError.INV_CONNID

    def __init__(self, conn_id: ConnId) -> None:
        super().__init__(f"the server knows no call with ConnID {conn_id}")


def distribute_user_event(core: Core, ctx: RequestContext) -> None:
    dn = configured_dn(core, ctx)
    message = ctx.message
    conn_id = message.get("ConnID")
    if conn_id is not None and core.model.call(ConnId(conn_id)) is None:
        raise UnknownCall(ConnId(conn_id))
    event: TMessage = {"Event": "EventUserEvent", "ThisDN": dn, "UserData": message["UserData"]}
    for attribute in _PASSED_ON:
        if attribute in message:
            event[attribute] = message[attribute]  # type: ignore[literal-required]
    core.reply(ctx, ack_event(dn))
    core.send(event, core.clients_of(dn), ctx.at)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestDistributeUserEvent": distribute_user_event
}
