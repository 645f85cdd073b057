"""A newcomer's session with the README, run for tests/test_readme.py.

    python tests/readme_session.py CHECKOUT

Runs every code block of CHECKOUT/README.md in order, the way the text tells a person to
(in CHECKOUT, a fresh copy of the repository), and prints one JSON object: a step per
block with what it showed.  It expects a network of its own (the test runs it under
`unshare --net`), since the README's ports are fixed: 7000 and 7080.

How each block is run, by its first line:
    ./dev run …           a server in the first terminal: started in the background
                          (the one before it is stopped with Ctrl-C, as the text says)
    ./dev test            not run here: it is this test suite
    ./dev shell           the second terminal: later commands run inside `./dev shell`
    $ nc …  (console)     typed: the lines below it go to nc, which is left with Ctrl-C
                          once every request is answered
    ctiserver trace …     followed for a moment, then left with Ctrl-C
    any other sh line     run, and must succeed
    python                saved under the name the text gives and run with `python NAME`
Anything else is an error: a new kind of snippet must be taught here.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

TIMEOUT = 120.0


def blocks(readme: str) -> list[tuple[str, str, str]]:
    """(language, code, the prose just before it) for every fenced block."""
    found = []
    for match in re.finditer(r"```(\w*)\n(.*?)```", readme, re.S):
        before = readme[: match.start()].rsplit("```", 1)[-1]
        found.append((match.group(1), match.group(2), before))
    return found


class Session:
    def __init__(self, checkout: Path) -> None:
        self.checkout = checkout
        self.server: subprocess.Popen[str] | None = None
        self.in_shell = False
        self.steps: list[dict[str, Any]] = []

    def shell(self, command: list[str]) -> list[str]:
        return ["./dev", "shell", *command] if self.in_shell else command

    def run_block(self, language: str, code: str, before: str) -> None:
        if language == "python":
            self.python(code, before)
        elif language == "console":
            self.typed(code)
        elif language == "sh":
            for line in code.strip().splitlines():
                self.run_line(line.split("#")[0].strip())
        else:
            raise SystemExit(f"the README has a snippet this session cannot run: {code!r}")

    def run_line(self, line: str) -> None:
        if line.startswith("./dev run"):
            self.start_server(line.split())
        elif line == "./dev test":
            self.steps.append({"block": line, "skipped": "the test suite itself"})
        elif line == "./dev shell":
            self.in_shell = True
            shown = self.command(["sh", "-c", "command -v ctiserver; command -v python"])
            self.steps.append({"block": line, "paths": shown.split()})
        elif line.startswith("ctiserver trace"):
            self.follow(line.split())
        else:
            output = self.command(line.split())
            self.steps.append({"block": line, "output": output, "calls": self.calls()})

    def command(self, argv: list[str]) -> str:
        done = subprocess.run(
            self.shell(argv), cwd=self.checkout, capture_output=True, text=True, timeout=TIMEOUT
        )
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def start_server(self, argv: list[str]) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGINT)  # Ctrl-C in the first terminal
            self.server.wait(TIMEOUT)
        self.server = subprocess.Popen(
            argv, cwd=self.checkout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.server.stdout is not None
        lines = []
        deadline = time.monotonic() + TIMEOUT
        while "listening http=127.0.0.1:7080" not in lines and time.monotonic() < deadline:
            lines.append(self.server.stdout.readline().strip())
        self.wait_for_link()
        self.steps.append({"block": " ".join(argv), "listening": lines})

    def wait_for_link(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:7080/healthz", timeout=5) as reply:
                    if json.loads(reply.read())["link"] == "up":
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server's link did not come up")

    def calls(self, *, settle: bool = True) -> int:
        """The calls on the site's DNs now (what the dashboard shows); with *settle*, once
        none is left (the parties' last events may follow the answer a script waited
        for), or after 10 s."""
        deadline = time.monotonic() + (10.0 if settle else 0.0)
        while True:
            with urllib.request.urlopen("http://127.0.0.1:7080/api/state", timeout=5) as reply:
                state = json.loads(reply.read())
            calls = len(state["calls"])
            if calls == 0 or time.monotonic() >= deadline:
                return calls
            time.sleep(0.05)

    def typed(self, code: str) -> None:
        prompt, *typed = code.strip().splitlines()
        argv = prompt.removeprefix("$ ").split()
        process = subprocess.Popen(
            self.shell(argv),
            cwd=self.checkout,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("".join(line + "\n" for line in typed))
        process.stdin.flush()
        answered: set[int] = set()
        events = []
        while answered != set(range(1, len(typed) + 1)):
            event = json.loads(process.stdout.readline())
            events.append(event)
            if "ReferenceID" in event:
                answered.add(event["ReferenceID"])
        process.send_signal(signal.SIGINT)  # Ctrl-C
        process.wait(TIMEOUT)
        self.steps.append({"block": prompt, "events": events, "calls": self.calls(settle=False)})

    def follow(self, argv: list[str]) -> None:
        process = subprocess.Popen(
            self.shell(argv), cwd=self.checkout, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        process.send_signal(signal.SIGINT)
        process.wait(TIMEOUT)
        self.steps.append({"block": " ".join(argv), "output": first})

    def python(self, code: str, before: str) -> None:
        named = re.findall(r"[Ss]ave\s+(?:this\s+)?as\s+`([\w.]+)`", before)
        if not named:
            raise SystemExit("a Python snippet without a file name to save it as")
        (self.checkout / named[-1]).write_text(code)
        output = self.command(["python", named[-1]])
        self.steps.append({"block": named[-1], "output": output, "calls": self.calls()})

    def close(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGINT)
            self.server.wait(TIMEOUT)


def main(checkout: Path) -> None:
    session = Session(checkout)
    try:
        for language, code, before in blocks((checkout / "README.md").read_text()):
            session.run_block(language, code, before)
    finally:
        session.close()
    print(json.dumps(session.steps))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
