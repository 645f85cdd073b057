"""The orchestration server's REST interface (aiohttp), on `[orchestration] http-listen`:
sessions started and driven from outside, in the manner of Genesys ORS's HTTP interface,
and the directory of agents, skills and groups changed at run time.

    POST   /scxml/session/start                 src=URL [+ parameters]   → {"sessionid"}
    POST   /scxml/session/{id}/event/{name}     event data                → {}
    POST   /scxml/session/{id}/terminate                                  → {}
    GET    /scxml/session/{id}/query                                      → the session
    GET    /orchestration/agents                                          → the directory
    PUT    /orchestration/agents/{id}           {"skills": {…}, "groups": […]}
    DELETE /orchestration/agents/{id}
    PUT    /orchestration/agent-groups/{name}   {"agents": […]}
    PUT    /orchestration/place-groups/{name}   {"places": […]}
    GET    /orchestration/statistics                                      → what sData reads
    GET    /healthz

A body is JSON (an object) or a form (`application/x-www-form-urlencoded`; the guard
takes a form only with the bearer token, as a web page cannot send one); for `start`,
every field but `src` is a parameter: it sets the `<data>` of that id.  A body over
1 MiB is answered 413.

Rule 1: every route is declared once, with its kind (http/routes.py), and the guard
(http/guard.py) reads it: what changes something (start, event, terminate, the
directory's changes) is ADMIN; what only shows (query, the directory, statistics,
health: it names the CTI servers) is READ, so `restrict-read` covers it.  The listener
is the CTI server's kind (app/binding.py): the same admin token, TLS and caps
(docs/security.md).
Rule 2: errors are JSON `{"error": "…"}` with 400 (the request is wrong), 404 (no such
session or agent) or 503 (too many sessions); never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ctiserver.http.guard import Guard
from ctiserver.http.routes import ADMIN, READ, add_route, new_app
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings, SkillLevel
from ctiserver.scxml.values import Value

_SKILL: Final = re.compile(r"[A-Za-z_][\w.\-]*")
_EVENT: Final = re.compile(r"[\w.\-]+")


class RequestError(Exception):
    """The request is wrong (400) or names nothing known (404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Orchestration(Protocol):
    """What the REST interface asks of the orchestration server (runtime.py)."""

    async def start_session(self, src: str, params: Mapping[str, Value]) -> str: ...

    async def send_event(self, session_id: str, name: str, data: Value) -> None: ...

    async def terminate(self, session_id: str) -> None: ...

    def query(self, session_id: str) -> dict[str, Any]: ...

    def directory(self) -> DirectorySettings: ...

    async def change_directory(self, directory: DirectorySettings) -> None: ...

    def statistics(self) -> dict[str, Value]: ...

    def health(self) -> dict[str, Any]: ...


def build_rest(server: Orchestration, guard: Guard) -> web.Application:
    app = new_app(guard.middleware)
    routes = _Routes(server)
    add_route(app, ADMIN, "POST", "/scxml/session/start", routes.start)
    add_route(app, ADMIN, "POST", "/scxml/session/{id}/event/{name}", routes.event)
    add_route(app, ADMIN, "POST", "/scxml/session/{id}/terminate", routes.terminate)
    add_route(app, READ, "GET", "/scxml/session/{id}/query", routes.query)
    add_route(app, READ, "GET", "/orchestration/agents", routes.agents)
    add_route(app, ADMIN, "PUT", "/orchestration/agents/{id}", routes.put_agent)
    add_route(app, ADMIN, "DELETE", "/orchestration/agents/{id}", routes.delete_agent)
    add_route(app, ADMIN, "PUT", "/orchestration/agent-groups/{name}", routes.put_agent_group)
    add_route(app, ADMIN, "PUT", "/orchestration/place-groups/{name}", routes.put_place_group)
    add_route(app, READ, "GET", "/orchestration/statistics", routes.statistics)
    add_route(app, READ, "GET", "/healthz", routes.health)
    return app


class _Routes:
    def __init__(self, server: Orchestration) -> None:
        self._server = server

    async def start(self, request: web.Request) -> web.Response:
        async def act() -> object:
            fields = dict(await _body(request))
            src = fields.pop("src", None)
            if not isinstance(src, str) or not src:
                raise RequestError("src (the strategy's URL) is required")
            return {"sessionid": await self._server.start_session(src, fields)}

        return await _answer(act)

    async def event(self, request: web.Request) -> web.Response:
        async def act() -> object:
            name = request.match_info["name"]
            if not _EVENT.fullmatch(name):
                raise RequestError(f"{name!r} is not an event name")
            data = await _body(request)
            await self._server.send_event(request.match_info["id"], name, data)
            return {}

        return await _answer(act)

    async def terminate(self, request: web.Request) -> web.Response:
        async def act() -> object:
            await self._server.terminate(request.match_info["id"])
            return {}

        return await _answer(act)

    async def query(self, request: web.Request) -> web.Response:
        async def act() -> object:
            return self._server.query(request.match_info["id"])

        return await _answer(act)

    async def agents(self, request: web.Request) -> web.Response:
        async def act() -> object:
            return _directory_json(self._server.directory())

        return await _answer(act)

    async def put_agent(self, request: web.Request) -> web.Response:
        async def act() -> object:
            body = await _body(request)
            profile = AgentProfile(_skills(body.get("skills", {})), _words(body, "groups"))
            current = self._server.directory()
            agents = {**current.agents, request.match_info["id"]: profile}
            await self._server.change_directory(_with(current, agents=agents))
            return {}

        return await _answer(act)

    async def delete_agent(self, request: web.Request) -> web.Response:
        async def act() -> object:
            current, agent_id = self._server.directory(), request.match_info["id"]
            if agent_id not in current.agents:
                raise RequestError(f"no agent {agent_id!r} in the directory", 404)
            agents = {k: v for k, v in current.agents.items() if k != agent_id}
            await self._server.change_directory(_with(current, agents=agents))
            return {}

        return await _answer(act)

    async def put_agent_group(self, request: web.Request) -> web.Response:
        async def act() -> object:
            agents = _words(await _body(request), "agents")
            current = self._server.directory()
            groups = {**current.agent_groups, request.match_info["name"]: agents}
            await self._server.change_directory(_with(current, agent_groups=groups))
            return {}

        return await _answer(act)

    async def put_place_group(self, request: web.Request) -> web.Response:
        async def act() -> object:
            places = _words(await _body(request), "places")
            current = self._server.directory()
            groups = {**current.place_groups, request.match_info["name"]: places}
            await self._server.change_directory(_with(current, place_groups=groups))
            return {}

        return await _answer(act)

    async def statistics(self, request: web.Request) -> web.Response:
        async def act() -> object:
            return self._server.statistics()

        return await _answer(act)

    async def health(self, request: web.Request) -> web.Response:
        body = self._server.health()
        return _json(body, 200 if body.get("status") == "ok" else 503)


async def _answer(act: Any) -> web.Response:
    try:
        return _json(await act())
    except RequestError as exc:
        return _json({"error": str(exc)}, exc.status)
    except KeyError as exc:
        return _json({"error": f"no session {exc.args[0]!r}"}, 404)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Value]:
    """The request's JSON object or form fields (empty when there is no body).  The
    guard has read the body already, within the request deadline and the size limit."""
    raw = await request.read()
    if not raw.strip():
        return {}
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise RequestError(f"the form cannot be read: {exc}") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    return body


def _skills(value: Value) -> dict[str, SkillLevel]:
    if not isinstance(value, dict):
        raise RequestError("skills must be an object of name: level")
    skills: dict[str, SkillLevel] = {}
    for name, level in value.items():
        if not _SKILL.fullmatch(name):
            raise RequestError(f"{name!r} is not a skill name")
        if isinstance(level, bool) or not isinstance(level, int | float | str):
            raise RequestError(f"skill {name}: the level must be a number or text")
        skills[name] = level
    return skills


def _words(body: Mapping[str, Value], key: str) -> tuple[str, ...]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RequestError(f"{key} must be a list of names")
    return tuple(str(v) for v in value)


def _with(directory: DirectorySettings, **changes: Any) -> DirectorySettings:
    fields = {
        "agents": directory.agents,
        "agent_groups": directory.agent_groups,
        "place_groups": directory.place_groups,
        **changes,
    }
    return DirectorySettings(**fields)


def _directory_json(directory: DirectorySettings) -> dict[str, Any]:
    return {
        "agents": {
            agent_id: {"skills": dict(profile.skills), "groups": list(profile.groups)}
            for agent_id, profile in directory.agents.items()
        },
        "agent-groups": {name: list(ids) for name, ids in directory.agent_groups.items()},
        "place-groups": {name: list(dns) for name, dns in directory.place_groups.items()},
    }
