"""The layering of DESIGN.md § 4: pure layers import no I/O, and pbxsim shares only the
codec with the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ctiserver"
PURE = ["csta", "tlib", "model", "tserver", "scxml", "supervision", "ids.py", "errors.py"]
FORBIDDEN_IN_PURE = {"asyncio", "socket", "time", "selectors", "aiohttp", "subprocess", "threading"}
PBXSIM_MAY_IMPORT = {
    "ctiserver.csta",
    "ctiserver.errors",
    "ctiserver.ids",
    "ctiserver.clock",
    "ctiserver.pbxsim",
}


def modules(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", modules(*PURE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layers_import_no_io(path: Path) -> None:
    used = {name.split(".")[0] for name in imports(path)}
    assert not used & FORBIDDEN_IN_PURE


@pytest.mark.parametrize("path", modules("pbxsim"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pbxsim_shares_only_the_codec(path: Path) -> None:
    ours = {name for name in imports(path) if name.startswith("ctiserver")}
    assert all(
        any(name == allowed or name.startswith(allowed + ".") for allowed in PBXSIM_MAY_IMPORT)
        for name in ours
    ), ours


@pytest.mark.parametrize("path", modules("."), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_its_job(path: Path) -> None:
    if path.name == "__init__.py":
        assert path.read_text() == "", "__init__.py files stay empty"
        return
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


def test_no_utils_module() -> None:
    assert not [p for p in PACKAGE.rglob("*.py") if p.stem in {"utils", "util", "helpers", "misc"}]
