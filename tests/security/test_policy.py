"""ctiserver.security: scrypt hashes, permissions and DN scopes, authentication and its
throttle, the UserData limit and the log mask (pure: no sockets, no clock)."""

from __future__ import annotations

import contextlib
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.iscc.protocol import DataChanged, Reserve
from ctiserver.security.applications import (
    REQUIRED_PERMISSION,
    Application,
    Permission,
    Refusal,
    authorize,
    permissions,
)
from ctiserver.security.authentication import Claim, Directory, FailureThrottle
from ctiserver.security.data import peer_user_data_refusal, user_data_refusal
from ctiserver.security.masking import MaskingFilter, UserDataMask
from ctiserver.security.passwords import hash_password, parse_hash, verify_password
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import REQUESTS
from ctiserver.tlib.vocabulary import TMessage

CHEAP = {"log_n": 10, "r": 8, "p": 1}  # the format's lowest cost, for speed
STORED = hash_password("correct horse", **CHEAP)


# --- passwords --------------------------------------------------------------------------


def test_a_hash_is_one_self_describing_line_that_checks_its_password() -> None:
    text = str(STORED)
    assert text.startswith("$scrypt$ln=10,r=8,p=1$")
    assert "\n" not in text
    assert parse_hash(text) == STORED
    assert verify_password("correct horse", parse_hash(text))
    assert not verify_password("correct horse ", STORED)


def test_two_hashes_of_one_password_differ_by_their_salt() -> None:
    assert str(hash_password("x", **CHEAP)) != str(hash_password("x", **CHEAP))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("plain", "not an scrypt hash"),
        ("$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "out of bounds"),
        ("$scrypt$ln=20,r=32,p=16$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "more than"),
        ("$scrypt$ln=10,r=8,p=1$c2E$a2V5a2V5a2V5a2V5a2V5a2V5", "too short"),
    ],
)
def test_a_bad_hash_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_hash(text)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_garbage_never_parses_into_anything_but_a_hash_or_valueerror(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_hash(text)


# --- permissions and scopes ---------------------------------------------------------------


def test_every_request_has_a_permission_rule() -> None:
    assert set(REQUIRED_PERMISSION) == set(REQUESTS)


DESK = Application("desk", STORED, frozenset({"7001", "7002"}), dns_text="7001-7002")
WATCHER = Application("watcher", STORED, None, frozenset({Permission.MONITOR}))


def request(name: str, **attributes: object) -> TMessage:
    return {"Request": name, "ReferenceID": 1, **attributes}  # type: ignore[typeddict-item]


def test_an_application_outside_its_scope_is_refused_naming_the_dn() -> None:
    refusal = authorize(DESK, request("RequestRegisterAddress", ThisDN="7005"))
    assert refusal == Refusal(
        TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
        "application 'desk' may not use DN 7005 (its DNs: 7001-7002)",
    )
    assert authorize(DESK, request("RequestRegisterAddress", ThisDN="7001")) is None
    assert authorize(DESK, request("RequestMakeCall", ThisDN="7001", OtherDN="9999")) is None


def test_an_application_with_a_scope_monitors_only_calls_at_its_dns() -> None:
    start = "RequestStartCallMonitoring"
    refusal = authorize(DESK, request(start, ConnID="0000000000000001"))
    assert refusal == Refusal(
        TError.CSTA_PRIVILEGE_VIOLATION_SPECIFIED_DEVICE,
        "application 'desk' may monitor only calls at its DNs (7001-7002): name one as ThisDN",
    )
    refusal = authorize(DESK, request(start, ConnID="0000000000000001", ThisDN="7005"))
    assert refusal is not None
    assert "may not use DN 7005" in refusal.message
    assert authorize(DESK, request(start, ConnID="0000000000000001", ThisDN="7002")) is None
    assert authorize(WATCHER, request(start, ConnID="0000000000000001")) is None
    assert authorize(DESK, request("RequestStopCallMonitoring", ConnID="1")) is None


def test_a_missing_permission_is_refused_naming_it() -> None:
    refusal = authorize(WATCHER, request("RequestMakeCall", ThisDN="7001", OtherDN="7002"))
    assert refusal is not None
    assert refusal.code is TError.CSTA_SECURITY_VIOLATION
    assert "'control' permission" in refusal.message
    refusal = authorize(WATCHER, request("RequestRouteCall", ThisDN="5000", ConnID="1"))
    assert refusal is not None
    assert "'route' permission" in refusal.message
    assert authorize(WATCHER, request("RequestRegisterAddress", ThisDN="7009")) is None


def test_an_unknown_application_without_require_auth_may_do_anything() -> None:
    assert authorize(None, request("RequestClearCall", ThisDN="7001", ConnID="1")) is None


def test_a_request_without_a_rule_is_refused() -> None:
    assert authorize(None, request("RequestFlyToTheMoon")) is not None


def test_permissions_are_named_by_their_words() -> None:
    assert permissions(["monitor", "admin"]) == {Permission.MONITOR, Permission.ADMIN}
    with pytest.raises(ValueError, match="unknown permission 'root'"):
        permissions(["root"])


# --- authentication -----------------------------------------------------------------------


def test_a_configured_application_is_checked_even_without_require_auth() -> None:
    directory = Directory({"desk": DESK}, require_auth=False)
    claim = directory.claim(request("RequestRegisterClient", ApplicationName="desk"))
    assert isinstance(claim, Refusal)  # no password
    claim = directory.claim(
        request("RequestRegisterClient", ApplicationName="desk", ApplicationPassword="x")
    )
    assert isinstance(claim, Claim)
    assert claim.application is DESK
    assert directory.outcome(claim, matches=True) is DESK
    assert isinstance(directory.outcome(claim, matches=False), Refusal)
    anyone = directory.claim(request("RequestRegisterClient", ApplicationName="other"))
    assert anyone is None


def test_with_require_auth_an_unknown_name_fails_like_a_wrong_password() -> None:
    directory = Directory({"desk": DESK}, require_auth=True)
    unknown = directory.claim(
        request("RequestRegisterClient", ApplicationName="nobody", ApplicationPassword="x")
    )
    assert isinstance(unknown, Claim)
    assert unknown.application is None
    assert directory.check(unknown) is False  # checked all the same, against the stand-in
    refused = directory.outcome(unknown, matches=True)
    wrong = directory.outcome(Claim("desk", "x", STORED, DESK), matches=False)
    assert isinstance(refused, Refusal)
    assert isinstance(wrong, Refusal)
    assert refused.code == wrong.code == TError.CSTA_SECURITY
    assert refused.message.replace("nobody", "desk") == wrong.message


def test_five_failures_within_a_minute_slow_an_address_for_the_next_minute() -> None:
    throttle = FailureThrottle()
    for second in range(4):
        throttle.failed("10.0.0.9", float(second))
    assert throttle.delay("10.0.0.9", 4.0) == 0
    throttle.failed("10.0.0.9", 4.0)
    assert throttle.delay("10.0.0.9", 4.5) == 1.0
    assert throttle.delay("10.0.0.8", 4.5) == 0  # other addresses are not slowed
    assert throttle.delay("10.0.0.9", 63.9) == pytest.approx(1.0)
    assert throttle.delay("10.0.0.9", 64.1) == 0


def test_attempts_made_at_once_while_slowed_wait_in_turn() -> None:
    throttle = FailureThrottle()
    for _ in range(5):
        throttle.failed("10.0.0.9", 0.0)
    assert [throttle.delay("10.0.0.9", 1.0) for _ in range(4)] == [1.0, 2.0, 3.0, 4.0]
    assert throttle.delay("10.0.0.9", 10.0) == 1.0  # the queue has drained


def test_failures_spread_over_more_than_a_minute_do_not_slow_anyone() -> None:
    throttle = FailureThrottle()
    for second in range(0, 100, 20):
        throttle.failed("10.0.0.9", float(second))
    assert throttle.delay("10.0.0.9", 81.0) == 0


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    throttle = FailureThrottle(max_addresses=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", 0.0)
    assert len(throttle._records) <= 100


# --- data ---------------------------------------------------------------------------------


def test_user_data_past_the_limit_is_refused_whole_call_counted() -> None:
    attach = request("RequestAttachUserData", ThisDN="7001", ConnID="1", UserData={"b": "y" * 10})
    assert user_data_refusal(attach, {"a": "x" * 10}, 40) is None
    refusal = user_data_refusal(attach, {"a": "x" * 30}, 40)
    assert refusal is not None
    assert "limit of 40 bytes" in refusal.message
    replaced = user_data_refusal(attach, {"b": "x" * 30}, 40)  # the same key: replaced
    assert replaced is None


def test_user_data_from_another_site_past_the_limit_is_refused() -> None:
    big = {"k": "v" * 100}
    reserve = Reserve(xid="1", xroute="route", dn="7001", user_data=big)
    refusal = peer_user_data_refusal(reserve, 50)
    assert refusal is not None
    assert refusal.code is TError.ISCC_BAD_XACTION_DATA
    assert peer_user_data_refusal(DataChanged(conn_id="c", user_data=big), 500) is None


# --- the log mask -------------------------------------------------------------------------


def test_hidden_keys_are_masked_in_copies_only() -> None:
    mask = UserDataMask({"Card"})
    event: TMessage = {"Event": "EventRinging", "UserData": {"Card": "4111", "Case": "A-17"}}
    masked = mask.message(event)
    assert masked["UserData"] == {"Card": "***", "Case": "A-17"}
    assert event["UserData"]["Card"] == "4111"
    plain: TMessage = {"Event": "EventRinging", "UserData": {"Case": "A-17"}}
    assert mask.message(plain) is plain


def test_the_filter_masks_every_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.masking")
    masking = MaskingFilter(UserDataMask({"Card"}))
    caplog.handler.addFilter(masking)
    try:
        with caplog.at_level(logging.DEBUG, logger="tests.masking"):
            logger.debug("got %s", {"UserData": {"Card": "4111"}})
            logger.error("got %(m)s", {"m": {"UserData": {"Card": "4111"}}})
    finally:
        caplog.handler.removeFilter(masking)
    assert "4111" not in caplog.text
    assert caplog.text.count("***") == 2


def test_passwords_are_hidden_whatever_the_keys() -> None:
    mask = UserDataMask()
    register: TMessage = {"Request": "RequestRegisterClient", "ApplicationPassword": "s3cret"}
    assert mask.message(register) == {
        "Request": "RequestRegisterClient",
        "ApplicationPassword": "***",
    }
    assert register["ApplicationPassword"] == "s3cret"  # a copy
    login: TMessage = {"Request": "RequestAgentLogin", "Password": "1234", "UserData": {"a": 1}}
    assert UserDataMask({"a"}).message(login) == {
        "Request": "RequestAgentLogin",
        "Password": "***",
        "UserData": {"a": "***"},
    }


def test_the_filter_hides_passwords_with_no_key_hidden(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.masking")
    masking = MaskingFilter(UserDataMask())
    caplog.handler.addFilter(masking)
    try:
        with caplog.at_level(logging.DEBUG, logger="tests.masking"):
            logger.debug("got %s", {"Request": "RequestAgentLogin", "Password": "1234"})
            logger.debug("got %s and %s", "x", {"ApplicationPassword": "s3cret"})
    finally:
        caplog.handler.removeFilter(masking)
    assert "1234" not in caplog.text
    assert "s3cret" not in caplog.text
    assert caplog.text.count("***") == 2
