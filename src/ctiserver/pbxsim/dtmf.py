"""Digits sent into a call (docs/pbxsim.md § 4.13): the Generate Digits service
(ECMA-269 § 17.1.4) and a person keying digits on a phone during a call.

GenerateDigits on a `connected` connection answers GenerateDigitsResponse, then
DigitsGeneratedEvent{connection, digitGeneratedList} goes to the monitors of every device
in the call.  A person keying digits (the phone action Digits) sends them as in-band
tones: no event reports them.  Either way the other parties hear them, and a routing
device collecting digits from the call (a treatment, pbxsim.treatments) takes them.
"""

from __future__ import annotations

import re
from typing import Final

from ctiserver.csta.call_associated import (
    DigitsGeneratedEvent,
    GenerateDigits,
    GenerateDigitsResponse,
)
from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.failure import ErrorCategory
from ctiserver.ids import DeviceId
from ctiserver.pbxsim import treatments
from ctiserver.pbxsim.calls import Call
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context

DIGITS: Final = re.compile(r"[0-9*#A-D]{1,32}")


def check_digits(digits: str) -> None:
    """DTMF digits: 0-9, *, #, A-D, at most 32.  Raises Refused otherwise."""
    if not DIGITS.fullmatch(digits):
        raise Refused(ErrorCategory.OPERATION, "invalidParameterValue")


def generate_digits(ctx: Context, request: GenerateDigits) -> None:
    call, connection = ctx.state.connection(request.connection_to_send_digits)
    check_digits(request.characters_to_send)
    if connection.state is not LocalConnectionState.CONNECTED:
        raise Refused(ErrorCategory.STATE_INCOMPATIBILITY, "invalidConnectionState")
    ctx.reply(GenerateDigitsResponse())
    event = DigitsGeneratedEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=request.connection_to_send_digits,
        digit_generated_list=request.characters_to_send,
    )
    ctx.publish(call, event)
    sent(ctx, call, connection.device, request.characters_to_send)


def sent(ctx: Context, call: Call, device: DeviceId, digits: str) -> None:
    """*device* sent *digits* into *call*: a treatment collecting them takes them."""
    treatments.digits_heard(ctx, call, device, digits)
