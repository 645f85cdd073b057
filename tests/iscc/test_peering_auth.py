"""ISCC peers prove who they are, through real sockets: a shared secret (HMAC over
fresh nonces) or mutual TLS whose certificate names the peer's host.  A stranger is
refused and never displaces the site already connected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctiserver.doors.address import Address
from ctiserver.doors.tls import client_context, server_context
from ctiserver.iscc.peering import Peering, PeeringTls
from ctiserver.iscc.protocol import Hello, IsccConnection, PeerMessage, Poll, Proof
from ctiserver.iscc.settings import IsccPeer, IsccSettings
from tests.integration.certificates import Certificates, make_certificates
from tests.integration.conftest import within


class Hooks:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str]] = []
        self.up = asyncio.Event()
        self.messages: list[PeerMessage] = []

    def on_peer_up(self, location: str) -> None:
        self.changes.append(("up", location))
        self.up.set()

    def on_peer_down(self, location: str) -> None:
        self.changes.append(("down", location))

    def on_peer_incompatible(self, location: str, version: str) -> None:
        self.changes.append(("incompatible", location))

    def on_peer_message(self, location: str, message: PeerMessage) -> None:
        self.messages.append(message)


NOWHERE = Address("127.0.0.1", 1)


def peering(location: str, peers: dict[str, IsccPeer], hooks: Hooks, **options: object) -> Peering:
    """A Peering of *location* (server "a" or "b"): [iscc] from *options*, and a `tls`
    option for PeeringTls."""
    tls = options.pop("tls", None)
    settings = IsccSettings(peers=peers, **options)  # type: ignore[arg-type]
    server = location[-1].lower()
    return Peering(settings, hooks, location=location, server=server, tls=tls)  # type: ignore[arg-type]


async def pair(
    a: dict[str, object], b: dict[str, object], secrets: tuple[str, str] = ("", "")
) -> tuple[Peering, Hooks, Peering, Hooks, asyncio.Task[None]]:
    """SiteB listening; SiteA dialing it (A sorts first), each with the secret of
    *secrets* it holds for the other.  Both up."""
    hooks_b = Hooks()
    b_side = peering(
        "SiteB",
        {"SiteA": IsccPeer(NOWHERE, secret=secrets[1])},
        hooks_b,
        listen=Address("127.0.0.1", 0),
        **b,
    )
    bound = await b_side.start()
    assert bound is not None
    hooks_a = Hooks()
    peer = IsccPeer(Address(*bound), secret=secrets[0])
    a_side = peering("SiteA", {"SiteB": peer}, hooks_a, reconnect_timeout=0.05, **a)
    task = asyncio.create_task(a_side.run())
    await within(hooks_a.up.wait())
    await within(hooks_b.up.wait())
    return a_side, hooks_a, b_side, hooks_b, task


async def stranger(address: tuple[str, int], messages: list[PeerMessage], **tls: object) -> bytes:
    """Say *messages* as a would-be SiteA; what the listener said before closing."""
    reader, writer = await asyncio.open_connection(*address, **tls)  # type: ignore[arg-type]
    stream = IsccConnection()
    for message in messages:
        writer.write(stream.send(message))
    try:
        return await within(reader.read())
    finally:
        writer.close()


async def test_sites_that_share_a_secret_connect_and_a_stranger_does_not_displace_them() -> None:
    a, _hooks_a, b, hooks_b, task = await pair({}, {}, secrets=("s3cret", "s3cret"))
    try:
        assert b.settings.listen is not None
        address = b._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        hello = Hello(location="SiteA", server="evil", nonce="0" * 32)
        said = await stranger(address, [hello, Proof(mac="f" * 64)])
        assert b"proof" not in said.split(b"\n")[-1]  # refused after its wrong proof
        said = await stranger(address, [Hello(location="SiteA", server="evil")])  # no nonce
        assert b"SiteB" in said  # our hello, then the door closed
        assert b.connected == ["SiteA"]
        assert hooks_b.changes == [("up", "SiteA")]  # never down, never displaced
        a.send("SiteB", Poll(id=1))  # the real SiteA still gets through
        assert a.connected == ["SiteB"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await b.stop()


async def test_a_wrong_secret_is_refused_both_ways() -> None:
    hooks_b = Hooks()
    b = peering(
        "SiteB",
        {"SiteA": IsccPeer(NOWHERE, secret="right")},
        hooks_b,
        listen=Address("127.0.0.1", 0),
        hello_timeout=1.0,
    )
    bound = await b.start()
    assert bound is not None
    hooks_a = Hooks()
    a = peering(
        "SiteA",
        {"SiteB": IsccPeer(Address(*bound), secret="wrong")},
        hooks_a,
        reconnect_timeout=0.05,
        hello_timeout=1.0,
    )
    task = asyncio.create_task(a.run())
    try:
        for _ in range(3):  # a few attempts, each refused
            await within(asyncio.sleep(0.1))
        assert hooks_a.changes == []
        assert hooks_b.changes == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await b.stop()


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


async def test_mutual_tls_between_peers_and_a_certificate_for_another_host_is_refused(
    certificates: Certificates,
) -> None:
    server = server_context(certificates.server.cert, certificates.server.key, certificates.ca)
    dialer = client_context(
        certificates.ca, cert=certificates.client.cert, key=certificates.client.key
    )
    _a, _hooks_a, b, hooks_b, task = await pair(
        {"tls": PeeringTls(dialer=dialer)},
        {"tls": PeeringTls(listener=server, client_certificates=True)},
    )
    try:
        address = b._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        hello = Hello(location="SiteA", server="evil", nonce="1" * 32)
        stranger_tls = client_context(
            certificates.ca, cert=certificates.stranger.cert, key=certificates.stranger.key
        )
        said = await stranger(address, [hello], ssl=stranger_tls)
        assert said.count(b"\n") <= 1  # at most our hello: never up
        try:  # no client certificate: the handshake fails, on one side or the other
            said = await stranger(address, [hello], ssl=client_context(certificates.ca))
        except OSError:
            said = b""
        assert said == b""  # not even our hello
        assert b.connected == ["SiteA"]
        assert hooks_b.changes == [("up", "SiteA")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await b.stop()


async def test_without_proof_a_second_connection_never_displaces_the_first() -> None:
    a, _hooks_a, b, hooks_b, task = await pair({}, {})
    try:
        address = b._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        said = await stranger(address, [Hello(location="SiteA", server="evil", nonce="2" * 32)])
        assert said.count(b"\n") == 1  # our hello, then closed
        assert b.connected == ["SiteA"]
        assert hooks_b.changes == [("up", "SiteA")]
        assert a.send("SiteB", Poll(id=3))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await b.stop()
