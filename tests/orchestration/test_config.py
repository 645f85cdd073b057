"""`[orchestration]` in the configuration file (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.app.config import demo, load, parse, with_orchestration
from ctiserver.errors import ConfigError
from ctiserver.orchestration.settings import (
    DEMO_STRATEGY,
    AgentProfile,
    DirectorySettings,
    Endpoint,
)

SITE = """
[server]
client-listen = "127.0.0.1:7100"

[dn]
extensions = ["7001-7003"]
routing-points = ["5000", "5001"]
"""


def test_every_key(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        SITE
        + """
[orchestration]
enabled = true
servers = ["10.0.0.1:7000", { address = "10.0.0.2:7000", location = "SiteB" }]
http-listen = "127.0.0.1:0"
application-name = "ors-1"
register = ["7001-7002"]
request-timeout = 4
orphan-timeout = 5
max-sessions = 100
script-time-limit = 0.5
script-memory-limit = 16
max-steps = 5000
reconnect-interval = 2

[orchestration.strategy."5000"]
application = "strategies/route.scxml"

[orchestration.strategy."5001"]
application = "file:///srv/other.scxml"
"""
    )
    settings = load(path).orchestration
    assert settings is not None
    assert settings.enabled
    assert settings.servers == (Endpoint("10.0.0.1", 7000), Endpoint("10.0.0.2", 7000, "SiteB"))
    assert settings.http_listen == Endpoint("127.0.0.1", 0)
    assert settings.application_name == "ors-1"
    assert settings.register == ("7001", "7002")
    assert (settings.request_timeout, settings.orphan_timeout) == (4, 5)
    assert (settings.max_sessions, settings.max_steps) == (100, 5000)
    assert (settings.script_time_limit, settings.script_memory_limit) == (0.5, 16 << 20)
    assert settings.reconnect_interval == 2
    assert settings.strategies == {
        "5000": str(tmp_path / "strategies" / "route.scxml"),
        "5001": "file:///srv/other.scxml",
    }


def test_defaults_follow_the_site() -> None:
    settings = parse(SITE + "[orchestration]\n").orchestration
    assert settings is not None
    assert not settings.enabled
    assert settings.servers == (Endpoint("127.0.0.1", 7100, "SwitchA"),)
    assert settings.directory == DirectorySettings()
    assert settings.register == ("7001", "7002", "7003", "5000", "5001")
    assert settings.strategies == {}


def test_no_section_means_no_orchestration() -> None:
    assert parse(SITE).orchestration is None
    assert demo().orchestration is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[orchestration]\nretries = 3\n", ":10: unknown key 'retries' in [orchestration]"),
        ("[orchestration]\nenabled = 1\n", ":10: [orchestration] enabled must be true or false"),
        ('[orchestration]\nservers = "a:1"\n', ":10: [orchestration] servers must be a list"),
        ('[orchestration]\nservers = ["a"]\n', ':10: [orchestration] servers must be "HOST:PORT"'),
        ("[orchestration]\nrequest-timeout = 0\n", ":10: [orchestration] request-timeout must be"),
        (
            '[orchestration.strategy."7001"]\napplication = "x.scxml"\n',
            ":9: [orchestration.strategy.7001]: not a routing point",
        ),
        (
            '[orchestration.strategy."5000"]\nfile = "x.scxml"\n',
            ":9: [orchestration.strategy.5000] takes one key, application",
        ),
        (
            '[orchestration]\nservers = [{ address = "a:1", site = "B" }]\n',
            ":10: [orchestration] servers: a server is {address = …, location = …}",
        ),
        (
            '[orchestration.agent."1001"]\nskill = { a = 1 }\n',
            ":10: unknown key 'skill' in [orchestration.agent.1001]",
        ),
        (
            '[orchestration.agent."1001"]\nskills = { a = true }\n',
            ":10: [orchestration.agent.1001] skills: a must be a number or text",
        ),
        (
            '[orchestration.agent."1001"]\nskills = { "a b" = 1 }\n',
            "'a b' is not a skill name",
        ),
        (
            '[orchestration.agent-group."S"]\nagents = ["1001", ""]\n',
            ":10: [orchestration.agent-group.S] agents: '' is not a login ID or a range",
        ),
        (
            '[orchestration.place-group."F"]\nplaces = ["x"]\n',
            ":10: [orchestration.place-group.F] places: 'x' is not a number or a range",
        ),
        ("[orchestration]\nagent = 3\n", '[orchestration.agent."NAME"] must be tables'),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(SITE + "\n" + text, Path("site.toml"))
    assert message in str(raised.value)


def test_the_demo_orchestration() -> None:
    config = with_orchestration(demo())
    settings = config.orchestration
    assert settings is not None
    assert settings.enabled
    assert settings.strategies == {"5000": str(DEMO_STRATEGY)}
    assert DEMO_STRATEGY.is_file()
    assert set(settings.register) == set(demo().site.dns)
    assert settings.servers == (Endpoint("127.0.0.1", 7000, "SwitchA"),)


def test_run_orchestrate_enables_the_file_s_own_section() -> None:
    config = with_orchestration(parse(SITE + "[orchestration]\nenabled = false\n"))
    assert config.orchestration is not None
    assert config.orchestration.enabled
    assert config.orchestration.strategies == {}


def test_agents_skills_and_groups() -> None:
    text = (
        SITE
        + """
[orchestration.agent."1001"]
skills = { sales = 8, lang = "fr", rating = 4.5 }
groups = ["Sales"]

[orchestration.agent."alice"]

[orchestration.agent-group."Sales"]
agents = ["1002-1004", "alice"]

[orchestration.place-group."Front"]
places = ["7001-7002"]
"""
    )
    settings = parse(text).orchestration
    assert settings is not None
    assert settings.directory == DirectorySettings(
        agents={
            "1001": AgentProfile({"sales": 8, "lang": "fr", "rating": 4.5}, ("Sales",)),
            "alice": AgentProfile(),
        },
        agent_groups={"Sales": ("1002", "1003", "1004", "alice")},
        place_groups={"Front": ("7001", "7002")},
    )
