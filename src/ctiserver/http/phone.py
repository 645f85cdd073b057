"""The people at the embedded pbxsim's phones, over HTTP: `POST /phone/{station}`.

The body is one JSON object naming what the person does (docs/pbxsim.md § 7):

    {"action": "dial", "number": "7002"}         lift the handset and dial
    {"action": "answer"}                          answer the ringing call
    {"action": "hang-up"}                         hang up the call in use
    {"action": "hold"}  /  {"action": "retrieve", "call": "12"}   (call: optional callID)
    {"action": "account-code", "code": "4711"}    key in an account code for the call in use

The answer is `{"ok": true}`, or 400 with `{"ok": false, "error": ...}` for a body that is
not one of these, 409 when the switch refuses (as it would the equivalent CSTA request),
404 when the server has no embedded switch.  Clients registered on the station hear of
it as if the phone had been used: that is what it is for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from ctiserver.errors import ServiceError
from ctiserver.http.guard import admin
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim.phone import (
    Answer,
    Dial,
    EnterAccountCode,
    HangUp,
    Hold,
    PhoneAction,
    Retrieve,
)

Act = Callable[[PhoneAction], object]
MAX_BODY = 4096


def phone_action(station: DeviceId, body: Any) -> PhoneAction:
    """The action a request body names.  Raises ValueError saying what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise ValueError('the body must be a JSON object with an "action"')
    action = body["action"]
    match action:
        case "dial":
            return Dial(station, DeviceId(_text(body, "number")))
        case "answer":
            return Answer(station)
        case "hang-up":
            return HangUp(station)
        case "hold":
            return Hold(station)
        case "retrieve":
            call = body.get("call")
            return Retrieve(station, None if call is None else CallId(_text(body, "call")))
        case "account-code":
            return EnterAccountCode(station, _text(body, "code"))
    raise ValueError(
        f"unknown action {action!r}: dial, answer, hang-up, hold, retrieve or account-code"
    )


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f'"{body["action"]}" needs "{key}", a non-empty string')
    return value


def phone_handler(act: Act | None) -> Callable[[web.Request], Any]:
    @admin
    async def phone(request: web.Request) -> web.Response:
        if act is None:
            return _answer(404, "this server has no embedded switch: use the phones of yours")
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return _answer(400, f"the body is over {MAX_BODY} bytes")
        try:
            action = phone_action(DeviceId(request.match_info["station"]), orjson.loads(raw))
        except (ValueError, orjson.JSONDecodeError) as exc:
            return _answer(400, str(exc))
        try:
            act(action)
        except ServiceError as exc:
            return _answer(409, f"the switch refused: {exc.category} {exc.value}")
        return web.json_response({"ok": True})

    return phone


def _answer(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)
