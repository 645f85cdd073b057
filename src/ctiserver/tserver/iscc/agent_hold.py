"""ISCC at the destination for RequestReserveAgentAndGetAccessNumber (docs/iscc.md,
Reserving the agent): which agent a ReserveAgent names, whether it can take the call
now, and its reservation, held by the transaction as long as the access resource is.

Rules:
1. The agent is named by its DN (an extension with an agent logged in), by its AgentID
   (logged in on some DN here), or by both (then the agent at that DN must be that one);
   the call goes to that DN.  A DN not configured here is 1021, no such agent 1707.
2. It must be Ready with no call at its DN (else 42): the call on its way would find it
   busy.
3. Nobody else may hold it reserved, or be collecting requests for it (else 1700): the
   reservation is the model's (tserver.reservations), with the transaction as holder
   (iscc.transactions.agent_holder), until the resource's time is over.
"""

from __future__ import annotations

from ctiserver.clock import Instant
from ctiserver.ids import AgentId, DeviceId
from ctiserver.iscc import protocol as p
from ctiserver.iscc.transactions import Refusal, agent_holder
from ctiserver.model.states import AgentStatus, DnKind
from ctiserver.model.values import Agent, Reservation
from ctiserver.tlib.errors import TError
from ctiserver.tserver.port import Core, Queries


def named_agent(model: Queries, message: p.ReserveAgent, location: str) -> tuple[DeviceId, Agent]:
    """Rules 1 and 2: the DN the agent is at, and the agent.  Raises Refusal."""
    if message.dn:
        dn = DeviceId(message.dn)
        agent = _at_dn(model, dn, location)
        if message.agent_id and agent.agent_id != message.agent_id:
            raise Refusal(
                TError.SOFT_AGENT_NOT_LOGGED_IN,
                f"agent {message.agent_id[:64]} is not the agent logged in at {dn}",
            )
    elif message.agent_id:
        dn, agent = _by_agent_id(model, message.agent_id, location)
    else:
        raise Refusal(TError.ISCC_BAD_DESTINATION_DN, "the request names no DN and no agent")
    _free(model, dn, agent)
    return dn, agent


def _at_dn(model: Queries, dn: DeviceId, location: str) -> Agent:
    kind = model.kind(dn)
    if kind is None:
        raise Refusal(
            TError.ISCC_BAD_DESTINATION_DN, f"DN {dn[:64]} is not configured at {location}"
        )
    if kind is not DnKind.EXTENSION:
        raise Refusal(
            TError.ISCC_BAD_DESTINATION_DN,
            f"agents are reserved at extensions; {dn} is a {kind.value}",
        )
    agent = model.agent(dn)
    if agent is None:
        raise Refusal(TError.SOFT_AGENT_NOT_LOGGED_IN, f"no agent is logged in at {dn}")
    return agent


def _by_agent_id(model: Queries, agent_id: str, location: str) -> tuple[DeviceId, Agent]:
    for dn, agent in model.agents.items():
        if agent.agent_id == agent_id:
            return dn, agent
    raise Refusal(
        TError.SOFT_AGENT_NOT_LOGGED_IN, f"agent {agent_id[:64]} is not logged in at {location}"
    )


def _free(model: Queries, dn: DeviceId, agent: Agent) -> None:
    """Rule 2."""
    if agent.status is not AgentStatus.READY:
        raise Refusal(
            TError.RESOURCE_SEIZED, f"agent {agent.agent_id} at {dn} is {agent.status.value}"
        )
    if model.calls_at(dn):
        raise Refusal(TError.RESOURCE_SEIZED, f"agent {agent.agent_id} at {dn} is on a call")


def hold(
    core: Core,
    origin: str,
    message: p.ReserveAgent,
    at_dn: tuple[DeviceId, AgentId],
    until: float,
    at: Instant,
) -> None:
    """Rule 3: reserve the agent for the transaction until the wall time *until*.
    Raises Refusal."""
    dn, agent_id = at_dn
    wanted = Reservation(dn, agent_id, message.place, agent_holder(origin, message.xid), until)
    why = core.hold_agent(wanted, at)
    if why is not None:
        raise Refusal(TError.AGENT_ALREADY_RESERVED, why)


def release(core: Core, origin: str, xid: str, at: Instant) -> None:
    """The transaction ended (its call arrived, it was cancelled, its time is over, or its
    origin went away): the agent is free for others."""
    core.release_agent(agent_holder(origin, xid), at)
