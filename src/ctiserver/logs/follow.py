"""`ctiserver trace [--dn N]…`: follow a running server's trace (http.trace) and print
each record as it comes, as a line of text or (--json) as the JSON object itself.

    2026-11-21T09:30:00.123456Z tlib in from 3 tcp:127.0.0.1:51234 (desk) DN=7001 {"Request":…}

It runs until the server closes the connection or the user stops it (Ctrl-C).
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import urlencode

import aiohttp
import orjson

from ctiserver.errors import StartupError
from ctiserver.logs.trace import TraceRecord


def line_of(body: dict[str, Any]) -> str:
    """One record (or notice) as the text the log shows."""
    if "following" in body:
        following = body["following"]
        what = "everything" if following == "everything" else "DN " + ", ".join(following)
        return f"following the trace of {what}; Ctrl-C to stop"
    if "dropped" in body:
        return f"({body['dropped']} trace records dropped: this terminal read too slowly)"
    record = TraceRecord(
        protocol=body["trace"],
        direction=body["direction"],
        peer=body["peer"],
        message=body["wire"],
        dns=tuple(body.get("DN", ())),
        conn_ids=tuple(body.get("ConnID", ())),
        call_ids=tuple(body.get("callID", ())),
        invoke_id=body.get("invokeID"),
    )
    return f"{body['time']} {record.text()}"


async def follow(
    http: str,
    dns: list[str],
    *,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    tls: ssl.SSLContext | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Print the trace of the server at *http* (HOST:PORT) until it goes away.  /trace is
    an admin endpoint: *tls* when the server listens on TLS, *headers* with its admin
    token when it has one."""
    query = urlencode([("dn", dn) for dn in dns])
    url = f"{'https' if tls else 'http'}://{http}/trace" + (f"?{query}" if query else "")
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(
                url, heartbeat=30.0, ssl=tls if tls is not None else True, headers=headers
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise StartupError(
                f"{url} refused to serve the trace: {exc.status} {exc.message}"
            ) from None
        except aiohttp.ClientError as exc:
            raise StartupError(f"no server answers at {url}: {exc}; is it running?") from None
        async with ws:
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    break
                text = frame.data if as_json else line_of(orjson.loads(frame.data))
                print(text, file=out, flush=True)
