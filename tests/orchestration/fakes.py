"""A fake CTI server for what a real one does too well: a T-Library peer (JSON lines on
TCP, 127.0.0.1, port 0) that answers registration and then never answers anything else,
or drops its clients when told."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson

ROUTING_POINTS = ("5000",)


class SilentServer:
    """Answers RequestRegisterClient and RequestRegisterAddress; every other request is
    recorded in `requests` and left unanswered.  `push()` sends an event to every client."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.registered: set[str] = set()
        self.changed = asyncio.Event()  # set at each registration
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._sequence = 0
        self.address = ("127.0.0.1", 0)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.address = self._server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.drop_clients()

    def drop_clients(self) -> None:
        for writer in self._writers:
            writer.close()

    def push(self, event: dict[str, Any]) -> None:
        for writer in self._writers:
            writer.write(self._encode(event))

    def _encode(self, event: dict[str, Any]) -> bytes:
        self._sequence += 1
        stamped = {"Server": "silent", "EventSequenceNumber": self._sequence, **event}
        return orjson.dumps(stamped, option=orjson.OPT_APPEND_NEWLINE)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                for event in self._answer(orjson.loads(line)):
                    writer.write(self._encode(event))
        self._writers.remove(writer)
        writer.close()

    def _answer(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        reference = request.get("ReferenceID")
        match request.get("Request"):
            case "RequestRegisterClient":
                return [
                    {"Event": "EventServerInfo", "ReferenceID": reference},
                    {"Event": "EventLinkConnected", "ReferenceID": reference},
                ]
            case "RequestRegisterAddress":
                dn = request["ThisDN"]
                self.registered.add(dn)
                self.changed.set()
                kind = "RouteDN" if dn in ROUTING_POINTS else "DN"
                registered = {"Event": "EventRegistered", "ThisDN": dn, "InfoStatus": kind}
                return [{**registered, "Extensions": {}, "ReferenceID": reference}]
        self.requests.put_nowait(request)
        return []


def route_request(conn_id: str, caller: str = "7001", point: str = "5000") -> dict[str, Any]:
    """A call waiting at *point*, as its registrants see it."""
    return {
        "Event": "EventRouteRequest",
        "ThisDN": point,
        "ThisQueue": point,
        "ConnID": conn_id,
        "CallID": "1",
        "CallType": "Internal",
        "OtherDN": caller,
        "OtherDNRole": "Origination",
        "ANI": caller,
        "DNIS": point,
        "UserData": {},
    }
