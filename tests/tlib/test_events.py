"""The events' table (tlib.events): its entries, and what problems() says."""

from __future__ import annotations

from ctiserver.tlib.events import EVENTS, STAMPS, problems
from ctiserver.tlib.vocabulary import TMessage

STAMPED: TMessage = {"Server": "s", "EventSequenceNumber": 1, "time": "t"}


def test_an_event_with_what_it_must_carry_has_no_problem() -> None:
    event: TMessage = {**STAMPED, "Event": "EventError", "ErrorCode": 41, "ReferenceID": 2}
    assert problems(event) == []


def test_what_is_missing_and_what_does_not_belong_are_named() -> None:
    event: TMessage = {**STAMPED, "Event": "EventError", "ErrorCode": 41, "AgentID": "1"}
    assert problems(event) == ["EventError lacks ReferenceID", "EventError has AgentID"]


def test_an_event_not_in_the_table_is_a_problem() -> None:
    assert problems({**STAMPED, "Event": "EventNoSuch"}) == [
        "EventNoSuch is not an event of the table"
    ]


def test_no_entry_lists_an_attribute_as_both_mandatory_and_optional() -> None:
    for name, shape in EVENTS.items():
        assert not shape.mandatory & shape.optional, name
        assert not (shape.mandatory | shape.optional) & STAMPS, name


def test_a_route_request_must_name_its_queue() -> None:
    """ThisDN and ThisQueue are both mandatory on EventRouteRequest (the Events and
    Models Reference)."""
    assert {"ThisDN", "ThisQueue"} <= EVENTS["EventRouteRequest"].mandatory
