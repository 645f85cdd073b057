"""CstaLink against a scripted switch over a real socket: requests beyond
max_outstanding wait their turn; closing fails every request, sent or waiting."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.csta.system import MonitorStart, MonitorStartResponse, RequestSystemStatus
from ctiserver.errors import LinkDown
from ctiserver.ids import DeviceId
from ctiserver.link.connection import CstaLink, Reply
from tests.integration.conftest import within
from tests.integration.fakes import FakeSwitch


async def test_requests_beyond_the_limit_wait_for_room() -> None:
    switch = FakeSwitch(hold_for=(MonitorStart,))
    host, port = await switch.start()
    link = await CstaLink.open(
        host, port, edition="ed4", connect_timeout=5.0, on_message=lambda m: None, max_outstanding=3
    )
    reader = asyncio.create_task(link.run())
    replies: list[Reply] = []
    try:
        for n in range(7):
            link.submit(MonitorStart(device_object=DeviceId(str(n))), replies.append, timeout=30.0)
        assert link.outstanding == 3
        for expected in (3, 3, 1):
            await within(switch.wait_held(expected))
            switch.release()
        await within(link.request(RequestSystemStatus(), within=5.0))  # after the last answer
        assert switch.most_held == 3
        assert [r.monitor_cross_ref_id for r in replies] == [str(n) for n in range(7)]  # type: ignore[union-attr]
        assert all(isinstance(r, MonitorStartResponse) for r in replies)
    finally:
        link.close()
        await reader
        await switch.stop()


async def test_closing_fails_requests_sent_and_waiting() -> None:
    switch = FakeSwitch(hold_for=(MonitorStart,))
    host, port = await switch.start()
    link = await CstaLink.open(
        host, port, edition="ed4", connect_timeout=5.0, on_message=lambda m: None, max_outstanding=2
    )
    replies: list[Reply] = []
    for n in range(5):
        link.submit(MonitorStart(device_object=DeviceId(str(n))), replies.append, timeout=30.0)
    link.close()
    assert len(replies) == 5
    assert all(isinstance(r, LinkDown) for r in replies)
    with pytest.raises(LinkDown):
        await link.request(MonitorStart(device_object=DeviceId("late")), within=1.0)
    await switch.stop()


def test_the_limit_is_within_the_invoke_ids() -> None:
    with pytest.raises(ValueError, match="9998"):
        CstaLink(None, None, edition="ed4", on_message=lambda m: None, max_outstanding=10_000)  # type: ignore[arg-type]
