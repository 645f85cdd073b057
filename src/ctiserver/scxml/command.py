"""`ctiserver scxml run DOC.scxml`: run one document to completion on a virtual clock.

The document runs until it reaches a top-level final state; delayed sends fire in
virtual time, so a document that waits an hour finishes at once.  The command prints
`final: <id>` and exits 0 when a top-level final state was reached; otherwise it says
why on stderr and exits 1 (the document stopped without one) or 2 (it could not be
loaded).  `<log>` output and platform errors go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ctiserver.scxml.document import DocumentError
from ctiserver.scxml.driver import Driver, EffectHandler
from ctiserver.scxml.effects import Effect, PlatformError, WriteLog
from ctiserver.scxml.loader import load_document

EXIT_FINAL = 0
EXIT_NO_FINAL = 1
EXIT_BAD_DOCUMENT = 2


def main(argv: list[str]) -> int:
    """Run `ctiserver scxml ARGV`; returns the exit status."""
    arguments = _parser().parse_args(argv)
    return run(arguments.document, timeout=arguments.timeout, quiet=arguments.quiet)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctiserver scxml", description="SCXML tools")
    commands = parser.add_subparsers(dest="command", required=True)
    run_command = commands.add_parser(
        "run", help="run one SCXML document to completion and print its final state"
    )
    run_command.add_argument("document", help="the SCXML file")
    run_command.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="seconds of virtual time to wait for a final state (default 3600)",
    )
    run_command.add_argument(
        "--quiet", action="store_true", help="do not print <log> output and errors"
    )
    return parser


def run(path: str, *, timeout: float = 3600.0, quiet: bool = False) -> int:
    """Run the document at *path*; print its final state.  Returns the exit status."""
    try:
        document = load_document(path)
    except DocumentError as exc:
        print(f"ctiserver scxml: {path}: {exc}", file=sys.stderr)
        return EXIT_BAD_DOCUMENT
    driver = Driver(on_effect=None if quiet else _printer(sys.stderr))
    session = driver.start(document)
    ended = driver.run_until_done(session.session_id, timeout=timeout)
    if ended is None:
        waiting = "its timeout passed" if driver.next_due() is not None else "nothing is scheduled"
        print(
            f"ctiserver scxml: {path}: no final state reached; it waits for events and {waiting}",
            file=sys.stderr,
        )
        return EXIT_NO_FINAL
    if ended.final is None:
        print(f"ctiserver scxml: {path}: the session ended: {ended.reason}", file=sys.stderr)
        return EXIT_NO_FINAL
    print(f"final: {ended.final}")
    return EXIT_FINAL


def _printer(stream: TextIO) -> EffectHandler:
    def show(session_id: str, effect: Effect) -> None:
        match effect:
            case WriteLog(label=label, text=text):
                print(f"log {label}: {text}" if label else f"log: {text}", file=stream)
            case PlatformError(event=event, message=message):
                print(f"{event}: {message}", file=stream)

    return show
