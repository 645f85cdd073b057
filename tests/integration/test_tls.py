"""TLS on every door, with real certificates made at test time: the T-Library port,
HTTP and WebSocket, the CSTA link to pbxsim; plaintext refused on TLS ports, mutual TLS
refused without a client certificate."""

from __future__ import annotations

import asyncio
import contextlib
import io
import ssl
from pathlib import Path

import aiohttp
import pytest

from ctiserver.client.connection import ConnectionClosed, TClient
from ctiserver.doors.tls import client_context
from ctiserver.errors import StartupError
from tests.integration.certificates import Certificates, make_certificates
from tests.integration.conftest import SiteFactory, check, within


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


def tls_settings(
    certificates: Certificates, *, mutual: bool = False, **server: object
) -> dict[str, object]:
    """The [server] section with TLS on every listener (and *server*'s other keys)."""
    tls = {
        "tls_cert": certificates.server.cert,
        "tls_key": certificates.server.key,
        "tls_client_ca": certificates.ca if mutual else None,
        "tls_ca": certificates.ca,
    }
    return {"server": tls | server}


async def test_the_tlib_port_speaks_tls_and_refuses_plaintext(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(**tls_settings(certificates))
    context = client_context(certificates.ca)
    client = await TClient.connect(*site.address, application_name="tls", ssl=context)
    check(await client.query_server(), "EventServerInfo")
    await client.close()
    reader, writer = await asyncio.open_connection(*site.address)
    writer.write(b'{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"p"}\n')
    assert b"EventServerInfo" not in await within(reader.read())  # closed, never answered
    writer.close()
    assert site.service.runtime.client_count == 0


async def test_a_client_that_does_not_trust_the_server_is_stopped_by_its_handshake(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(**tls_settings(certificates))
    with pytest.raises(ssl.SSLCertVerificationError):
        await TClient.connect(*site.address, application_name="x", ssl=client_context())


async def test_mutual_tls_refuses_a_client_without_a_certificate(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(**tls_settings(certificates, mutual=True))
    with pytest.raises((ssl.SSLError, ConnectionError, ConnectionClosed)):
        await TClient.connect(
            *site.address, application_name="x", ssl=client_context(certificates.ca)
        )
    context = client_context(
        certificates.ca, cert=certificates.client.cert, key=certificates.client.key
    )
    client = await TClient.connect(*site.address, application_name="x", ssl=context)
    check(await client.query_server(), "EventServerInfo")
    await client.close()


async def test_http_and_the_websocket_speak_tls(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(**tls_settings(certificates))
    host, port = site.service.http_address or ("", 0)
    context = client_context(certificates.ca)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"https://{host}:{port}/healthz", ssl=context) as reply:
            assert "link" in await reply.json()  # 200 or 503 as the link goes
        async with session.ws_connect(f"wss://{host}:{port}/tlib", ssl=context) as ws:
            await ws.send_str(
                '{"Request":"RequestRegisterClient","ReferenceID":1,"ApplicationName":"w"}'
            )
            assert "EventServerInfo" in (await within(ws.receive())).data
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"http://{host}:{port}/healthz") as reply:
                await reply.read()


async def test_the_csta_link_to_pbxsim_runs_over_tls(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(
        pbxsim={"tls_cert": certificates.server.cert, "tls_key": certificates.server.key},
        switch={"tls": True, "tls_ca": certificates.ca},
    )
    a = await site.client("7001")
    check(await a.make_call("7001", "7002"), "EventDialing")
    assert site.service.embedded is not None
    host, port = site.service.embedded.listener.address or ("", 0)
    reader, writer = await asyncio.open_connection(host, port)  # plaintext CSTA
    writer.write(b"\x00\x00\x00\x2c0001<RequestSystemStatus></RequestSystemStatus>")
    assert b"SystemStatus" not in await within(reader.read())  # refused, never greeted
    writer.close()


async def test_the_embedded_orchestration_server_reaches_a_tls_listener(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    from ctiserver.app.config import demo, with_orchestration

    settings = with_orchestration(demo()).orchestration
    site = await make_site(**tls_settings(certificates, mutual=True), orchestration=settings)
    assert site.service.orchestration is not None
    await within(site.service.orchestration.ready.wait(), 10)


async def test_a_connection_that_never_finishes_its_handshake_is_closed(
    make_site: SiteFactory, certificates: Certificates
) -> None:
    site = await make_site(**tls_settings(certificates, clients={"register_timeout": 0.3}))
    reader, writer = await asyncio.open_connection(*site.address)  # and says nothing
    assert await within(reader.read()) == b""
    writer.close()


class Printed(io.StringIO):
    """What `ctiserver trace` prints, with a wait for a line to come."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)

    async def until(self, text: str) -> None:
        async with asyncio.timeout(5):
            while text not in self.getvalue():
                self.written.clear()
                await self.written.wait()


async def test_ctiserver_trace_follows_over_tls_with_the_configured_token(
    make_site: SiteFactory, certificates: Certificates, tmp_path: Path
) -> None:
    from ctiserver.cli import _admin_credentials
    from ctiserver.logs.follow import follow

    token_file = tmp_path / "admin-token"
    token_file.write_text("a-long-enough-admin-token-0123\n")
    site = await make_site(**tls_settings(certificates), security={"admin_token_file": token_file})
    tls, headers = _admin_credentials(site.service.config)  # as `ctiserver trace --config`
    assert tls is not None
    host, port = site.service.http_address or ("", 0)
    with pytest.raises(StartupError, match="401"):  # without the token
        await follow(f"{host}:{port}", [], tls=tls, out=io.StringIO())
    printed = Printed()
    following = asyncio.create_task(
        follow(f"{host}:{port}", [], tls=tls, headers=headers, out=printed)
    )
    try:
        await printed.until("following the trace of everything")
        client = await TClient.connect(
            *site.address, application_name="desk", application_password="s3cret", ssl=tls
        )
        await client.close()
        await printed.until('"ApplicationPassword":"***"')
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert "s3cret" not in printed.getvalue()
    assert " tlib in from " in printed.getvalue()
