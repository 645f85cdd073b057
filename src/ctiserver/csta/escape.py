"""The escape service and the private event (ECMA-269 § 25): carriers of private services.

The standard gives only the carriers; what they carry is private vocabulary in a
namespace both sides agree on (ctiserver's is configured as `[switch] private-namespace`,
see docs/pbxsim.md § 8).  Unlike most messages, Escape and PrivateEvent hold
`privateData` directly, not under `extensions`:

    <Escape><privateData><private xmlns:p="…">
      <p:guestAssociatedExtension>…</p:guestAssociatedExtension>
    </private></privateData></Escape>
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import PrivateData

_EXTENSIONS = "extensions/privateData/private"
_PRIVATE = "privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class EscapeResponse(Response):
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Escape(Request):
    """A private service request (Genesys calls it "escapeService")."""

    RESPONSE = EscapeResponse
    escape_register_id: str = xml("escapeRegisterID", default="")
    private_data: PrivateData | None = xml(_PRIVATE, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateEvent(Event):
    """A private event on a monitor (e.g. the guestAssociatedEvent of hot desking)."""

    private_data: PrivateData | None = xml(_PRIVATE, default=None)
