"""The orchestration server when things go wrong: a server that never answers (timeout), a
server that goes away (invalidserver, then reconnection), a runaway script (the time
limit), a strategy that does not load (the switch's default routing), a session that
never ends (ended once its calls are gone)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ctiserver.app.config import RoutingPointSettings
from ctiserver.ids import DeviceId
from tests.integration.conftest import expect, within
from tests.orchestration.conftest import Orchestrate, flow, strategy
from tests.orchestration.fakes import SilentServer, route_request
from tests.orchestration.test_voice import RP, A, B, check_error

HOLD = flow(
    """<state id="routing">
        <onentry><ixn:hold requestid="_data.reqid" resource="'7001'"/></onentry>
      </state>"""
)


@pytest.fixture
async def silent() -> AsyncIterator[SilentServer]:
    server = SilentServer()
    await server.start()
    yield server
    await server.stop()


async def test_a_request_with_no_answer_is_timeout(
    orchestrate: Orchestrate, silent: SilentServer
) -> None:
    rig = await orchestrate.against(silent.address, {RP: HOLD}, register=(A,), request_timeout=0.3)
    silent.push(route_request("00000000000000c1"))
    request = await within(silent.requests.get())
    assert request["Request"] == "RequestHoldCall"
    assert (request["ThisDN"], request["ConnID"]) == (A, "00000000000000c1")
    check_error(await rig.outcome(), "error.voice.hold", "timeout")


async def test_a_lost_server_is_invalidserver_and_the_server_comes_back(
    orchestrate: Orchestrate, silent: SilentServer
) -> None:
    rig = await orchestrate.against(silent.address, {RP: HOLD}, register=(A,))
    silent.push(route_request("00000000000000c1"))
    await within(silent.requests.get())
    rig.server.ready.clear()
    silent.drop_clients()
    check_error(await rig.outcome(), "error.voice.hold", "invalidserver")
    assert await rig.outcome() == ("interaction.deleted", {"interactionid": "00000000000000c1"})
    await within(rig.server.ready.wait())  # reconnected and registered again
    silent.push(route_request("00000000000000c2"))
    assert (await within(silent.requests.get()))["ConnID"] == "00000000000000c2"


RUNAWAY = flow(
    f"""<state id="routing">
        <onentry><script>while (true) {{}}</script></onentry>
        <transition event="error.execution" target="route"/>
      </state>
      <state id="route"><onentry><ixn:redirect to="'{B}'"/></onentry></state>"""
)


async def test_a_runaway_script_is_stopped_and_the_server_carries_on(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate({RP: RUNAWAY}, script_time_limit=0.1)
    a, b = await rig.site.client(A), await rig.site.client(B)
    for _ in range(2):
        conn_id = (await a.make_call(A, RP))["ConnID"]
        assert await rig.outcome() == ("error.execution", {})
        assert (await rig.outcome())[0] == "interaction.redirect.done"
        await expect(b, "EventRinging", ConnID=conn_id)
        await a.release_call(A, conn_id)
        assert await rig.outcome() == ("interaction.deleted", {"interactionid": conn_id})
        await expect(b, "EventAbandoned", ConnID=conn_id)


async def test_a_strategy_that_does_not_load_leaves_calls_to_the_switch(
    orchestrate: Orchestrate, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.scxml"
    broken.write_text(strategy('<state id="start"><transition target="nowhere"/></state>'))
    points = {DeviceId(RP): RoutingPointSettings(0.3, DeviceId("7005"))}
    with caplog.at_level(logging.ERROR, logger="ctiserver.orchestration"):
        rig = await orchestrate(
            {}, site={"site": {"routing_points": points}}, strategies={RP: str(broken)}
        )
    assert f"routing point {RP}: strategy {broken} cannot be loaded" in caplog.text
    assert "nowhere" in caplog.text
    a, e = await rig.site.client(A), await rig.site.client("7005")
    conn_id = (await a.make_call(A, RP))["ConnID"]
    await expect(e, "EventRinging", ConnID=conn_id, ThisQueue=RP)


WAITS_FOREVER = strategy(
    """<state id="start"><transition event="interaction.added" target="route"/></state>
  <state id="route"><onentry><ixn:redirect to="'7002'"/></onentry></state>"""
)


async def test_a_session_without_calls_ends_after_the_orphan_timeout(
    orchestrate: Orchestrate,
) -> None:
    rig = await orchestrate({RP: WAITS_FOREVER}, orphan_timeout=0.2)
    a = await rig.site.client(A)
    conn_id = (await a.make_call(A, RP))["ConnID"]
    await a.release_call(A, conn_id)
    ended = await rig.ended()
    assert (ended.final, ended.reason) == (None, "cancelled")
    assert rig.server.core is not None
    assert not rig.server.core.interactions.sessions
