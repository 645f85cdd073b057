from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.app.config import Address, demo, load, parse
from ctiserver.app.parts import pbx_config
from ctiserver.errors import ConfigError
from ctiserver.model.states import DnKind
from ctiserver.supervision.view import DashboardSettings
from ctiserver.tserver.port import CallCleanup

CONTRACT = """
[server]
name = "tserver-a"
client-listen = "127.0.0.1:7000"
http-listen = "127.0.0.1:7080"

[switch]
name = "SwitchA"
link = "embedded"
session = "implicit"
namespace = "ed4"

[dn]
extensions = ["7001-7010"]
acd-queues = ["8001"]
routing-points = ["5000"]

[agents]
logins = ["1001-1010"]

[options]
consult-user-data = "separate"
accode-name = "AccountCode"
accode-data = "none"
accode-privateservice = true

[pbxsim]
csta-listen = "127.0.0.1:1040"

[routing-point."5000"]
route-timeout = 10
default-destination = "7001"

[acd-queue."8001"]
wrap-up-time = 0
"""


def test_the_contract_example_of_design_md_loads() -> None:
    config = parse(CONTRACT)
    assert config.server.name == "tserver-a"
    assert config.switch.link is None
    assert len([k for k in config.site.dns.values() if k is DnKind.EXTENSION]) == 10
    assert config.site.dns["8001"] is DnKind.ACD_QUEUE
    assert config.site.agent_logins[0] == "1001"
    assert config.site.routing_points["5000"].default_destination == "7001"
    assert config.site.acd_queues["8001"].wrap_up_time == 0
    assert config.pbxsim.csta_listen == Address("127.0.0.1", 1040)
    assert config.options.accode_privateservice is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nnmae = 'x'\n", ":2: unknown key 'nmae' in [server]"),
        (
            "[dn]\n\nextensions = ['7010-7001']\n",
            ":3: [dn] extensions: range '7010-7001' must go up",
        ),
        ("[dn]\nextensions = ['7001', '7001']\n", ":2: DN 7001 is configured twice"),
        ("[switch]\nlink = 'nowhere'\n", ':2: [switch] link must be "HOST:PORT"'),
        ("[switch]\nsession = 'soap'\n", ":2: [switch] session must be one of implicit, ecma-354"),
        ("[switch]\nreply-timeout = -1\n", ":2: [switch] reply-timeout must be a number"),
        ("[colours]\n", ":1: unknown section [colours]"),
        (
            '[dn]\nextensions = ["7001"]\n\n[acd-queue."7001"]\nwrap-up-time = 3\n',
            ":4: [acd-queue.7001]: 7001 is not a configured Queue",
        ),
        ("[server\n", "not valid TOML"),
        ("[dashboard]\npush-interval = 60\n", ":2: [dashboard] push-interval must be at most 10"),
        (
            "[dashboard]\npush-interval = 0\n",
            ":2: [dashboard] push-interval must be a number of at least 0.05",
        ),
        (
            "[dashboard]\nservice-level-seconds = '20'\n",
            ":2: [dashboard] service-level-seconds must be a number",
        ),
        ("[dashboard]\nwindow = 900\n", ":2: unknown key 'window' in [dashboard]"),
        (
            "[call-cleanup]\n\ncleanup-idle-tout = -5\n",
            ":3: [call-cleanup] cleanup-idle-tout must be a number of at least 0",
        ),
        ("[call-cleanup]\nidle = 1\n", ":2: unknown key 'idle' in [call-cleanup]"),
    ],
)
def test_errors_name_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, Path("site.toml"))
    assert message in str(caught.value)
    assert str(caught.value).startswith("site.toml")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "absent.toml")


def test_the_demo_site_has_a_queue_a_routing_point_and_agents() -> None:
    config = demo()
    assert config.site.dns["8001"] is DnKind.ACD_QUEUE
    assert config.site.dns["5000"] is DnKind.ROUTING_POINT
    assert len(config.site.agent_logins) == 10


def test_the_dashboard_section() -> None:
    config = parse("[dashboard]\nservice-level-seconds = 30\npush-interval = 0.5\n")
    assert (config.dashboard.service_level_seconds, config.dashboard.push_interval) == (30, 0.5)
    assert demo().dashboard == DashboardSettings(service_level_seconds=20.0, push_interval=0.25)


def test_the_call_cleanup_section_and_its_defaults() -> None:
    text = "[call-cleanup]\nnotify-idle-tout = 60\ncleanup-idle-tout = 120\n"
    assert parse(text).call_cleanup == CallCleanup(60, 120, 600)
    assert demo().call_cleanup == CallCleanup(0, 0, 600)
    checked = parse("[call-cleanup]\nperiodic-check-tout = 30\n").call_cleanup
    assert (checked.notify_idle_timeout, checked.periodic_check) == (0, 30)


def test_the_pbxsim_treatment_and_forwarding_times() -> None:
    text = (
        "[dn]\nextensions = ['7001']\n\n[pbxsim]\nannouncement-length = 1.5\nno-answer-time = 20\n"
    )
    pbx = pbx_config(parse(text))
    assert (pbx.settings.announcement_length, pbx.settings.no_answer_time) == (1.5, 20)
    default = pbx_config(demo()).settings
    assert (default.announcement_length, default.no_answer_time) == (3, 15)
    with pytest.raises(ConfigError, match=":5: \\[pbxsim\\] no-answer-time must be a number"):
        parse("[dn]\nextensions = ['7001']\n\n[pbxsim]\nno-answer-time = 0\n", Path("s.toml"))
