"""Associate Data and the Call Information event (ECMA-269 § 17.1.2 and § 17.2.6), as
far as account codes need them.

ECMA-323 writes account codes (and authorisation codes) as hexBinary: the digits "1234"
travel as `<accountCode>31323334</accountCode>`.  These fields hold that hex text as it
is on the wire; account_code_hex() and account_code_text() convert.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import CallingDeviceID, ConnectionID, PrivateData, SubjectDeviceID

_EXTENSIONS = "extensions/privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociateDataResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociateData(Request):
    """Associate an account code (or other data) with a call at one connection."""

    RESPONSE = AssociateDataResponse
    existing_call: ConnectionID
    account_code: str = ""  # hexBinary
    auth_code: str = ""  # hexBinary
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallInformationEvent(Event):
    """Information about a call was collected: here, an account code at *device*."""

    connection: ConnectionID
    device: SubjectDeviceID | None = None
    calling_device: CallingDeviceID | None = None
    account_info: str = ""  # hexBinary
    authorisation_code: str = ""  # hexBinary
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


def account_code_hex(code: str) -> str:
    """The hexBinary form of *code* ("1234" -> "31323334")."""
    return code.encode().hex()


def account_code_text(value: str) -> str | None:
    """The text of a hexBinary account code, or None when it is not hex of UTF-8 text."""
    try:
        return bytes.fromhex(value).decode()
    except ValueError:  # not hex, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None
