"""How the server's log looks, and where its level comes from.

Two formats, chosen with `--log-format`, `CTISERVER_LOG_FORMAT` or `[log] format`:

    text   2026-11-21 09:30:00.123 INFO ctiserver.link.supervisor: message [ConnID=… DN=7001]
    json   {"time":"2026-11-21T09:30:00.123456Z","level":"INFO","logger":"…","message":"…",
            "ConnID":"…","DN":"7001"}            (one object per line, for log shippers)

The level comes from `--log-level` (before or after the command), else
`CTISERVER_LOG_LEVEL`, else `[log] level`, else info.  configure() may be called again
(a reload changes the level or the format live).  Every handler gets the context filter
(logs.context) so that lines about a call carry its ConnID, DN and client.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
from typing import Any, Final, TextIO

import orjson

from ctiserver.logs.context import LABELS, ContextFilter

LEVELS: Final = ("debug", "info", "warning", "error")
FORMATS: Final = ("text", "json")
LEVEL_VARIABLE: Final = "CTISERVER_LOG_LEVEL"
FORMAT_VARIABLE: Final = "CTISERVER_LOG_FORMAT"


def from_environment(variable: str, choices: tuple[str, ...]) -> str | None:
    """The environment's choice, or None; a value that is not a choice is an error."""
    value = os.environ.get(variable, "").strip().lower()
    if not value:
        return None
    if value not in choices:
        raise ValueError(f"{variable}={value!r} is not one of {', '.join(choices)}")
    return value


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s")
        self.default_time_format = "%Y-%m-%d %H:%M:%S"
        self.default_msec_format = None  # msecs are in the format

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context: dict[str, str] = getattr(record, "context", None) or {}
        if context:
            fields = " ".join(f"{LABELS[name]}={value}" for name, value in context.items())
            first, newline, rest = text.partition("\n")
            text = f"{first} [{fields}]{newline}{rest}"
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context: dict[str, str] = getattr(record, "context", None) or {}
        body.update((LABELS[name], value) for name, value in context.items())
        fields: dict[str, Any] | None = getattr(record, "fields", None)
        if fields:
            body.update(fields)
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(body, default=str).decode()


def _utc(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def configure(level: str = "info", format: str = "text", *, stream: TextIO | None = None) -> None:
    """Send the log to *stream* (standard error) at *level* in *format*; again to change."""
    root = logging.getLogger()
    handler = _our_handler(root)
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.addFilter(ContextFilter())
        handler.set_name("ctiserver")
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    root.setLevel(getattr(logging, level.upper()))


def _our_handler(root: logging.Logger) -> logging.StreamHandler[TextIO] | None:
    for handler in root.handlers:
        if handler.get_name() == "ctiserver" and isinstance(handler, logging.StreamHandler):
            return handler
    return None
