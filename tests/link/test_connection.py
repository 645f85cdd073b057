"""CstaLink against a scripted switch over a real socket: requests beyond
max_outstanding wait their turn; closing fails every request, sent or waiting."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

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


async def test_each_request_times_out_on_its_own_deadline_unless_answered() -> None:
    switch = FakeSwitch(hold_for=(MonitorStart,))
    host, port = await switch.start()
    link = await CstaLink.open(
        host, port, edition="ed4", connect_timeout=5.0, on_message=lambda m: None
    )
    reader = asyncio.create_task(link.run())
    outcomes: list[tuple[str, Reply]] = []
    all_in = asyncio.get_running_loop().create_future()

    def noting(name: str) -> Callable[[Reply], None]:
        def note(reply: Reply) -> None:
            outcomes.append((name, reply))
            if len(outcomes) == 4 and not all_in.done():
                all_in.set_result(None)

        return note

    try:
        for name, timeout in (("slow", 0.4), ("answered", 30.0), ("fast", 0.05), ("fast2", 0.05)):
            link.submit(MonitorStart(device_object=DeviceId(name)), noting(name), timeout=timeout)
        await within(switch.wait_held(4))
        held = switch.held
        switch.held = [entry for entry in held if entry[3].device_object == "answered"]  # type: ignore[attr-defined]
        switch.release()
        await within(all_in)
        replies = dict(outcomes)
        assert isinstance(replies.pop("answered"), MonitorStartResponse)
        timed_out = [name for name, reply in outcomes if isinstance(reply, TimeoutError)]
        assert timed_out == ["fast", "fast2", "slow"]  # in the order of their deadlines
        assert link.outstanding == 0
    finally:
        link.close()
        await reader
        await switch.stop()


def test_the_limit_is_within_the_invoke_ids() -> None:
    with pytest.raises(ValueError, match="9998"):
        CstaLink(None, None, edition="ed4", on_message=lambda m: None, max_outstanding=10_000)  # type: ignore[arg-type]


async def test_an_answered_request_is_let_go_at_once_not_at_its_deadline() -> None:
    """What waited for an answer (the request, its callback and what that holds) is freed
    when the answer comes, not kept until the reply timeout for the timer to find."""
    switch = FakeSwitch()
    host, port = await switch.start()
    link = await CstaLink.open(
        host, port, edition="ed4", connect_timeout=5.0, on_message=lambda m: None
    )
    reader = asyncio.create_task(link.run())
    answered = asyncio.get_running_loop().create_future()
    replies: list[Reply] = []

    class Callback:
        def __call__(self, reply: Reply) -> None:
            replies.append(reply)
            if len(replies) == 20 and not answered.done():
                answered.set_result(None)

    try:
        callbacks = [Callback() for _ in range(20)]
        gone = [weakref.ref(callback) for callback in callbacks]
        for n, callback in enumerate(callbacks):
            link.submit(MonitorStart(device_object=DeviceId(str(n))), callback, timeout=30.0)
        del callbacks, callback
        await within(answered)
        assert all(isinstance(r, MonitorStartResponse) for r in replies)
        assert [ref() for ref in gone] == [None] * 20
    finally:
        link.close()
        await reader
        await switch.stop()
