"""Call associated features (ECMA-269 § 17.1): Generate Digits and its Digits Generated
event, which RequestSendDTMF uses.

GenerateDigits sends `charactersToSend` (0-9, *, #, A-D) into the call on the connection
named; the switch reports each generation with DigitsGeneratedEvent on the monitors of
the call's devices.  Optional elements ctiserver neither sends nor reads (pulseRate,
digitDurationList, connectionInfo, …) are left out; the codec skips them on input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import ConnectionID, PrivateData

_EXTENSIONS = "extensions/privateData/private"


class DigitMode(enum.StrEnum):
    """How digits are generated (ECMA-323 DigitMode)."""

    ROTARY_PULSE = "rotaryPulse"
    DTMF = "dTMF"


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateDigitsResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateDigits(Request):
    RESPONSE = GenerateDigitsResponse
    connection_to_send_digits: ConnectionID
    digit_mode: DigitMode | None = None
    characters_to_send: str
    tone_duration: int | None = None  # milliseconds
    pause_duration: int | None = None  # milliseconds
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitsGeneratedEvent(Event):
    """*digit_generated_list* were generated into the call on *connection*."""

    connection: ConnectionID
    digit_generated_list: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)
