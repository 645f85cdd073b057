"""The command line (docs/configuration.md, docs/logging.md): run, pbxsim, orchestrate,
scxml run, check-config, reload, phone, trace, hash-password.

Parsing arguments, setting up logging and signals, and choosing the event loop live
here; everything else is in app.service (the server) and the packages it wires.

An operator's mistake is one line on standard error that names the problem and what to
do, never a traceback: exit status 2 for a configuration that is wrong (including one
check-config would refuse), 1 for anything else that stops a command (a port taken, no
server answering).  `--log-level` and `--log-format` go before or after the command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import signal
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ctiserver.app import config as configuration
from ctiserver.app.config import Config
from ctiserver.app.validation import validate
from ctiserver.errors import ConfigError, StartupError
from ctiserver.logs import formats

log = logging.getLogger("ctiserver")


def version() -> str:
    try:
        return importlib.metadata.version("ctiserver")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        arguments.level, arguments.format = _log_choice(arguments)
        formats.configure(arguments.level or "info", arguments.format or "text")
        result: int = arguments.handler(arguments)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"ctiserver: configuration error: {line}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"ctiserver: {exc}", file=sys.stderr)
        return 1
    return result


def _log_choice(arguments: argparse.Namespace) -> tuple[str | None, str | None]:
    """The level and format the command line or the environment chose (None: neither)."""
    try:
        level = getattr(arguments, "log_level", None) or formats.from_environment(
            formats.LEVEL_VARIABLE, formats.LEVELS
        )
        format = getattr(arguments, "log_format", None) or formats.from_environment(
            formats.FORMAT_VARIABLE, formats.FORMATS
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return level, format


def _log_settings(arguments: argparse.Namespace) -> Callable[[Config], None]:
    """Applies a configuration's `[log]` level and format, unless the command line or the
    environment chose them: at start, and again at each reload."""

    def apply(config: Config) -> None:
        formats.configure(
            arguments.level or config.log.level or "info",
            arguments.format or config.log.format or "text",
        )

    return apply


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", choices=formats.LEVELS, default=argparse.SUPPRESS)
    common.add_argument("--log-format", choices=formats.FORMATS, default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="ctiserver",
        description="A CTI server for CSTA switches.",
        parents=[common],
        epilog=f"The log level may also come from {formats.LEVEL_VARIABLE}.",
    )
    parser.add_argument("--version", action="version", version=f"ctiserver {version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, **options: Any) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], **options)

    run = command(
        "run", help="the CTI server (with no --config: a demo site on an embedded pbxsim)"
    )
    run.add_argument("--config", type=Path)
    run.add_argument(
        "--orchestrate",
        action="store_true",
        help="embed the orchestration server (the demo: route-to-agent on routing point 5000)",
    )
    run.set_defaults(handler=_run)

    pbxsim = command("pbxsim", help="a simulated PBX alone, listening for CSTA links")
    pbxsim.add_argument("--config", type=Path)
    pbxsim.set_defaults(handler=_pbxsim)

    orchestrate = command(
        "orchestrate",
        help="the orchestration server alone (with no --config: the demo's, on 127.0.0.1:7000)",
    )
    orchestrate.add_argument("--config", type=Path)
    orchestrate.set_defaults(handler=_orchestrate)

    scxml = command("scxml", help="SCXML tools: scxml run DOC.scxml")
    scxml.add_argument("words", nargs=argparse.REMAINDER, metavar="run DOC.scxml")
    scxml.set_defaults(handler=_scxml)

    hashing = command(
        "hash-password",
        help="print the scrypt hash of a password read from standard input (or a prompt)",
    )
    hashing.set_defaults(handler=_hash_password)

    check = command(
        "check-config", help="validate a configuration file as `run` would at its start"
    )
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check_config)

    reload = command("reload", help="ask a running server to re-read its configuration")
    reload.add_argument("--config", type=Path, help="the running server's configuration file")
    reload.set_defaults(handler=_reload)

    trace = command(
        "trace",
        help="follow a running server's trace: every message in and out, as it happens",
    )
    trace.add_argument("--dn", action="append", default=[], help="only messages about this DN")
    trace.add_argument("--config", type=Path, help="the running server's configuration file")
    trace.add_argument("--http", metavar="HOST:PORT", help="the server's http-listen address")
    trace.add_argument("--json", action="store_true", help="print each record as JSON")
    trace.set_defaults(handler=_trace)

    phone = command(
        "phone",
        help="use a phone of a running server's embedded pbxsim",
        description="dial NUMBER, answer, hang-up, hold, retrieve [CALLID], account-code CODE",
    )
    phone.add_argument("station")
    phone.add_argument("action", choices=sorted(PHONE_ARGUMENTS))
    phone.add_argument(
        "value", nargs="?", help="the number, callID, code or digits the action needs"
    )
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
    validate(config, command="run")
    apply_log_settings = _log_settings(arguments)
    apply_log_settings(config)
    collector.starting()
    service = Service(config, on_log_settings=apply_log_settings)

    async def freeze_when_up() -> None:
        await service.runtime.link_ready.wait()
        collector.started()  # the monitors and the model of every DN

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, service.stop)
        loop.add_signal_handler(signal.SIGTERM, service.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(service.reload()))
        collector.freeze()  # the configuration and the DN table
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
    validate(config, command="pbxsim")
    _log_settings(arguments)(config)
    collector.starting()

    async def serve() -> None:
        task = asyncio.create_task(serve_standalone(config, started=collector.started))
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
    validate(config, command="orchestrate")
    _log_settings(arguments)(config)
    settings = config.orchestration
    assert settings is not None  # validate() says so otherwise

    from ctiserver.app.reload import key_name
    from ctiserver.app.security import http_settings, orchestration_tls

    server = OrchestrationServer(
        settings, tls=orchestration_tls(config), http=http_settings(config)
    )

    async def reload() -> None:
        if arguments.config is None:
            log.info("reload: the demo has no file to read")
            return
        try:
            fresh = _load(arguments.config).orchestration
        except ConfigError as exc:
            log.error("reload refused: %s", exc)
            return
        if fresh is not None:
            restart = [key_name(("orchestration", name)) for name in await server.reload(fresh)]
            if restart:
                log.warning("reload: %s need a restart of the server", ", ".join(restart))

    async def serve() -> None:
        task = asyncio.create_task(server.run())
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, task.cancel)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))
        with contextlib.suppress(asyncio.CancelledError):
            await task

    _run_loop(serve())
    return 0


def _scxml(arguments: argparse.Namespace) -> int:
    from ctiserver.scxml.command import main as scxml_main

    return scxml_main(list(arguments.words))


def _hash_password(arguments: argparse.Namespace) -> int:
    """`ctiserver hash-password`: one line, for `[application."NAME"] password-hash`."""
    from ctiserver.security.passwords import hash_password

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("an empty password is not a password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def _check_config(arguments: argparse.Namespace) -> int:
    config = configuration.load(arguments.file)
    validate(config, command="run")
    print(
        f"{arguments.file}: valid; {len(config.site.dns)} DNs, "
        f"{len(config.site.agent_logins)} agent logins"
    )
    return 0


def _reload(arguments: argparse.Namespace) -> int:
    config = _load(arguments.config)
    if config.server.http_listen is None:
        raise ConfigError("reload needs [server] http-listen; send SIGHUP to the server instead")
    answer = _post_json(config, f"{config.server.http_listen}/reload")
    if not answer.get("ok"):
        raise ConfigError(f"the server refused the reload, nothing changed: {answer.get('error')}")
    print(reload_summary(answer))
    return 0


def reload_summary(answer: dict[str, Any]) -> str:
    """A reload's answer as the lines an operator reads."""
    added, removed = answer.get("added", []), answer.get("removed", [])
    lines = [f"reloaded: {len(added)} DNs added, {len(removed)} removed"]
    if answer.get("applied"):
        lines.append("applied now: " + ", ".join(answer["applied"]))
    if answer.get("restart"):
        lines.append("changed, applied at the next restart: " + ", ".join(answer["restart"]))
    return "\n".join(lines)


def _trace(arguments: argparse.Namespace) -> int:
    from ctiserver.logs.follow import follow

    config = _load(arguments.config)
    http = arguments.http or config.server.http_listen
    if http is None:
        raise ConfigError("trace needs the server's [server] http-listen")
    tls, headers = _admin_credentials(config)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            follow(str(http), arguments.dn, as_json=arguments.json, tls=tls, headers=headers)
        )
    return 0


# The action's argument, by action: the body key it fills, and whether it is required.
PHONE_ARGUMENTS: dict[str, tuple[str, bool] | None] = {
    "dial": ("number", True),
    "answer": None,
    "hang-up": None,
    "hold": None,
    "retrieve": ("call", False),
    "account-code": ("code", True),
    "digits": ("digits", True),
}


def _phone(arguments: argparse.Namespace) -> int:
    config = _load(arguments.config)
    http = arguments.http or config.server.http_listen
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
    url = f"{http}/phone/{urllib.parse.quote(arguments.station)}"
    return _post(config, url, json.dumps(body).encode())


def _admin_credentials(config: Config) -> tuple[ssl.SSLContext | None, dict[str, str]]:
    """How to reach the server's admin endpoints as its configuration says: https with
    its CA when it listens on TLS, and its admin token when it has one (docs/security.md)."""
    from ctiserver.app.security import http_policy, outgoing_tls

    tls = outgoing_tls(config) if config.server.tls_cert is not None else None
    headers = {}
    if (token := http_policy(config).token) is not None:
        headers["Authorization"] = f"Bearer {token}"
    return tls, headers


def _admin_request(
    config: Config, where: str, body: bytes | None
) -> tuple[urllib.request.Request, ssl.SSLContext | None]:
    """A JSON POST to *where* (HOST:PORT/PATH), and the TLS context to send it with."""
    tls, headers = _admin_credentials(config)
    url = f"{'https' if tls else 'http'}://{where}"
    headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body or b"{}", method="POST", headers=headers)
    return request, tls


def _post(config: Config, where: str, body: bytes | None) -> int:
    """POST *body* to the server at *where* (HOST:PORT/PATH); print its answer."""
    request, tls = _admin_request(config, where, body)
    try:
        with urllib.request.urlopen(request, timeout=10, context=tls) as reply:
            print(reply.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except urllib.error.URLError as exc:
        raise StartupError(
            f"no server answers at {request.full_url}: {exc.reason}; is it running?"
        ) from None
    return 1


def _post_json(config: Config, where: str) -> dict[str, Any]:
    """POST to the server at *where*; its JSON answer, whatever the status."""
    request, tls = _admin_request(config, where, None)
    try:
        with urllib.request.urlopen(request, timeout=30, context=tls) as reply:
            answer: dict[str, Any] = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        answer = json.loads(exc.read() or b"{}")
    except urllib.error.URLError as exc:
        raise StartupError(
            f"no server answers at {request.full_url}: {exc.reason}; is it running?"
        ) from None
    return answer


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
