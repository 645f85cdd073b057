"""The `delay` of `<send>`: a CSS2 time value (REC 6.2.4), such as "500ms" or "1.5s".

Beyond CSS2's `ms` and `s`, the units `m`, `h` and `d` are accepted because strategies
written for other engines use them; a bare number has no unit and is refused.
"""

from __future__ import annotations

import re
from typing import Final

_DELAY: Final = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)\s*")
_SECONDS_PER_UNIT: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_delay(text: str) -> float:
    """Seconds in a delay such as "2s" or "250ms".  Raises ValueError."""
    match = _DELAY.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a delay such as '2s' or '250ms'")
    return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
