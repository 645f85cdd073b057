"""Benchmark: would a second process that reads the switch make the server faster?

Issue 16's last lever: move the reading of the switch's frames (framing, lxml, the
compiled readers: a third of the server's CPU under basic_calls) into a process of its
own that sends the decoded messages on.  This measures both sides of that trade on the
frames of a real run:

1. record: the basic_calls load through the server (relay_ceiling's server phase, pbxsim
   in its own process): the server's CPU per CSTA event, and every chunk it read from
   the switch.
2. in process: the recording read as the server's CSTA session reads it (frames cut,
   each document decoded by ctiserver.csta.codec), `--rounds` times: CPU per CSTA event.
3. offloaded: a decoder process reads the same chunks the same way and sends, per chunk,
   the decoded messages pickled in one write on a pipe; this process receives and
   unpickles them.  CPU per CSTA event on each side.

It prints the three, then what they make of the server: its CPU per event with the
reading moved out (the server's, less the decoding, plus the receiving), the decoder's,
and their sum; and, for the same share of a basic call, calls per second that one core
for the server would then carry.  Two processes split the work only if the receiving
costs much less than the decoding; on a machine of two cores the sum is what counts,
because pbxsim and the clients share them.

    ./dev bench decode_offload [--pairs 100] [--seconds 4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import time
from typing import Any

import uvloop
from relay_ceiling import count_events, server_phase

from ctiserver.csta import codec
from ctiserver.csta.framing import FrameBuffer
from ctiserver.csta.schema import Message


def read_chunks(chunks: list[bytes]) -> list[list[Message]]:
    """Each chunk's messages, read as the server's CSTA session reads them."""
    frames = FrameBuffer()
    read: list[list[Message]] = []
    for chunk in chunks:
        frames.feed(chunk)
        messages = []
        while (frame := frames.next_frame()) is not None:
            messages.append(codec.decode(frame.document))
        read.append(messages)
    return read


def in_process(chunks: list[bytes], rounds: int) -> float:
    """CPU seconds of one reading of the recording (the fastest of *rounds*)."""
    best = float("inf")
    for _ in range(rounds):
        cpu = time.process_time()
        read_chunks(chunks)
        best = min(best, time.process_time() - cpu)
    return best


def run_decoder(chunks: list[bytes], rounds: int, pipe: Any) -> None:
    """The decoder process: read every chunk and send its messages, *rounds* times."""
    spent = []
    for _ in range(rounds):
        pipe.recv()  # the receiver is ready
        cpu = time.process_time()
        frames = FrameBuffer()
        for chunk in chunks:
            frames.feed(chunk)
            messages = []
            while (frame := frames.next_frame()) is not None:
                messages.append(codec.decode(frame.document))
            pipe.send_bytes(pickle.dumps(messages, pickle.HIGHEST_PROTOCOL))
        spent.append(time.process_time() - cpu)
    pipe.send(min(spent))


def offloaded(chunks: list[bytes], rounds: int) -> tuple[float, float]:
    """CPU seconds of one reading offloaded: (this process receiving, the decoder)."""
    here, there = multiprocessing.Pipe()
    decoder = multiprocessing.get_context("spawn").Process(
        target=run_decoder, args=(chunks, rounds, there)
    )
    decoder.start()
    best = float("inf")
    for _ in range(rounds):
        here.send("ready")
        cpu = time.process_time()
        for _ in chunks:
            pickle.loads(here.recv_bytes())
        best = min(best, time.process_time() - cpu)
    decoder_cpu: float = here.recv()
    decoder.join()
    return best, decoder_cpu


def report(server: dict[str, Any], rounds: int) -> None:
    chunks = server["chunks"]
    events = count_events(server["recording"])
    per_event = 1e6 / events
    server_us = server["cpu"] * per_event
    decode_us = in_process(chunks, rounds) * per_event
    receive, decoder = offloaded(chunks, rounds)
    receive_us, decoder_us = receive * per_event, decoder * per_event
    main_us = server_us - decode_us + receive_us
    frames = sum(len(messages) for messages in read_chunks(chunks))
    print(f"calls, CSTA events, frames:    {server['calls']}, {events}, {frames}")
    print(f"chunks read from the switch:   {len(chunks)} ({frames / len(chunks):.1f} frames each)")
    print(f"server CPU per CSTA event:     {server_us:.1f} us (pbxsim in its own process)")
    print(f"  of which reading the switch: {decode_us:.1f} us ({decode_us / server_us:.0%})")
    print(
        f"offloaded, per CSTA event:     decoder {decoder_us:.1f} us, receiver {receive_us:.1f} us"
    )
    print(f"server with a decoder process: {main_us:.1f} us here + {decoder_us:.1f} us there")
    print(f"  one core's ceiling:          {server_us / main_us:.2f}x the server's today")
    print(f"  CPU of both, per event:      {(main_us + decoder_us) / server_us:.2f}x today")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    options = {"pairs": arguments.pairs, "seconds": arguments.seconds, "rate": 0.0}
    report(uvloop.run(server_phase(options)), arguments.rounds)


if __name__ == "__main__":
    main()
