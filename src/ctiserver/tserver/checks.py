"""The checks every request handler makes before it acts, each raising the refusal that
names what is wrong (docs/protocol.md § 7: 41 for a DN the client has not
registered, 56 for a ConnID the DN is not part of, 59 for a DN not configured)."""

from __future__ import annotations

from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.states import DnKind
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import RegisterMode
from ctiserver.tserver.errors import DnNotConfigured, DnNotRegistered, UnknownConnId
from ctiserver.tserver.port import Core, RequestContext


def configured_dn(core: Core, ctx: RequestContext, attribute: str = "ThisDN") -> DeviceId:
    dn = DeviceId(str(ctx.message.get(attribute)))
    if dn not in core.model.dns:
        raise DnNotConfigured(dn)
    return dn


def controlled_dn(core: Core, ctx: RequestContext, attribute: str = "ThisDN") -> DeviceId:
    """A DN this client has registered, in a mode that lets it send requests."""
    dn = configured_dn(core, ctx, attribute)
    mode = core.mode(ctx.client, dn)
    if mode is None:
        raise DnNotRegistered(dn)
    if mode is RegisterMode.MODE_MONITOR:
        raise DnNotRegistered(dn, monitoring=True)  # monitoring may not control the DN
    return dn


def dn_kind(core: Core, dn: DeviceId) -> DnKind:
    return core.model.dns[dn]


def call_at(
    core: Core, ctx: RequestContext, dn: DeviceId, attribute: str = "ConnID"
) -> tuple[Call, Party]:
    """The call named by *attribute* and *dn*'s part in it."""
    conn_id = ConnId(str(ctx.message.get(attribute)))
    call = core.model.call(conn_id)
    party = None if call is None else core.model.party(dn, conn_id)
    if call is None or party is None:
        raise UnknownConnId(dn, conn_id)
    return call, party
