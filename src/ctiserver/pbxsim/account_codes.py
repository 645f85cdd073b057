"""Account codes (docs/pbxsim.md § 8.3): set by the application with AssociateData, or
entered on the phone (phone.EnterAccountCode); either way every device in the call
hears of it with a CallInformationEvent.

A code is 1 to 16 digits.  It travels as hexBinary ("1234" is 31323334).  The call
keeps the last code set.
"""

from __future__ import annotations

import re
from typing import Final

from ctiserver.csta.call_information import (
    AssociateData,
    AssociateDataResponse,
    CallInformationEvent,
    account_code_hex,
    account_code_text,
)
from ctiserver.csta.failure import ErrorCategory
from ctiserver.pbxsim.calls import Call, Connection
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context

_CODE: Final = re.compile(r"[0-9]{1,16}")


def associate_data(ctx: Context, request: AssociateData) -> None:
    call, connection = ctx.state.connection(request.existing_call, far_end=True)
    code = account_code_text(request.account_code)
    check_code(code)
    assert code is not None
    ctx.reply(AssociateDataResponse())
    set_account_code(ctx, call, connection, code)


def check_code(code: str | None) -> None:
    """Raises Refused(operation/invalidAccountCode) unless *code* is 1 to 16 digits."""
    if code is None or not _CODE.fullmatch(code):
        raise Refused(ErrorCategory.OPERATION, "invalidAccountCode")


def set_account_code(ctx: Context, call: Call, connection: Connection, code: str) -> None:
    call.account_code = code
    event = CallInformationEvent(
        monitor_cross_ref_id=UNADDRESSED,
        connection=call.id_of(connection.device),
        device=connection.shown(),
        account_info=account_code_hex(code),
    )
    ctx.publish(call, event)
