"""Phone actions: what a person at a station does, with the events a CSTA service would cause."""

from __future__ import annotations

import pytest

from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.errors import ServiceError
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim.outcome import Reply
from ctiserver.pbxsim.phone import Answer, Dial, HangUp, Hold, Retrieve

from .rig import Rig

A, B, X = DeviceId("7001"), DeviceId("7002"), DeviceId("7003")


def test_dial_answer_hang_up(rig: Rig) -> None:
    dialled = rig.act(Dial(A, B))
    assert not any(isinstance(effect, Reply) for effect in dialled.effects)
    assert rig.kinds(dialled) == {
        "7001": ["ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent"],
        "7002": ["DeliveredEvent"],
    }
    assert rig.events(dialled)["7001"][0].cause is Cause.NEW_CALL  # type: ignore[attr-defined]
    answered = rig.act(Answer(B))
    assert rig.kinds(answered) == {"7001": ["EstablishedEvent"], "7002": ["EstablishedEvent"]}
    hung_up = rig.act(HangUp(B))
    assert rig.kinds(hung_up)["7001"] == [
        "ConnectionClearedEvent",
        "ConnectionClearedEvent",
        "CallClearedEvent",
    ]
    assert rig.switch.view().calls == ()


def test_hold_and_retrieve_by_call(rig: Rig) -> None:
    rig.act(Dial(A, B))
    rig.act(Answer(B))
    rig.act(Hold(B))
    rig.act(Dial(B, X))
    rig.act(Answer(X))
    rig.act(Hold(B))
    retrieved = rig.act(Retrieve(B, CallId("1")))
    assert rig.kinds(retrieved)["7002"] == ["RetrievedEvent"]
    view = rig.switch.view()
    assert view.call("1").state_of(B) is S.CONNECTED  # type: ignore[union-attr]
    assert view.call("2").state_of(B) is S.HOLD  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("action", "value"),
    [
        (Answer(A), "noCallToAnswer"),
        (HangUp(A), "noActiveCall"),
        (Hold(A), "noActiveCall"),
        (Retrieve(A), "noHeldCall"),
        (Dial(DeviceId("8001"), B), "invalidDeviceID"),
        (Dial(A, A), "notDifferentDevices"),
    ],
)
def test_refused_phone_actions_raise_and_change_nothing(
    rig: Rig, action: object, value: str
) -> None:
    before = rig.switch.view()
    with pytest.raises(ServiceError) as caught:
        rig.act(action)  # type: ignore[arg-type]
    assert caught.value.value == value
    assert rig.switch.view() == before
