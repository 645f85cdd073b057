"""`ctiserver orchestrate`, run as a user runs it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from ctiserver.cli import main
from tests.integration.conftest import within
from tests.orchestration.fakes import SilentServer


def test_a_file_without_the_section_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[dn]\nextensions = ["7001"]\n')
    assert main(["orchestrate", "--config", str(path)]) == 2
    assert "there is no [orchestration] section" in capsys.readouterr().err


async def test_orchestrate_connects_registers_reloads_on_sighup_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    server = SilentServer()
    await server.start()
    host, port = server.address
    path = tmp_path / "ors.toml"
    path.write_text(
        f"""[orchestration]
servers = ["{host}:{port}"]
application-name = "ors-test"
register = ["7001-7002"]
"""
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "orchestrate", "--config", str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await within(_registered(server, {"7001", "7002"}), 20)
        path.write_text(path.read_text().replace('"7001-7002"', '"7001-7003"'))
        process.send_signal(signal.SIGHUP)
        assert process.stderr is not None
        while b"need a restart" not in (line := await within(process.stderr.readline(), 20)):
            assert line, "the server stopped without reloading"
        assert b"reload: [orchestration] register need a restart of the server" in line
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await within(process.communicate(), 20)
        await server.stop()
    assert process.returncode == 0, errors.decode()


async def _registered(server: SilentServer, dns: set[str]) -> None:
    while server.registered != dns:
        await server.changed.wait()
        server.changed.clear()
