"""Reading a TOML configuration's values: the Reader, whose every error names the file,
the key's line and the key, and the parsers of each kind of value a key may hold.

    reader = Reader(tomllib.loads(text), text, path)
    number(minimum=0.05)(reader, value, ("switch", "reply-timeout"))
    -> ConfigError("site.toml:12: [switch] reply-timeout must be a number of at least 0.05")

A parser takes the reader, the value and where it sits (the section, its tables and the
key) and returns the value typed, or raises reader.fail(…).  Which key takes which
parser is app.schema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctiserver.app.toml_lines import KeyLines
from ctiserver.doors.address import Address
from ctiserver.errors import ConfigError

MAX_RANGE = 100_000

Where = tuple[str, ...]


class Reader:
    """Reads one file's values, raising ConfigError that names the key's line."""

    def __init__(self, data: dict[str, Any], text: str, path: Path | None) -> None:
        self.data = data
        self.lines = KeyLines(text)
        self.path = path

    def fail(self, message: str, *where: str) -> ConfigError:
        line = self.lines.line(*where)
        place = str(self.path) if self.path else "<configuration>"
        if line is not None:
            place += f":{line}"
        return ConfigError(f"{place}: {message}")

    def table(self, *where: str) -> dict[str, Any]:
        """The table at *where* (empty when absent); an error when it is not a table."""
        value: Any = self.data
        for key in where:
            value = value.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"[{'.'.join(where)}] must be a table", *where)
        return value

    def unknown(self, key: str, *where: str) -> ConfigError:
        """The error of a key the table at *where* does not take."""
        return self.fail(f"unknown key {key!r} in [{'.'.join(where)}]", *where, key)


Parser = Callable[[Reader, Any, Where], Any]


def key_name(where: Where) -> str:
    """`("switch", "reply-timeout")` -> `[switch] reply-timeout`, as errors name keys."""
    return "[" + ".".join(where[:-1]) + "] " + where[-1] if len(where) > 1 else where[0]


def string(choices: tuple[str, ...] = ()) -> Parser:
    def parse(reader: Reader, value: Any, where: Where) -> str:
        if not isinstance(value, str):
            raise reader.fail(f"{key_name(where)} must be a string", *where)
        if choices and value not in choices:
            raise reader.fail(f"{key_name(where)} must be one of {', '.join(choices)}", *where)
        return value

    return parse


def number(*, minimum: float = 0, integer: bool = False) -> Parser:
    def parse(reader: Reader, value: Any, where: Where) -> float:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
            kind = "an integer" if integer else "a number"
            raise reader.fail(f"{key_name(where)} must be {kind} of at least {minimum:g}", *where)
        return value

    return parse


def bounded(minimum: float, maximum: float) -> Parser:
    at_least = number(minimum=minimum)

    def parse(reader: Reader, value: Any, where: Where) -> float:
        read: float = at_least(reader, value, where)
        if read > maximum:
            raise reader.fail(f"{key_name(where)} must be at most {maximum:g}", *where)
        return read

    return parse


def boolean(reader: Reader, value: Any, where: Where) -> bool:
    if not isinstance(value, bool):
        raise reader.fail(f"{key_name(where)} must be true or false", *where)
    return value


def address(reader: Reader, value: Any, where: Where) -> Address:
    match = re.fullmatch(r"(\[[^\]]+\]|[^:]+):(\d{1,5})", value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) > 65535:
        raise reader.fail(f'{key_name(where)} must be "HOST:PORT", got {value!r}', *where)
    return Address(match.group(1).strip("[]"), int(match.group(2)))


def optional_address(reader: Reader, value: Any, where: Where) -> Address | None:
    """An address, or "" for none."""
    if value == "":
        return None
    return address(reader, value, where)


def path(reader: Reader, value: Any, where: Where) -> Path:
    """A file's path, relative to the configuration file's folder unless absolute."""
    found = Path(string()(reader, value, where))
    if not found.is_absolute() and reader.path is not None:
        found = reader.path.parent / found
    return found


def strings(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise reader.fail(f"{key_name(where)} must be a list of strings", *where)
    return tuple(value)


def listed(reader: Reader, value: Any, where: Where) -> list[Any]:
    if not isinstance(value, list):
        raise reader.fail(f"{key_name(where)} must be a list", *where)
    return value


def numbers(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    """A list of numbers and inclusive ranges such as "7001-7010"."""
    if not isinstance(value, list):
        raise reader.fail(f"{key_name(where)} must be a list of numbers or ranges", *where)
    found: list[str] = []
    for item in value:
        found += _expand(reader, item, where)
    return tuple(found)


def _expand(reader: Reader, item: Any, where: Where) -> list[str]:
    text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
    if not isinstance(text, str):
        raise reader.fail(f"{key_name(where)}: {item!r} is not a number or a range", *where)
    match = re.fullmatch(r"(\d+)-(\d+)", text)
    if match is None:
        if not re.fullmatch(r"[0-9*#]+", text):
            raise reader.fail(f"{key_name(where)}: {text!r} is not a number or a range", *where)
        return [text]
    first, last = match.groups()
    if len(first) != len(last) or int(first) > int(last):
        raise reader.fail(
            f"{key_name(where)}: range {text!r} must go up, with equal widths", *where
        )
    if int(last) - int(first) >= MAX_RANGE:
        raise reader.fail(f"{key_name(where)}: range {text!r} is larger than {MAX_RANGE}", *where)
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
