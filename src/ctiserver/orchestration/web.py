"""The orchestration server's HTTP client (aiohttp): strategies at http(s) URLs, and the
requests of `<session:fetch>`.  An asyncio shell; what to fetch and what the answer
means to a session is decided elsewhere (web_elements.py, core.py).

Rule 1: every exchange has a time limit and a size limit (MAX_ANSWER_BYTES); what goes
past either is an error, never a stall.
Rule 2: a FetchRequest always ends in one FetchResult; nothing here raises for a bad
answer or a broken connection.
"""

from __future__ import annotations

import asyncio
from typing import Final

import aiohttp
import orjson

from ctiserver.orchestration.web_elements import FetchError, FetchRequest, FetchResult
from ctiserver.scxml.document import Document, DocumentError
from ctiserver.scxml.parser import parse_document
from ctiserver.scxml.values import Value

MAX_ANSWER_BYTES: Final = 1 << 20
STRATEGY_TIMEOUT: Final = 10.0


async def fetch(web: aiohttp.ClientSession, request: FetchRequest) -> FetchResult:
    """Perform *request* (Rule 2)."""
    headers = dict(request.headers)
    if request.content_type is not None:
        headers.setdefault("Content-Type", request.content_type)
    try:
        async with asyncio.timeout(request.timeout):
            async with web.request(
                request.method, request.url, data=request.body, headers=headers
            ) as response:
                body = await _read(response)
                kind = response.headers.get("Content-Type", "")
                status = response.status
    except TimeoutError:
        return _failed(request, FetchError.TIMEOUT, f"no answer in {request.timeout:g} s")
    except _TooLarge:
        return _failed(request, FetchError.CONTENT, f"the answer is over {MAX_ANSWER_BYTES} bytes")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return _failed(request, FetchError.NETWORK, f"{request.url}: {exc}")
    return _answer(request, status, kind, body)


def _answer(request: FetchRequest, status: int, kind: str, body: bytes) -> FetchResult:
    try:
        content = _content(request.answer_type, kind, body)
    except ValueError as exc:
        return FetchResult(
            request_id=request.request_id,
            status=status,
            content=body.decode("utf-8", "replace"),
            error=FetchError.CONTENT,
            description=str(exc),
        )
    if not 200 <= status < 300:
        return FetchResult(
            request_id=request.request_id,
            status=status,
            content=content,
            error=FetchError.STATUS,
            description=f"HTTP {status} from {request.url}",
        )
    return FetchResult(request_id=request.request_id, status=status, content=content)


def _content(wanted: str | None, kind: str, body: bytes) -> Value:
    """The answer as data: JSON when asked for or labelled so, text otherwise."""
    json = wanted == "application/json" or (wanted is None and "json" in kind.lower())
    if json:
        try:
            value: Value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the answer is not JSON: {exc}") from None
        return value
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the answer is not UTF-8 text") from None


def _failed(request: FetchRequest, error: FetchError, description: str) -> FetchResult:
    return FetchResult(request_id=request.request_id, error=error, description=description)


class _TooLarge(Exception):
    pass


async def _read(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_document(web: aiohttp.ClientSession, url: str) -> Document:
    """The strategy at an http(s) URL.  Raises DocumentError, naming the URL and why.

    A strategy read over HTTP reads nothing else: its `<data src>` and `<script src>`
    are unreachable (REC: error.execution when the data is bound).
    """
    try:
        async with asyncio.timeout(STRATEGY_TIMEOUT):
            async with web.get(url) as response:
                body = await _read(response)
                if response.status != 200:
                    raise DocumentError(f"cannot read {url}: HTTP {response.status}")
    except TimeoutError:
        raise DocumentError(f"cannot read {url}: no answer in {STRATEGY_TIMEOUT:g} s") from None
    except _TooLarge:
        raise DocumentError(f"cannot read {url}: over {MAX_ANSWER_BYTES} bytes") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise DocumentError(f"cannot read {url}: {exc}") from None
    return parse_document(body, base_url=url)
