"""examples/ha-pair/watch.py, the demo's scenario, run against a real pair: members in
processes of their own (the script kills the primary with SIGKILL), a real nats-server
and a standalone pbxsim.  The run script itself only starts these with fixed ports."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.ha.conftest import PAIRS, MemberProcess, NatsServer, member_toml

EXAMPLE = Path(__file__).parents[2] / "examples" / "ha-pair"


def watch_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ha_pair_watch", EXAMPLE / "watch.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


async def test_the_demo_carries_every_call_over_the_kill(
    nats_server: NatsServer,
    switch: tuple[str, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pair = f"demo{os.getpid()}x{next(PAIRS)}"
    members = [MemberProcess(member_toml(tmp_path, nats_server, switch, pair, m)) for m in "ab"]
    watch = watch_module()
    try:
        for member in members:
            await member.start()
        shown = [
            watch.Member(name, m.address, m.http, m.process.pid)  # type: ignore[union-attr]
            for name, m in zip("ab", members, strict=True)
        ]
        assert await watch.show(shown) == 3
    finally:
        for member in members:
            await member.close()
    out = capsys.readouterr().out
    assert out.count(": kept") == 3
    assert "LOST" not in out
    assert "** PrimaryLost" in out
    assert "** SessionResumed" in out
    assert "3 of 3 calls kept their ConnID and UserData" in out
