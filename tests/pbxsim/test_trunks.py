"""docs/pbxsim.md § 9 through real sockets: simulated switches joined by trunks on
127.0.0.1, each watched by a CSTA application.  Nothing sleeps: every wait is for data,
under a timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest

from ctiserver.csta.call_control import AnswerCall, MakeCall, SingleStepTransferCall
from ctiserver.csta.enumerations import EventCause as Cause
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    FailedEvent,
    NetworkReachedEvent,
)
from ctiserver.csta.schema import Event
from ctiserver.csta.system import MonitorStart, MonitorStartResponse
from ctiserver.csta.types import PrivateData, PrivateElement
from ctiserver.doors.address import Address
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.config import PbxConfig, PbxsimSettings, Trunk, expand_numbers
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.phone import Answer, Dial, HangUp
from ctiserver.pbxsim.switch import Switch

from .client import TIMEOUT, Client
from .rig import NS, C

E = TypeVar("E", bound=Event)


def config(name: str, *trunks: Trunk) -> PbxConfig:
    return PbxConfig(
        name=name,
        stations=expand_numbers(["7001-7005"]),
        settings=PbxsimSettings(trunk_listen=Address("127.0.0.1", 0), trunks=trunks),
    )


class Site:
    """One switch on free ports, and one CSTA application monitoring its stations."""

    def __init__(self, listener: PbxListener, client: Client) -> None:
        self.listener = listener
        self.client = client
        self.devices: dict[str, str] = {}  # monitorCrossRefID -> device

    @classmethod
    async def start(cls, config: PbxConfig) -> Site:
        listener = PbxListener(Switch(config), "127.0.0.1", 0, trunk_retry=(0.02, 0.2))
        address = await listener.start()
        client = await Client.connect(address)
        await client.greeted()
        site = cls(listener, client)
        for device in ("7001", "7002", "7003"):
            response = await client.request(MonitorStart(device_object=DeviceId(device)))
            assert isinstance(response, MonitorStartResponse)
            site.devices[response.monitor_cross_ref_id] = device
        return site

    @property
    def trunk_address(self) -> tuple[str, int]:
        address = self.listener.trunk_address
        assert address is not None
        return address

    async def event(self, cls: type[E], device: str) -> E:
        """The next event of *cls* at *device* (others are passed over)."""
        while True:
            event = await self.client.expect(cls)
            if self.devices[event.monitor_cross_ref_id] == device:
                return event

    async def trunk(self, name: str, *, up: bool = True) -> None:
        async with asyncio.timeout(TIMEOUT):
            await self.listener.wait_trunk(name, up=up)

    async def stop(self) -> None:
        await self.client.close()
        await self.listener.stop()


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Site, Site]]:
    """A dials B's numbers with 9, B dials A's with 8."""
    a = await Site.start(config("A", Trunk(name="AB", prefix="9")))
    b = await Site.start(config("B", Trunk(name="BA", prefix="8")))
    a.listener.connect_trunk("AB", *b.trunk_address)
    b.listener.connect_trunk("BA", *a.trunk_address)
    await a.trunk("AB")
    await b.trunk("BA")
    yield a, b
    await a.stop()
    await b.stop()


def network_data(*elements: tuple[str, str]) -> PrivateData:
    return PrivateData(NS, tuple(PrivateElement(name, text) for name, text in elements))


async def test_a_call_reaches_the_other_switch_with_ani_dnis_uui_and_network_call_id(
    pair: tuple[Site, Site],
) -> None:
    a, b = pair
    uui = network_data(("uui", "case-17"))
    await a.client.request(
        MakeCall(
            calling_device=DeviceId("7001"),
            called_directory_number=DeviceId("97002"),
            private_data=uui,
        )
    )
    reached = await a.event(NetworkReachedEvent, "7001")
    assert reached.network_interface_used == "AB"
    assert reached.called_device == "97002"
    assert reached.private_data == network_data(("networkCallID", "A-1"), ("uui", "case-17"))

    delivered = await b.event(DeliveredEvent, "7002")
    assert delivered.connection == C(1, "7002")
    assert (delivered.calling_device, delivered.called_device) == ("7001", "7002")  # ANI, DNIS
    assert (delivered.network_calling_device, delivered.network_called_device) == ("7001", "97002")
    assert delivered.private_data == network_data(("networkCallID", "A-1"), ("uui", "case-17"))

    ringing = await a.event(DeliveredEvent, "7001")
    assert (ringing.connection, ringing.alerting_device) == (C(1, "97002@A-1"), "97002")

    await b.client.request(AnswerCall(call_to_be_answered=C(1, "7002")))
    answered = await a.event(EstablishedEvent, "7001")
    assert answered.answering_device == "97002"

    a.listener.act(HangUp("7001"))
    far_end = await b.event(ConnectionClearedEvent, "7002")
    assert (far_end.dropped_connection, far_end.releasing_device) == (C(1, "7001@A-1"), "7001")
    assert (await b.event(ConnectionClearedEvent, "7002")).dropped_connection == C(1, "7002")
    await b.event(CallClearedEvent, "7002")
    assert a.listener.switch.view().calls == b.listener.switch.view().calls == ()


async def test_either_end_can_originate_and_clear(pair: tuple[Site, Site]) -> None:
    a, b = pair
    b.listener.act(Dial("7003", "87001"))  # B calls A's 7001
    delivered = await a.event(DeliveredEvent, "7001")
    assert (delivered.calling_device, delivered.private_data) == (
        "7003",
        network_data(("networkCallID", "B-1")),
    )
    await b.event(DeliveredEvent, "7003")  # A's 7001 rings: B hears of it
    a.listener.act(Answer("7001"))
    await b.event(EstablishedEvent, "7003")
    a.listener.act(HangUp("7001"))  # the called end clears
    cleared = await b.event(ConnectionClearedEvent, "7003")
    assert cleared.releasing_device == "87001"
    await b.event(CallClearedEvent, "7003")


async def test_busy_and_unknown_numbers_fail_at_the_calling_end(pair: tuple[Site, Site]) -> None:
    a, b = pair
    b.listener.act(Dial("7002", "7003"))
    a.listener.act(Dial("7001", "97002"))
    busy = await a.event(FailedEvent, "7001")
    assert (busy.cause, busy.failing_device) == (Cause.BUSY, "97002")
    a.listener.act(HangUp("7001"))
    a.listener.act(Dial("7002", "96666"))
    unknown = await a.event(FailedEvent, "7002")
    assert unknown.cause is Cause.DEST_NOT_OBTAINABLE


class Proxy:
    """A TCP forwarder in front of a trunk listener; cut() breaks what goes through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.writers: list[asyncio.StreamWriter] = []
        self.connected = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_reader, peer_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, peer_writer]
        self.connected.set()
        await asyncio.gather(
            self._pump(reader, peer_writer), self._pump(peer_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()
        self.connected.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_a_trunk_that_drops_clears_its_calls_at_both_ends() -> None:
    a = await Site.start(config("A", Trunk(name="AB", prefix="9")))
    b = await Site.start(config("B"))
    proxy = Proxy(b.trunk_address)
    try:
        a.listener.connect_trunk("AB", *await proxy.start())
        await a.trunk("AB")
        a.listener.act(Dial("7001", "97002"))
        await b.event(DeliveredEvent, "7002")
        b.listener.act(Answer("7002"))
        await a.event(EstablishedEvent, "7001")

        proxy.cut()
        for site, device in ((a, "7001"), (b, "7002")):
            far = await site.event(ConnectionClearedEvent, device)
            own = await site.event(ConnectionClearedEvent, device)
            assert far.cause is own.cause is Cause.NETWORK_OUT_OF_ORDER
            cleared = await site.event(CallClearedEvent, device)
            assert cleared.cause is Cause.NETWORK_OUT_OF_ORDER
            assert site.listener.switch.view().calls == ()
        await a.trunk("AB")  # and it comes back by itself
    finally:
        await proxy.stop()
        await a.stop()
        await b.stop()


async def test_the_trunk_reconnects_when_the_peer_comes_back(pair: tuple[Site, Site]) -> None:
    a, b = pair
    await b.client.close()
    await b.listener.stop()  # B goes away; start() binds the same ports again
    await a.trunk("AB", up=False)
    a.listener.act(Dial("7001", "97002"))
    down = await a.event(FailedEvent, "7001")
    assert down.cause is Cause.TRUNKS_BUSY
    a.listener.act(HangUp("7001"))

    await b.listener.start()  # the same ports again
    await a.trunk("AB")
    b.client = await Client.connect(b.listener.address)  # type: ignore[arg-type]
    await b.client.greeted()
    b.devices = {}
    response = await b.client.request(MonitorStart(device_object=DeviceId("7002")))
    assert isinstance(response, MonitorStartResponse)
    b.devices[response.monitor_cross_ref_id] = "7002"
    a.listener.act(Dial("7001", "97002"))
    await b.event(DeliveredEvent, "7002")


async def test_three_switches_a_call_passed_on_from_b_to_c() -> None:
    a = await Site.start(config("A", Trunk(name="AB", prefix="92"), Trunk(name="AC", prefix="93")))
    b = await Site.start(config("B", Trunk(name="BA", prefix="91"), Trunk(name="BC", prefix="93")))
    c = await Site.start(config("C", Trunk(name="CA", prefix="91"), Trunk(name="CB", prefix="92")))
    sites = {"A": a, "B": b, "C": c}
    try:
        for here, site in sites.items():
            for there, other in sites.items():
                if here != there:
                    site.listener.connect_trunk(here + there, *other.trunk_address)
        for here, site in sites.items():
            for there in sites:
                if here != there:
                    await site.trunk(here + there)

        a.listener.act(Dial("7001", "927002"))  # A's 7001 calls B's 7002
        await b.event(DeliveredEvent, "7002")
        b.listener.act(Answer("7002"))
        await a.event(EstablishedEvent, "7001")
        await b.client.request(
            SingleStepTransferCall(active_call=C(1, "7002"), transferred_to=DeviceId("937003"))
        )
        at_c = await c.event(DeliveredEvent, "7003")
        assert at_c.calling_device == "7001"  # the caller, as B knew it
        assert at_c.network_called_device == "937003"
        assert at_c.private_data is not None
        (network_call_id,) = (
            e.text for e in at_c.private_data.elements if e.name == "networkCallID"
        )
        assert network_call_id.startswith("B-")  # a leg of its own, B to C
        c.listener.act(Answer("7003"))
        c.listener.act(HangUp("7003"))  # C hangs up: B's call ends, and so does A's
        cleared = await a.event(CallClearedEvent, "7001")
        assert cleared.cause is None
        # C cleared, then told B, which cleared and told A: all is over everywhere
        assert [site.listener.switch.view().calls for site in sites.values()] == [(), (), ()]
    finally:
        for site in sites.values():
            with contextlib.suppress(Exception):
                await site.stop()


async def test_a_trunk_can_be_pointed_at_another_switch(pair: tuple[Site, Site]) -> None:
    a, b = pair
    c = await Site.start(config("C"))
    try:
        a.listener.connect_trunk("AB", *c.trunk_address)  # AB now leads to C
        assert not a.listener.trunk_up("AB")  # the link to B is dropped at once
        await a.trunk("AB")
        a.listener.act(Dial("7001", "97002"))
        delivered = await c.event(DeliveredEvent, "7002")
        assert delivered.calling_device == "7001"
        assert b.listener.switch.view().calls == ()
        with pytest.raises(KeyError):
            a.listener.connect_trunk("nowhere", *c.trunk_address)
    finally:
        await c.stop()
