"""The security settings as a user writes them: [security], [application."NAME"], the
TLS and limit keys, checked with line numbers; `ctiserver hash-password`; the warnings
a risky configuration gets; and log-hide-keys applied to the server's own logs."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from ctiserver.app.config import Address, amend, demo, parse
from ctiserver.app.security import warn_about_risks
from ctiserver.app.validation import problems_of
from ctiserver.errors import ConfigError
from ctiserver.security.applications import Permission
from ctiserver.security.passwords import hash_password, parse_hash, verify_password
from tests.integration.conftest import within

HASH = str(hash_password("pw", log_n=10))

SECURE = f"""
[server]
client-listen = "127.0.0.1:0"
tls-cert = "cert.pem"
tls-key = "key.pem"
requests-in-flight = 4

[security]
require-auth = true
allowed-origins = ["https://desk.example:8443"]
log-hide-keys = ["Card"]

[application."desk"]
password-hash = "{HASH}"
dns = ["7001-7003"]
may = ["monitor", "control"]

[dn]
extensions = ["7001-7010"]
"""


def test_a_secure_configuration_reads_back() -> None:
    config = parse(SECURE)
    desk = config.security.applications["desk"]
    assert desk.dns == {"7001", "7002", "7003"}
    assert desk.may == {Permission.MONITOR, Permission.CONTROL}
    assert config.security.require_auth
    assert config.security.allowed_origins == ("https://desk.example:8443",)
    assert config.security.log_hide_keys == ("Card",)
    assert config.server.requests_in_flight == 4
    assert config.server.tls_cert is not None
    assert config.server.tls_cert.name == "cert.pem"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('may = ["monitor", "control"]', 'may = ["root"]'), ":16: .*unknown permission 'root'"),
        ((HASH, "$scrypt$nope"), ":14: .*not an scrypt hash"),
        (('tls-key = "key.pem"', ""), r"\[server\] tls-cert and tls-key go together"),
        (("https://desk.example:8443", "desk.example"), ":10: .*not an origin"),
        (("require-auth = true", "require-auth = 1"), ":9: .*true or false"),
    ],
)
def test_mistakes_are_named_with_their_line(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(SECURE.replace(*change))


def test_an_application_needs_a_password_hash() -> None:
    with pytest.raises(ConfigError, match="needs a password-hash"):
        parse('[application."x"]\nmay = ["monitor"]\n')


async def test_hash_password_reads_standard_input_and_prints_one_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "hash-password",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await within(process.communicate(b"s3cret words\n"), 30)
    assert process.returncode == 0
    (line,) = out.decode().splitlines()
    assert verify_password("s3cret words", parse_hash(line))


def test_a_listener_open_to_the_network_without_tls_or_auth_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = amend(demo(), server={"client_listen": Address("0.0.0.0", 7000)})
    with caplog.at_level(logging.WARNING, logger="ctiserver.app.security"):
        warn_about_risks(config)
        warn_about_risks(demo())  # loopback: nothing to say
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "without TLS" in messages[0]
    assert "0.0.0.0:7000" in messages[0]
    assert "without [security] require-auth" in messages[1]


def test_each_command_checks_the_tls_files_it_would_use(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    pbxsim = parse(f'[pbxsim]\ntls-cert = "{missing}"\ntls-key = "{missing}"\n')
    assert [p.split(": cannot use")[0] for p in problems_of(pbxsim, command="pbxsim")] == [
        "<configuration>: [pbxsim] tls-cert, tls-key"
    ]
    assert len(problems_of(pbxsim, command="run")) == 1  # embedded: run starts it too
    linked = amend(pbxsim, switch={"link": Address("127.0.0.1", 1040)})
    assert problems_of(linked, command="run") == []  # a real switch: pbxsim's keys unused
    orchestrate = parse(
        f'[server]\ntls-ca = "{missing}"\n[orchestration]\ntls = true\n'
        'servers = ["127.0.0.1:7000"]\n'
    )
    (problem,) = problems_of(orchestrate, command="orchestrate")
    assert f"cannot use the TLS CA file {missing}" in problem
    assert problem.startswith("<configuration>: [orchestration] tls ([server] tls-ca, tls-cert)")


def test_orchestrate_checks_what_protects_its_rest_interface(tmp_path: Path) -> None:
    missing = tmp_path / "missing-token"
    rest = parse(
        f'[security]\nadmin-token-file = "{missing}"\n[orchestration]\n'
        'servers = ["127.0.0.1:7000"]\nhttp-listen = "127.0.0.1:0"\n'
    )
    (problem,) = problems_of(rest, command="orchestrate")
    assert f"cannot read [security] admin-token-file {missing}" in problem
    without_rest = parse(
        f'[security]\nadmin-token-file = "{missing}"\n[orchestration]\n'
        'servers = ["127.0.0.1:7000"]\n'
    )
    assert problems_of(without_rest, command="orchestrate") == []  # nothing reads it


def test_an_orchestration_rest_port_open_to_the_network_without_tls_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = parse(
        '[orchestration]\nenabled = true\nhttp-listen = "0.0.0.0:7090"\n'
        'servers = ["127.0.0.1:7000"]\n'
    )
    with caplog.at_level(logging.WARNING, logger="ctiserver.app.security"):
        warn_about_risks(config)
    assert any(
        "[orchestration] http-listen 0.0.0.0:7090 is reachable from other machines without TLS"
        in record.getMessage()
        for record in caplog.records
    )
