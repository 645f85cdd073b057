"""pbxsim's cheap event copies: the same as dataclasses.replace(), names checked."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.events import DeliveredEvent
from ctiserver.csta.plans import catalogue
from ctiserver.csta.schema import Event
from ctiserver.csta.types import ConnectionID
from ctiserver.pbxsim.state import copied
from tests.csta.strategies import structs

EVENTS = sorted(
    (cls for cls in catalogue().values() if issubclass(cls, Event)), key=lambda cls: cls.__name__
)


@given(st.sampled_from(EVENTS).flatmap(structs), st.text(max_size=5))
def test_a_copy_is_what_replace_makes(event: Event, monitor: str) -> None:
    changes = {"monitor_cross_ref_id": monitor}
    if hasattr(event, "local_connection_info"):
        changes["local_connection_info"] = LocalConnectionState.HOLD  # type: ignore[assignment]
    copy = copied(event, changes)
    assert copy == dataclasses.replace(event, **changes)
    assert type(copy) is type(event)


def test_a_name_that_is_not_a_field_is_refused() -> None:
    event = DeliveredEvent(monitor_cross_ref_id="1", connection=ConnectionID("c", "7001"))
    with pytest.raises(TypeError, match="no field"):
        copied(event, {"held_connection": None})
