"""Authenticated applications, end to end through the T-Library port (TCP and
WebSocket) against pbxsim: passwords, DN scopes, permissions, the UserData limit and
the checks of values that cross to the switch.  A refused request never reaches the
switch: pbxsim's own state says so."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import orjson
import pytest

from ctiserver.client.connection import ConnectionClosed, TClient, TServerError
from ctiserver.security.applications import Application, Permission
from ctiserver.security.passwords import hash_password
from tests.integration.conftest import Site, SiteFactory, check, expect, within

CHEAP = {"log_n": 10}
DESK = Application(
    "desk", hash_password("desk-pw", **CHEAP), frozenset({"7001", "7002"}), dns_text="7001-7002"
)
WATCHER = Application(
    "watcher", hash_password("watch-pw", **CHEAP), None, frozenset({Permission.MONITOR})
)
APPS = {"desk": DESK, "watcher": WATCHER}


async def authenticated(site: Site, name: str, password: str) -> TClient:
    client = await TClient.connect(
        *site.address, application_name=name, application_password=password
    )
    await within(client.wait_for("EventLinkConnected"))
    return client


def calls_on_the_switch(site: Site) -> int:
    assert site.service.embedded is not None
    return len(site.service.embedded.switch.view().calls)


async def test_a_wrong_password_gets_eventerror_then_the_connection_closes(
    make_site: SiteFactory,
) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    reader, writer = await asyncio.open_connection(*site.address)
    writer.write(
        b'{"Request":"RequestRegisterClient","ReferenceID":7,'
        b'"ApplicationName":"desk","ApplicationPassword":"guess"}\n'
    )
    error = orjson.loads(await within(reader.readline()))
    check(error, "EventError", ReferenceID=7, ErrorCode=1190)
    assert "authentication failed for application 'desk'" in error["ErrorMessage"]
    assert await within(reader.read()) == b""  # closed after the answer
    writer.close()
    assert b"ctiserver_auth_failures_total 1.0" in site.service.metrics.render()


@pytest.mark.parametrize(
    "credentials",
    [{"application_name": "nobody", "application_password": "x"}, {"application_name": "desk"}],
    ids=["unknown application", "no password"],
)
async def test_require_auth_refuses_unknown_or_passwordless_clients(
    make_site: SiteFactory, credentials: dict[str, str]
) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    with pytest.raises(TServerError) as refused:
        await TClient.connect(*site.address, **credentials)
    assert refused.value.code == 1190


async def test_requests_before_registering_never_reach_the_core(make_site: SiteFactory) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    reader, writer = await asyncio.open_connection(*site.address)
    writer.write(
        b'{"Request":"RequestMakeCall","ReferenceID":3,"ThisDN":"7001","OtherDN":"7002"}\n'
    )
    error = orjson.loads(await within(reader.readline()))
    check(error, "EventError", ReferenceID=3, ErrorCode=1190)
    assert calls_on_the_switch(site) == 0
    writer.close()


async def test_the_right_password_registers_and_works(make_site: SiteFactory) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    desk = await authenticated(site, "desk", "desk-pw")
    check(await desk.register_address("7001"), "EventRegistered", ThisDN="7001")
    await expect(desk, "EventRegistered")
    dialing = await desk.make_call("7001", "7003")
    check(dialing, "EventDialing", ThisDN="7001", OtherDN="7003")  # OtherDN is not scoped
    assert calls_on_the_switch(site) == 1


async def test_a_dn_outside_the_scope_is_refused_and_nothing_reaches_the_switch(
    make_site: SiteFactory,
) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    victim = await site.client_for("watcher", "watch-pw", "7005")
    desk = await authenticated(site, "desk", "desk-pw")
    with pytest.raises(TServerError) as refused:
        await desk.register_address("7005")
    assert refused.value.code == 1147
    assert refused.value.message == "application 'desk' may not use DN 7005 (its DNs: 7001-7002)"
    with pytest.raises(TServerError) as refused:
        await desk.make_call("7005", "7001")
    assert refused.value.code == 1147
    assert calls_on_the_switch(site) == 0
    await desk.close()
    await victim.close()


async def test_a_missing_permission_is_refused_and_the_call_does_not_change(
    make_site: SiteFactory,
) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    desk = await authenticated(site, "desk", "desk-pw")
    await desk.register_address("7001")
    await expect(desk, "EventRegistered")
    watcher = await authenticated(site, "watcher", "watch-pw")
    check(await watcher.register_address("7001"), "EventRegistered")  # monitor: yes
    dialing = await desk.make_call("7001", "7002")
    with pytest.raises(TServerError) as refused:
        await watcher.request("RequestReleaseCall", ThisDN="7001", ConnID=dialing["ConnID"])
    assert refused.value.code == 1158
    assert "'control' permission" in refused.value.message
    assert site.service.embedded is not None
    (call,) = site.service.embedded.switch.view().calls
    assert {"7001", "7002"} <= set(call.devices)  # still up: the release never went out


async def test_websocket_clients_authenticate_like_tcp_clients(make_site: SiteFactory) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    host, port = site.service.http_address or ("", 0)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://{host}:{port}/tlib") as ws,
    ):
        await ws.send_str(
            '{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"desk",'
            '"ApplicationPassword":"nope"}'
        )
        error = orjson.loads((await within(ws.receive())).data)
        check(error, "EventError", ReferenceID=1, ErrorCode=1190)
        closing = await within(ws.receive())
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_without_configured_applications_the_demo_needs_no_password(site: Site) -> None:
    client = await site.client("7001", name="anything")
    check(await client.query_server(), "EventServerInfo")


async def test_user_data_past_the_limit_changes_nothing(make_site: SiteFactory) -> None:
    site = await make_site(options={"user_data_limit": 100})
    a = await site.client("7001")
    dialing = await a.make_call("7001", "7002", user_data={"case": "A-17"})
    await expect(a, "EventDialing")
    with pytest.raises(TServerError) as refused:
        await a.request(
            "RequestAttachUserData",
            ThisDN="7001",
            ConnID=dialing["ConnID"],
            UserData={"notes": "x" * 100},
        )
    assert refused.value.code == 53
    assert "limit of 100 bytes" in refused.value.message
    party = await a.request("RequestQueryCall", ThisDN="7001", ConnID=dialing["ConnID"])
    assert party["UserData"] == {"case": "A-17"}
    with pytest.raises(TServerError):
        await a.make_call("7001", "7003", user_data={"notes": "x" * 200})


@pytest.mark.parametrize(
    ("attribute", "value", "problem"),
    [
        ("OtherDN", "70\u000002", "control character U+0000"),
        ("OtherDN", "7002\n<x/>", "control character U+000A"),
        ("OtherDN", "9" * 129, "at most 128"),
    ],
)
async def test_a_bad_value_for_the_switch_is_an_eventerror_and_the_link_stays(
    site: Site, attribute: str, value: str, problem: str
) -> None:
    a = await site.client("7001")
    with pytest.raises(TServerError) as refused:
        await a.request("RequestMakeCall", ThisDN="7001", **{attribute: value})
    assert refused.value.code == 53
    assert problem in refused.value.message
    assert site.service.runtime.link_ready.is_set()
    dialing = await a.make_call("7001", "7002")  # the link is still there, and works
    check(dialing, "EventDialing")


async def test_a_refused_client_cannot_keep_talking(make_site: SiteFactory) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    client = TClient(*await asyncio.open_connection(*site.address))
    client.send("RequestRegisterClient", ApplicationName="desk", ApplicationPassword="x")
    client.send("RequestRegisterAddress", ThisDN="7001")
    check(await within(client.next_event()), "EventError", ErrorCode=1190)
    with pytest.raises(ConnectionClosed):
        await within(client.next_event())
    await client.close()


async def test_hidden_keys_never_reach_the_log(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    site = await make_site(security={"log_hide_keys": ("Card",)})
    client = await site.client("7001")
    with caplog.at_level(logging.DEBUG, logger="ctiserver.server.access"):
        await client.make_call("7001", "7002", user_data={"Card": "4111-1111", "Case": "A-17"})
    assert "4111-1111" not in caplog.text
    assert "'Card': '***'" in caplog.text
    assert "A-17" in caplog.text


async def test_passwords_never_reach_the_log_at_any_level(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    site = await make_site(security={"applications": APPS})  # no key hidden: passwords are, always
    with caplog.at_level(logging.DEBUG, logger="ctiserver"):
        client = await authenticated(site, "desk", "desk-pw")
        await client.request("RequestRegisterAddress", ThisDN="7001")
        await client.request("RequestAgentLogin", ThisDN="7001", AgentID="1001", Password="4321")
        await client.close()
    assert "RequestRegisterClient" in caplog.text  # the access debug line of each request
    assert "RequestAgentLogin" in caplog.text
    assert "desk-pw" not in caplog.text
    assert "4321" not in caplog.text


async def test_five_failures_from_an_address_slow_its_next_attempts(
    make_site: SiteFactory,
) -> None:
    site = await make_site(security={"require_auth": True, "applications": APPS})
    throttle = site.service.runtime.access.throttle
    for attempt in range(6):
        with pytest.raises(TServerError):
            await TClient.connect(
                *site.address, application_name="desk", application_password=f"guess{attempt}"
            )
        slowed = throttle._records["127.0.0.1"].slowed_until > 0
        assert slowed is (attempt >= 4)
    assert throttle._records["127.0.0.1"].next_turn > 0  # the sixth waited its turn
    assert b"ctiserver_auth_failures_total 6.0" in site.service.metrics.render()
    desk = await authenticated(site, "desk", "desk-pw")  # slowed, not locked out
    check(await desk.query_server(), "EventServerInfo")
