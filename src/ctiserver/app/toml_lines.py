"""Where a key sits in a TOML file, so that a configuration error can name its line.

tomllib gives values but not positions.  KeyLines reads the text once, following table
headers (`[a."b"]`) and `key = value` lines, and remembers the line of each key path.
"""

from __future__ import annotations

import re
import tomllib

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r'^\s*("[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=')


class KeyLines:
    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                table = _table_path(header.group(1))
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, _unquote(key.group(1))), number)

    def line(self, *path: str) -> int | None:
        """The line of *path*, or of its nearest enclosing table."""
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None


def _table_path(header: str) -> tuple[str, ...]:
    try:
        parsed = tomllib.loads(f"[{header}]")
    except tomllib.TOMLDecodeError:
        return (header,)
    path: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        path.append(key)
    return tuple(path)


def _unquote(key: str) -> str:
    if key[:1] in "\"'":
        return key[1:-1]
    return key
