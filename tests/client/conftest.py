"""The SDK's tests share the pair's (a real nats-server, a standalone pbxsim) and the
single site's fixtures, and put a breakable relay (tests/client/proxy.py) between the
SDK and the servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.client.proxy import Proxy
from tests.ha.conftest import nats_server, switch
from tests.integration.conftest import make_site

__all__ = ["make_site", "nats_server", "proxies", "switch"]

ProxyFactory = Callable[[tuple[str, int]], Awaitable[Proxy]]


@pytest.fixture
async def proxies() -> AsyncIterator[ProxyFactory]:
    """Relays to servers, stopped at the end of the test."""
    started: list[Proxy] = []

    async def relay(upstream: tuple[str, int]) -> Proxy:
        proxy = await Proxy(upstream).start()
        started.append(proxy)
        return proxy

    yield relay
    for proxy in started:
        await proxy.stop()
