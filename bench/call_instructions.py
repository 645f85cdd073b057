"""Benchmark: instructions per basic call, counted by valgrind's callgrind.

Timings on a shared machine drift with its load; instruction counts do not.  One
caller/callee pair makes basic calls one after another (MakeCall, AnswerCall,
ReleaseCall, each step waiting for the last one's events), so that every run does the
same work in the same order.  The part counted runs in this process under valgrind:
the server (`--count server`, the default, with pbxsim in a process of its own),
pbxsim (`--count pbxsim`, the server in a process of its own), or the bare relay of
bench/relay_ceiling.py (`--count relay`, fed the frames the server read in a native
run, its writes discarded); the other parts run natively in processes of their own.
Runs of N and 2N calls are subtracted, so that start-up cancels out.  Every part runs
on uvloop.  It prints instructions per call and per CSTA event the server reads (each
of its copies per monitor counted).

    ./dev bench call_instructions [--calls 100] [--count server|pbxsim|relay]

Needs valgrind.  Each run under valgrind takes a minute or two.  Valgrind counts what
runs in the process, not in the kernel: the system calls' own work is not in the count.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import pickle
import tempfile
from pathlib import Path
from typing import Any

from basic_calls import bench_config as site
from probe import SwitchProcess, instructions, run_server, running
from relay_ceiling import Recorder, Relay, count_events

from ctiserver.app.config import Address, Config, amend

A, B = "7001", "7002"


# --- the client (a process of its own) ------------------------------------------------------


def run_client(address: tuple[str, int], calls: int, out: Any) -> None:
    import uvloop

    out.send(uvloop.run(_client(address, calls)))


async def _client(address: tuple[str, int], calls: int) -> int:
    from ctiserver.client.connection import TClient

    a = await TClient.connect(*address, application_name="a")
    b = await TClient.connect(*address, application_name="b")
    await a.register_address(A)
    await b.register_address(B)
    for _ in range(calls):
        dialing = await a.make_call(A, B)
        ringing = await b.wait_for("EventRinging")
        await b.answer_call(B, ringing["ConnID"])
        await a.wait_for("EventEstablished")
        await a.release_call(A, dialing["ConnID"])
        await b.wait_for("EventReleased")
    await a.close()
    await b.close()
    return calls


async def drive(address: tuple[str, int], calls: int) -> None:
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=run_client, args=(address, calls, send)
    )
    child.start()
    await asyncio.get_running_loop().run_in_executor(None, receive.recv)
    child.join()


# --- the part counted (this process) ---------------------------------------------------------


async def count_server(config: Config, calls: int, recorder: Recorder | None) -> dict[str, str]:
    """Run the calls; the server's monitors (monitorCrossRefID -> DN)."""
    switch = SwitchProcess(config)
    try:
        async with running(amend(config, switch={"link": Address(*switch.address)})) as service:
            if recorder is not None:
                recorder.on = True
            assert service.client_address is not None
            assert service.runtime.link is not None
            monitors = {ref: dn for dn, ref in service.runtime.link.monitored.items()}
            await drive(service.client_address, calls)
            return monitors
    finally:
        switch.stop()


async def count_pbxsim(config: Config, calls: int) -> None:
    from ctiserver.app.parts import pbx_config
    from ctiserver.pbxsim.listener import PbxListener
    from ctiserver.pbxsim.switch import Switch

    listener = PbxListener(Switch(pbx_config(config)), "127.0.0.1", 0)
    address = await listener.start()
    here, there = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=run_server, args=(amend(config, switch={"link": Address(*address)}), there)
    )
    server.start()
    client_address = await asyncio.get_running_loop().run_in_executor(None, here.recv)
    await drive(client_address, calls)
    here.send("stop")
    server.join()
    await listener.stop()


class Discard:
    def write(self, data: bytes) -> None:
        pass


def count_relay(recording: Path, repeats: int) -> None:
    """Feed the recorded frames to the relay *repeats* times, in 64 KiB reads."""
    data, monitors = pickle.loads(recording.read_bytes())
    relay = Relay(monitors)
    for dn in set(monitors.values()):
        relay.subscribers[dn] = [Discard()]  # type: ignore[list-item]
    for _ in range(repeats):
        for start in range(0, len(data), 1 << 16):
            relay.feed(data[start : start + (1 << 16)])


def inner(count: str, calls: int, recording: Path) -> None:
    import uvloop

    config = site(1)
    if count == "server":
        uvloop.run(count_server(config, calls, None))
    elif count == "pbxsim":
        uvloop.run(count_pbxsim(config, calls))
    else:
        count_relay(recording, calls)


# --- the driver ---------------------------------------------------------------------------------


def record(calls: int, recording: Path) -> float:
    """Record the frames the server reads in a native run of *calls*; events per call."""
    recorder = Recorder()
    recorder.install()
    monitors = asyncio.run(count_server(site(1), calls, recorder))
    recording.write_bytes(pickle.dumps((b"".join(recorder.chunks), monitors)))
    return count_events(b"".join(recorder.chunks)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--count", choices=["server", "pbxsim", "relay"], default="server")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--recording", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.inner:
        inner(arguments.count, arguments.calls, arguments.recording)
        return
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "frames"
        recorded_calls = 20
        events = record(recorded_calls, recording)
        calls = arguments.calls
        if arguments.count == "relay":  # repeats of the recording, not calls
            calls = max(1, calls // recorded_calls)
        counted = ("--inner", "--count", arguments.count, "--recording", str(recording))
        single = instructions(__file__, *counted, "--calls", str(calls))
        double = instructions(__file__, *counted, "--calls", str(2 * calls))
    per_call = (double - single) / calls
    if arguments.count == "relay":
        per_call /= recorded_calls
    print(f"counted:                   {arguments.count} (the other parts run natively)")
    print(f"CSTA events per call:      {events:.1f} (read by the server)")
    print(f"instructions per call:     {per_call:,.0f}")
    print(f"instructions per event:    {per_call / events:,.0f}")


if __name__ == "__main__":
    main()
