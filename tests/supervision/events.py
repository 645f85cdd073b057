"""T-Library events as the core sends them (reference/call-models.md), short to write,
and a view to feed them to at chosen times."""

from __future__ import annotations

from typing import Any

from ctiserver.supervision.core_snapshot import CoreSnapshot
from ctiserver.supervision.view import Supervision, SupervisionSettings
from ctiserver.tlib.vocabulary import TMessage

T0 = 1_795_000_000.0
DEMO_DNS = {
    **{str(n): "DN" for n in range(7001, 7011)},
    "8001": "Queue",
    "5000": "RouteDN",
}


def event(name: str, dn: str, conn_id: str | None = None, **attributes: Any) -> TMessage:
    message: dict[str, Any] = {"Event": name, "ThisDN": dn, "time": "2026-11-21T09:30:00.000000Z"}
    if conn_id is not None:
        message["ConnID"] = conn_id
        message.setdefault("CallType", "Internal")
        message.setdefault("UserData", {})
    message.update(attributes)
    return message  # type: ignore[return-value]


class Centre:
    """A supervision view of the demo site, and a clock that moves when told."""

    def __init__(self, **settings: Any) -> None:
        self.at = T0
        self.view = Supervision(server="tserver", settings=SupervisionSettings(**settings), at=T0)
        self.view.load(CoreSnapshot(dns=DEMO_DNS, link_up=True), T0)
        self.view.take_delta(T0)

    def later(self, seconds: float) -> None:
        self.at += seconds
        self.view.tick(self.at)

    def __call__(self, *events: TMessage) -> None:
        for message in events:
            self.view.apply(message, self.at)

    def row(self, section: str, key: str) -> Any:
        return self.view.snapshot(self.at)[section].get(key)

    # --- scenarios of call-models.md -------------------------------------------------

    def login(self, dn: str, agent: str, *, ready: bool = True, queue: str = "8001") -> None:
        mode = "AutoIn" if ready else "ManualIn"
        self(event("EventAgentLogin", dn, AgentID=agent, ThisQueue=queue, AgentWorkMode=mode))
        then = "EventAgentReady" if ready else "EventAgentNotReady"
        self(
            event(
                then, dn, AgentID=agent, ThisQueue=queue, AgentWorkMode=mode if ready else "AuxWork"
            )
        )

    def queued(self, conn_id: str, caller: str, queue: str = "8001") -> None:
        """*caller* dials *queue*; no agent is ready, so the call waits (§ 11)."""
        self(
            event("EventDialing", caller, conn_id, ThisDNRole="Origination", OtherDN=queue),
            event(
                "EventQueued",
                queue,
                conn_id,
                ThisQueue=queue,
                OtherDN=caller,
                ANI=caller,
                DNIS=queue,
            ),
        )

    def delivered(self, conn_id: str, caller: str, agent_dn: str, queue: str = "8001") -> None:
        """The queue gives the call to the agent at *agent_dn*, whose phone rings."""
        self(
            event("EventDiverted", queue, conn_id, ThisQueue=queue, ThirdPartyDN=agent_dn),
            event(
                "EventRinging",
                agent_dn,
                conn_id,
                ThisDNRole="Destination",
                ThisQueue=queue,
                OtherDN=caller,
            ),
        )

    def answered(self, conn_id: str, caller: str, agent_dn: str, queue: str = "8001") -> None:
        self(
            event(
                "EventEstablished",
                agent_dn,
                conn_id,
                ThisDNRole="Destination",
                ThisQueue=queue,
                OtherDN=caller,
            ),
            event("EventEstablished", caller, conn_id, ThisDNRole="Origination", OtherDN=agent_dn),
        )

    def released(self, conn_id: str, *dns: str) -> None:
        for dn in dns:
            self(event("EventReleased", dn, conn_id, CallState="Ok"))
