"""`<session:fetch>`, the Core Extension's web request (reference/orchestration.md § 1.2):
an HTTP request whose answer comes back as `session.fetch.done` or
`error.session.fetch`.  Pure: the element only reads its attributes and emits a
FetchRequest; the runtime performs it (web.py) and the core answers the session.

    <session:fetch requestid="_data.fid" srcexpr="'http://crm/customer?ani=' + ani"
                   method="get" timeout="5"/>

    src | srcexpr   the URL (http: or https:), literal or an expression; one is required
    method          get (default), post, put, patch or delete
    content         an expression: the request body; an object is sent as `enctype` says
    enctype         application/json (default) or application/x-www-form-urlencoded
    params          an object: added to the URL's query string
    headers         an object: request headers (text values)
    type            what the answer is: application/json, text/plain, or (default)
                    whatever its Content-Type says
    timeout         seconds for the whole exchange (default 10, at most 60)

    done:  session.fetch.done   requestid, status, content (JSON as data, else text)
    error: error.session.fetch  requestid, error (FetchError), description, and status
                                and content when the server answered

Rule: a wrong attribute raises ExecutionError (error.execution, nothing is sent);
anything that goes wrong with the exchange itself is `error.session.fetch`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlparse

import orjson

from ctiserver.scxml.actions import ActionContext
from ctiserver.scxml.datamodel import ExecutionError
from ctiserver.scxml.document import CustomAction, XmlElement
from ctiserver.scxml.effects import Effect
from ctiserver.scxml.values import UNDEFINED, Value, as_text

SESSION_NAMESPACES: Final = (
    "www.genesyslab.com/modules/session",
    "http://www.genesyslab.com/modules/session",
)
METHODS: Final = ("get", "post", "put", "patch", "delete")
ENCODINGS: Final = ("application/json", "application/x-www-form-urlencoded")
ANSWER_TYPES: Final = ("application/json", "text/plain")
DEFAULT_TIMEOUT: Final = 10.0
MAX_TIMEOUT: Final = 60.0
_LITERAL: Final = re.compile(r"[\w.:/+\-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchRequest(Effect):
    """An HTTP request a strategy asked for; `body` is already encoded."""

    request_id: str
    url: str
    method: str = "GET"
    body: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    answer_type: str | None = None
    timeout: float = DEFAULT_TIMEOUT


class FetchError(enum.StrEnum):
    """The `error` of error.session.fetch."""

    TIMEOUT = "timeout"  # no complete answer within `timeout`
    NETWORK = "network"  # no connection, or it broke
    STATUS = "status"  # an HTTP status other than 2xx (`status` and `content` say which)
    CONTENT = "content"  # the answer is not what `type` says, or is too large


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """How a FetchRequest went: `error` None and the answer, or an error."""

    request_id: str
    status: int = 0
    content: Value = None
    error: FetchError | None = None
    description: str = ""


class SessionElements:
    """The handler for the session namespace; `ids` makes the request ids."""

    def __init__(self, ids: Iterator[str]) -> None:
        self._ids = ids

    def __call__(self, action: CustomAction, context: ActionContext) -> None:
        if action.name != "fetch":
            raise ExecutionError(f"<{action.name}> (line {action.element.line}) is not supported")
        reader = _Reader(action.element, context)
        request = reader.fetch(next(self._ids))
        location = action.element.attribute("requestid")
        if location is not None:
            context.assign(location, request.request_id)
        context.emit(request)


class _Reader:
    def __init__(self, element: XmlElement, context: ActionContext) -> None:
        self.element = element
        self.context = context

    def fail(self, message: str) -> ExecutionError:
        return ExecutionError(f"<fetch> (line {self.element.line}): {message}")

    def fetch(self, request_id: str) -> FetchRequest:
        body, content_type = self._body()
        return FetchRequest(
            request_id=request_id,
            url=self._url(),
            method=self._choice("method", METHODS, "get").upper(),
            body=body,
            content_type=content_type,
            headers=tuple(self._object("headers").items()),
            answer_type=self._choice("type", ANSWER_TYPES, "") or None,
            timeout=self._timeout(),
        )

    def _url(self) -> str:
        literal, expr = self.element.attribute("src"), self.element.attribute("srcexpr")
        if (literal is None) == (expr is None):
            raise self.fail("give either src or srcexpr")
        url = literal if literal is not None else as_text(self.context.evaluate(expr or ""))
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise self.fail(f"{url!r} is not an http: or https: URL")
        params = self._object("params")
        if params:
            url += ("&" if parsed.query else "?") + urlencode(params)
        return url

    def _choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = self.element.attribute(name)
        if raw is None:
            return default
        # A bare word (get, application/json) is written as is; else it is an expression.
        text = raw if _LITERAL.fullmatch(raw) else as_text(self.context.evaluate(raw))
        if text.lower() not in choices:
            raise self.fail(f"{name} {text!r} is not one of {', '.join(choices)}")
        return text.lower()

    def _object(self, name: str) -> dict[str, str]:
        expr = self.element.attribute(name)
        if expr is None:
            return {}
        value = self.context.evaluate(expr)
        if not isinstance(value, dict):
            raise self.fail(f"{name} must be an object")
        return {key: as_text(item) for key, item in value.items() if item is not UNDEFINED}

    def _body(self) -> tuple[bytes | None, str | None]:
        expr = self.element.attribute("content")
        if expr is None:
            return None, None
        value = self.context.evaluate(expr)
        encoding = self._choice("enctype", ENCODINGS, "application/json")
        return _encode(value, encoding, self), encoding

    def _timeout(self) -> float:
        expr = self.element.attribute("timeout")
        if expr is None:
            return DEFAULT_TIMEOUT
        value = self.context.evaluate(expr)
        try:
            seconds = float(as_text(value))
        except ValueError:
            raise self.fail(
                f"timeout must be a number of seconds, not {as_text(value)!r}"
            ) from None
        if not 0 < seconds <= MAX_TIMEOUT:
            raise self.fail(f"timeout must be above 0 and at most {MAX_TIMEOUT:g} s")
        return seconds


def _encode(value: Value, encoding: str, reader: _Reader) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if encoding == "application/x-www-form-urlencoded":
        if not isinstance(value, dict):
            raise reader.fail("a form body must be an object or a string")
        return urlencode({k: as_text(v) for k, v in value.items()}).encode()
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise reader.fail(f"content cannot be sent as JSON: {exc}") from None
