"""What the operator's surfaces may read of the core: plain snapshots, never the model.

The dashboard, /healthz and /metrics read the server through a CoreView (the runtime
keeps one), so that none of them reaches into the model or the registrations: they get
values made for them, and the core may change its insides freely.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.immutable import immutable
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call
from ctiserver.tserver.addresses import address_status
from ctiserver.tserver.core import TServerCore
from ctiserver.tserver.port import Queries


@immutable
class CallAtDn:
    """One call at a DN, as that DN sees it."""

    conn_id: ConnId
    state: str  # the party state (model.states.PartyState's value)
    other: DeviceId | None


@immutable
class DnView:
    """One configured DN: its kind, its T-Library AddressStatus, who registered it."""

    dn: DeviceId
    kind: str  # its AddressType: DN, Queue, RouteDN
    status: str
    registrations: int
    calls: tuple[CallAtDn, ...]


# A call's state for the metrics: that of its most telling present party, in this order.
CALL_STATES = (
    PartyState.HELD,
    PartyState.ESTABLISHED,
    PartyState.RINGING,
    PartyState.QUEUED,
    PartyState.DIALING,
    PartyState.INITIATED,
    PartyState.FAILED,
)


@immutable
class KnownCall:
    """What the shells may know of a call: for the trace, the logs and the metrics."""

    conn_id: str
    call_id: str
    state: str  # a PartyState value, see CALL_STATES; "ended" when no party is present
    dns: tuple[str, ...]  # the present parties


class CoreView:
    def __init__(self, core: TServerCore) -> None:
        self._core = core

    @property
    def server_name(self) -> str:
        return self._core.settings.name

    def call_count(self) -> int:
        return len(self._core.model.calls)

    def dns(self) -> Iterator[DnView]:
        """Every configured DN, in configuration order."""
        model, registry = self._core.model, self._core.registry
        for dn, kind in model.dns.items():
            status, _extensions = address_status(model, dn)
            parties = [(call, model.party(dn, call.conn_id)) for call in model.calls_at(dn)]
            calls = tuple(
                CallAtDn(call.conn_id, party.state.value, party.other_dn)
                for call, party in parties
                if party is not None
            )
            yield DnView(dn, kind.value, status, len(registry.clients_of(dn)), calls)

    def calls(self, call_id: str | None = None) -> list[KnownCall]:
        """The calls the core knows (the one the switch names *call_id*, if given)."""
        model = self._core.model
        if call_id is None:
            calls = model.calls
        else:
            found = model.call_by_call_id(CallId(call_id))
            calls = [] if found is None else [found]
        return [_known(model, call) for call in calls]


def _known(model: Queries, call: Call) -> KnownCall:
    present = model.present(call.conn_id)
    states = {party.state for party in present}
    state = next((s.value for s in CALL_STATES if s in states), "ended")
    return KnownCall(call.conn_id, call.call_id, state, tuple(p.dn for p in present))
