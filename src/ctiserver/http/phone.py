"""The people at the embedded pbxsim's phones, over HTTP: `POST /phone/{station}`.

The body is one JSON object naming what the person does (docs/pbxsim.md § 7):

    {"action": "dial", "number": "7002"}         lift the handset and dial
    {"action": "answer"}                          answer the ringing call
    {"action": "hang-up"}                         hang up the call in use
    {"action": "hold"}  /  {"action": "retrieve", "call": "12"}   (call: optional callID)
    {"action": "account-code", "code": "4711"}    key in an account code for the call in use
    {"action": "digits", "digits": "1234#"}       key DTMF digits during the call in use

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
from ctiserver.ids import DeviceId

# What the composition root gives: do what the body says at the station's phone.  Raises
# ValueError for a body that names no action, ServiceError when the switch refuses.
Act = Callable[[DeviceId, Any], object]
MAX_BODY = 4096


def phone_handler(act: Act | None) -> Callable[[web.Request], Any]:
    async def phone(request: web.Request) -> web.Response:
        if act is None:
            return _answer(404, "this server has no embedded switch: use the phones of yours")
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return _answer(400, f"the body is over {MAX_BODY} bytes")
        try:
            act(DeviceId(request.match_info["station"]), orjson.loads(raw))
        except (ValueError, orjson.JSONDecodeError) as exc:
            return _answer(400, str(exc))
        except ServiceError as exc:
            return _answer(409, f"the switch refused: {exc.category} {exc.value}")
        return web.json_response({"ok": True})

    return phone


def _answer(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)
