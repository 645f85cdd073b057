"""Applications and what each may do: the permission every T-Library request needs, and
the DNs an application may act on (DESIGN.md § 8).

Pure: a request and the application that sent it in, a Refusal (or None) out.  The
asyncio runtime asks before a request reaches the core, so a refused request never
reaches the switch.

Rules:
- REQUIRED_PERMISSION names every request of tlib.requests.REQUESTS; a request missing
  from it is refused (a missing entry is an error, never a silent yes).
- `dns` limits the DNs an application names as ThisDN (registering, and acting on its
  own DNs).  The numbers it calls or routes to (OtherDN) are not limited: an agent calls
  customers, a router routes anywhere.
- Error codes (reference/genesys-tlib.md § 4.2, the CSTA classes T-Library reuses):
  1190 (security, unspecified) for an application that failed to authenticate, 1158
  (security violation) for a missing permission, 1147 (privilege violation on the
  specified device) for a DN outside the application's scope.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.security.passwords import ScryptHash
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import TMessage


class Permission(enum.StrEnum):
    MONITOR = "monitor"  # register DNs, receive their events, query
    CONTROL = "control"  # call control, agent states, UserData on its DNs
    ROUTE = "route"  # route calls and apply treatments at routing points; ISCC access numbers
    ADMIN = "admin"  # the HTTP endpoints that change state


DEFAULT_PERMISSIONS: Final = frozenset({Permission.MONITOR, Permission.CONTROL, Permission.ROUTE})

M, C, R = Permission.MONITOR, Permission.CONTROL, Permission.ROUTE
_CALL_CONTROL = (
    "RequestMakeCall", "RequestMakePredictiveCall", "RequestAnswerCall", "RequestReleaseCall",
    "RequestClearCall", "RequestHoldCall", "RequestRetrieveCall", "RequestInitiateTransfer",
    "RequestCompleteTransfer", "RequestMuteTransfer", "RequestSingleStepTransfer",
    "RequestInitiateConference", "RequestCompleteConference", "RequestSingleStepConference",
    "RequestDeleteFromConference", "RequestMergeCalls", "RequestAlternateCall",
    "RequestReconnectCall", "RequestRedirectCall", "RequestAgentLogin", "RequestAgentLogout",
    "RequestAgentReady", "RequestAgentNotReady", "RequestAgentSetIdleReason",
    "RequestAttachUserData", "RequestUpdateUserData", "RequestDeletePair",
    "RequestDeleteUserData", "RequestPrivateService",
)  # fmt: skip

# Which permission each request needs; None: any application may send it.
REQUIRED_PERMISSION: Final[Mapping[str, Permission | None]] = {
    "RequestRegisterClient": None,
    "RequestQueryServer": None,
    "RequestRegisterAddress": M,
    "RequestUnregisterAddress": M,
    "RequestQueryAddress": M,
    "RequestQueryCall": M,
    **dict.fromkeys(_CALL_CONTROL, C),
    "RequestRouteCall": R,
    "RequestGetAccessNumber": R,
    "RequestCancelReqGetAccessNumber": R,
    # agents and supervision
    "RequestReserveAgent": R,
    **dict.fromkeys(
        (
            "RequestMonitorNextCall",
            "RequestCancelMonitoring",
            "RequestSetMuteOn",
            "RequestSetMuteOff",
            "RequestListenDisconnect",
            "RequestListenReconnect",
        ),
        C,
    ),
    # queries about the server and the sites, subscriptions
    **dict.fromkeys(
        (
            "RequestQueryLocation",
            "RequestQuerySwitch",
            "RequestRegisterAll",
            "RequestUnregisterAll",
            "RequestSetInputMask",
            "RequestStartCallMonitoring",
            "RequestStopCallMonitoring",
        ),
        M,
    ),
    # calls: DTMF, treatments, user events, DN features
    "RequestSendDTMF": C,
    "RequestApplyTreatment": R,
    **dict.fromkeys(
        (
            "RequestGiveMusicTreatment",
            "RequestGiveSilenceTreatment",
            "RequestGiveRingBackTreatment",
            "RequestCollectDigits",
        ),
        R,
    ),
    "RequestDistributeUserEvent": C,
    **dict.fromkeys(
        (
            "RequestSetDNDOn",
            "RequestSetDNDOff",
            "RequestCallForwardSet",
            "RequestCallForwardCancel",
            "RequestSetMessageWaitingOn",
            "RequestSetMessageWaitingOff",
        ),
        C,
    ),
}

# What a missing permission stops an application from doing, for the ErrorMessage.
_DOES: Final = {
    M: "monitor DNs",
    C: "control calls, agents or UserData",
    R: "route calls",
    Permission.ADMIN: "administer the server",
}


@dataclass(frozen=True, slots=True)
class Application:
    """`[application."NAME"]`: its password hash, DN scope (None: all) and permissions."""

    name: str
    password_hash: ScryptHash
    dns: frozenset[str] | None = None
    may: frozenset[Permission] = DEFAULT_PERMISSIONS
    dns_text: str = field(default="all", compare=False)  # as configured, for messages

    def scope_allows(self, dn: str) -> bool:
        return self.dns is None or dn in self.dns


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: the EventError's ErrorCode and ErrorMessage."""

    code: TError
    message: str


def authorize(application: Application | None, message: TMessage) -> Refusal | None:
    """Whether *application* may send *message*; None (an unknown application admitted
    without require-auth) may send anything."""
    name = message["Request"]
    if name not in REQUIRED_PERMISSION:
        return Refusal(TError.CSTA_SECURITY_VIOLATION, f"{name} has no permission rule")
    if application is None:
        return None
    needed = REQUIRED_PERMISSION[name]
    if needed is not None and needed not in application.may:
        return Refusal(
            TError.CSTA_SECURITY_VIOLATION,
            f"application {application.name!r} may not {_DOES[needed]}: "
            f"{name} needs the {needed.value!r} permission",
        )
    if name == "RequestRegisterAll" and application.dns is not None:
        return Refusal(
            TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
            f"application {application.name!r} may not register every DN "
            f"(its DNs: {application.dns_text})",
        )
    scoped = application.dns is not None
    if name == "RequestStartCallMonitoring" and scoped and "ThisDN" not in message:
        return Refusal(
            TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
            f"application {application.name!r} may monitor only calls at its DNs "
            f"({application.dns_text}): name one as ThisDN",
        )
    dn = message.get("ThisDN")
    if isinstance(dn, str) and not application.scope_allows(dn):
        return Refusal(
            TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
            f"application {application.name!r} may not use DN {dn} "
            f"(its DNs: {application.dns_text})",
        )
    return None


def permissions(words: Iterable[str]) -> frozenset[Permission]:
    """The permissions named by *words*.  Raises ValueError naming an unknown one."""
    chosen = set()
    for word in words:
        try:
            chosen.add(Permission(word))
        except ValueError:
            names = ", ".join(p.value for p in Permission)
            raise ValueError(f"unknown permission {word!r}; the permissions are {names}") from None
    return frozenset(chosen)
