"""A running site for integration tests: the real composition root (app.service) on
127.0.0.1, port 0, with the embedded pbxsim, driven through sockets by the client SDK."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ctiserver.app.config import Config, amend, demo
from ctiserver.app.service import Service
from ctiserver.client.connection import TClient
from ctiserver.doors.address import Address
from ctiserver.tlib.events import problems
from ctiserver.tlib.vocabulary import TMessage

EVENT_TIMEOUT = 5.0
ALWAYS = ("Server", "EventSequenceNumber", "time")


def site_config(**sections: Any) -> Config:
    """The demo site on port 0, quick to notice a lost link, with *sections* changed as
    app.config.amend changes them: `site_config(switch={"reply_timeout": 0.3})`."""
    quick = amend(
        demo(),
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": Address("127.0.0.1", 0)},
        switch={
            "reply_timeout": 2.0,
            "reconnect_min": 0.05,
            "reconnect_max": 0.2,
            "keepalive_interval": 5.0,
        },
    )
    return amend(quick, sections)


class Site:
    """A Service running in this event loop, and clients connected to it."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.lines: list[str] = []
        self._clients: list[TClient] = []

    @property
    def address(self) -> tuple[str, int]:
        assert self.service.client_address is not None
        return self.service.client_address

    async def client(self, *dns: str, name: str = "test", link_up: bool = True) -> TClient:
        """A client that has registered *dns* and (unless *link_up* is False) seen the
        link up; its inbox is empty."""
        client = await TClient.connect(*self.address, application_name=name)
        self._clients.append(client)
        await within(client.next_event())  # EventServerInfo, also in the stream
        link = await within(client.next_event())  # the link event answering RegisterClient
        if link_up and link["Event"] != "EventLinkConnected":
            await within(client.wait_for("EventLinkConnected"))
        for dn in dns:
            await client.register_address(dn)
            await within(client.next_event())  # EventRegistered, also in the stream
        return client

    async def client_for(self, name: str, password: str, *dns: str) -> TClient:
        """A client of application *name*, authenticated, that has registered *dns*."""
        client = await TClient.connect(
            *self.address, application_name=name, application_password=password
        )
        self._clients.append(client)
        await within(client.wait_for("EventLinkConnected"))
        for dn in dns:
            await client.register_address(dn)
            await within(client.next_event())
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.close()


async def within(awaitable: Awaitable[Any], seconds: float = EVENT_TIMEOUT) -> Any:
    async with asyncio.timeout(seconds):
        return await awaitable


async def start_site(config: Config) -> tuple[Site, asyncio.Task[None]]:
    lines: list[str] = []
    service = Service(config, announce=lines.append)
    site = Site(service)
    site.lines = lines
    task = asyncio.create_task(service.run(), name="site")
    started = asyncio.create_task(service.started.wait())
    await asyncio.wait({task, started}, timeout=EVENT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()  # it failed to start: say why
    assert service.started.is_set(), "the service did not start in time"
    return site, task


async def stop_site(site: Site, task: asyncio.Task[None]) -> None:
    await site.close()
    site.service.stop()
    async with asyncio.timeout(EVENT_TIMEOUT):
        await task


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    running, task = await start_site(site_config())
    try:
        yield running
    finally:
        await stop_site(running, task)


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site() -> AsyncIterator[SiteFactory]:
    started: list[tuple[Site, asyncio.Task[None]]] = []

    async def make(**overrides: Any) -> Site:
        running, task = await start_site(site_config(**overrides))
        started.append((running, task))
        return running

    yield make
    for running, task in started:
        with contextlib.suppress(Exception):
            await stop_site(running, task)


def check(event: TMessage, name: str, **expected: Any) -> TMessage:
    """*event* is *name* with the *expected* attributes; ReferenceID=None means absent."""
    assert event["Event"] == name, event
    assert not problems(event), (problems(event), event)  # the events' table (tlib.events)
    for attribute in ALWAYS:
        assert attribute in event, (attribute, event)
    for attribute, value in expected.items():
        if value is None:
            assert attribute not in event, (attribute, event)
        else:
            assert event.get(attribute) == value, (attribute, value, event)
    return event


async def expect(client: TClient, name: str, **expected: Any) -> TMessage:
    """The client's next event is *name* with *expected* attributes."""
    return check(await within(client.next_event()), name, **expected)


async def quiet(client: TClient, seconds: float = 0.1) -> None:
    """No event arrives for *seconds* (used only to prove an absence)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            event = await client.next_event()
            raise AssertionError(f"unexpected event {event}")
