from __future__ import annotations

from typing import Any

import pytest

from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.ids import CallId, ConnIdAllocator, DeviceId
from ctiserver.model.changes import (
    AgentIntended,
    CallChanged,
    CallCreated,
    CallForgotten,
    ConnIdPromised,
    DestinationBusy,
    DnsReconfigured,
    NetworkCallIdLearned,
    PartyAbandoned,
    PartyChange,
    PartyDialed,
    PartyEstablished,
    PartyMoved,
    PartyNoted,
    PartyRang,
    PartyReleased,
    PartyRemoved,
    RouteDialogueEnded,
    RouteDialogueOpened,
)
from ctiserver.model.model import Model
from ctiserver.model.resync import SnapshotParty
from ctiserver.model.states import DnKind, PartyState
from ctiserver.tlib.vocabulary import CallState, CallType, DNRole
from tests.model.events import (
    call_cleared,
    cleared,
    delivered,
    established,
    failed,
    initiated,
    originated,
)

A, B, C = DeviceId("7001"), DeviceId("7002"), DeviceId("7003")


class Told:
    """A model whose apply() and resync() return only the changes somebody is told of
    (the rest keep a replica right and are covered by the replay test below)."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def apply(self, dn: DeviceId, event: Any) -> list[Any]:
        return told(self.model.apply(dn, event))

    def resync(self, *args: Any, **kwargs: Any) -> list[Any]:
        return told(self.model.resync(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def told(changes: list[Any]) -> list[Any]:
    return [c for c in changes if not isinstance(c, STATE_ONLY)]


STATE_ONLY = (
    PartyNoted,
    PartyRemoved,
    PartyMoved,
    CallChanged,
    CallForgotten,
    NetworkCallIdLearned,
    RouteDialogueOpened,
    RouteDialogueEnded,
    AgentIntended,
    ConnIdPromised,
    DnsReconfigured,
)


@pytest.fixture
def model() -> Any:
    dns = {A: DnKind.EXTENSION, B: DnKind.EXTENSION, C: DnKind.EXTENSION}
    return Told(Model(dns=dns, conn_ids=ConnIdAllocator(0x1234)))


def kinds(changes: list[Any]) -> list[tuple[str, str | None]]:
    return [
        (type(ch).__name__, ch.party.dn if isinstance(ch, PartyChange) else None) for ch in changes
    ]


def ring(model: Model, call: str = "1") -> None:
    assert kinds(model.apply(A, initiated(call, A))) == [("CallCreated", None)]
    assert kinds(model.apply(A, originated(call, A, B))) == [("PartyDialed", A)]
    assert model.apply(A, delivered(call, A, B)) == []
    assert kinds(model.apply(B, delivered(call, A, B))) == [("PartyRang", B)]


def test_basic_call_from_dialing_to_release(model: Model) -> None:
    ring(model)
    (call,) = model.calls
    assert call.conn_id == "0000123400000001"
    assert call.call_type is CallType.INTERNAL
    (to_a,) = model.apply(A, established("1", A, B))
    assert isinstance(to_a, PartyEstablished)
    assert to_a.party.other_dn == B
    (to_b,) = model.apply(B, established("1", A, B))
    assert (to_b.party.dn, to_b.party.other_dn, to_b.party.role) == (B, A, DNRole.DESTINATION)
    (released_a,) = model.apply(A, cleared("1", A))
    assert isinstance(released_a, PartyReleased)
    assert released_a.party.other_dn == B
    assert model.apply(B, cleared("1", A)) == []
    (released_b,) = model.apply(B, cleared("1", B))
    assert isinstance(released_b, PartyReleased)
    assert released_b.party.other_dn == A
    assert model.apply(B, call_cleared("1")) == []
    assert model.calls == []
    assert model.calls_at(A) == model.calls_at(B) == []


def test_caller_hanging_up_while_ringing_abandons_the_call_at_the_destination(model: Model) -> None:
    ring(model)
    assert isinstance(model.apply(A, cleared("1", A))[0], PartyReleased)
    assert model.apply(B, cleared("1", A)) == []
    (change,) = model.apply(B, cleared("1", B, EventCause.CALL_CANCELLED))
    assert isinstance(change, PartyAbandoned)
    assert change.party.other_dn == A


def test_abandon_is_also_seen_when_the_switch_only_clears_the_call(model: Model) -> None:
    ring(model)
    model.apply(A, cleared("1", A))
    model.apply(B, cleared("1", A))
    (change,) = model.apply(B, call_cleared("1"))
    assert isinstance(change, PartyAbandoned)


def test_destination_rejecting_a_ringing_call_is_released_not_abandoned(model: Model) -> None:
    ring(model)
    assert model.apply(A, cleared("1", B)) == []
    assert isinstance(model.apply(B, cleared("1", B))[0], PartyReleased)
    assert isinstance(model.apply(A, cleared("1", A))[0], PartyReleased)
    assert model.calls == []


@pytest.mark.parametrize(
    ("cause", "state"),
    [
        (EventCause.BUSY, CallState.BUSY),
        (EventCause.DEST_NOT_OBTAINABLE, CallState.SIT_INVALIDNUM),
        (EventCause.REORDER_TONE, CallState.SIT_REORDER),
        (EventCause.KEY_OPERATION, CallState.GENERAL_ERROR),
    ],
)
def test_failure_reaches_the_caller_as_destination_busy(
    model: Model, cause: EventCause, state: CallState
) -> None:
    model.apply(A, initiated("1", A))
    model.apply(A, originated("1", A, B))
    (change,) = model.apply(A, failed("1", A, B, cause))
    assert isinstance(change, DestinationBusy)
    assert change.call_state is state
    assert change.party.state is PartyState.FAILED
    assert model.calls_at(B) == []
    assert isinstance(model.apply(A, cleared("1", A))[0], PartyReleased)
    assert model.calls == []


def test_inbound_call_from_an_unknown_number(model: Model) -> None:
    created, rang = model.apply(B, delivered("9", "5551234", B))
    assert isinstance(created, CallCreated)
    assert isinstance(rang, PartyRang)
    assert rang.call.call_type is CallType.INBOUND
    assert rang.call.ani == "5551234"
    model.apply(B, established("9", "5551234", B))
    model.apply(B, cleared("9", "5551234"))
    (released,) = model.apply(B, cleared("9", B))
    assert isinstance(released, PartyReleased)
    assert released.party.other_dn == "5551234"
    assert model.calls == []


def test_outbound_call_to_an_unknown_number(model: Model) -> None:
    model.apply(A, initiated("1", A))
    (dialed,) = model.apply(A, originated("1", A, "0015551234"))
    assert dialed.call.call_type is CallType.OUTBOUND


def test_a_reused_call_id_names_a_new_call_with_a_new_conn_id(model: Model) -> None:
    ring(model)
    first = model.calls[0].conn_id
    model.apply(A, cleared("1", A))
    model.apply(B, cleared("1", B, EventCause.CALL_CANCELLED))
    ring(model)
    assert model.calls[0].conn_id != first


def test_other_monitors_copies_do_not_change_our_dns_own_state(model: Model) -> None:
    ring(model)
    model.apply(A, established("1", A, B))  # A's copy of B answering
    party = model.party(B, model.calls[0].conn_id)
    assert party is not None
    assert party.state is PartyState.RINGING  # B's own monitor has not said so yet


def test_events_for_unknown_calls_are_ignored(model: Model) -> None:
    assert model.apply(A, cleared("77", A)) == []
    assert model.apply(A, call_cleared("77")) == []


# --- resynchronisation after a link outage --------------------------------------------------


def party(device: str, state: LocalConnectionState) -> SnapshotParty:
    return SnapshotParty(DeviceId(device), state)


def test_resync_releases_calls_that_ended_while_the_link_was_down(model: Model) -> None:
    ring(model)
    model.apply(A, established("1", A, B))
    model.apply(B, established("1", A, B))
    changes = model.resync({})
    assert sorted(kinds(changes)) == [("PartyReleased", A), ("PartyReleased", B)]
    assert model.calls == []


def test_resync_keeps_the_conn_id_of_calls_still_there(model: Model) -> None:
    ring(model)
    model.apply(A, established("1", A, B))
    model.apply(B, established("1", A, B))
    conn_id = model.calls[0].conn_id
    snapshot = {
        CallId("1"): [
            party(A, LocalConnectionState.CONNECTED),
            party(B, LocalConnectionState.CONNECTED),
        ]
    }
    assert model.resync(snapshot) == []
    assert model.calls[0].conn_id == conn_id


def test_resync_reports_calls_that_began_while_the_link_was_down(model: Model) -> None:
    snapshot = {
        CallId("5"): [
            party(A, LocalConnectionState.CONNECTED),
            party(C, LocalConnectionState.ALERTING),
        ]
    }
    changes = model.resync(snapshot)
    assert kinds(changes) == [("CallCreated", None), ("PartyDialed", A), ("PartyRang", C)]
    dialed = changes[1]
    assert isinstance(dialed, PartyDialed)
    assert dialed.party.other_dn == C


def test_resync_reports_a_call_answered_while_the_link_was_down(model: Model) -> None:
    ring(model)
    snapshot = {
        CallId("1"): [
            party(A, LocalConnectionState.CONNECTED),
            party(B, LocalConnectionState.CONNECTED),
        ]
    }
    assert sorted(kinds(model.resync(snapshot))) == [
        ("PartyEstablished", A),
        ("PartyEstablished", B),
    ]


def test_reconfigure_forgets_removed_dns_and_their_calls(model: Model) -> None:
    ring(model)
    model.reconfigure({A: DnKind.EXTENSION, C: DnKind.EXTENSION})
    assert model.calls_at(A)
    assert B not in model.dns
    model.reconfigure({C: DnKind.EXTENSION})
    assert model.calls == []


def test_a_scoped_resync_leaves_other_dns_calls_alone(model: Model) -> None:
    ring(model)
    assert model.resync({}, scope=[C]) == []
    assert len(model.calls) == 1
