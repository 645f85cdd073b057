"""Requests about the server and its DNs rather than calls: client registration, DN
registration, and queries (RequestRegisterClient, RequestQueryServer,
RequestRegisterAddress, RequestUnregisterAddress, RequestQueryAddress).

None of these reach the switch; each is answered at once.  EventRegistered carries
exactly the attributes of the seed Registration Events table: ThisDN, InfoType
(AddressType), InfoStatus, Extensions with the DN's status as EventAddressInfo has it,
and AgentID when an agent is logged in on the DN.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.ids import ConnId, DeviceId
from ctiserver.model.states import AgentStatus, DnKind, PartyState
from ctiserver.tlib.vocabulary import (
    AddressInfoType,
    AddressStatus,
    KVList,
    RegisterMode,
)
from ctiserver.tlib.vocabulary import (
    PartyState as TPartyState,
)
from ctiserver.tserver.checks import configured_dn
from ctiserver.tserver.errors import (
    DnNotConfigured,
    InvalidAttribute,
    NotSupported,
    ResourceSeized,
)
from ctiserver.tserver.events import (
    GUEST_DN,
    HOST_DN,
    ack_event,
    address_info,
    agent_extensions,
    link_event,
    registered,
    server_info,
    unregistered,
)
from ctiserver.tserver.notices import FORWARD_MODES
from ctiserver.tserver.port import Core, Queries, RequestContext

SERVER_VERSION = "ctiserver 0.1.0"

# The T-Library AddressStatus of a DN whose most significant party is in a state.
_ADDRESS_STATUS = {
    PartyState.INITIATED: AddressStatus.ORIGINATION,
    PartyState.DIALING: AddressStatus.DIALING,
    PartyState.FAILED: AddressStatus.DIALING,
    PartyState.RINGING: AddressStatus.RINGING,
    PartyState.QUEUED: AddressStatus.RINGING,
    PartyState.ESTABLISHED: AddressStatus.TALKING,
    PartyState.HELD: AddressStatus.HELD,
}
# Which state decides the status when a DN has several calls (talking beats held, …).
_SIGNIFICANCE = [
    PartyState.ESTABLISHED,
    PartyState.DIALING,
    PartyState.RINGING,
    PartyState.FAILED,
    PartyState.INITIATED,
    PartyState.QUEUED,
    PartyState.HELD,
]
PARTY_STATE_CODES = {
    PartyState.INITIATED: TPartyState.INITIATED,
    PartyState.DIALING: TPartyState.DIALING,
    PartyState.RINGING: TPartyState.ALERTING,
    PartyState.QUEUED: TPartyState.QUEUED,
    PartyState.ESTABLISHED: TPartyState.CONNECTED,
    PartyState.HELD: TPartyState.HELD,
    PartyState.FAILED: TPartyState.FAILED,
}


def address_status(model: Queries, dn: DeviceId) -> tuple[str, KVList]:
    """The DN's status and the Extensions that describe it (status, calls, conn-N, ps-N)."""
    calls = model.calls_at(dn)
    states = [_state(model, dn, call.conn_id) for call in calls]
    if model.dns[dn] is not DnKind.EXTENSION:
        status = AddressStatus.AVAILABLE
    elif not states:
        status = AddressStatus.IDLE
    else:
        status = _ADDRESS_STATUS[min(states, key=_SIGNIFICANCE.index)]
    extensions: KVList = {"status": status.value, "calls": len(calls)}
    for index, (call, state) in enumerate(zip(calls, states, strict=True), start=1):
        extensions[f"conn-{index}"] = call.conn_id
        extensions[f"ps-{index}"] = PARTY_STATE_CODES[state].value
    agent = model.agent(dn)
    if agent is not None:
        extensions["AgentID"] = agent.agent_id
        extensions["AgentStatus"] = agent.status.value
        extensions["AgentWorkMode"] = agent.work_mode.value
        extensions.update(agent_extensions(agent))  # ReasonCode, WrapUpTime
        if agent.reasons:
            extensions["Reasons"] = agent.reasons
    if model.dns[dn] is DnKind.ACD_QUEUE:
        extensions.update(queue_counts(model, dn))
    extensions.update(association_status(model, dn))
    return status.value, extensions


def _state(model: Queries, dn: DeviceId, conn_id: ConnId) -> PartyState:
    party = model.party(dn, conn_id)
    assert party is not None  # calls_at lists the calls dn has a party in
    return party.state


def association_status(model: Queries, dn: DeviceId) -> KVList:
    """Hot desking: the host of a guest DN (HOST_DN), the guest at a host (GUEST_DN)."""
    status: KVList = {}
    host = model.host_of(dn)
    if host is not None:
        status[HOST_DN] = host
    guests = model.guests_of(dn)
    if guests:
        status[GUEST_DN] = guests[0]
    return status


def queue_counts(model: Queries, queue: DeviceId) -> KVList:
    """How many agents serve an ACD queue, how many are ready, how many calls wait."""
    serving = [a for a in model.agents.values() if a.queue in (queue, None)]
    ready = [a for a in serving if a.status is AgentStatus.READY]
    waiting = [
        c for c in model.calls_at(queue) if _state(model, queue, c.conn_id) is PartyState.QUEUED
    ]
    return {"agents": len(serving), "ready-agents": len(ready), "waiting-calls": len(waiting)}


def register_client(core: Core, ctx: RequestContext) -> None:
    """A resumed session gets the events it missed first (docs/protocol.md, Resume)."""
    info = server_info(SERVER_VERSION, core.role)
    info["ClientSessionID"] = core.open_session(ctx)
    core.reply(ctx, info)
    core.reply(ctx, link_event(core.link_connected))


def query_server(core: Core, ctx: RequestContext) -> None:
    core.reply(ctx, server_info(SERVER_VERSION, core.role))


def register_address(core: Core, ctx: RequestContext) -> None:
    dn = configured_dn(core, ctx)
    kind = core.model.dns[dn]
    wanted = ctx.message.get("AddressType")
    if wanted is not None and wanted != kind.value:
        raise InvalidAttribute(
            f"AddressType {wanted} does not match DN {dn}, which is configured as {kind.value}"
        )
    mode = RegisterMode(ctx.message.get("RegisterMode", RegisterMode.MODE_SHARE.value))
    problem = core.register(ctx.client, dn, mode)
    if problem is not None:
        raise ResourceSeized(problem)
    _status, extensions = address_status(core.model, dn)
    core.reply(ctx, registered(dn, kind.value, extensions, core.model.agent_id_at(dn)))


def unregister_address(core: Core, ctx: RequestContext) -> None:
    """Unregistering a DN the client had not registered changes nothing: EventACK."""
    dn = DeviceId(ctx.message["ThisDN"])
    if dn not in core.model.dns:  # nor a subscription's name (tserver.queries)
        raise DnNotConfigured(dn)
    if core.unregister(ctx.client, dn, ctx.at):
        core.reply(ctx, unregistered(dn))
    else:
        core.reply(ctx, ack_event(dn))


def query_address(core: Core, ctx: RequestContext) -> None:
    dn = configured_dn(core, ctx)
    info_type = AddressInfoType(ctx.message.get("InfoType", AddressInfoType.ADDRESS_STATUS))
    status, extensions = address_status(core.model, dn)
    match info_type:
        case AddressInfoType.ADDRESS_STATUS | AddressInfoType.DN_STATUS:
            info_status = status
        case AddressInfoType.ADDRESS_TYPE:
            info_status = core.model.dns[dn].value
        case AddressInfoType.CALLS_QUERY:
            info_status = str(extensions["calls"])
        case AddressInfoType.AGENT_STATUS:
            agent = core.model.agent(dn)
            info_status = "LoggedOut" if agent is None else agent.status.value
        case AddressInfoType.NUMBER_OF_AGENTS_IN_QUEUE:
            info_status = str(_counts(core, dn)["agents"])
        case AddressInfoType.NUMBER_OF_AVAILABLE_AGENTS_IN_QUEUE:
            info_status = str(_counts(core, dn)["ready-agents"])
        case AddressInfoType.NUMBER_OF_CALLS_IN_QUEUE:
            info_status = str(_counts(core, dn)["waiting-calls"])
        case _:
            info_status = _reporting_info(core, dn, info_type, extensions)
    core.reply(ctx, address_info(dn, info_type, info_status, extensions))


# The InfoTypes of reporting and of a DN's features (docs/protocol.md, RequestQueryAddress).
NOT_ANSWERED = {
    AddressInfoType.NUMBER_OF_IDLE_TRUNKS: "the switch tells no one how many trunks it has",
    AddressInfoType.DATABASE_VALUE: "the switch keeps no database values for the server",
    AddressInfoType.SEND_ALL_CALLS_STATUS: "no CSTA forwarding type says send-all-calls",
}


def _reporting_info(
    core: Core, dn: DeviceId, info_type: AddressInfoType, extensions: KVList
) -> str:
    """AssociationStatus, QueueLoginAudit, QueueStatus, NumberOfTrunksInUse,
    MessageWaitingStatus, CallForwardingStatus; Extensions gets what each lists."""
    model = core.model
    match info_type:
        case AddressInfoType.MESSAGE_WAITING_STATUS:
            return "On" if model.features(dn).message_waiting else "Off"
        case AddressInfoType.CALL_FORWARDING_STATUS:
            forwarding: KVList = {
                FORWARD_MODES[kind].value: str(to)
                for kind, to in model.features(dn).forwarding.items()
                if kind in FORWARD_MODES
            }
            extensions["forwarding"] = forwarding
            return "On" if forwarding else "Off"
        case AddressInfoType.ASSOCIATION_STATUS:  # the switch monitors every DN while up
            return "Associated" if core.link_connected else "NotAssociated"
        case AddressInfoType.QUEUE_LOGIN_AUDIT:
            _counts(core, dn)  # an ACD queue
            logged_in: KVList = {
                str(at): str(agent.agent_id)
                for at, agent in model.agents.items()
                if agent.queue in (dn, None)
            }
            extensions["agents-logged-in"] = logged_in
            return str(len(logged_in))
        case AddressInfoType.QUEUE_STATUS:
            counts = _counts(core, dn)
            if not counts["agents"]:
                return AddressStatus.VACANT.value
            return AddressStatus.AVAILABLE.value if counts["ready-agents"] else "NotAvailable"
        case AddressInfoType.NUMBER_OF_TRUNKS_IN_USE:
            trunks = sorted({c.trunk for c in model.calls_at(dn) if c.trunk})
            in_use: KVList = {trunk: "in-use" for trunk in trunks}
            extensions["trunks"] = in_use
            return str(len(trunks))
        case _ if info_type in NOT_ANSWERED:
            raise InvalidAttribute(f"InfoType {info_type}: {NOT_ANSWERED[info_type]}")
        case _:
            raise NotSupported(f"RequestQueryAddress does not support InfoType {info_type}")


def _counts(core: Core, dn: DeviceId) -> KVList:
    if core.model.dns[dn] is not DnKind.ACD_QUEUE:
        raise InvalidAttribute(f"DN {dn} is not an ACD queue")
    return queue_counts(core.model, dn)


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestRegisterClient": register_client,
    "RequestQueryServer": query_server,
    "RequestRegisterAddress": register_address,
    "RequestUnregisterAddress": unregister_address,
    "RequestQueryAddress": query_address,
}
