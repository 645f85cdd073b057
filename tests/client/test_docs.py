"""docs/sdk.md's example, as written, against a real pair: a desk in a process of its
own answers a call, says when the primary stops and the other member takes over, and
sees the call end on the new primary."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

from tests.ha.conftest import NatsServer, pair_of
from tests.integration.conftest import within

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
A, B = "7001", "7002"


def example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    after = text.index("Save this as `desk.py`")
    found = re.search(r"```python\n(.*?)```", text[after:], re.DOTALL)
    assert found is not None
    return found.group(1)


async def said(desk: asyncio.subprocess.Process, start: str) -> str:
    """The desk's next line that starts with *start* (lines before it are skipped)."""
    assert desk.stdout is not None
    while line := (await within(desk.stdout.readline(), 20)).decode():
        if line.startswith(start):
            return line.rstrip()
    raise AssertionError(f"the desk ended before saying {start!r}")


async def test_the_desk_example_carries_a_call_across_a_switchover(
    nats_server: NatsServer, switch: tuple[str, int], tmp_path: Path
) -> None:
    script = tmp_path / "desk.py"
    script.write_text(example(), encoding="utf-8")
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        names = ["{}:{}".format(*site.address) for site in (primary, backup)]
        desk = await asyncio.create_subprocess_exec(
            sys.executable, str(script), *names, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert await said(desk, "session on") == f"session on {names[0]}"
            await said(desk, f"registered {B}")
            caller = await primary.client(A, name="caller")
            c1 = (await caller.make_call(A, B, user_data={"case": "D-1"}))["ConnID"]
            assert await said(desk, "ringing") == f"ringing {c1} {{'case': 'D-1'}}"
            assert await said(desk, "answered") == f"answered {c1}"

            primary.service.stop()
            assert (await said(desk, "lost the primary")).startswith(f"lost the primary {names[0]}")
            assert (await said(desk, "session on")).startswith(f"session on {names[1]}, after")
            again = await backup.client(A, name="caller")
            await again.release_call(A, c1)  # the same ConnID, on the new primary
            assert await said(desk, "released") == f"released {c1}"
        finally:
            if desk.returncode is None:
                desk.send_signal(signal.SIGINT)
            assert await within(desk.wait(), 20) == 0
