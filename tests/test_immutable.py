"""ctiserver.immutable.replace: the same value as dataclasses.replace, for values and
records alike."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctiserver.ids import CallId, ConnId, DeviceId
from ctiserver.immutable import immutable, record, replace
from ctiserver.model.changes import PartyReleased, Releasing
from ctiserver.model.states import PartyState
from ctiserver.model.values import Call, Party
from ctiserver.tlib.vocabulary import CallType, DNRole

CALL = Call(ConnId("006e02a0c5c00001"), CallId("17"), calling=DeviceId("7001"))
PARTY = Party(DeviceId("7001"), PartyState.ESTABLISHED, DNRole.ORIGINATION)


@given(
    called=st.none() | st.text(max_size=8),
    user_data=st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    call_type=st.sampled_from(CallType),
)
def test_a_value_is_what_dataclasses_replace_makes(
    called: str | None, user_data: dict[str, int], call_type: CallType
) -> None:
    changes = {"called": called, "user_data": user_data, "call_type": call_type}
    assert replace(CALL, **changes) == dataclasses.replace(CALL, **changes)
    assert replace(CALL) == CALL
    assert replace(CALL, called=called).conn_id == CALL.conn_id


def test_a_record_by_name() -> None:
    released = PartyReleased(call=CALL, party=PARTY, releasing=Releasing.LOCAL)
    changed = replace(released, releasing=Releasing.REMOTE)
    assert changed == dataclasses.replace(released, releasing=Releasing.REMOTE)
    assert type(changed) is PartyReleased


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="colour"):
        replace(CALL, colour="blue")


def test_a_field_the_constructor_does_not_take_falls_back() -> None:
    @immutable
    class Counted:
        name: str
        seen: int = dataclasses.field(default=0, init=False)

    @record
    class Named:
        name: str

    assert replace(Counted("a"), name="b") == Counted("b")
    assert replace(Named(name="a"), name="b") == Named(name="b")
