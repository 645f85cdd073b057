"""Live reload of [dn], the HTTP side (WebSocket /tlib, /healthz, /metrics), and the
command line itself run as a user runs it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from ctiserver.tlib.codec import MAX_LINE
from tests.integration.conftest import Site, SiteFactory, check, expect, within

SITE = """
[server]
client-listen = "127.0.0.1:0"
http-listen = "127.0.0.1:0"

[switch]
reconnect-min = 0.05

[dn]
extensions = [{extensions}]
"""


def write_site(path: Path, extensions: str) -> None:
    path.write_text(SITE.format(extensions=extensions))


async def test_reload_adds_and_removes_dns(make_site: SiteFactory, tmp_path: Path) -> None:
    from ctiserver.app import config as configuration

    path = tmp_path / "site.toml"
    write_site(path, '"7001", "7002"')
    loaded = configuration.load(path)
    site = await make_site(site={"dns": loaded.site.dns}, source=loaded.source)
    a = await site.client("7001", "7002")
    write_site(path, '"7001", "7003"')
    result = await site.service.reload()
    assert (result["ok"], result["added"], result["removed"]) == (True, ["7003"], ["7002"])
    assert "[dn]" in result["applied"]
    removed = await expect(a, "EventUnregistered", ThisDN="7002", ErrorCode=59, ReferenceID=None)
    assert "removed" in removed["ErrorMessage"]
    check(await a.register_address("7003"), "EventRegistered", ThisDN="7003")
    await expect(a, "EventRegistered")
    dialing = await a.make_call("7001", "7003")  # the switch knows 7003 now, and monitors it
    await expect(a, "EventDialing")
    await expect(a, "EventRinging", ThisDN="7003", ConnID=dialing["ConnID"])
    reference = a.send("RequestRegisterAddress", ThisDN="7002")
    await expect(a, "EventError", ErrorCode=59, ReferenceID=reference)


async def test_a_bad_file_is_refused_and_the_configuration_stays(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    path = tmp_path / "site.toml"
    write_site(path, '"7001"')
    site = await make_site(source=path)
    path.write_text("[dn]\nextensions = ['7001',\n")
    result = await site.service.reload()
    assert result["ok"] is False
    assert "not valid TOML" in result["error"]
    assert "7002" in site.service.config.site.dns


async def test_a_reload_applies_what_it_can_and_names_what_needs_a_restart(
    make_site: SiteFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ctiserver.app import config as configuration

    path = tmp_path / "site.toml"
    write_site(path, '"7001"')
    loaded = configuration.load(path)
    site = await make_site(**{f.name: getattr(loaded, f.name) for f in dataclasses.fields(loaded)})
    assert not site.service.tracer.active
    path.write_text(
        SITE.format(extensions='"7001", "7002"').replace("127.0.0.1:0", "127.0.0.1:1", 1)
        + '[log]\ntrace = ["7001"]\n[security]\nlog-hide-keys = ["card"]\n'
    )
    result = await site.service.reload()
    assert result["ok"] is True
    assert result["applied"] == ["[dn]", "[log] trace", "[security] log-hide-keys"]
    assert result["restart"] == ["[server] client-listen"]
    assert site.service.tracer.active  # the trace is on, now
    assert site.service.tracer.mask is site.service.mask  # one mask, for the trace and the log
    with caplog.at_level(logging.DEBUG, logger="ctiserver.server.access"):
        a = await site.client("7001")
        await a.make_call("7001", "7002", user_data={"card": "4111 1111", "case": "A-17"})
    assert "A-17" in caplog.text
    assert "4111" not in caplog.text  # the log's filter took the reloaded keys too
    again = await site.service.reload()  # nothing new, but the restart is still owed
    assert (again["applied"], again["restart"]) == ([], ["[server] client-listen"])


async def test_a_reload_refuses_what_run_would_refuse_and_changes_nothing(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    path = tmp_path / "site.toml"
    write_site(path, '"7001"')
    site = await make_site(source=path)
    path.write_text(SITE.format(extensions='"7001"').replace("[dn]", "reconnect-max = 0.01\n[dn]"))
    result = await site.service.reload()
    assert result["ok"] is False
    assert "reconnect-min (0.05 s) is above reconnect-max (0.01 s)" in result["error"]


async def test_websocket_speaks_the_same_protocol(site: Site) -> None:
    host, port = site.service.http_address  # type: ignore[misc]
    b = await site.client("7002")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://{host}:{port}/tlib") as ws,
    ):

        async def ask(message: dict[str, object]) -> dict[str, object]:
            await ws.send_str(orjson.dumps(message).decode())
            return orjson.loads((await within(ws.receive())).data)

        info = await ask(
            {"Request": "RequestRegisterClient", "ReferenceID": 1, "ApplicationName": "web"}
        )
        assert info["Event"] == "EventServerInfo"
        assert orjson.loads((await within(ws.receive())).data)["Event"] == "EventLinkConnected"
        registered = await ask(
            {"Request": "RequestRegisterAddress", "ReferenceID": 2, "ThisDN": "7001"}
        )
        assert registered["Event"] == "EventRegistered"
        dialing = await ask(
            {"Request": "RequestMakeCall", "ReferenceID": 3, "ThisDN": "7001", "OtherDN": "7002"}
        )
        assert (dialing["Event"], dialing["ReferenceID"]) == ("EventDialing", 3)
        await expect(b, "EventRinging", ConnID=dialing["ConnID"])
        bad = await ask({"Request": "RequestMakeCall", "ReferenceID": 4})
        assert (bad["Event"], bad["ErrorCode"]) == ("EventError", 53)
        await ws.send_str("x" * (MAX_LINE + 1))
        oversize = orjson.loads((await within(ws.receive())).data)
        assert oversize["ErrorCode"] == 53
        await ws.send_bytes(b"{}")
        binary = orjson.loads((await within(ws.receive())).data)
        assert "text frames" in binary["ErrorMessage"]


async def test_health_and_metrics(site: Site) -> None:
    host, port = site.service.http_address  # type: ignore[misc]
    a = await site.client("7001")
    await a.query_server()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{host}:{port}/healthz") as reply:
            assert reply.status == 200
            assert (await reply.json())["link"] == "up"
        async with session.get(f"http://{host}:{port}/metrics") as reply:
            text = await reply.text()
        assert 'ctiserver_requests_total{request="RequestQueryServer"} 1.0' in text
        assert "ctiserver_link_up 1.0" in text
        async with session.get(f"http://{host}:{port}/api/state") as reply:
            state = await reply.json()
        assert set(state["dns"]) >= {"7001", "8001", "5000"}


async def read_listening(process: asyncio.subprocess.Process, count: int) -> dict[str, str]:
    found: dict[str, str] = {}
    assert process.stdout is not None
    while len(found) < count:
        line = (await within(process.stdout.readline(), 20)).decode().strip()
        assert line, "the server ended before it listened"
        if line.startswith("listening "):
            kind, _, address = line.removeprefix("listening ").partition("=")
            found[kind] = address
    return found


# The link may come up after the client registered (EventLinkDisconnected, then
# EventLinkConnected): link events may come between those a test waits for.
BETWEEN = {"EventServerInfo", "EventLinkDisconnected", "EventLinkConnected"}


async def next_event(reader: asyncio.StreamReader, name: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = orjson.loads(await within(reader.readline()))
        if event["Event"] == name:
            return event
        assert event["Event"] in BETWEEN, event


async def test_the_command_line_runs_reloads_on_sighup_and_stops_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    write_site(path, '"7001", "7002"')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "run", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    writer: asyncio.StreamWriter | None = None
    try:
        listening = await read_listening(process, 3)
        assert set(listening) == {"csta", "client", "http"}
        host, port = listening["client"].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b'{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"cli"}\n'
        )
        writer.write(b'{"Request":"RequestRegisterAddress","ReferenceID":2,"ThisDN":"7002"}\n')
        registered = await next_event(reader, "EventRegistered")
        assert registered["ThisDN"] == "7002"
        write_site(path, '"7001"')
        process.send_signal(signal.SIGHUP)
        unregistered = await next_event(reader, "EventUnregistered")
        assert unregistered["ThisDN"] == "7002"
        process.send_signal(signal.SIGTERM)
        assert await within(process.wait(), 10) == 0
    finally:
        if writer is not None:
            writer.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_clients_leaving_and_a_clean_stop_are_no_warning(tmp_path: Path) -> None:
    """A TCP client and a WebSocket client register and leave, then SIGTERM: the log
    tells each at INFO, and has no WARNING or ERROR line (normal events are not alarms)."""
    path = tmp_path / "site.toml"
    write_site(path, '"7001", "7002"')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "run", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        listening = await read_listening(process, 3)
        host, port = listening["client"].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b'{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"tcp"}\n'
        )
        await next_event(reader, "EventServerInfo")
        writer.close()
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://{listening['http']}/tlib")
            await ws.send_str(
                '{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"ws"}'
            )
            assert "EventServerInfo" in (await within(ws.receive())).data
            await ws.close()
        process.send_signal(signal.SIGTERM)
        _, errors = await within(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = errors.decode()
    assert process.returncode == 0
    assert " INFO ctiserver.server.runtime: client " in log
    assert log.count("disconnected") >= 2, log
    alarms = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert alarms == []


async def test_check_config_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text("[server]\nname = 'x'\nclient-lisen = '127.0.0.1:1'\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "check-config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await within(process.communicate(), 20)
    assert process.returncode == 2
    assert f"{path}:3: unknown key 'client-lisen' in [server]" in err.decode()


async def test_pbxsim_runs_alone_and_speaks_csta(tmp_path: Path) -> None:
    from ctiserver.csta.session import NEED_DATA, CstaSession, Role
    from ctiserver.csta.system import MonitorStart, MonitorStartResponse, SystemStatus

    path = tmp_path / "switch.toml"
    path.write_text('[dn]\nextensions = ["7001-7002"]\n\n[pbxsim]\ncsta-listen = "127.0.0.1:0"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "pbxsim", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        host, port = (await read_listening(process, 1))["csta"].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        session = CstaSession(Role.COMPUTING_FUNCTION)
        received = []
        _, request = session.send_request(MonitorStart(device_object="7001"))
        writer.write(request)
        while not any(isinstance(m.message, MonitorStartResponse) for m in received):
            session.receive_data(await within(reader.read(65536)))
            while (inbound := session.next_message()) is not NEED_DATA:
                received.append(inbound)
        assert isinstance(received[0].message, SystemStatus)
        writer.close()
        process.send_signal(signal.SIGTERM)
        assert await within(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_phones_of_the_embedded_switch_over_http(site: Site) -> None:
    host, port = site.service.http_address  # type: ignore[misc]
    a, b = await site.client("7001"), await site.client("7002")
    url = f"http://{host}:{port}/phone"
    async with aiohttp.ClientSession() as session:

        async def press(station: str, body: object) -> tuple[int, dict[str, object]]:
            async with session.post(f"{url}/{station}", json=body) as reply:
                return reply.status, await reply.json()

        assert await press("7001", {"action": "dial", "number": "7002"}) == (200, {"ok": True})
        await expect(a, "EventDialing", ThisDN="7001")
        await expect(b, "EventRinging", ThisDN="7002")
        assert (await press("7002", {"action": "answer"}))[0] == 200
        await expect(b, "EventEstablished")
        await expect(a, "EventEstablished")
        assert (await press("7002", {"action": "hang-up"}))[0] == 200
        await expect(b, "EventReleased")
        status, answer = await press("7002", {"action": "answer"})
        assert (status, answer["ok"]) == (409, False)
        assert "noCallToAnswer" in str(answer["error"])
        for body in ({}, {"action": "fly"}, {"action": "dial"}, [1]):
            status, answer = await press("7001", body)
            assert status == 400, body
        async with session.post(f"{url}/7001", data=b"{not json") as reply:
            assert reply.status == 400


async def test_the_phone_command(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    write_site(path, '"7001", "7002"')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctiserver.cli", "run", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        http = (await read_listening(process, 3))["http"]

        async def phone(*words: str) -> tuple[int | None, str]:
            command = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ctiserver.cli", "phone", *words, "--http", http,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await within(command.communicate(), 20)
            return command.returncode, (out + err).decode()

        assert (await phone("7001", "dial", "7002"))[0] == 0
        code, said = await phone("7001", "answer")  # 7001 is dialling, not ringing
        assert code == 1
        assert "noCallToAnswer" in said
        code, said = await phone("7001", "account-code")
        assert code == 2
        assert "needs its code" in said
    finally:
        process.send_signal(signal.SIGTERM)
        await within(process.wait(), 10)
