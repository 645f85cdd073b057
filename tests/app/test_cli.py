"""The command line as an operator meets it: options in any position, the log level from
the environment, --version, `python -m ctiserver`, and mistakes told in one line with
the right exit status (2 for a configuration, 1 for the rest), never a traceback.

check-config and run share one validation (app.validation): every file check-config
refuses, run refuses at its start with the same words, before it listens anywhere."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctiserver.cli import main, reload_summary
from ctiserver.security.passwords import hash_password

VALID = '[server]\nclient-listen = "127.0.0.1:0"\nhttp-listen = ""\n[dn]\nextensions = ["7001"]\n'


def ctiserver(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctiserver", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(VALID)
    return path


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--log-level", "debug", "check-config", "FILE"],
        ["check-config", "FILE", "--log-level", "debug"],
        ["check-config", "--log-level", "debug", "FILE"],
    ],
)
def test_the_log_level_goes_before_or_after_the_command(valid: Path, arguments: list[str]) -> None:
    assert main([str(valid) if a == "FILE" else a for a in arguments]) == 0
    assert logging.getLogger().level == logging.DEBUG


def test_the_environment_sets_the_level_and_the_command_line_wins(
    valid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTISERVER_LOG_LEVEL", "warning")
    assert main(["check-config", str(valid)]) == 0
    assert logging.getLogger().level == logging.WARNING
    assert main(["check-config", str(valid), "--log-level", "error"]) == 0
    assert logging.getLogger().level == logging.ERROR


def test_a_bad_level_in_the_environment_is_a_configuration_error(
    valid: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CTISERVER_LOG_LEVEL", "loud")
    assert main(["check-config", str(valid)]) == 2
    assert "CTISERVER_LOG_LEVEL='loud' is not one of debug, info, warning, error" in (
        capsys.readouterr().err
    )


def test_version_and_python_m() -> None:
    from importlib.metadata import version

    shown = ctiserver("--version")
    assert (shown.returncode, shown.stdout.strip()) == (0, f"ctiserver {version('ctiserver')}")
    helped = ctiserver("--help")
    assert helped.returncode == 0
    assert "trace" in helped.stdout


BAD = {
    "reconnect-min above reconnect-max": (
        "[switch]\nreconnect-min = 20\nreconnect-max = 5\n",
        ":2: [switch] reconnect-min (20 s) is above reconnect-max (5 s)",
    ),
    "two listeners on one port": (
        '[server]\nclient-listen = "127.0.0.1:7555"\nhttp-listen = "0.0.0.0:7555"\n',
        ":3: [server] http-listen and [server] client-listen both listen on port 7555",
    ),
    "a strategy file that is missing": (
        '[dn]\nrouting-points = ["5000"]\n[orchestration.strategy."5000"]\n'
        'application = "nowhere.scxml"\n',
        '[orchestration.strategy."5000"] application: ',
    ),
    "a strategy file that is broken": (
        '[dn]\nrouting-points = ["5000"]\n[orchestration.strategy."5000"]\n'
        'application = "broken.scxml"\n',
        "broken.scxml cannot be loaded",
    ),
    "a switch name the simulated PBX refuses": (
        '[switch]\nname = "Site A"\n',
        "the simulated PBX cannot start with this configuration: switch name 'Site A'",
    ),
    "a recordings folder that does not exist": (
        '[pbxsim]\nrecordings = "no/such/folder/recordings.jsonl"\n',
        "[pbxsim] recordings: the folder",
    ),
    "an unknown key": ("[server]\ncolour = 1\n", ":2: unknown key 'colour' in [server]"),
    "a TLS certificate that is missing": (
        '[server]\ntls-cert = "missing.pem"\ntls-key = "missing.key"\n',
        "[server] tls-cert, tls-key, tls-client-ca: cannot use the TLS certificate ",
    ),
    "a TLS CA file that is not one": (
        '[server]\ntls-ca = "broken.scxml"\n',
        "[server] tls-ca, tls-cert, tls-key: cannot use the TLS CA file ",
    ),
    "the switch's TLS CA file missing": (
        '[switch]\nlink = "127.0.0.1:1040"\ntls = true\ntls-ca = "missing-ca.pem"\n',
        "[switch] tls-ca ([server] tls-ca): cannot use the TLS CA file ",
    ),
    "a certificate without its key": (
        '[server]\ntls-cert = "missing.pem"\n',
        ":1: [server] tls-cert and tls-key go together",  # the section's line
    ),
    "an admin token too short": (
        '[security]\nadmin-token-file = "short-token"\n',
        "[security] admin-token-file: ",
    ),
    "an admin token file that is missing": (
        '[security]\nadmin-token-file = "no-token"\n',
        ": cannot read [security] admin-token-file ",
    ),
    "a password hash that is not one": (
        '[application."desk"]\npassword-hash = "plain"\n',
        ':2: [application."desk"] password-hash: ',
    ),
    "a permission that does not exist": (
        '[application."desk"]\npassword-hash = "HASH"\nmay = ["fly"]\n',
        ':3: [application."desk"] may: ',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_check_config_and_run_refuse_the_same_files_with_the_same_words(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, said = BAD[case]
    (tmp_path / "broken.scxml").write_text("<scxml xmlns='http://www.w3.org/2005/07/scxml'><state")
    (tmp_path / "short-token").write_text("too-short\n")
    text = text.replace("HASH", str(hash_password("desk-pw", log_n=10)))
    path = tmp_path / "site.toml"
    path.write_text(text)
    assert main(["check-config", str(path)]) == 2
    checked = capsys.readouterr().err
    assert main(["run", "--config", str(path)]) == 2
    ran = capsys.readouterr()
    assert said in checked
    assert ran.err == checked
    assert "listening" not in ran.out
    assert all(line.startswith("ctiserver: configuration error: ") for line in ran.err.splitlines())


def test_a_taken_port_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "site.toml"
        path.write_text(f'[server]\nclient-listen = "127.0.0.1:{port}"\nhttp-listen = ""\n')
        result = ctiserver("run", "--config", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ctiserver: cannot listen for T-Library clients on 127.0.0.1:{port}: address already "
        "in use; stop the program that uses it, or choose another port ([server] client-listen)"
    ]
    assert "listening" not in result.stdout  # nothing is announced before all is bound


def test_a_missing_file_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = ctiserver("pbxsim", "--config", str(tmp_path / "nowhere.toml"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"ctiserver: configuration error: {tmp_path / 'nowhere.toml'}: cannot read: No such "
        "file or directory; check the path"
    ]


def test_a_standalone_switch_on_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "pbx.toml"
        path.write_text(f'[pbxsim]\ncsta-listen = "127.0.0.1:{port}"\n')
        result = ctiserver("pbxsim", "--config", str(path))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "[pbxsim] csta-listen" in result.stderr
    assert "address already in use" in result.stderr


def test_no_server_to_reload_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nobody listens once the socket is closed
    path = tmp_path / "site.toml"
    path.write_text(f'[server]\nhttp-listen = "127.0.0.1:{port}"\n')
    result = ctiserver("reload", "--config", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"ctiserver: no server answers at http://127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1


def test_a_reload_answer_as_an_operator_reads_it() -> None:
    answer = {
        "ok": True,
        "added": ["7003"],
        "removed": [],
        "applied": ["[dn]", "[log] trace"],
        "restart": ["[server] client-listen"],
    }
    assert reload_summary(answer).splitlines() == [
        "reloaded: 1 DNs added, 0 removed",
        "applied now: [dn], [log] trace",
        "changed, applied at the next restart: [server] client-listen",
    ]
