"""The package as a user gets it: the wheel built from a fresh copy of the repository,
installed with pip in a new virtual environment, and used with no source tree around:
--version, `python -m ctiserver`, and the demo's `--orchestrate` path, whose strategy is
package data.  Slow (a venv and its dependencies, ~30 s with pip's cache): marked."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from ctiserver.client.connection import TClient
from tests.integration.conftest import within
from tests.test_readme import VENV, fresh_copy

pytestmark = pytest.mark.packaging

SITE = """
[server]
client-listen = "127.0.0.1:0"
http-listen = "127.0.0.1:0"
[dn]
extensions = ["7001-7010"]
acd-queues = ["8001"]
routing-points = ["5000"]
[agents]
logins = ["1001-1010"]
[routing-point."5000"]
default-destination = "8001"
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed; its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = fresh_copy(root / "source")
    (source / VENV).unlink()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(root / "dist"), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (root / "dist").glob("ctiserver-*.whl")
    check_contents(wheel)
    venv.create(root / "env", with_pip=True)
    bin = root / "env" / "bin"
    subprocess.run(
        [bin / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return bin


def check_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "ctiserver/strategies/skills-routing.scxml",
        "ctiserver/strategies/route-to-agent.scxml",
        "ctiserver/strategies/conference.scxml",
        "ctiserver/http/static/index.html",
        "ctiserver/py.typed",
        "ctiserver/__main__.py",
    ):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)
    assert not any(n.startswith(("tests/", "bench/", "examples/")) for n in names)


def test_version_from_the_command_and_from_python_m(installed: Path) -> None:
    for argv in (
        [installed / "ctiserver", "--version"],
        [installed / "python", "-m", "ctiserver", "--version"],
    ):
        shown = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=True, cwd="/"
        )
        assert shown.stdout.strip() == "ctiserver 0.1.0"


async def test_the_orchestrate_demo_routes_a_call_from_the_installed_package(
    installed: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE)
    server = await asyncio.create_subprocess_exec(
        installed / "ctiserver", "run", "--orchestrate", "--config", str(site),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd="/",
    )  # fmt: skip
    assert server.stdout is not None
    assert server.stderr is not None
    lines: list[str] = []
    try:
        address = await within(listening(server.stdout), 60)
        # the strategies run once the orchestration process follows its DNs
        await within(read_until(server.stdout, "orchestration ready", []), 60)
        async with (
            await TClient.connect(*address, application_name="desk") as desk,
            await TClient.connect(*address, application_name="caller") as caller,
        ):
            await within(desk.wait_for("EventLinkConnected"), 30)
            await desk.register_address("7002")
            await desk.agent_login("7002", "1001", queue="8001")
            await desk.agent_ready("7002")
            await caller.register_address("7001")
            await caller.make_call("7001", "5000")
            await within(desk.wait_for("EventRinging", ThisDN="7002"), 30)
            # the strategy, in the orchestration process, logs its own line once routed
            await within(read_until(server.stderr, "routed: to agent", lines), 30)
    finally:
        server.terminate()
        _, errors = await within(server.communicate(), 30)
    log = "".join(lines) + errors.decode()
    assert "site-packages/ctiserver/strategies/skills-routing.scxml" in log
    assert "cannot be loaded" not in log
    assert "routed: to agent 1001 on 7002" in log  # the strategy's own <log>
    assert server.returncode == 0, log


async def read_until(stream: asyncio.StreamReader, text: str, lines: list[str]) -> None:
    while line := (await stream.readline()).decode():
        lines.append(line)
        if text in line:
            return


async def listening(stdout: asyncio.StreamReader) -> tuple[str, int]:
    while line := (await stdout.readline()).decode():
        if line.startswith("listening client="):
            host, _, port = line.strip().removeprefix("listening client=").rpartition(":")
            return host, int(port)
    raise AssertionError("the server ended before it listened")
