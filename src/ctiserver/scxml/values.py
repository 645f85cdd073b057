"""Data as it travels between sessions, hosts and datamodels, independent of any engine.

A `Value` is JSON-shaped Python data plus two additions the ECMAScript datamodel needs:
`UNDEFINED` (ECMAScript's undefined, which JSON cannot express) and `XmlValue` (an XML
fragment, which becomes a DOM in the datamodel).  Event data, `<param>` values, donedata
and host globals are Values, so an event can cross from one session's QuickJS context into
another's, or out to the host, without sharing engine objects.

`content_value()` applies the ECMAScript datamodel's rules for literal content (REC B.2,
the `<data>` and `<content>` children): XML children make a DOM, text that is JSON makes
the corresponding object, and any other text is a whitespace-normalised string.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, TypeAlias

import orjson


class Undefined(enum.Enum):
    """ECMAScript's undefined: 'no value', as opposed to null.

    Its value is None so that, nested in a list or an object, it becomes JSON's null,
    as JSON.stringify does with undefined in an array.
    """

    UNDEFINED = None


UNDEFINED: Final = Undefined.UNDEFINED


@dataclass(frozen=True, slots=True)
class XmlValue:
    """An XML fragment used as data: one or more top-level nodes, serialised.

    Attributes:
        source: the fragment as XML text; namespaces are declared where they are used.
    """

    source: str


Value: TypeAlias = (
    bool | int | float | str | list["Value"] | dict[str, "Value"] | XmlValue | Undefined | None
)


def content_value(text: str, xml: XmlValue | None) -> Value:
    """The value of literal content, by the ECMAScript datamodel's rules.

    Args:
        text: the content's text, element children excluded.
        xml: the element children, when there are any.
    """
    if xml is not None:
        return xml
    try:
        parsed: Value = orjson.loads(text)
    except orjson.JSONDecodeError:
        # REC C.2: "the Processor MUST treat it as a space-normalized string".
        return " ".join(text.split())
    return parsed


def normalise_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim, as XML Schema's `token` does."""
    return " ".join(text.split())


def as_text(value: Value) -> str:
    """A Value as text, the way ECMAScript would show it: strings as they are, numbers as
    numbers, anything else much as JSON (for `<log>`, and where a string is needed).
    """
    match value:
        case str():
            return value
        case Undefined():
            return "undefined"
        case XmlValue(source=source):
            return source
        case bool() | None:
            return orjson.dumps(value).decode()
        case float() if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        case int() | float():
            return repr(value)
    try:
        return orjson.dumps(
            value, default=_log_default, option=orjson.OPT_PASSTHROUGH_DATACLASS
        ).decode()
    except orjson.JSONEncodeError:
        return repr(value)


def _log_default(value: object) -> object:
    if isinstance(value, XmlValue):
        return value.source
    raise TypeError(type(value).__name__)
