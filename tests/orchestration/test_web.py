"""Web services: `<session:fetch>` against a real HTTP server on 127.0.0.1, strategies
at http URLs, and the REST interface that starts sessions, sends them events and
changes the directory while calls wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ctiserver.app.binding import HttpSettings
from ctiserver.http.guard import HttpPolicy
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings, Endpoint
from tests.integration.conftest import expect, within
from tests.orchestration.conftest import REPORT, Orchestrate, Rig, flow, strategy

RP = "5000"
TOKEN = "a-long-enough-admin-token-0123"


class CrmService:
    """A web service: JSON customers, an echo, text, a 404 and an answer that never comes."""

    def __init__(self) -> None:
        self.base = ""
        self.strategy = ""  # served at /strategy.scxml
        self._never = asyncio.Event()

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/customer", self._customer)
        app.router.add_post("/echo", self._echo)
        app.router.add_get("/text", self._text)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/strategy.scxml", self._strategy)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return runner

    def release(self) -> None:
        """Let the answers that never come end (the server then closes at once)."""
        self._never.set()

    async def _customer(self, request: web.Request) -> web.Response:
        ani = request.query.get("ani", "")
        return web.json_response({"ani": ani, "name": "Ada", "vip": ani == "7001"})

    async def _echo(self, request: web.Request) -> web.Response:
        return web.json_response({"got": await request.json(), "key": request.headers.get("X-Key")})

    async def _text(self, request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def _strategy(self, request: web.Request) -> web.Response:
        return web.Response(text=self.strategy)

    async def _slow(self, request: web.Request) -> web.Response:
        await self._never.wait()
        return web.Response()


@pytest.fixture
async def crm() -> AsyncIterator[CrmService]:
    service = CrmService()
    runner = await service.start()
    yield service
    service.release()
    await runner.cleanup()


def fetching(attributes: str) -> str:
    """A strategy that fetches with *attributes* when its call arrives and REPORTs the answer."""
    return flow(
        f"""<state id="routing">
        <onentry><session:fetch requestid="_data.reqid" {attributes}/></onentry>
        <transition event="session.fetch.done error.session.fetch" target="done">{REPORT}</transition>
      </state>
      <final id="done"/>"""
    ).replace("<scxml ", '<scxml xmlns:session="http://www.genesyslab.com/modules/session" ', 1)


async def fetched(rig: Rig) -> tuple[str, dict[str, Any]]:
    caller = await rig.site.client("7001")
    await caller.make_call("7001", RP)
    return await rig.outcome()


async def test_a_get_returns_json_as_data(orchestrate: Orchestrate, crm: CrmService) -> None:
    ani = "_genesys.ixn.interactions[_data.ixnid].voice.ani"
    rig = await orchestrate(
        {RP: fetching(f'srcexpr="\'{crm.base}/customer\'" params="({{ani: {ani}}})"')}
    )
    name, data = await fetched(rig)
    assert name == "session.fetch.done"
    assert data["status"] == 200
    assert data["content"] == {"ani": "7001", "name": "Ada", "vip": True}
    assert data["requestid"].startswith("req-")


async def test_a_post_sends_json_and_headers(orchestrate: Orchestrate, crm: CrmService) -> None:
    rig = await orchestrate(
        {
            RP: fetching(
                f'src="{crm.base}/echo" method="post" content="({{case: \'A-17\'}})" headers="({{\'X-Key\': \'k1\'}})"'
            )
        }
    )
    name, data = await fetched(rig)
    assert (name, data["content"]) == ("session.fetch.done", {"got": {"case": "A-17"}, "key": "k1"})


async def test_text_stays_text(orchestrate: Orchestrate, crm: CrmService) -> None:
    rig = await orchestrate({RP: fetching(f'src="{crm.base}/text"')})
    assert await fetched(rig) == (
        "session.fetch.done",
        {"requestid": "req-1", "status": 200, "content": "hello"},
    )


@pytest.mark.parametrize(
    ("path", "extra", "error", "status"),
    [
        ("/missing", "", "status", 404),
        ("/text", 'type="application/json"', "content", 200),
        ("/slow", 'timeout="0.2"', "timeout", None),
    ],
)
async def test_what_goes_wrong_is_error_session_fetch(
    orchestrate: Orchestrate, crm: CrmService, path: str, extra: str, error: str, status: int | None
) -> None:
    rig = await orchestrate({RP: fetching(f'src="{crm.base}{path}" {extra}')})
    name, data = await fetched(rig)
    assert (name, data["error"], data.get("status")) == ("error.session.fetch", error, status)
    assert data["description"]


async def test_no_server_there_is_a_network_error(orchestrate: Orchestrate) -> None:
    rig = await orchestrate({RP: fetching('src="http://127.0.0.1:1/x"')})
    name, data = await fetched(rig)
    assert (name, data["error"]) == ("error.session.fetch", "network")


SUBMIT = strategy(
    f"""
  <state id="start">
    <transition event="interaction.added" target="routing"/>
  </state>
  <state id="routing">
    <onentry><queue:submit requestid="_data.reqid" targets="'?support>5'" timeout="5"/></onentry>
    <transition event="queue.submit.done error.queue.submit" target="done">{REPORT}</transition>
  </state>
  <final id="done"/>"""
)


async def test_a_strategy_at_an_http_url(orchestrate: Orchestrate, crm: CrmService) -> None:
    crm.strategy = SUBMIT.replace("'?support>5'", "'7005'")
    rig = await orchestrate({}, strategies={RP: f"{crm.base}/strategy.scxml"})
    phone = await rig.site.client("7005")
    caller = await rig.site.client("7001")
    conn_id = (await caller.make_call("7001", RP))["ConnID"]
    name, data = await rig.outcome()
    assert (name, data["resource"]) == ("queue.submit.done", "7005")
    await expect(phone, "EventRinging", ConnID=conn_id)


# --- the REST interface ---------------------------------------------------------------------


async def rest(
    rig: Rig, method: str, path: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    assert rig.server.http_address is not None
    host, port = rig.server.http_address
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"http://{host}:{port}{path}", json=body, **kwargs) as response,
    ):
        return response.status, await response.json()


WAITER = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" datamodel="ecmascript">
  <datamodel><data id="who" expr="'nobody'"/></datamodel>
  <state id="waiting">
    <onentry><log label="started" expr="who"/></onentry>
    <transition event="customer.called" target="done">
      <log label="event" expr="who + ' ' + _event.data.topic"/>
    </transition>
  </state>
  <final id="done"/>
</scxml>"""


async def test_rest_starts_a_session_and_sends_it_an_event(
    orchestrate: Orchestrate, tmp_path: Path
) -> None:
    rig = await orchestrate({}, http_listen=Endpoint("127.0.0.1", 0))
    path = tmp_path / "waiter.scxml"
    path.write_text(WAITER)
    status, body = await rest(rig, "POST", "/scxml/session/start", {"src": str(path), "who": "Ada"})
    assert status == 200
    session_id = body["sessionid"]
    assert await rig.log("started") == "Ada"
    status, query = await rest(rig, "GET", f"/scxml/session/{session_id}/query")
    assert (status, query["configuration"], query["interactions"]) == (200, ["waiting"], [])
    status, _ = await rest(
        rig, "POST", f"/scxml/session/{session_id}/event/customer.called", {"topic": "bill"}
    )
    assert status == 200
    assert await rig.log("event") == "Ada bill"
    assert (await rig.ended()).final == "done"
    status, body = await rest(rig, "GET", f"/scxml/session/{session_id}/query")
    assert (status, body) == (404, {"error": f"no session {session_id!r}"})


async def test_rest_takes_forms_with_the_token_and_terminates(
    orchestrate: Orchestrate, crm: CrmService
) -> None:
    crm.strategy = WAITER
    http = HttpSettings(policy=HttpPolicy(token=TOKEN))
    rig = await orchestrate({}, http=http, http_listen=Endpoint("127.0.0.1", 0))
    form = {"src": f"{crm.base}/strategy.scxml", "who": "Bo"}
    status, body = await rest(
        rig, "POST", "/scxml/session/start", data=form, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200
    assert await rig.log("started") == "Bo"
    status, _ = await rest(
        rig,
        "POST",
        f"/scxml/session/{body['sessionid']}/terminate",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert status == 200
    assert (await rig.ended()).final is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/scxml/session/start", {}, 400, "src (the strategy's URL) is required"),
        ("POST", "/scxml/session/start", {"src": "/no/such.scxml"}, 400, "cannot be loaded"),
        ("POST", "/scxml/session/start", [1], 400, "must be a JSON object"),
        ("POST", "/scxml/session/x/event/e", {}, 404, "no session 'x'"),
        ("POST", "/scxml/session/x/event/a%20b", {}, 400, "is not an event name"),
        ("POST", "/scxml/session/x/terminate", None, 404, "no session 'x'"),
        (
            "PUT",
            "/orchestration/agents/1001",
            {"skills": {"a": True}},
            400,
            "must be a number or text",
        ),
        ("PUT", "/orchestration/agents/1001", {"skills": [1]}, 400, "skills must be an object"),
        ("PUT", "/orchestration/agent-groups/S", {"agents": "1001"}, 400, "agents must be a list"),
        ("DELETE", "/orchestration/agents/9999", None, 404, "no agent '9999'"),
    ],
)
async def test_rest_errors_say_what_is_wrong(
    orchestrate: Orchestrate, method: str, path: str, body: Any, status: int, error: str
) -> None:
    rig = await orchestrate({}, http_listen=Endpoint("127.0.0.1", 0))
    got, answer = await rest(rig, method, path, body)
    assert got == status
    assert error in answer["error"]


async def test_rest_changes_the_directory_while_a_call_waits(orchestrate: Orchestrate) -> None:
    directory = DirectorySettings(agents={"1001": AgentProfile({"support": 1})})
    rig = await orchestrate({RP: SUBMIT}, directory=directory, http_listen=Endpoint("127.0.0.1", 0))
    agent = await rig.site.client("7004")
    await agent.agent_login("7004", "1001", queue="8001", work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await rig.site.client("7001")
    conn_id = (await caller.make_call("7001", RP))["ConnID"]
    await within(rig.server.ready.wait())
    status, _ = await rest(
        rig, "PUT", "/orchestration/agents/1001", {"skills": {"support": 9}, "groups": ["S"]}
    )
    assert status == 200
    name, data = await rig.outcome()
    assert (name, data["agentid"]) == ("queue.submit.done", "1001")
    await expect(agent, "EventRinging", ConnID=conn_id)
    status, body = await rest(rig, "GET", "/orchestration/agents")
    assert body["agents"]["1001"] == {"skills": {"support": 9}, "groups": ["S"]}
    status, figures = await rest(rig, "GET", "/orchestration/statistics")
    assert figures["S.GA"]["StatAgentsTotal"] == 1
    status, _ = await rest(rig, "PUT", "/orchestration/agent-groups/T", {"agents": ["1001"]})
    status, _ = await rest(rig, "PUT", "/orchestration/place-groups/P", {"places": ["7004"]})
    status, _ = await rest(rig, "DELETE", "/orchestration/agents/1001")
    status, body = await rest(rig, "GET", "/orchestration/agents")
    assert body == {"agents": {}, "agent-groups": {"T": ["1001"]}, "place-groups": {"P": ["7004"]}}
    status, health = await rest(rig, "GET", "/healthz")
    assert (status, health["status"]) == (200, "ok")
