"""The command line (DESIGN.md § 2): run, pbxsim, orchestrate, scxml run, check-config,
reload, phone.

Parsing arguments, setting up logging and signals, and choosing the event loop live
here; everything else is in app.service (the server) and the packages it wires.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.errors import ConfigError

log = logging.getLogger("ctiserver")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, arguments.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        result: int = arguments.handler(arguments)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctiserver", description="A CTI server for CSTA switches."
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="the CTI server (with no --config: a demo site on an embedded pbxsim)"
    )
    run.add_argument("--config", type=Path)
    run.add_argument(
        "--orchestrate",
        action="store_true",
        help="embed the orchestration server (the demo: route-to-agent on routing point 5000)",
    )
    run.set_defaults(handler=_run)

    pbxsim = commands.add_parser("pbxsim", help="a simulated PBX alone, listening for CSTA links")
    pbxsim.add_argument("--config", type=Path)
    pbxsim.set_defaults(handler=_pbxsim)

    orchestrate = commands.add_parser(
        "orchestrate",
        help="the orchestration server alone (with no --config: the demo's, on 127.0.0.1:7000)",
    )
    orchestrate.add_argument("--config", type=Path)
    orchestrate.set_defaults(handler=_orchestrate)

    scxml = commands.add_parser("scxml", help="SCXML tools: scxml run DOC.scxml")
    scxml.add_argument("words", nargs=argparse.REMAINDER, metavar="run DOC.scxml")
    scxml.set_defaults(handler=_scxml)

    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check_config)

    reload = commands.add_parser("reload", help="ask a running server to re-read its configuration")
    reload.add_argument("--config", type=Path, help="the running server's configuration file")
    reload.set_defaults(handler=_reload)

    phone = commands.add_parser(
        "phone",
        help="use a phone of a running server's embedded pbxsim",
        description="dial NUMBER, answer, hang-up, hold, retrieve [CALLID], account-code CODE",
    )
    phone.add_argument("station")
    phone.add_argument("action", choices=sorted(PHONE_ARGUMENTS))
    phone.add_argument("value", nargs="?", help="the number, callID or code the action needs")
    phone.add_argument("--config", type=Path, help="the running server's configuration file")
    phone.add_argument("--http", metavar="HOST:PORT", help="the server's http-listen address")
    phone.set_defaults(handler=_phone)
    return parser


def _load(path: Path | None) -> Config:
    return configuration.demo() if path is None else configuration.load(path)


def _run(arguments: argparse.Namespace) -> int:
    from ctiserver.app import collector
    from ctiserver.app.service import Service

    config = _load(arguments.config)
    if arguments.orchestrate:
        config = configuration.with_orchestration(config)
    collector.tune()
    service = Service(config)

    async def freeze_when_up() -> None:
        await service.runtime.link_ready.wait()
        collector.freeze_long_lived()  # the monitors and the model of every DN

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, service.stop)
        loop.add_signal_handler(signal.SIGTERM, service.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(service.reload()))
        collector.freeze_long_lived()  # the configuration and the DN table
        frozen = loop.create_task(freeze_when_up())
        try:
            await service.run()
        finally:
            frozen.cancel()

    _run_loop(serve())
    return 0


def _pbxsim(arguments: argparse.Namespace) -> int:
    from ctiserver.app import collector
    from ctiserver.app.embedded import serve_standalone

    config = _load(arguments.config)
    collector.tune()

    async def serve() -> None:
        task = asyncio.create_task(serve_standalone(config, started=collector.freeze_long_lived))
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    _run_loop(serve())
    return 0


def _orchestrate(arguments: argparse.Namespace) -> int:
    from ctiserver.orchestration.runtime import OrchestrationServer

    config = _load(arguments.config)
    if arguments.config is None:
        config = configuration.with_orchestration(config)
    settings = config.orchestration
    if settings is None:
        raise ConfigError(f"{arguments.config}: there is no [orchestration] section")
    if not settings.servers:
        raise ConfigError(f"{arguments.config}: [orchestration] servers names no CTI server")

    async def serve() -> None:
        task = asyncio.create_task(OrchestrationServer(settings).run())
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    _run_loop(serve())
    return 0


def _scxml(arguments: argparse.Namespace) -> int:
    from ctiserver.scxml.command import main as scxml_main

    return scxml_main(list(arguments.words))


def _check_config(arguments: argparse.Namespace) -> int:
    config = configuration.load(arguments.file)
    print(
        f"{arguments.file}: valid; {len(config.dns)} DNs, {len(config.agent_logins)} agent logins"
    )
    return 0


def _reload(arguments: argparse.Namespace) -> int:
    config = _load(arguments.config)
    if config.http_listen is None:
        print(
            "reload needs [server] http-listen; send SIGHUP to the server instead", file=sys.stderr
        )
        return 2
    return _post(f"http://{config.http_listen}/reload", None)


# The action's argument, by action: the body key it fills, and whether it is required.
PHONE_ARGUMENTS: dict[str, tuple[str, bool] | None] = {
    "dial": ("number", True),
    "answer": None,
    "hang-up": None,
    "hold": None,
    "retrieve": ("call", False),
    "account-code": ("code", True),
}


def _phone(arguments: argparse.Namespace) -> int:
    http = arguments.http or _load(arguments.config).http_listen
    if http is None:
        print("phone needs the server's [server] http-listen", file=sys.stderr)
        return 2
    body: dict[str, str] = {"action": arguments.action}
    argument = PHONE_ARGUMENTS[arguments.action]
    if argument is not None and arguments.value is not None:
        body[argument[0]] = arguments.value
    elif argument is not None and argument[1]:
        print(f"{arguments.action} needs its {argument[0]}", file=sys.stderr)
        return 2
    url = f"http://{http}/phone/{urllib.parse.quote(arguments.station)}"
    return _post(url, json.dumps(body).encode())


def _post(url: str, body: bytes | None) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            print(reply.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except urllib.error.URLError as exc:
        print(f"no server answers at {url}: {exc.reason}", file=sys.stderr)
    return 1


def _run_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed, else on the standard loop."""
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        try:
            runner.run(coroutine)
        except KeyboardInterrupt:
            log.info("interrupted")


if __name__ == "__main__":
    sys.exit(main())
