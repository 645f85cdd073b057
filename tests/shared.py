"""Where the shared reference material is (DESIGN.md § 6: read it from ../shared, never
copy it): $CTISERVER_SHARED, else a `shared/` folder beside this checkout or beside one
of its parent folders.  None when it is nowhere; tests that need it then skip."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def _find() -> Path | None:
    named = os.environ.get("CTISERVER_SHARED")
    if named:
        return Path(named)
    for folder in _REPO.parents:
        candidate = folder / "shared"
        if (candidate / "DESIGN.md").is_file():
            return candidate
    return None


SHARED = _find()
