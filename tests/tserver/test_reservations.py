"""Agent reservation (tserver.reservations; docs/agents.md): requests collected for
request-collection-time, the highest priority (then the first) wins, the others fail
with 1700; durations, cancelling, a second request by the holder, lapsing, the options,
the request's errors, and the reservation carried in the model's records."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.ids import ClientId, ConnIdAllocator
from ctiserver.model.model import Model
from ctiserver.tserver.feature_options import ReservationOptions
from ctiserver.tserver.port import CoreSettings
from tests.tserver.seen import error, heard
from tests.wire import QUEUE, Wire

D = "7004"


def wire_with(**options: Any) -> Wire:
    settings = CoreSettings(
        name="tserver-a", location="SiteA", reservations=ReservationOptions(**options)
    )
    wire = Wire(settings=settings)
    wire.core.journaling = True
    return wire


def routers(wire: Wire, count: int = 2) -> list[ClientId]:
    return [wire.client() for _ in range(count)]


def reserved(reference: int, **entities: str) -> dict[str, Any]:
    return {"Event": "EventAgentReserved", **entities, "ReferenceID": reference}


def already(reference: int, message: str, dn: str | None = D) -> dict[str, Any]:
    return error(reference, 1700, message, dn)


def test_the_highest_priority_wins_when_the_collection_ends() -> None:
    wire = wire_with()
    low, high = routers(wire)
    first = wire.ask(low, "RequestReserveAgent", ThisDN=D, Priority=1)
    second = wire.ask(high, "RequestReserveAgent", ThisDN=D, Priority=5)
    assert heard(wire, low) == heard(wire, high) == []  # collected for 100 ms
    wire.advance(0.1)
    assert heard(wire, high) == [reserved(second, ThisDN=D)]
    assert heard(wire, low) == [already(first, f"DN {D} was reserved for another request")]
    (reservation,) = wire.core.model.reservations.values()
    assert reservation.until == pytest.approx(wire.wall + 10)  # reservation-time
    replica = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay(wire.journal)
    assert replica.reservations == wire.core.model.reservations


def test_of_equal_priorities_the_first_wins_and_others_fail_at_once_after() -> None:
    wire = wire_with()
    one, two, three = routers(wire, 3)
    first = wire.ask(one, "RequestReserveAgent", AgentID="1001")
    second = wire.ask(two, "RequestReserveAgent", AgentID="1001", ThisDN=D)
    wire.advance(0.1)
    assert heard(wire, one) == [reserved(first, AgentID="1001")]
    assert heard(wire, two) == [already(second, f"DN {D}, agent 1001 was reserved for another request")]  # fmt: skip
    third = wire.ask(three, "RequestReserveAgent", ThisDN=D, AgentID="1001")
    assert heard(wire, three) == [
        already(third, f"DN {D}, agent 1001 is reserved by another client")
    ]


def test_a_reservation_lasts_its_timeout_and_then_the_agent_is_free() -> None:
    wire = wire_with(request_collection_time=0)
    one, two = routers(wire)
    first = wire.ask(one, "RequestReserveAgent", Place="P1", Timeout=2500)
    assert heard(wire, one) == [reserved(first, Place="P1")]  # no collection: at once
    wire.advance(2.4)
    busy = wire.ask(two, "RequestReserveAgent", Place="P1")
    assert heard(wire, two) == [already(busy, "place P1 is reserved by another client", None)]
    wire.advance(0.2)
    assert wire.core.model.reservations == {}
    free = wire.ask(two, "RequestReserveAgent", Place="P1")
    assert heard(wire, two) == [reserved(free, Place="P1")]


def test_cancelling_and_asking_again() -> None:
    wire = wire_with(request_collection_time=0)
    (one,) = routers(wire, 1)
    wire.ask(one, "RequestReserveAgent", ThisDN=D)
    heard(wire, one)
    again = wire.ask(one, "RequestReserveAgent", ThisDN=D)
    assert heard(wire, one) == [already(again, f"DN {D} is reserved by this client already")]
    cancel = wire.ask(one, "RequestReserveAgent", ThisDN=D, Timeout=0)
    assert heard(wire, one) == [{"Event": "EventACK", "ThisDN": D, "ReferenceID": cancel}]
    assert wire.core.model.reservations == {}
    nothing = wire.ask(one, "RequestReserveAgent", ThisDN=D, Timeout=0)
    assert heard(wire, one) == [
        error(nothing, 53, f"this client holds no reservation of DN {D} to cancel", D)
    ]


def test_a_subsequent_request_prolongs_when_the_option_says_so() -> None:
    wire = wire_with(request_collection_time=0, reject_subsequent_request=False)
    one, two = routers(wire)
    wire.ask(one, "RequestReserveAgent", ThisDN=D, Timeout=1000)
    wire.advance(0.5)
    again = wire.ask(one, "RequestReserveAgent", ThisDN=D, Timeout=5000)
    assert heard(wire, one)[-1] == reserved(again, ThisDN=D)
    (reservation,) = wire.core.model.reservations.values()
    assert reservation.until == pytest.approx(wire.wall + 5)
    other = wire.ask(two, "RequestReserveAgent", ThisDN=D, AgentID="1001")  # overlaps
    assert heard(wire, two) == [already(other, f"DN {D}, agent 1001 is reserved by another client")]


def test_without_collecting_lower_priorities() -> None:
    wire = wire_with(collect_lower_priority_requests=False)
    one, two, three = routers(wire, 3)
    middle = wire.ask(one, "RequestReserveAgent", ThisDN=D, Priority=5)
    low = wire.ask(two, "RequestReserveAgent", ThisDN=D, Priority=1)
    assert heard(wire, two) == [already(low, "a request of higher priority is being served")]
    high = wire.ask(three, "RequestReserveAgent", ThisDN=D, Priority=9)
    assert heard(wire, one) == [already(middle, "a request of higher priority came")]
    wire.advance(0.1)
    assert heard(wire, three) == [reserved(high, ThisDN=D)]


@pytest.mark.parametrize(
    ("attributes", "code", "message"),
    [
        ({}, 53, "RequestReserveAgent names the agent: ThisDN, AgentID or Place"),
        ({"ThisDN": "7999"}, 59, "DN 7999 is not configured on this server"),
        ({"ThisDN": QUEUE}, 53, f"agents are reserved on extensions; {QUEUE} is a Queue"),
        (
            {"ThisDN": D, "Timeout": -5},
            53,
            "Timeout is milliseconds, 0 to cancel, or -1 for reservation-time",
        ),
    ],
)
def test_the_requests_errors(attributes: dict[str, Any], code: int, message: str) -> None:
    wire = wire_with()
    (one,) = routers(wire, 1)
    reference = wire.ask(one, "RequestReserveAgent", **attributes)
    assert heard(wire, one) == [error(reference, code, message, attributes.get("ThisDN"))]
