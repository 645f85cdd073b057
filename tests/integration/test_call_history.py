"""An operator answers "what happened to call X?" from the server's log and trace alone.

A real deployment in miniature: a standalone simulated PBX (`ctiserver pbxsim`) and a
CTI server (`ctiserver run`) in their own processes, the server logging JSON with the
trace on.  A call is made and answered; the PBX is killed in the middle of the call and
started again; the clients see the call released.  Then the test reads nothing but the
server's log and tells the call's story from it: who asked for it, what the switch said,
that the link dropped and why, and that the resync released the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ctiserver.client.connection import TClient
from tests.integration.conftest import expect, within

A, B = "7001", "7002"
START = 30.0  # seconds for a process to start, on a loaded machine

SWITCH = """
[switch]
name = "SiteA"
[pbxsim]
csta-listen = "127.0.0.1:{port}"
[dn]
extensions = ["7001-7003"]
"""

SERVER = """
[server]
client-listen = "127.0.0.1:0"
http-listen = "127.0.0.1:0"
[switch]
name = "SiteA"
link = "127.0.0.1:{port}"
reconnect-min = 0.05
reconnect-max = 0.2
[log]
format = "json"
trace = true
[security]
log-hide-keys = ["card"]
[dn]
extensions = ["7001-7003"]
"""


async def start(
    *arguments: str, log: Path | None = None
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """Start `ctiserver ARGUMENTS`; its `listening NAME=HOST:PORT` lines."""
    with (log or Path(os.devnull)).open("ab") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ctiserver", *arguments,
            stdout=asyncio.subprocess.PIPE, stderr=errors,
        )  # fmt: skip
    assert process.stdout is not None
    listening: dict[str, str] = {}
    expected = {"csta"} if arguments[0] == "pbxsim" else {"client", "http"}
    async with asyncio.timeout(START):
        while not expected <= set(listening):
            line = (await process.stdout.readline()).decode()
            assert line, f"ctiserver {arguments[0]} ended before it listened"
            name, _, address = line.strip().removeprefix("listening ").partition("=")
            listening[name] = address
    return process, listening


async def stop(process: asyncio.subprocess.Process, how: int = signal.SIGTERM) -> None:
    if process.returncode is None:
        process.send_signal(how)
    await within(process.wait(), START)


@contextlib.asynccontextmanager
async def deployment(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A pbxsim and a server in their own processes; yields what the test needs."""
    switch_file = tmp_path / "switch.toml"
    switch_file.write_text(SWITCH.format(port=0))
    pbx, listening = await start("pbxsim", "--config", str(switch_file))
    port = listening["csta"].rpartition(":")[2]
    switch_file.write_text(SWITCH.format(port=port))  # the restart must come back there
    server_file = tmp_path / "server.toml"
    server_file.write_text(SERVER.format(port=port))
    log = tmp_path / "server.log"
    server, addresses = await start("run", "--config", str(server_file), log=log)
    parts: dict[str, Any] = {"pbx": pbx, "switch_file": switch_file, "log": log}
    parts["client"] = addresses["client"]
    try:
        yield parts
    finally:
        await stop(server)
        await stop(parts["pbx"], signal.SIGKILL)


async def desk(address: str, dn: str) -> TClient:
    host, _, port = address.rpartition(":")
    client = await TClient.connect(host, int(port), application_name=f"desk-{dn}")
    await within(client.wait_for("EventLinkConnected"), START)
    await client.register_address(dn)
    await expect(client, "EventRegistered")
    return client


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
async def test_what_happened_to_a_call_lost_with_the_switch(tmp_path: Path) -> None:
    async with deployment(tmp_path) as parts:
        a = await desk(parts["client"], A)
        b = await desk(parts["client"], B)
        dialing = await a.make_call(A, B, user_data={"case": "A-17", "card": "4111-1111-1111-1111"})
        conn_id = dialing["ConnID"]
        await expect(a, "EventDialing", ConnID=conn_id)
        await expect(b, "EventRinging", ConnID=conn_id)
        await b.answer_call(B, conn_id)
        await expect(b, "EventEstablished", ConnID=conn_id)
        await expect(a, "EventEstablished", ConnID=conn_id)

        await stop(parts["pbx"], signal.SIGKILL)  # the switch dies in mid-call
        await expect(a, "EventLinkDisconnected")
        parts["pbx"], _ = await start("pbxsim", "--config", str(parts["switch_file"]))
        await within(a.wait_for("EventReleased", ConnID=conn_id), START)
        await within(b.wait_for("EventReleased", ConnID=conn_id), START)
        await a.close()
        await b.close()

    story = history(parts["log"], conn_id)
    told = [line for _, line in story]
    # Who asked for the call, what the switch said, what the clients were told.
    assert told[:12] == [
        f"tlib in RequestMakeCall DN={A},{B} from desk-{A}",
        f"csta in OriginatedEvent DN={A},{B}",
        f"tlib out EventDialing DN={A},{B} to desk-{A}",
        f"csta in DeliveredEvent DN={A},{B}",
        f"csta in DeliveredEvent DN={B},{A}",
        f"tlib out EventRinging DN={B},{A} to desk-{B}",
        f"tlib in RequestAnswerCall DN={B} from desk-{B}",
        "csta out AnswerCall",
        f"csta in EstablishedEvent DN={A},{B}",
        f"tlib out EventEstablished DN={A},{B} to desk-{A}",
        f"csta in EstablishedEvent DN={B},{A}",
        f"tlib out EventEstablished DN={B},{A} to desk-{B}",
    ], "\n".join(told)
    # Why it ended: the link dropped, the switch came back without it, the resync said so.
    assert told[12:14] == [
        "link to the switch dropped: the switch closed the connection",
        "resync of 3 DNs: the switch has 0 calls; 0 kept, 1 released (ended while the link "
        f"was down: ConnID {conn_id}), 0 found",
    ]
    assert told[14:] == [
        f"tlib out EventReleased DN={A},{B} to desk-{A}",
        f"tlib out EventReleased DN={B},{A} to desk-{B}",
    ]
    times = [time for time, _ in story]
    assert times == sorted(times)
    # The hidden key never reached the log; the others did.
    text = parts["log"].read_text()
    assert '"card":"***"' in text.replace("\\", "")
    assert "4111-1111" not in text  # (a bare 4111 can be in a timestamp)


def history(log: Path, conn_id: str) -> list[tuple[str, str]]:
    """What the log says about the call *conn_id*, and about the link, in order: each
    line as (time, a short description an operator would write down)."""
    lines = [json.loads(raw) for raw in log.read_text().splitlines()]  # all JSON, or fail
    asked = requests_answered(lines, conn_id)
    story: list[tuple[str, str]] = []
    for line in lines:
        about_call = conn_id in line.get("ConnID", ()) or conn_id in line["message"]
        if line.get("trace") and (about_call or id(line) in asked):
            story.append((line["time"], describe(line)))
        elif link_dropped(line) or (about_call and line["message"].startswith("resync")):
            story.append((line["time"], line["message"]))
    return story


def link_dropped(line: dict[str, Any]) -> bool:
    return line["logger"] == "ctiserver.link.supervisor" and "dropped" in line["message"]


def requests_answered(lines: list[dict[str, Any]], conn_id: str) -> set[int]:
    """The requests (as id() of their lines) answered by an event about *conn_id*: the
    request that made the call has no ConnID yet, but its answer carries its ReferenceID
    back to the same client."""
    answers = set()
    for line in lines:
        if line.get("trace") == "tlib" and line["direction"] == "out" and conn_id in line["ConnID"]:
            reference = json.loads(line["wire"]).get("ReferenceID")
            if reference is not None:
                answers.add((line["peer"], reference))
    return {
        id(line)
        for line in lines
        if line.get("trace") == "tlib"
        and line["direction"] == "in"
        and (line["peer"], json.loads(line["wire"]).get("ReferenceID")) in answers
    }


def describe(line: dict[str, Any]) -> str:
    """A trace line as `PROTOCOL DIRECTION NAME DN=… [to/from application]`."""
    wire = line["wire"]
    if line["trace"] == "tlib":
        message = json.loads(wire)
        name = message.get("Event") or message.get("Request")
        application = line["peer"].rpartition("(")[2].rstrip(")")
        towards = "to" if line["direction"] == "out" else "from"
        return f"tlib {line['direction']} {name} DN={','.join(line['DN'])} {towards} {application}"
    name = wire.split(">", 1)[0].lstrip("<").split(" ", 1)[0]
    dns = f" DN={','.join(line['DN'])}" if line["direction"] == "in" else ""
    return f"{line['trace']} {line['direction']} {name}{dns}"


def test_the_story_reader_reads_every_kind_of_line(tmp_path: Path) -> None:
    """history() on lines written by hand: a story line for each kind it knows."""
    log = tmp_path / "server.log"
    lines = [
        {"time": "1", "logger": "ctiserver.trace", "message": "…", "trace": "tlib",
         "direction": "in", "peer": "1 tcp:x (desk)", "DN": ["7001"], "ConnID": ["c1"],
         "wire": '{"Request":"RequestReleaseCall"}'},
        {"time": "2", "logger": "ctiserver.link.supervisor", "message": "link to the switch dropped: x"},
        {"time": "3", "logger": "ctiserver.server.runtime", "message": "resync …: ConnID c1"},
        {"time": "4", "logger": "ctiserver.trace", "message": "…", "trace": "csta",
         "direction": "out", "peer": "switch", "DN": [], "ConnID": ["c2"], "wire": "<X/>"},
    ]  # fmt: skip
    log.write_text("".join(json.dumps(line) + os.linesep for line in lines))
    assert [line for _, line in history(log, "c1")] == [
        "tlib in RequestReleaseCall DN=7001 from desk",
        "link to the switch dropped: x",
        "resync …: ConnID c1",
    ]
