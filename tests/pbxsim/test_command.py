"""serve(): the simulated PBX as `ctiserver pbxsim` and the embedded mode run it."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from dataclasses import replace

import pytest

from ctiserver.doors.address import Address
from ctiserver.pbxsim.command import serve
from ctiserver.pbxsim.config import PbxsimSettings

from .client import Client
from .rig import CONFIG


class Stdout:
    """Stands in for sys.stdout and says when a line has been printed."""

    def __init__(self) -> None:
        self.text = ""
        self.line = asyncio.Event()

    def write(self, text: str) -> int:
        self.text += text
        if "\n" in text:
            self.line.set()
        return len(text)

    def flush(self) -> None:
        pass


async def test_serve_prints_where_it_listens_and_runs_until_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = Stdout()
    monkeypatch.setattr(sys, "stdout", stdout)
    task = asyncio.create_task(serve(CONFIG, "127.0.0.1", 0))
    async with asyncio.timeout(5):
        await stdout.line.wait()
    match = re.fullmatch(r"listening csta=127\.0\.0\.1:(\d+)\n", stdout.text)
    assert match is not None, stdout.text
    client = await Client.connect(("127.0.0.1", int(match.group(1))))
    await client.greeted()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await client.closed()


async def test_serve_prints_the_trunk_listener_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = Stdout()
    monkeypatch.setattr(sys, "stdout", stdout)
    config = replace(CONFIG, settings=PbxsimSettings(trunk_listen=Address("127.0.0.1", 0)))
    task = asyncio.create_task(serve(config, "127.0.0.1", 0))
    async with asyncio.timeout(5):
        while stdout.text.count("\n") < 2:
            stdout.line.clear()
            await stdout.line.wait()
    csta, trunk = stdout.text.splitlines()
    assert re.fullmatch(r"listening csta=127\.0\.0\.1:\d+", csta)
    match = re.fullmatch(r"listening trunk=127\.0\.0\.1:(\d+)", trunk)
    assert match is not None, stdout.text
    reader, writer = await asyncio.open_connection("127.0.0.1", int(match.group(1)))
    writer.write(b'{"type":"hello","version":1,"switch":"X","trunk":"T"}\n')
    async with asyncio.timeout(5):
        answer = json.loads(await reader.readline())
    assert answer == {"type": "hello", "version": 1, "switch": "pbxsim"}
    writer.close()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
