"""PbxConfig and the number lists of the configuration."""

from __future__ import annotations

import pytest

from ctiserver.doors.address import Address
from ctiserver.pbxsim.config import (
    DEFAULT_PRIVATE_NAMESPACE,
    AcdGroup,
    PbxConfig,
    PbxsimSettings,
    RoutingPoint,
    Trunk,
    expand_numbers,
    parse_address,
)


def test_expand_numbers() -> None:
    assert expand_numbers(["7001-7003", 8001, " 5000 "]) == ("7001", "7002", "7003", "8001", "5000")
    assert expand_numbers(["0098-0101"]) == ("0098", "0099", "0100", "0101")
    assert expand_numbers(["98-101"]) == ("98", "99", "100", "101")
    assert expand_numbers([]) == ()


@pytest.mark.parametrize("spec", ["70a1", "7003-7001", "1-200000", "-1", -5, True, 1.5, "7001-"])
def test_expand_numbers_refuses_what_is_not_a_number_list(spec: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        expand_numbers([spec])  # type: ignore[list-item]


def test_defaults() -> None:
    config = PbxConfig()
    assert (config.settings.conference_size, config.edition, config.session_duration) == (
        6,
        "ed4",
        180,
    )
    assert RoutingPoint(number="5000").route_timeout == 10.0
    assert AcdGroup(number="8001").wrap_up_time == 0.0


def _trunks(*trunks: Trunk) -> dict[str, object]:
    return {"settings": PbxsimSettings(trunks=trunks)}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stations": ("7001", "7001")}, "configured twice"),
        ({"stations": ("7001",), "acd_groups": (AcdGroup(number="7001"),)}, "configured twice"),
        ({"stations": ("70x",)}, "not digits"),
        ({"agents": ("1", "1")}, "agent id 1"),
        ({"agent_passwords": {"9": "x"}}, "not configured"),
        ({"settings": PbxsimSettings(conference_size=2)}, "below 3"),
        ({"settings": PbxsimSettings(announcement_length=0)}, "announcement length"),
        ({"settings": PbxsimSettings(no_answer_time=0)}, "no-answer time"),
        ({"edition": "ed7"}, "edition"),
        ({"session_duration": 0}, "session duration"),
        ({"routing_points": (RoutingPoint(number="5000", route_timeout=0),)}, "route timeout"),
        (
            {"routing_points": (RoutingPoint(number="5000", default_destination="x"),)},
            "default destination",
        ),
        ({"acd_groups": (AcdGroup(number="8001", wrap_up_time=-1),)}, "wrap-up"),
        ({"name": "site a"}, "switch name"),
        ({"private_namespace": " "}, "namespace"),
        (_trunks(Trunk(name="AB", prefix="9"), Trunk(name="AB", prefix="8")), "trunk AB"),
        (_trunks(Trunk(name="AB", prefix="9"), Trunk(name="AC", prefix="9")), "prefix 9"),
        (_trunks(Trunk(name="A B", prefix="9")), "trunk name"),
        (_trunks(Trunk(name="AB", prefix="")), "prefix"),
        (_trunks(Trunk(name="AB", prefix="9x")), "prefix"),
        (_trunks(Trunk(name="AB", prefix="9", ani_prefix="+")), "ANI prefix"),
        (_trunks(Trunk(name="AB", prefix="9", peer="b:")), "HOST:PORT"),
    ],
)
def test_invalid_configurations(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PbxConfig(**fields)  # type: ignore[arg-type]


def test_a_valid_configuration() -> None:
    config = PbxConfig(stations=("7001",), agents=("1001",), agent_passwords={"1001": "pw"})
    assert config.agent_passwords["1001"] == "pw"


def test_private_services_and_trunks_default_to_off() -> None:
    config = PbxConfig()
    assert config.name == "pbxsim"
    assert config.private_namespace == DEFAULT_PRIVATE_NAMESPACE == "urn:ctiserver:csta:private"
    settings = config.settings
    assert (settings.recordings, settings.trunk_listen, settings.trunks) == (None, None, ())


def test_trunks() -> None:
    config = PbxConfig(
        name="site-a",
        settings=PbxsimSettings(
            trunk_listen=Address("127.0.0.1", 0),
            trunks=(
                Trunk(name="AB", prefix="9", peer="[::1]:1051", ani_prefix="8"),
                Trunk(name="AC", prefix="*7"),
            ),
        ),
    )
    assert config.settings.trunks[1].peer is None


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:1050") == ("127.0.0.1", 1050)
    assert parse_address(" [::1]:0 ") == ("::1", 0)
    for text in ("1050", ":1050", "host:", "host:x", "host:65536"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(text)
