"""The ISCC side of the trace (logs.trace): every message to and from another site, with
the DNs and ConnIDs it names, its UserData masked like the T-Library's."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import orjson

from ctiserver.iscc.protocol import PeerMessage
from ctiserver.logs.trace import Tracer, TraceRecord

DN_FIELDS: Final = ("dn", "origin_dn")
CONN_ID_FIELDS: Final = ("conn_id", "origin_conn_id", "far_conn_id")


def trace_peer_message(tracer: Tracer, direction: str, location: str, message: PeerMessage) -> None:
    """Trace *message*, sent to or received from the site *location*, if anybody wants it."""
    dns = tuple(value for name in DN_FIELDS if (value := getattr(message, name, "")))
    if not tracer.wants(dns):
        return
    conn_ids = tuple(value for name in CONN_ID_FIELDS if (value := getattr(message, name, "")))
    body: dict[str, Any] = {"type": message.TYPE, **dataclasses.asdict(message)}
    if isinstance(body.get("user_data"), dict):
        body["user_data"] = tracer.mask.user_data(body["user_data"])
    wire = orjson.dumps(body).decode()
    tracer.emit(TraceRecord("iscc", direction, f"site {location}", wire, dns, conn_ids))
