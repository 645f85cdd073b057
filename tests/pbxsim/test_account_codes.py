"""docs/pbxsim.md § 8.3: account codes from the application and from the phone."""

from __future__ import annotations

import pytest

from ctiserver.csta.call_information import (
    AssociateData,
    AssociateDataResponse,
    CallInformationEvent,
)
from ctiserver.csta.failure import ErrorCategory as Cat
from ctiserver.errors import ServiceError
from ctiserver.pbxsim.outcome import Reply
from ctiserver.pbxsim.phone import EnterAccountCode, Hold

from .rig import C, Rig, error, ev
from .test_call_control import established, make

OP, STATE = Cat.OPERATION, Cat.STATE_INCOMPATIBILITY


def information(device: str, hex_code: str) -> CallInformationEvent:
    return ev(CallInformationEvent, connection=C(1, device), device=device, account_info=hex_code)


def test_associate_data_tells_every_device_in_the_call(rig: Rig) -> None:
    established(rig)
    outcome = rig.send(AssociateData(existing_call=C(1, "7001"), account_code="31323334"))
    assert outcome.response == AssociateDataResponse()
    assert rig.events(outcome) == {
        "7001": [information("7001", "31323334")],
        "7002": [information("7001", "31323334")],
    }
    call = rig.switch.view().call("1")
    assert call is not None
    assert call.account_code == "1234"


def test_an_account_code_entered_on_the_phone(rig: Rig) -> None:
    make(rig)  # 7001 rings out: dialling counts as in use
    outcome = rig.act(EnterAccountCode("7001", "0099"))
    assert rig.events(outcome) == {
        "7001": [information("7001", "30303939")],
        "7002": [information("7001", "30303939")],
    }


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("", "invalidAccountCode"),
        ("3132333", "invalidAccountCode"),  # not whole bytes
        ("31zz", "invalidAccountCode"),  # not hex
        ("3132613334", "invalidAccountCode"),  # "12a34"
        ("31" * 17, "invalidAccountCode"),  # 17 digits
    ],
)
def test_associate_data_refuses_a_code_that_is_not_1_to_16_digits(
    rig: Rig, code: str, expected: str
) -> None:
    established(rig)
    before = rig.switch.view()
    outcome = rig.send(AssociateData(existing_call=C(1, "7001"), account_code=code))
    assert outcome.effects == (Reply(error(OP, expected)),)
    assert rig.switch.view() == before


def test_associate_data_on_an_unknown_connection(rig: Rig) -> None:
    outcome = rig.send(AssociateData(existing_call=C(1, "7001"), account_code="31"))
    assert outcome.effects == (Reply(error(OP, "invalidConnectionID")),)


def test_the_phone_refuses_without_a_call_in_use_or_with_a_bad_code(rig: Rig) -> None:
    established(rig)
    rig.act(Hold("7001"))
    before = rig.switch.view()
    with pytest.raises(ServiceError) as refused:
        rig.act(EnterAccountCode("7001", "12"))  # the only call is held
    assert (refused.value.category, refused.value.value) == ("stateIncompatibility", "noActiveCall")
    with pytest.raises(ServiceError) as refused:
        rig.act(EnterAccountCode("7002", "12x"))
    assert refused.value.value == "invalidAccountCode"
    with pytest.raises(ServiceError) as refused:
        rig.act(EnterAccountCode("7003", "12"))
    assert refused.value.value == "noActiveCall"
    assert rig.switch.view() == before
