"""RequestSendDTMF (docs/protocol.md, DTMF): digits sent into a call, by the switch's
Generate Digits service (ECMA-269 § 17.1.4).

The switch's DigitsGeneratedEvent on ThisDN's monitor becomes EventDTMFSent for ThisDN's
registrants, the requester's copy answering the request.  Digits are 0-9, *, #, A-D,
at most 32; anything else is EventError 53 and nothing reaches the switch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from ctiserver.csta.call_associated import DigitMode, GenerateDigits
from ctiserver.tserver.calls import connection
from ctiserver.tserver.checks import call_at, controlled_dn
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.port import Core, RequestContext

DTMF_DIGITS: Final = re.compile(r"[0-9*#A-D]{1,32}")
_REFUSALS: Final = {
    "invalidConnectionState": "digits can be sent only on a call that is talking",
    "requestIncompatibleWithConnection": "digits cannot be sent on that connection",
    "invalidParameterValue": "the switch does not send those digits",
}


def send_dtmf(core: Core, ctx: RequestContext) -> None:
    dn = controlled_dn(core, ctx)
    call, _party = call_at(core, ctx, dn)
    digits = str(ctx.message["DTMFDigits"])
    if not DTMF_DIGITS.fullmatch(digits):
        raise InvalidAttribute(
            f"DTMFDigits {digits!r}: 1 to 32 of the digits 0-9, *, #, A, B, C, D"
        )
    request = GenerateDigits(
        connection_to_send_digits=connection(call, dn),
        digit_mode=DigitMode.DTMF,
        characters_to_send=digits,
    )
    pending = core.pending(ctx, dn, [("EventDTMFSent", call.conn_id)], explain=_REFUSALS)
    core.to_switch(ctx, request, pending)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {"RequestSendDTMF": send_dtmf}
