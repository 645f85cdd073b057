"""The orchestration server embedded in `ctiserver run` runs in a child process: it
routes, its log lines reach the server's log, it comes back when killed, and a reload
reaches it."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
from pathlib import Path

import pytest

from ctiserver.app import config as configuration
from ctiserver.app.config import with_orchestration
from ctiserver.orchestration.settings import Endpoint
from tests.integration.conftest import Site, SiteFactory, expect, site_config, within

CALLER, AGENT_DN, RP, Q = "7001", "7004", "5000", "8001"


async def demo(make_site: SiteFactory) -> Site:
    """The demo site with its orchestration server in a child, and a REST port."""
    config = with_orchestration(site_config())
    assert config.orchestration is not None
    settings = dataclasses.replace(
        config.orchestration, reconnect_interval=0.05, http_listen=Endpoint("127.0.0.1", 0)
    )
    site = await make_site(orchestration=settings)
    assert site.service.orchestration is not None
    await within(site.service.orchestration.ready.wait(), 20)
    return site


async def routes(site: Site) -> None:
    agent = await site.client(AGENT_DN)
    await agent.agent_login(AGENT_DN, "1001", queue=Q, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP))["ConnID"]
    await expect(agent, "EventRinging", ConnID=conn_id, ThisQueue=RP)
    await caller.release_call(CALLER, conn_id)
    await agent.agent_logout(AGENT_DN)


async def test_the_orchestration_server_runs_in_a_child_process(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        site = await demo(make_site)
        process = site.service.orchestration
        assert process is not None
        assert process.pid not in (None, os.getpid())
        assert process.http_address is not None
        assert (
            f"listening orchestration-http={process.http_address[0]}:{process.http_address[1]}"
            in site.lines
        )
        await routes(site)
    # the child's lines, through the server's own logging
    assert any(
        r.name == "ctiserver.orchestration.runtime" and "connected to CTI server" in r.getMessage()
        for r in caplog.records
    )


async def test_a_child_that_dies_is_started_again(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    site = await demo(make_site)
    process = site.service.orchestration
    assert process is not None
    assert process.pid is not None
    first = process.pid
    os.kill(first, signal.SIGKILL)
    await within(process.stopped.wait(), 20)
    assert any(
        "the orchestration process stopped (exit status -9)" in r.getMessage()
        for r in caplog.records
    )
    await within(process.ready.wait(), 20)
    assert process.pid not in (None, first)
    await routes(site)


SITE = """
[server]
client-listen = "127.0.0.1:0"

[dn]
extensions = ["7001-7006"]
acd-queues = ["8001"]
routing-points = ["5000"]

[agents]
logins = ["1001-1003"]

[orchestration]
enabled = true
reconnect-interval = 0.05

[orchestration.strategy."5000"]
application = "route.scxml"

[orchestration.agent."1001"]
skills = {{ support = {level} }}
"""
ROUTE = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
  xmlns:queue="www.genesyslab.com/modules/queue" initial="routing">
  <state id="routing">
    <onentry><queue:submit targets="'?support>5'" timeout="10"/></onentry>
    <transition event="queue.submit.done error.queue.submit" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


async def test_a_reload_reaches_the_child(make_site: SiteFactory, tmp_path: Path) -> None:
    (tmp_path / "route.scxml").write_text(ROUTE)
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(level=1))
    loaded = configuration.load(path)
    site = await make_site(
        site=loaded.site, orchestration=loaded.orchestration, source=loaded.source
    )
    process = site.service.orchestration
    assert process is not None
    await within(process.ready.wait(), 20)
    agent = await site.client("7004")
    await agent.agent_login("7004", "1001", queue=Q, work_mode="AutoIn")
    await expect(agent, "EventAgentLogin")
    await expect(agent, "EventAgentReady")
    caller = await site.client(CALLER)
    conn_id = (await caller.make_call(CALLER, RP))["ConnID"]  # waits: nobody has support>5
    path.write_text(
        SITE.format(level=9).replace("reconnect-interval = 0.05", "reconnect-interval = 1")
    )
    result = await site.service.reload()
    assert result["ok"]
    assert result["applied"] == ["[orchestration] agents and groups"]
    restart = [key for key in result["restart"] if "orchestration" in key]
    assert restart == ["[orchestration] reconnect-interval"]  # as the file spells it
    await expect(agent, "EventRinging", ConnID=conn_id)
