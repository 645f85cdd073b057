"""The orchestration server's REST interface behind the HTTP guard, through real sockets:
what changes state needs the admin token (401 without it), a cross-site or text/plain
POST is refused, reads are open unless `restrict-read`, and without a token only
loopback clients may change anything.  Then `ctiserver run` itself: its orchestration
child logs in with `application-password` under `require-auth`, over TLS, and its REST
port has the server's token and TLS."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.app.binding import HttpSettings
from ctiserver.app.config import Address, with_orchestration
from ctiserver.doors.tls import client_context
from ctiserver.http.guard import HttpPolicy
from ctiserver.orchestration.settings import Endpoint
from ctiserver.security.applications import Application
from ctiserver.security.passwords import hash_password
from tests.integration.certificates import make_certificates
from tests.integration.conftest import SiteFactory, site_config, within
from tests.integration.test_http_guard import own_network_address
from tests.orchestration.conftest import Orchestrate, Rig

TOKEN = "a-long-enough-admin-token-0123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WAITER = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" datamodel="ecmascript">
  <state id="waiting"><onentry><log label="started" expr="'yes'"/></onentry></state>
</scxml>"""


async def call(
    url: str, method: str, path: str, *, ssl: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{url}{path}", ssl=ssl, **kwargs) as response,
    ):
        return response.status, await response.json(content_type=None)


def base(rig: Rig) -> str:
    assert rig.server.http_address is not None
    host, port = rig.server.http_address
    return f"http://{host}:{port}"


async def guarded(orchestrate: Orchestrate, **policy: Any) -> Rig:
    """An orchestration server whose REST interface has an admin token (and *policy*)."""
    http = HttpSettings(policy=HttpPolicy(token=TOKEN, **policy))
    return await orchestrate({}, http=http, http_listen=Endpoint("127.0.0.1", 0))


async def sessions(rig: Rig) -> int:
    status, health = await call(base(rig), "GET", "/healthz", headers=BEARER)
    assert status == 200
    count: int = health["sessions"]
    return count


async def test_what_changes_state_needs_the_admin_token(
    orchestrate: Orchestrate, tmp_path: Path
) -> None:
    rig = await guarded(orchestrate)
    strategy = tmp_path / "waiter.scxml"
    strategy.write_text(WAITER)
    url = base(rig)
    changes: list[tuple[str, str, Any, int]] = [  # with the token: the answer
        ("PUT", "/orchestration/agents/1001", {"skills": {"sales": 9}}, 200),
        ("PUT", "/orchestration/agent-groups/S", {"agents": ["1001"]}, 200),
        ("PUT", "/orchestration/place-groups/P", {"places": ["7004"]}, 200),
        ("DELETE", "/orchestration/agents/1001", None, 200),
        ("POST", "/scxml/session/x/event/e", {}, 404),
        ("POST", "/scxml/session/x/terminate", None, 404),
        ("POST", "/scxml/session/start", {"src": str(strategy)}, 200),
    ]
    for method, path, body, _ in changes:
        for anonymous in ({}, {"Authorization": "Bearer not-the-token"}):
            status, refusal = await call(url, method, path, json=body, headers=anonymous)
            assert (status, refusal["ok"]) == (401, False), (method, path)
            assert "Bearer" in refusal["error"]
        assert await sessions(rig) == 0
        assert (await call(url, "GET", "/orchestration/agents"))[1]["agents"] == {}
    for method, path, body, answer in changes:
        status, _ = await call(url, method, path, json=body, headers=BEARER)
        assert status == answer, (method, path)
    assert await rig.log("started") == "yes"
    assert await sessions(rig) == 1


async def test_a_cross_site_or_text_plain_post_is_refused(
    orchestrate: Orchestrate, tmp_path: Path
) -> None:
    rig = await guarded(orchestrate)
    strategy = tmp_path / "waiter.scxml"
    strategy.write_text(WAITER)
    body = f'{{"src": "{strategy}"}}'.encode()
    start = (base(rig), "POST", "/scxml/session/start")
    plain = {"Content-Type": "text/plain"}
    foreign = {"Origin": "http://evil.example"}
    status, refusal = await call(*start, data=body, headers={**plain, **foreign})
    assert status == 403
    assert "origin http://evil.example" in refusal["error"]
    status, refusal = await call(*start, data=body, headers=plain)  # what a web page sends
    assert status == 403
    assert "send application/json" in refusal["error"]
    json = {"Content-Type": "application/json"}
    status, _ = await call(*start, data=body, headers={**json, **foreign, **BEARER})
    assert status == 403  # a foreign origin, whatever it carries
    assert await sessions(rig) == 0
    status, _ = await call(*start, data=body, headers={**plain, **BEARER})
    assert status == 200  # the token is no cookie: a web page cannot send it
    assert await rig.log("started") == "yes"


async def test_reads_are_open_unless_restrict_read(orchestrate: Orchestrate) -> None:
    reads = [
        ("/orchestration/agents", 200),
        ("/orchestration/statistics", 200),
        ("/scxml/session/x/query", 404),
        ("/healthz", 200),
    ]
    rig = await guarded(orchestrate)
    for path, answer in reads:
        assert (await call(base(rig), "GET", path))[0] == answer, path
    restricted = await guarded(orchestrate, restrict_read=True)
    for path, answer in reads:
        assert (await call(base(restricted), "GET", path))[0] == 401, path
        assert (await call(base(restricted), "GET", path, headers=BEARER))[0] == answer, path


async def test_without_a_token_only_loopback_clients_change_anything(
    orchestrate: Orchestrate,
) -> None:
    address = own_network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    rig = await orchestrate({}, http_listen=Endpoint(address, 0))
    url = base(rig)
    status, refusal = await call(url, "PUT", "/orchestration/agents/1001", json={})
    assert status == 403
    assert "loopback clients only" in refusal["error"]
    assert (await call(url, "GET", "/orchestration/agents"))[1]["agents"] == {}


# --- ctiserver run: the child process --------------------------------------------------------


class Heard(logging.Handler):
    """Sets `event` when a record of *logger* says *words* (the child's records are
    handled by the parent's loggers of the same names)."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words
        self.event = asyncio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if self.words in record.getMessage():
            self.event.set()


@pytest.fixture
def heard_from_runtime() -> Iterator[Heard]:
    logger = logging.getLogger("ctiserver.orchestration.runtime")
    heard = Heard("cannot reach CTI server")
    logger.addHandler(heard)
    yield heard
    logger.removeHandler(heard)


def secured(
    tmp_path: Path, password: str | None, server: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A site under require-auth with an "orchestration" application, an admin token and
    its orchestration server embedded, with *password* and a REST port; *server* changes
    `[server]`."""
    token = tmp_path / "admin-token"
    token.write_text(TOKEN)
    stored = hash_password("orchestration-pw", log_n=10)
    config = with_orchestration(site_config())
    assert config.orchestration is not None
    orchestration = dataclasses.replace(
        config.orchestration,
        application_password=password,
        reconnect_interval=0.05,
        http_listen=Endpoint("127.0.0.1", 0),
    )
    return {
        "security": {
            "require_auth": True,
            "applications": {"orchestration": Application("orchestration", stored)},
            "admin_token_file": token,
        },
        "orchestration": orchestration,
        "server": server or {},
    }


async def test_the_child_logs_in_with_its_password_over_tls_and_guards_its_rest(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    certificates = make_certificates(tmp_path)
    tls = {
        "tls_cert": certificates.server.cert,
        "tls_key": certificates.server.key,
        "tls_ca": certificates.ca,
        "http_listen": Address("127.0.0.1", 0),
    }
    site = await make_site(**secured(tmp_path, "orchestration-pw", server=tls))
    process = site.service.orchestration
    assert process is not None
    await within(process.ready.wait(), 20)  # connected, authenticated, registered
    assert process.http_address is not None
    host, port = process.http_address
    url, context = f"https://{host}:{port}", client_context(certificates.ca)
    change = ("PUT", "/orchestration/agents/1001")
    body = {"skills": {"sales": 9}}
    status, _ = await call(url, *change, ssl=context, json=body)
    assert status == 401
    status, _ = await call(url, *change, ssl=context, json=body, headers=BEARER)
    assert status == 200
    status, directory = await call(url, "GET", "/orchestration/agents", ssl=context)
    assert directory["agents"]["1001"] == {"skills": {"sales": 9}, "groups": []}
    with pytest.raises(aiohttp.ClientError):  # TLS only, as the server's own HTTP port
        await call(f"http://{host}:{port}", "GET", "/healthz")


async def test_under_require_auth_a_child_without_the_password_is_refused(
    make_site: SiteFactory, tmp_path: Path, heard_from_runtime: Heard
) -> None:
    site = await make_site(**secured(tmp_path, None))
    await within(heard_from_runtime.event.wait(), 20)
    refused = [m for m in heard_from_runtime.messages if "cannot reach CTI server" in m]
    assert "EventError" in refused[0]
    process = site.service.orchestration
    assert process is not None
    assert not process.ready.is_set()
