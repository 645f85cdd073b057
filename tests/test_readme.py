"""The README, followed by a newcomer from a fresh copy of the repository: every code
block runs as written, in order, against a real server (tests/readme_session.py says
how each is run), in a network namespace of its own so that the README's fixed ports
(7000, 7080) are free whatever else runs on this machine.

The copy holds what a clone holds (the files git tracks, as they are in the work tree)
and shares this checkout's .venv, so that nothing is installed again; installing is the
wheel test's business (tests/packaging)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
VENV = os.environ.get("VENV", ".venv")  # ./dev's name for it (another Python: .venv-3.13)

pytestmark = pytest.mark.readme


def fresh_copy(destination: Path) -> Path:
    """What a clone of this checkout holds, with this checkout's .venv.  That .venv is
    brought up to date first, so that ./dev in the copy finds it current and never
    reinstalls the project from the copy."""
    subprocess.run([REPOSITORY / "dev", "shell", "true"], check=True, capture_output=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPOSITORY / name
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)
    (destination / VENV).symlink_to(Path(sys.prefix))
    return destination


def own_network(argv: list[str]) -> list[str]:
    """*argv* run in a new network namespace with only its loopback, up."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the README test needs unshare and ip (util-linux, iproute2)")
    return [
        "unshare",
        "--net",
        "--map-root-user",
        "sh",
        "-c",
        'ip link set lo up && exec "$@"',
        "sh",
        *argv,
    ]


def test_every_readme_snippet_runs_as_written_in_order(tmp_path: Path) -> None:
    if shutil.which("nc") is None:
        pytest.fail("the README's nc example needs nc (Debian: netcat-openbsd)")
    checkout = fresh_copy(tmp_path / "ctiserver")
    session = subprocess.run(
        own_network([sys.executable, str(REPOSITORY / "tests" / "readme_session.py"), str(checkout)]),
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert session.returncode == 0, session.stderr
    steps: list[dict[str, Any]] = json.loads(session.stdout)
    by_block = {step["block"]: step for step in steps}

    assert by_block["./dev test"]["skipped"]
    assert "listening client=127.0.0.1:7000" in by_block["./dev run"]["listening"]
    assert [Path(p).name for p in by_block["./dev shell"]["paths"]] == ["ctiserver", "python"]

    typed = by_block["$ nc 127.0.0.1 7000"]
    names = [(e["Event"], e.get("ReferenceID")) for e in typed["events"]]
    assert names[:2] == [("EventServerInfo", 1), ("EventLinkConnected", 1)]
    assert ("EventDialing", 4) in names
    dialing = next(e for e in typed["events"] if e["Event"] == "EventDialing")
    assert dialing["UserData"] == {"case": "A-17"}
    assert typed["calls"] == 1  # the call outlives the client, as the text says
    assert by_block["ctiserver phone 7001 hang-up"]["calls"] == 0

    called = by_block["call.py"]
    assert called["output"].startswith("7001 is calling 7002, ConnID ")
    assert called["calls"] == 0
    assert by_block["ctiserver trace --dn 7002"]["output"] == (
        "following the trace of DN 7002; Ctrl-C to stop"
    )
    assert "listening client=127.0.0.1:7000" in by_block["./dev run --orchestrate"]["listening"]
    routed = by_block["routed.py"]
    assert routed["output"].startswith("routed to agent 1001 on 7002, ConnID ")
    assert routed["calls"] == 0
    assert [step["block"] for step in steps][-1] == "routed.py"


def test_two_sites_names_the_site_that_cannot_start(tmp_path: Path) -> None:
    """examples/two-sites/run, with SiteB's client port taken: it stops at once and says
    which site failed and why, instead of waiting for a call that cannot come."""
    checkout = fresh_copy(tmp_path / "ctiserver")
    bound = tmp_path / "bound"  # the squatter made it once it listens
    squat = (
        f"{sys.executable} -c 'import socket,time; s=socket.socket(); "
        f's.bind(("127.0.0.1", 7100)); s.listen(); open("{bound}", "w").close(); '
        "time.sleep(120)'"
    )
    script = (
        f"{squat} >/dev/null 2>&1 & squatter=$!; "
        f"until [ -e {bound} ]; do sleep 0.05; done; "
        f'TMPDIR={tmp_path} examples/two-sites/run --once; echo "exit $?"; kill $squatter'
    )
    result = subprocess.run(
        own_network(["sh", "-c", script]),
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "exit 1", result.stdout + result.stderr
    assert result.stderr.splitlines()[:2] == [
        "SiteB did not start:",
        "    ctiserver: cannot listen for T-Library clients on 127.0.0.1:7100: address already in "
        "use; stop the program that uses it, or choose another port ([server] client-listen)",
    ], result.stderr
