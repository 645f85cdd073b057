"""outcomes.py: result event names and the EventError code → error value mapping."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.outcomes import (
    Action,
    ErrorValue,
    done_event,
    error_event,
    error_value,
)
from ctiserver.tlib.errors import TError


@pytest.mark.parametrize(
    ("code", "value"),
    [
        (TError.NOT_REGISTERED, "invalidsource"),  # 41
        (TError.RESOURCE_SEIZED, "invalidsource"),  # 42
        (TError.NOT_CONFIGURED, "invalidsource"),  # 59
        (TError.CSTA_INVALID_CALLING_DEVICE, "invalidsource"),  # 1144
        (TError.CSTA_INVALID_CALLED_DEVICE, "invaliddestination"),  # 1145
        (TError.CSTA_INVALID_DESTINATION, "invaliddestination"),  # 1153
        (TError.INVALID_CALLED_DN, "invaliddestination"),  # 71
        (TError.INV_CONNID, "invalidstate"),  # 56
        (TError.CSTA_STATE_INCOMPATIBILITY, "invalidstate"),  # 1160
        (TError.CSTA_NO_ACTIVE_CALL, "invalidstate"),  # 1163
        (TError.CSTA_NO_CALL_TO_COMPLETE, "invalidstate"),  # 1168
        (TError.CSTA_REQUEST_INCOMPATIBLE_WITH_OBJECT, "invalidstate"),  # 1141
        (TError.CSTA_CONFERENCE_MEMBER_LIMIT_EXCEEDED, "invalidstate"),  # 1177
        (TError.NO_SWITCH, "invalidserver"),  # 54
        (TError.REMOTE_SERVER_DISCONNECTED, "invalidserver"),  # 1001
        (TError.TIMEOUT, "timeout"),  # 57
        (TError.INVALID_ATTR, "unknown"),  # 53
        (TError.INTERNAL, "unknown"),  # 52
        (TError.CSTA_SERVICE_BUSY, "unknown"),  # 1171
        (12345, "unknown"),
    ],
)
def test_error_values(code: int, value: str) -> None:
    assert error_value(code) == value


def test_event_names() -> None:
    assert (Action.HOLD.done, Action.HOLD.error) == ("voice.hold.done", "error.voice.hold")
    assert Action.REDIRECT.done == "interaction.redirect.done"
    assert Action.TERMINATE.error == "error.interaction.terminate"
    assert (Action.SUBMIT.done, Action.SUBMIT.error) == ("queue.submit.done", "error.queue.submit")


def test_result_events_carry_exactly_their_fields() -> None:
    done = done_event(Action.CONSULTATION, "req-1", "c1", consultinteractionid="c2")
    assert done.name == "voice.consultation.done"
    assert done.data == {"requestid": "req-1", "interactionid": "c1", "consultinteractionid": "c2"}
    error = error_event(Action.HOLD, "req-2", "c1", ErrorValue.TIMEOUT, "no answer")
    assert error.name == "error.voice.hold"
    assert error.data == {
        "requestid": "req-2",
        "interactionid": "c1",
        "error": "timeout",
        "description": "no answer",
    }
