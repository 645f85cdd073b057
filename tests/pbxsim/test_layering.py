"""The switch model is pure: only the listener and the command touch asyncio or the OS."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PBXSIM = Path(__file__).resolve().parents[2] / "src" / "ctiserver" / "pbxsim"
SHELLS = {"listener.py", "command.py", "trunks.py"}
FORBIDDEN = {"asyncio", "socket", "time", "selectors", "threading", "logging", "random"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(PBXSIM.glob("*.py")) if p.name not in SHELLS],
    ids=lambda p: p.name,
)
def test_the_switch_model_is_pure(path: Path) -> None:
    assert not imported(path) & FORBIDDEN
