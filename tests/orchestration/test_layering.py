"""The orchestration package keeps to DESIGN.md § 4: everything but its asyncio shells
(runtime.py, process.py, child.py, rest.py, web.py) and its loader (strategies.py) is
pure, and settings.py, which the configuration reads, does not load the SCXML
interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_architecture import FORBIDDEN_IN_PURE, PACKAGE, imports, modules

SHELLS = {"runtime.py", "strategies.py", "rest.py", "web.py", "process.py", "child.py"}
PURE = [path for path in modules("orchestration") if path.name not in SHELLS]


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_pure_modules_import_no_io(path: object) -> None:
    used = {name.split(".")[0] for name in imports(path)}  # type: ignore[arg-type]
    assert not used & FORBIDDEN_IN_PURE


def test_reading_settings_does_not_load_the_interpreter() -> None:
    code = (
        "import sys, ctiserver.orchestration.settings, ctiserver.app.config;"
        "print(sorted(m for m in sys.modules if m.startswith(('quickjs', 'ctiserver.scxml'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert PACKAGE.is_dir()
