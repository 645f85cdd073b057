"""Benchmark: the server's CPU per CSTA event against a bare relay's, on the same frames.

Two phases in one run:

1. server: the basic_calls workload (`--pairs` caller/callee pairs, one T-Library client
   per DN, as fast as they can for `--seconds`) through the server in this process, with
   pbxsim in a process of its own.  Every byte the server reads from the switch is
   recorded.  The server's CPU time over the run, divided by the CSTA events it read,
   is its CPU per CSTA event (its whole work: the clients' requests, the model, the
   fan-out).
2. relay: the recording is replayed into a bare relay written here, in a process of
   its own: it cuts the ECMA-323 frames, parses each document with lxml (hardened as
   the server's parser is), and writes one JSON line per event (the event's name and
   its elements, a sequence number and the time) to the subscriber of the event's
   monitored DN (one subscriber per DN, as the server has one client per DN in this
   workload), batching its writes per read as the server does.  No model, no
   requests.  Its CPU time divided by the same count of events is the relay's.

It prints both, and the ratio (server / relay).

    ./dev bench relay_ceiling [--pairs 100] [--seconds 10] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import struct
import time
from typing import Any

import orjson
from basic_calls import bench_config as site
from basic_calls import run_clients
from lxml import etree
from probe import running, switch_for

from ctiserver.csta.session import CstaSession

HEADER = struct.Struct(">HH4s")
EVENT = b"9999"
PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


# --- the relay (its own process) ------------------------------------------------------------


class Relay:
    """Frames in, one JSON line per event out to the subscriber of the event's DN."""

    def __init__(self, monitors: dict[str, str]) -> None:
        self.monitors = monitors  # monitorCrossRefID -> DN
        self.subscribers: dict[str, list[asyncio.Transport]] = {}
        self.pending: dict[asyncio.Transport, list[bytes]] = {}
        self.buffer = bytearray()
        self.events = 0
        self.sequence = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        buffer = self.buffer
        start = 0
        while len(buffer) - start >= 8:
            _, length, invoke_id = HEADER.unpack_from(buffer, start)
            if len(buffer) - start < length:
                break
            document = bytes(buffer[start + 8 : start + length])
            start += length
            root = etree.fromstring(document, PARSER)
            if invoke_id == EVENT:
                self.relay(root)
        del buffer[:start]
        self.flush()

    def relay(self, root: Any) -> None:
        self.events += 1
        self.sequence += 1
        line: dict[str, Any] = {"Event": root.tag.rpartition("}")[2]}
        for child in root:
            name = child.tag.rpartition("}")[2]
            if len(child):
                line[name] = {leaf.tag.rpartition("}")[2]: leaf.text for leaf in child}
            else:
                line[name] = child.text
        line["EventSequenceNumber"] = self.sequence
        line["time"] = time.time()
        data = orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
        for transport in self.subscribers.get(self.monitors.get(line["monitorCrossRefID"], ""), ()):
            self.pending.setdefault(transport, []).append(data)

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for transport, lines in pending.items():
            transport.write(b"".join(lines))


class SubscriberSide(asyncio.Protocol):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        dn = data.decode().strip()
        self.relay.subscribers.setdefault(dn, []).append(self.transport)  # type: ignore[arg-type]


class SwitchSide(asyncio.Protocol):
    def __init__(self, relay: Relay, done: asyncio.Future[None]) -> None:
        self.relay, self.done = relay, done

    def data_received(self, data: bytes) -> None:
        self.relay.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.done.set_result(None)


def run_relay(monitors: dict[str, str], loop_name: str, channel: Any) -> None:
    runner = asyncio.Runner(loop_factory=_loop_factory(loop_name))
    with runner:
        runner.run(_relay(monitors, channel))


async def _relay(monitors: dict[str, str], channel: Any) -> None:
    loop = asyncio.get_running_loop()
    relay = Relay(monitors)
    done: asyncio.Future[None] = loop.create_future()
    subscribers = await loop.create_server(lambda: SubscriberSide(relay), "127.0.0.1", 0)
    switch = await loop.create_server(lambda: SwitchSide(relay, done), "127.0.0.1", 0)
    channel.send((subscribers.sockets[0].getsockname()[:2], switch.sockets[0].getsockname()[:2]))
    await loop.run_in_executor(None, channel.recv)  # every subscriber is connected
    cpu = time.process_time()
    channel.send("ready")
    await done
    cpu = time.process_time() - cpu
    for transports in relay.subscribers.values():
        for transport in transports:
            transport.close()
    channel.send({"cpu": cpu, "events": relay.events})


def run_subscribers(address: tuple[str, int], dns: list[str], channel: Any) -> None:
    import uvloop

    uvloop.run(_subscribers(address, dns, channel))


async def _subscribers(address: tuple[str, int], dns: list[str], channel: Any) -> None:
    streams = [await asyncio.open_connection(*address) for _ in dns]
    for (_, writer), dn in zip(streams, dns, strict=True):
        writer.write(dn.encode() + b"\n")
        await writer.drain()
    channel.send("connected")

    async def count(reader: asyncio.StreamReader) -> int:
        lines = 0
        while line := await reader.readline():
            lines += line.endswith(b"\n")
        return lines

    channel.send(sum(await asyncio.gather(*(count(reader) for reader, _ in streams))))


# --- the two phases (this process) ----------------------------------------------------------


class Recorder:
    """Keeps every chunk the server's CSTA session is fed while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.chunks: list[bytes] = []

    def install(self) -> None:
        recorder, receive = self, CstaSession.receive_data

        def recorded(session: CstaSession, data: bytes) -> None:
            if recorder.on and data:
                recorder.chunks.append(data)
            receive(session, data)

        CstaSession.receive_data = recorded  # type: ignore[method-assign]


def count_events(recording: bytes) -> int:
    events, start = 0, 0
    while start + 8 <= len(recording):
        _, length, invoke_id = HEADER.unpack_from(recording, start)
        events += invoke_id == EVENT
        start += length
    return events


async def server_phase(options: dict[str, Any]) -> dict[str, Any]:
    recorder = Recorder()
    recorder.install()
    with switch_for(site(options["pairs"]), "process") as (config, _):
        async with running(config) as service:
            assert service.runtime.link is not None
            monitors = {ref: dn for dn, ref in service.runtime.link.monitored.items()}
            receive, send = multiprocessing.Pipe(duplex=False)
            child = multiprocessing.get_context("spawn").Process(
                target=run_clients, args=(service.client_address, options, send)
            )
            recorder.on = True
            cpu = time.process_time()
            child.start()
            result = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
            cpu = time.process_time() - cpu
            recorder.on = False
            child.join()
    recording = b"".join(recorder.chunks)
    return {
        "chunks": recorder.chunks,
        "cpu": cpu,
        "calls": result["calls"],
        "events": count_events(recording),
        "recording": recording,
        "monitors": monitors,
    }


def relay_phase(server: dict[str, Any], loop_name: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    relay_end, here = multiprocessing.Pipe()
    relay = context.Process(target=run_relay, args=(server["monitors"], loop_name, relay_end))
    relay.start()
    subscriber_address, switch_address = here.recv()
    subscriber_end, subscribers_here = multiprocessing.Pipe()
    dns = sorted(set(server["monitors"].values()))
    subscribers = context.Process(
        target=run_subscribers, args=(subscriber_address, dns, subscriber_end)
    )
    subscribers.start()
    assert subscribers_here.recv() == "connected"
    here.send("go")
    assert here.recv() == "ready"
    with socket.create_connection(switch_address) as switch:
        switch.sendall(server["recording"])
    result: dict[str, Any] = here.recv()
    result["lines"] = subscribers_here.recv()
    relay.join()
    subscribers.join()
    return result


def report(options: dict[str, Any], server: dict[str, Any], relay: dict[str, Any]) -> None:
    events = server["events"]
    server_us = server["cpu"] / events * 1e6
    relay_us = relay["cpu"] / relay["events"] * 1e6
    print(f"pairs (clients = DNs):         {options['pairs']} ({2 * options['pairs']})")
    print(f"calls:                         {server['calls']}")
    print(f"CSTA events (same frames):     {events} server, {relay['events']} relay")
    print(f"JSON lines the relay wrote:    {relay['lines']}")
    print(f"server CPU per CSTA event:     {server_us:.1f} us (pbxsim in its own process)")
    print(f"relay CPU per CSTA event:      {relay_us:.1f} us")
    print(f"ratio server / relay:          {server_us / relay_us:.2f}")


def _loop_factory(name: str) -> Any:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    arguments = parser.parse_args()
    options = {"pairs": arguments.pairs, "seconds": arguments.seconds, "rate": 0.0}
    print(f"event loop:                    {arguments.loop}")
    with asyncio.Runner(loop_factory=_loop_factory(arguments.loop)) as runner:
        server = runner.run(server_phase(options))
    relay = relay_phase(server, arguments.loop)
    report(options, server, relay)


if __name__ == "__main__":
    main()
