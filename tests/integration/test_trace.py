"""The trace (docs/logging.md): followed over /trace for one DN or the whole server (T-Library,
CSTA and ISCC messages), written to the log by `[log] trace`, with hidden UserData keys and passwords masked;
and the call and client context on the log lines written while a call is handled."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from ctiserver.app.config import Address
from ctiserver.csta.events import HeldEvent
from ctiserver.csta.types import ConnectionID
from ctiserver.ids import CallId, DeviceId, MonitorCrossRefId
from ctiserver.logs import formats
from ctiserver.logs.context import about
from ctiserver.logs.trace import Tracer, TraceSettings
from ctiserver.security.masking import UserDataMask
from tests.integration.conftest import Site, SiteFactory, expect, within
from tests.integration.fakes import FakeSwitch
from tests.integration.sites import joined, plan_a, plan_b
from tests.model.events import delivered

A, B, C = "7001", "7002", "7003"


class Follower:
    """A /trace WebSocket, read into a list."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.records: list[dict[str, Any]] = []

    async def until(self, predicate: Any) -> dict[str, Any]:
        """Read records until one satisfies *predicate*; that one."""
        async with asyncio.timeout(5):
            while True:
                record = orjson.loads((await self.ws.receive()).data)
                self.records.append(record)
                if predicate(record):
                    return record


@pytest.fixture
async def follow(site: Site) -> AsyncIterator[Any]:
    async with aiohttp.ClientSession() as session:

        async def start(*dns: str) -> Follower:
            host, port = site.service.http_address or ("", 0)
            query = "&".join(f"dn={dn}" for dn in dns)
            ws = await session.ws_connect(f"http://{host}:{port}/trace?{query}")
            follower = Follower(ws)
            await follower.until(lambda r: "following" in r)
            return follower

        yield start


def wire(record: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record["wire"])
    return value


async def test_following_one_dn_shows_its_call_from_the_request_to_the_switch_and_back(
    site: Site, follow: Any
) -> None:
    follower = await follow(B)
    a = await site.client(A)
    c = await site.client(C)
    await c.make_call(C, "7004")  # not about B: not in B's trace
    await expect(c, "EventDialing")
    dialing = await a.make_call(A, B, user_data={"case": "A-17"})
    conn_id = dialing["ConnID"]
    request = await follower.until(lambda r: r["trace"] == "tlib")
    assert (request["trace"], request["direction"], request["DN"]) == ("tlib", "in", [A, B])
    assert wire(request)["Request"] == "RequestMakeCall"
    assert "(test)" in request["peer"]
    make_call = await follower.until(lambda r: r["trace"] == "csta")
    assert make_call["direction"] == "out"
    assert make_call["wire"].startswith("<MakeCall ")
    answered = await follower.until(lambda r: r["trace"] == "tlib" and r["direction"] == "out")
    assert (wire(answered)["Event"], answered["ConnID"]) == ("EventDialing", [conn_id])
    ringing = await follower.until(lambda r: r["trace"] == "csta" and r["DN"][0] == B)
    assert ringing["wire"].startswith("<DeliveredEvent ")
    assert ringing["ConnID"] == [conn_id]
    assert ringing["callID"] == [dialing["CallID"]]
    assert ringing["invokeID"] == 9999
    every = [r for r in follower.records if "DN" in r]
    assert all(B in r["DN"] for r in every), every
    assert not any(C in r["DN"] for r in every)


async def test_hidden_keys_and_passwords_never_reach_a_follower(make_site: SiteFactory) -> None:
    site = await make_site(security={"log_hide_keys": ("card",)})
    async with aiohttp.ClientSession() as session:
        host, port = site.service.http_address or ("", 0)
        ws = await session.ws_connect(f"http://{host}:{port}/trace")
        follower = Follower(ws)
        assert await follower.until(lambda r: "following" in r) == {"following": "everything"}
        a = await site.client(A)
        await a.make_call(A, B, user_data={"case": "A-17", "card": "4111 1111"})
        await expect(a, "EventDialing")
        await a.request("RequestAgentLogin", ThisDN=A, AgentID="1001", Password="hunter2")
        await follower.until(lambda r: r["trace"] == "tlib" and "EventDialing" in r["wire"])
        await follower.until(lambda r: r["trace"] == "tlib" and "AgentLogin" in r["wire"])
    text = json.dumps(follower.records)
    assert "4111 1111" not in text  # a bare "4111" may be part of a port or a ConnID
    assert "hunter2" not in text
    dialing = next(r for r in follower.records if "EventDialing" in r.get("wire", ""))
    assert wire(dialing)["UserData"] == {"case": "A-17", "card": "***"}


async def test_the_configuration_key_writes_the_trace_to_the_log(make_site: SiteFactory) -> None:
    site = await make_site(log={"trace": TraceSettings(dns=frozenset({A}))})
    stream = io.StringIO()
    formats.configure("warning", "json", stream=stream)  # the trace gets through anyway
    try:
        a = await site.client(A, B)
        conn_id = (await a.make_call(A, B))["ConnID"]
        await expect(a, "EventDialing")
        await expect(a, "EventRinging")
        traced = [json.loads(line) for line in stream.getvalue().splitlines()]
        site.service.tracer.configure(TraceSettings())  # what a reload does: it stops
        await a.release_call(A, conn_id)  # about A, but nobody traces any more
        await expect(a, "EventReleased", ThisDN=A)
        after = stream.getvalue().splitlines()[len(traced) :]
    finally:
        formats.configure("info", "text", stream=io.StringIO())
    assert traced, "the trace is in the log whatever the level"
    assert all((t["logger"], t["level"]) == ("ctiserver.trace", "INFO") for t in traced)
    assert {t["trace"] for t in traced} >= {"tlib", "csta"}
    assert all(A in t["DN"] for t in traced)
    assert not [line for line in after if "ctiserver.trace" in line]


async def test_a_log_line_written_while_a_csta_event_is_handled_names_its_call(
    make_site: SiteFactory,
) -> None:
    switch = FakeSwitch()
    host, port = await switch.start()
    stream = io.StringIO()
    formats.configure("info", "json", stream=stream)
    try:
        site = await make_site(switch={"link": Address(host, port)})
        b = await site.client(B)
        switch.send_event(dataclasses.replace(delivered("1", A, B), monitor_cross_ref_id=B))
        ringing = await expect(b, "EventRinging", ThisDN=B)
        held = HeldEvent(
            monitor_cross_ref_id=MonitorCrossRefId(B),
            held_connection=ConnectionID(CallId("1"), DeviceId(B)),
            holding_device=DeviceId(B),
        )
        switch.send_event(held)  # ringing -> held is not a legal move: the model says so
        await within(b.wait_for("EventHeld"))
    finally:
        await switch.stop()
        formats.configure("info", "text", stream=io.StringIO())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    said = next(line for line in lines if "ringing -> held" in line["message"].lower())
    assert (said["ConnID"], said["callID"], said["DN"]) == (ringing["ConnID"], "1", B)
    assert said["peer"] == "switch"
    registered = next(line for line in lines if line["message"].endswith(" registered"))
    assert "ConnID" not in registered  # a line outside any call names none


def test_contexts_nest_and_the_text_format_shows_them() -> None:
    stream = io.StringIO()
    formats.configure("debug", "text", stream=stream)
    log = logging.getLogger("ctiserver.test")
    try:
        with about(client="1 tcp:x (desk)"):
            with about(dn="7001", subject="7", resolve=lambda s: {"conn_id": f"c{s}"}):
                log.warning("inner")
            log.warning("outer")
        log.warning("none")
    finally:
        formats.configure("info", "text", stream=io.StringIO())
    inner, outer, none = stream.getvalue().splitlines()
    assert inner.endswith("inner [ConnID=c7 DN=7001 client=1 tcp:x (desk)]")
    assert outer.endswith("outer [client=1 tcp:x (desk)]")
    assert none.endswith("ctiserver.test: none")


def test_a_tracer_with_nobody_following_is_inactive_and_a_follower_sees_only_its_dns() -> None:
    tracer = Tracer(mask=UserDataMask({"x"}))
    assert not tracer.active
    seen: list[Any] = []
    unfollow = tracer.follow(frozenset({"7001"}), seen.append)
    assert tracer.active
    tracer.tlib("in", "1", {"Request": "RequestMakeCall", "ThisDN": "7002"})
    tracer.tlib("in", "1", {"Request": "RequestMakeCall", "ThisDN": "7001", "UserData": {"x": 1}})
    assert [r.dns for r in seen] == [("7001",)]
    assert '"x":"***"' in seen[0].message
    unfollow()
    assert not tracer.active


async def test_what_waits_for_a_follower_counts_in_the_bound_on_all_buffers(
    make_site: SiteFactory,
) -> None:
    site = await make_site(
        server={"clients": {"max_client_buffers": 1}}
    )  # a trace record alone passes it
    async with aiohttp.ClientSession() as session:
        host, port = site.service.http_address or ("", 0)
        ws = await session.ws_connect(f"http://{host}:{port}/trace")
        follower = Follower(ws)
        await follower.until(lambda r: "following" in r)
        a = await site.client(A)  # a T-Library client holds nothing for long: it stays
        assert (await within(ws.receive())).type is aiohttp.WSMsgType.CLOSE
        await a.make_call(A, B)
        await expect(a, "EventDialing")
    assert site.service.budget.dropped == 1


async def test_iscc_messages_to_and_from_another_site_are_traced_masked(
    make_site: SiteFactory,
) -> None:
    """A reservation at SiteB asked for from 7001 at SiteA: SiteA's trace shows the
    ISCC request out to `site SiteB` naming 7001 and the destination, its hidden
    UserData key masked, and SiteB's answer in."""
    site_b = await make_site(**plan_b().settings(listen_trunks=True))
    site_a = await make_site(
        **plan_a(site_b).settings(listen_trunks=False), security={"log_hide_keys": ("card",)}
    )
    await joined(site_a, "AB", "SiteB", site_b)
    async with aiohttp.ClientSession() as session:
        host, port = site_a.service.http_address or ("", 0)
        follower = Follower(await session.ws_connect(f"http://{host}:{port}/trace?dn={A}"))
        await follower.until(lambda r: "following" in r)
        everything = Follower(await session.ws_connect(f"http://{host}:{port}/trace"))
        await everything.until(lambda r: "following" in r)
        client = await site_a.client(A)
        answer = await client.request(
            "RequestGetAccessNumber", ThisDN=A, OtherDN="7105", Location="SiteB",
            XRouteType="Route", UserData={"case": "A-17", "card": "4111 1111"},
        )  # fmt: skip
        reserve = await follower.until(lambda r: r["trace"] == "iscc")
        reserved = await everything.until(lambda r: r["trace"] == "iscc" and r["direction"] == "in")
    assert (reserve["direction"], reserve["peer"]) == ("out", "site SiteB")
    assert A in reserve["DN"]
    assert "7105" in reserve["DN"]
    sent = wire(reserve)
    assert (sent["type"], sent["user_data"]) == ("reserve", {"case": "A-17", "card": "***"})
    assert reserved["peer"] == "site SiteB"
    got = wire(reserved)
    assert (got["type"], got["xid"]) == ("reserved", sent["xid"])
    assert answer["AccessNumber"] == "9" + got["resource"]  # the trunk's prefix, then it
    assert "4111 1111" not in json.dumps(follower.records + everything.records)
